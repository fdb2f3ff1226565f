"""Whole command-line runs at the sizes people use, timed as a user sees them.

Usage:
    python benchmarks/bench_everyday.py                       # n = 500, 2,000, 20,000 (d = 384)
    python benchmarks/bench_everyday.py --sizes 500,2000,20000,100000 --repeat 3
    python benchmarks/bench_everyday.py --sizes 2000,4096,6000,8000 --numpy-rows 0   # numba at every size

Each run is ``simreport run EMB.npy --format json,html,pdf --quiet`` in a fresh process,
timed from just before the process starts to its exit, after one untimed run that warms
the numba cache and writes Python's bytecode caches, as a user's installation has them (a
PYTHONDONTWRITEBYTECODE in the environment is dropped for the runs). The command notes when
each stage ends (SIMREPORT_STAGE_LOG) and the results JSON holds the test's own timings,
which give the breakdown:

- import: process start to the command's first line (Python, imports, option parsing);
- load: reading and validating the embeddings;
- pass: normalising and the all-pairs pass (tiles, Gram matrix, identical rows);
- views: the rest of the test (heatmap block, cluster view, findings);
- JSON, HTML: rendering each document in memory;
- PDF: waiting, after the HTML, for the PDF from the child process the program forked at
  its start (render.pdf.ForkedPdfRenderer): the child readies WeasyPrint while the test
  runs and starts the PDF when the results exist, so this stage is the part of the PDF's
  rendering the JSON and HTML did not cover;
- write+exit: writing the files and the process ending.

A second table follows the PDF process (its stage marks, render.pdf): when it was forked,
had imported and readied WeasyPrint, received the job (just after the results exist and the
JSON is serialised) and finished the PDF. A run ends just after "rendered": at n = 500 it
is the time the results exist plus WeasyPrint's rendering of the report, and neither the
PDF process's start nor its readying is on that path.

"PDF alone" is a lower bound for any run that lays its PDF out with WeasyPrint in one
process: a fresh Python process that only imports WeasyPrint and writes the PDF of the
last run's report from its finished print HTML (PDF/A-3b, the results JSON attached, as the
run does), timed from process start to exit, median of 3. Where it is above the target,
no speed-up of the test, the JSON or the HTML can meet the target with this document.

"CPU s" is the CPU time the run used (user + system, all threads, the PDF child included):
on a shared machine, a wall time well above it (for a single-threaded stretch) means the
run waited for a core.

Each column is the median over ``--repeat`` runs. Start-up is timed the same way for
``simreport --help`` and ``simreport config --show``, and the script lists which heavy
modules ``import simreport`` loads. From 50,000 records on, the bare tiled products (the
floor: the same upper triangle of float32 tile products, nothing else, BLAS on all cores)
are timed in a separate process of the same run, and the run and its pass are given as
multiples of that floor.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engine import D, bare_floor, make_embeddings

TARGETS = {500: 1.5, 2000: 2.0, 20000: 3.5}
CHILD_MARKS = ("forked", "imported", "readied", "job", "rendered")  # render.pdf's stage marks, in order
HEAVY = ("numba", "plotly", "weasyprint", "pyarrow", "scipy", "torch", "pandas")
STAGES = ("import", "load", "pass", "views", "json", "html", "pdf", "write+exit")


def timed(command: list[str], env: dict | None = None, cwd: Path | None = None) -> float:
    """Seconds from just before the process starts to its exit (it must succeed)."""
    return timed_cpu(command, env, cwd)[0]


def timed_cpu(command: list[str], env: dict | None = None, cwd: Path | None = None) -> tuple[float, float]:
    """(wall seconds from just before the process starts to its exit, CPU seconds it used)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, check=False)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


# simreport's command line with engine.NUMPY_ROWS set first (--numpy-rows)
WITH_NUMPY_ROWS = ("import runpy, sys\nimport simreport.engine\nsimreport.engine.NUMPY_ROWS = int(sys.argv.pop(1))\n"
                   "runpy.run_module('simreport', run_name='__main__')")


