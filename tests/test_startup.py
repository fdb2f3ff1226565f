"""Start-up stays light: heavy libraries are imported where they are used (no timing asserted)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("numba", "plotly", "weasyprint", "pyarrow", "scipy", "torch", "pandas")


def _loaded(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    lines = done.stdout.splitlines()
    return set(filter(None, lines[-1].split(","))) if lines else set()


def test_import_simreport_loads_no_heavy_library():
    assert _loaded("import simreport") == set()
    assert _loaded("import simreport\nsimreport.run_test") == set()  # a run loads what it needs (below)


def test_help_and_config_show_load_no_heavy_library(tmp_path):
    help_code = ("import sys\nfrom simreport.cli import main\nsys.argv = ['simreport', '--help']\n"
                 "try:\n    main()\nexcept SystemExit:\n    pass")
    assert _loaded(help_code) == set()
    show_code = help_code.replace("['simreport', '--help']", "['simreport', 'config', '--show']")
    assert _loaded(f"import os\nos.chdir({str(tmp_path)!r})\n{show_code}") == set()


def test_numba_is_loaded_only_for_a_pass_beyond_numpy_rows():
    """Up to engine.NUMPY_ROWS records the tiles are reduced with numpy: loading numba and its cached
    kernel (about 0.4 s) would cost more than the pass. Beyond, the run loads the compiled kernel."""
    from simreport.engine import NUMPY_ROWS

    code = ("import numpy as np, simreport\n"
            "simreport.run_test(np.random.default_rng(0).standard_normal(({n}, 8)).astype(np.float32))")
    assert "numba" not in _loaded(code.format(n=NUMPY_ROWS))
    assert "numba" in _loaded(code.format(n=NUMPY_ROWS + 1))


def test_scipy_is_loaded_only_for_a_clustered_order():
    """scipy orders the heatmap by clustering (and builds the cluster view): a small run shown in
    input order does not import it."""
    code = ("import numpy as np, simreport\n"
            "simreport.run_test(np.random.default_rng(0).standard_normal((60, 8)).astype(np.float32), "
            "heatmap_order={order!r})")
    assert "scipy" not in _loaded(code.format(order="input"))
    assert "scipy" in _loaded(code.format(order="cluster"))
