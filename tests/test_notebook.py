"""The notebook view in a real Jupyter kernel: ``nbconvert --execute`` runs the example
notebook, and the exported page is opened in Chromium with the network refused. Each
report cell carries its styles, stays under 500 KB, shares one plotly.js with the other
cells (loaded once per page), draws its heatmap, and its links lead somewhere."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import refuse_network

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "examples" / "notebook.ipynb"
CELL_LIMIT = 500_000


def _nbconvert(*args: str, cwd: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "nbconvert", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> dict[str, Path]:
    pytest.importorskip("nbconvert")
    pytest.importorskip("ipykernel")
    folder = tmp_path_factory.mktemp("notebook")
    shutil.copy(NOTEBOOK, folder / NOTEBOOK.name)
    _nbconvert("--to", "notebook", "--execute", "--ExecutePreprocessor.timeout=600", "--output", "executed",
               NOTEBOOK.name, cwd=folder)
    _nbconvert("--to", "html", "executed.ipynb", cwd=folder)
    return {"folder": folder, "notebook": folder / "executed.ipynb", "html": folder / "executed.html"}


def test_each_report_cell_is_small_styled_and_shares_one_plotly(executed):
    cells = json.loads(executed["notebook"].read_text(encoding="utf-8"))["cells"]
    reports = [out["data"]["text/html"] for c in cells if c["cell_type"] == "code" for out in c.get("outputs", [])
               if "simreport" in "".join(out.get("data", {}).get("text/html", ""))
               and 'class="simreport' in "".join(out["data"]["text/html"])]
    assert len(reports) == 2
    for html in map("".join, reports):
        assert len(html.encode("utf-8")) < CELL_LIMIT, f"a report cell holds {len(html.encode()):,} bytes"
        assert "<style>" in html and ".simreport .badge.status-fail" in html  # its CSS, scoped to it
        assert "Plotly.register" not in html and "simreport_files/" in html  # no plotly.js inside the cell
    shared = list((executed["folder"] / "simreport_files").glob("*.js"))
    assert len(shared) == 1 and shared[0].stat().st_size > 500_000


def test_exported_notebook_draws_in_chromium_offline(executed, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, service_workers="block")
    page = context.new_page()
    blocked, errors = [], []
    refuse_network(context, blocked)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "plotly" in m.text.lower() else None)
    page.goto(executed["html"].resolve().as_uri(), wait_until="load")
    page.wait_for_function("document.querySelectorAll('.simreport .plot .main-svg').length >= 2", timeout=30_000)
    assert page.evaluate("document.querySelectorAll('script[src*=\"simreport_files\"]').length") == 1
    # nbconvert's page template asks a CDN for require.js and MathJax; nothing of ours goes out
    assert not [u for u in blocked if "plotly" in u or "simreport" in u], blocked
    assert not [e for e in errors if "simreport" in e.lower() or "plotly" in e.lower()], errors
    colour = page.evaluate("getComputedStyle(document.querySelector('.simreport .badge.status-pass'))"
                           ".backgroundColor")
    assert colour == "rgb(223, 240, 227)"  # the badge is styled, not a plain word
    dead = page.evaluate("""() => [...document.querySelectorAll('.simreport a[href^="#"]')]
        .map(a => a.getAttribute('href').slice(1)).filter(id => id && !document.getElementById(id))""")
    assert dead == []
    ids = page.evaluate("[...document.querySelectorAll('.simreport [id]')].filter(e => !e.closest('.plot'))"
                        ".map(e => e.id)")  # ids inside a drawn plot are plotly's own
    assert len(ids) == len(set(ids))  # two reports on one page, no id shared
    page.click(".simreport .toolbar a[href$='-contents']")
    target = page.evaluate("location.hash")
    assert target.endswith("-contents") and page.evaluate(f"document.getElementById('{target[1:]}') !== null")
    context.close()


def test_a_comparison_cell_stays_small_and_its_pictures_stay_close(tmp_path, monkeypatch):
    import base64

    import numpy as np

    from simreport.compare import compare_models
    from simreport.demo import load_demo
    from simreport.pictures import decode_picture
    from simreport.render.html import notebook_picture

    monkeypatch.chdir(tmp_path)
    demo = load_demo()
    x = np.vstack([demo.matrix, demo.matrix[::5]])  # above the display cap: cluster and records views, twice
    other = x + 0.01 * np.random.default_rng(0).standard_normal(x.shape).astype(np.float32)
    comparison = compare_models(x, other)
    html = comparison._repr_html_()
    assert len(html.encode("utf-8")) < CELL_LIMIT
    assert len(re.findall(r'"encoding":\s*"uint8-base64"', html)) == 4 and "Plotly.register" not in html
    picture = comparison.a.heatmap["values"]
    small = notebook_picture(picture)
    codes = np.frombuffer(base64.b64decode(small["data"]), dtype=np.uint8)
    exact = decode_picture(picture)
    rows, cols = np.triu_indices(exact.shape[0])
    present = ~np.isnan(exact[rows, cols])
    assert ((codes == 255) == ~present).all()  # empty cells stay empty
    error = np.abs(small["offset"] + codes * small["scale"] - exact[rows, cols])[present]
    assert error.max() <= small["scale"] / 2 + 1e-9
