"""Scale: memory stays bounded (n = 30,000 under an address-space limit a full matrix breaks); Ctrl-C is clean."""

from __future__ import annotations

import subprocess
import sys
import textwrap

LIMIT = 1536 * 2**20  # 1.5 GiB of address space; the 30k x 30k float32 matrix alone is 3.4 GiB

SCRIPT = textwrap.dedent(f"""
    import resource, sys
    import numpy as np
    resource.setrlimit(resource.RLIMIT_AS, ({LIMIT}, {LIMIT}))
    n = 30_000
    x = np.random.default_rng(0).standard_normal((n, 384)).astype(np.float32)
    if sys.argv[1] == "full-matrix":
        x @ x.T  # what a naive implementation does
    else:
        import simreport
        result = simreport.run_test(x)
        assert result.stats["pairs"] == n * (n - 1) // 2
        # this process's own peak (VmHWM): ru_maxrss also counts the parent's resident memory at
        # fork/exec time, so it grows with whatever the test runner has loaded before
        try:
            peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
        except (OSError, StopIteration):
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print("rss-mib", peak // 1024)
""")


def run(mode: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, timeout=300)


def test_limit_is_tight_enough_to_stop_a_full_matrix():
    proc = run("full-matrix")
    assert proc.returncode != 0
    assert "MemoryError" in proc.stderr or "Unable to allocate" in proc.stderr


def test_thirty_thousand_rows_fit_under_the_limit():
    proc = run("simreport")
    assert proc.returncode == 0, proc.stderr[-2000:]
    rss = int(proc.stdout.split("rss-mib")[1].split()[0])
    assert rss < 1024


def test_ctrl_c_stops_cleanly_and_writes_nothing(tmp_path):
    import os
    import signal
    import time

    import numpy as np

    data = tmp_path / "big.npy"
    np.save(data, np.random.default_rng(1).standard_normal((120_000, 384)).astype(np.float32))
    out = tmp_path / "out"
    # SIGINT as a terminal sends it to a foreground program: a test runner started in the background
    # of a script has SIGINT ignored, which the program would inherit (and rightly keep)
    proc = subprocess.Popen([sys.executable, "-m", "simreport", "run", str(data), "-o", str(out / "r")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(4)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    os.kill(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert not out.exists() or os.listdir(out) == []


def test_long_runs_are_announced_with_an_estimate(tmp_path):
    import os

    import numpy as np

    np.save(tmp_path / "x.npy", np.random.default_rng(0).standard_normal((500, 8)).astype(np.float32))
    env = {**os.environ, "SIMREPORT_GFLOPS": "0.00001"}  # pretend a very slow machine: the estimate is hours
    proc = subprocess.run([sys.executable, "-m", "simreport", "run", str(tmp_path / "x.npy"), "-o",
                           str(tmp_path / "r"), "--format", "json"], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "500 records x 8 dimensions: about" in proc.stderr and "minutes" in proc.stderr
    quiet = subprocess.run([sys.executable, "-m", "simreport", "run", str(tmp_path / "x.npy"), "-o",
                            str(tmp_path / "q"), "--format", "json", "--quiet"], capture_output=True, text=True,
                           env=env, timeout=120)
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_html_stays_under_8_mb_above_the_display_cap(tmp_path):
    import numpy as np

    import simreport
    from simreport.compare import compare_embeddings
    from simreport.inputs import from_array

    rng = np.random.default_rng(4)
    x = rng.standard_normal((2000, 16)).astype(np.float32)
    result = simreport.run_test(x)  # default display cap 300: cluster view, records view, overview
    assert result.clusters is not None and len(result.heatmap["indices"]) == 300
    assert len(result.to_html().encode("utf-8")) < 8_000_000
    y = (x + rng.standard_normal(x.shape)).astype(np.float32)
    comparison = compare_embeddings(from_array(x, source="a"), from_array(y, source="b"))
    assert len(comparison.to_html().encode("utf-8")) < 8_000_000


def test_cli_dask_engine_matches_threads(tmp_path):
    import json

    import numpy as np

    np.save(tmp_path / "x.npy", np.random.default_rng(5).standard_normal((900, 12)).astype(np.float32))
    outputs = {}
    for engine in ("threads", "dask"):
        proc = subprocess.run([sys.executable, "-m", "simreport", "run", str(tmp_path / "x.npy"), "-o",
                               str(tmp_path / engine), "--format", "json", "--quiet", "--engine", engine,
                               "--tile-size", "256"], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        outputs[engine] = json.loads((tmp_path / f"{engine}.json").read_text())
    a, b = outputs["threads"], outputs["dask"]
    assert b["parameters"]["runner"] == "dask"
    for key in ("near_duplicates", "most_similar", "opposed", "nearest_neighbour", "findings"):
        assert a[key] == b[key], key
    assert a["stats"]["histogram"] == b["stats"]["histogram"]
    assert a["stats"]["threshold_counts"] == b["stats"]["threshold_counts"]