def one_run(path: Path, out: Path, numpy_rows: int | None = None) -> dict:
    """One whole CLI run with its stage breakdown (seconds) and the documents' sizes (bytes)."""
    log = out / "stages.txt"
    log.unlink(missing_ok=True)
    env = {**os.environ, "SIMREPORT_STAGE_LOG": str(log)}
    prefix = out / "report"
    t0 = time.time()
    start = ([sys.executable, "-m", "simreport"] if numpy_rows is None
             else [sys.executable, "-c", WITH_NUMPY_ROWS, str(numpy_rows)])
    total, cpu = timed_cpu([*start, "run", str(path), "-o", str(prefix), "--format", "json,html,pdf", "--quiet"],
                           env=env)
    end = t0 + total
    marks = {line.split()[0]: float(line.split()[1]) for line in log.read_text().splitlines()}
    timings = json.loads((out / "report.json").read_text())["timings"]
    test = marks["tested"] - marks["loaded"]
    pass_seconds = min(timings.get("normalise", 0.0) + timings["all_pairs"], test)
    row = {"total": total, "cpu": cpu, "import": marks["start"] - t0, "load": marks["loaded"] - marks["start"],
           "pass": pass_seconds, "views": test - pass_seconds,
           "json": marks["json"] - marks["tested"], "html": marks["html"] - marks["json"],
           "pdf": marks["pdf"] - marks["html"], "write+exit": end - marks["pdf"]}
    # the forked PDF process's own marks (render.pdf), as seconds since this run's process started
    row["child"] = {mark: marks[f"pdf:{mark}"] - t0 for mark in CHILD_MARKS if f"pdf:{mark}" in marks}
    row["child"]["results"] = marks["tested"] - t0
    row["bytes"] = {fmt: (out / f"report.{fmt}").stat().st_size for fmt in ("json", "html", "pdf")}
    return row


PDF_ALONE = """
import ctypes.util, sys
search = ctypes.util.find_library
ctypes.util.find_library = lambda name: None  # imported as the run imports it: render.pdf.import_weasyprint
import weasyprint
ctypes.util.find_library = search
html, attached, base = sys.argv[1:4]
data = open(attached, "rb").read()
weasyprint.HTML(string=open(html, encoding="utf-8").read(), base_url=base).write_pdf(
    pdf_variant="pdf/a-3b", attachments=[weasyprint.Attachment(string=data, name="simreport-results.json")])
"""


def pdf_alone(results: Path, out: Path, repeat: int = 3) -> float:
    """Median seconds of a fresh process that imports WeasyPrint and writes the PDF of ``results``
    from its print HTML, nothing else (see the module docstring)."""
    import simreport
    from simreport.render.documents import Prepared
    from simreport.render.environment import shipped_templates
    from simreport.render.pdf import print_html

    prepared = Prepared(simreport.load_document(results))
    html = out / "print.html"
    html.write_text(print_html(prepared), encoding="utf-8")
    attached = out / "attached.json"
    attached.write_bytes(prepared.json_bytes)
    command = [sys.executable, "-c", PDF_ALONE, str(html), str(attached), str(shipped_templates()) + "/"]
    return statistics.median(timed(command) for _ in range(repeat))


def floor_child(path: str) -> None:
    """Print the bare tiled products' seconds for the embeddings at ``path`` (best of 2 below 100k)."""
    import numpy as np

    from simreport.engine import normalise_rows

    unit = normalise_rows(np.load(path))
    repeats = 2 if unit.shape[0] < 100_000 else 1
    print(min(bare_floor(unit) for _ in range(repeats)))


def startup(repeat: int) -> dict:
    """Seconds for --help and config --show (median), and the heavy modules import simreport loads."""
    with tempfile.TemporaryDirectory() as empty:  # no simreport.toml in the way
        help_s = statistics.median(timed([sys.executable, "-m", "simreport", "--help"], cwd=Path(empty))
                                   for _ in range(repeat))
        show_s = statistics.median(timed([sys.executable, "-m", "simreport", "config", "--show"], cwd=Path(empty))
                                   for _ in range(repeat))
    probe = f"import sys, simreport; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    return {"help": help_s, "show": show_s, "heavy": loaded or "none"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,2000,20000")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size (median); 1 from 50,000 records on")
    parser.add_argument("--numpy-rows", type=int, help="set engine.NUMPY_ROWS for the runs (0: the compiled "
                        "kernel at every size) [the engine's]")
    parser.add_argument("--floor-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_child:
        floor_child(args.floor_child)
        return
    # A user's Python writes and reuses bytecode caches; a PYTHONDONTWRITEBYTECODE in this
    # environment (this machine sets it) would make every run compile simreport's modules again:
    # 0.19 against 0.13 s for the import stage at n = 500. The untimed first run writes them.
    bytecode_note = "; PYTHONDONTWRITEBYTECODE dropped for the runs" if os.environ.pop(
        "PYTHONDONTWRITEBYTECODE", None) else ""
    load_before = os.getloadavg()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        for k, n in enumerate(sizes):
            path = tmp_path / f"emb_{n}.npy"
            make_embeddings(n, path)
            if k == 0:
                one_run(path, tmp_path, 0)  # warm the numba cache, the bytecode caches and the file cache
            runs = [one_run(path, tmp_path, args.numpy_rows) for _ in range(args.repeat if n < 50_000 else 1)]
            row = {key: statistics.median(r[key] for r in runs) for key in ("total", "cpu", *STAGES)}
            row["child"] = {mark: statistics.median(r["child"][mark] for r in runs) for mark in
                            ("results", *CHILD_MARKS) if all(mark in r["child"] for r in runs)}
            rendering = [r["child"]["rendered"] - r["child"]["job"] for r in runs
                         if {"job", "rendered"} <= set(r["child"])]
            row["render"] = statistics.median(rendering) if rendering else None  # None: no forked PDF process
            row["n"], row["bytes"] = n, runs[-1]["bytes"]
            row["pdf_alone"] = pdf_alone(tmp_path / "report.json", tmp_path)
            if n >= 50_000:
                floor = subprocess.run([sys.executable, __file__, "--floor-child", str(path)], capture_output=True,
                                       text=True, check=True)
                row["floor"] = float(floor.stdout.strip().splitlines()[-1])
            rows.append(row)
            path.unlink()
            print(f"done n={n}", file=sys.stderr)
    start = startup(5)
    load_after = os.getloadavg()
    from simreport.engine import NUMPY_ROWS

    rows_note = NUMPY_ROWS if args.numpy_rows is None else args.numpy_rows
    print(f"d = {D}, float32, {os.cpu_count()} cores; JSON + HTML + PDF per run; median of {args.repeat} "
          f"(1 from 50,000); load average {load_before[0]:.1f} before, {load_after[0]:.1f} after; tiles reduced "
          f"with numpy up to {rows_note:,} records{bytecode_note}")
    print()
    print("| n | total s | target s | PDF alone s | CPU s | import | load | pass | views | JSON | HTML | PDF "
          "| write+exit | JSON KB | HTML KB | PDF KB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        target = (f"{TARGETS[r['n']]:.1f}" if r["n"] in TARGETS
                  else f"{1.2 * r['floor']:.1f} (1.2x floor)" if "floor" in r else "")
        cells = " | ".join(f"{r[s]:.2f}" for s in STAGES)
        sizes = " | ".join(f"{r['bytes'][f] / 1000:,.0f}" for f in ("json", "html", "pdf"))
        print(f"| {r['n']:,} | {r['total']:.2f} | {target} | {r['pdf_alone']:.2f} | {r['cpu']:.2f} | {cells} "
              f"| {sizes} |")
    print("\nThe PDF process, seconds since the run's process started (medians): forked, WeasyPrint imported, "
          "readied (templates compiled, colour scales loaded), the results exist (the test ended), the job "
          "arrived, the PDF rendered; and the rendering itself (job to PDF), which nothing before it shortens.\n")
    print("| n | forked | imported | readied | results | job | rendered | rendering | total |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        marks = " | ".join(f"{r['child'][m]:.2f}" if m in r["child"] else "" for m in
                           ("forked", "imported", "readied", "results", "job", "rendered"))
        rendering = "" if r["render"] is None else f"{r['render']:.2f}"
        print(f"| {r['n']:,} | {marks} | {rendering} | {r['total']:.2f} |")
    for r in rows:
        if "floor" in r:
            cores = os.cpu_count() or 1
            print(f"\nn = {r['n']:,}: bare tiled products (floor) {r['floor']:.2f} s; whole run "
                  f"{r['total'] / r['floor']:.2f}x the floor, the pass {r['pass'] / r['floor']:.2f}x; the run's "
                  f"CPU time ({r['cpu']:.1f} s) spread evenly over the {cores} cores would take "
                  f"{r['cpu'] / cores / r['floor']:.2f}x the floor (the floor keeps every core busy)")
    print(f"\n`simreport --help` {start['help']:.2f} s; `simreport config --show` {start['show']:.2f} s "
          f"(median of 5); heavy modules loaded by `import simreport`: {start['heavy']}")


if __name__ == "__main__":
    main()
