"""CPU time of laying out and writing one PDF report, and where it goes.

Usage:
    python benchmarks/bench_pdf.py                      # a fresh n = 500 result, 3 renderings
    python benchmarks/bench_pdf.py --json r.json --profile 25
    python benchmarks/bench_pdf.py --json r.json --first --repeat 5
    python benchmarks/bench_pdf.py --json r.json --figures --repeat 9
    python benchmarks/bench_pdf.py --json r.json --extra-css "@page { @top-left { width: auto } }" --repeat 12
    python benchmarks/bench_pdf.py --import --repeat 5

Renders the same results JSON several times in one process (after one untimed rendering
that loads WeasyPrint and the fonts) and prints the CPU seconds of each (process time: a
shared machine's waiting does not count). ``--profile N`` adds the N most expensive
functions of one rendering by cumulative time (cProfile; its times are inflated, its
shares are what to read), e.g. WeasyPrint's ``columns_layout`` or ``table_wrapper_width``.

``--first`` times what the forked PDF process of ``simreport run`` does, in ``--repeat`` fresh
processes (collector off, as there): readying WeasyPrint (render.pdf._ready_weasyprint, done
while the test runs), then the first rendering of the report (on the run's path), then a
second one, for comparison.

``--figures`` prices the report's figures: the HTML the PDF is laid out from, written to PDF
as it is and with every inline SVG figure (histograms, heatmaps with their axes and rasters)
replaced by an empty box of its size, alternately, ``--repeat`` times each; medians of CPU s.

``--extra-css CSS`` prices a change of the print style sheet the same way: the HTML as it is,
and with CSS appended to its style sheet, alternately. For example, the margin boxes' set widths
(print.css) against WeasyPrint's own sharing out of the width, which measures their text on
every page: ``--extra-css "@page { @top-left { width: auto } @top-right { width: auto }
@bottom-left { width: auto } @bottom-center { width: auto } }"``.

``--import`` times importing WeasyPrint in ``--repeat`` pairs of fresh processes, alternately:
a plain ``import weasyprint``, and ``render.pdf.import_weasyprint()`` as the PDF process imports
it (without ctypes' library search); simreport's own modules are imported first, untimed.
Medians of wall seconds.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="a results JSON [a fresh n = 500, d = 384 run]")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    parser.add_argument("--first", action="store_true", help="the first rendering in fresh processes")
    parser.add_argument("--figures", action="store_true", help="the PDF with and without its SVG figures")
    parser.add_argument("--extra-css", metavar="CSS", help="the PDF with and without this CSS appended")
    parser.add_argument("--import", dest="imports", action="store_true", help="WeasyPrint's import, both ways")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # one --first process
    args = parser.parse_args()
    if args.child is not None:
        return first_rendering(args.child)
    if args.imports:
        return import_times(args.repeat)

    import simreport
    from simreport.render.pdf import render_pdf

    if args.json is None:
        x = np.random.default_rng(0).standard_normal((500, 384)).astype(np.float32)
        document = simreport.run_test(x)
    else:
        document = simreport.load_document(args.json)
    if args.first:
        return first_renderings(document, args.repeat)
    if args.figures or args.extra_css:
        return variants_cost(document, args.repeat, args.extra_css)
    with tempfile.TemporaryDirectory():
        render_pdf(document)
        seconds = []
        for _ in range(args.repeat):
            start = time.process_time()
            data = render_pdf(document)
            seconds.append(time.process_time() - start)
    median = sorted(seconds)[len(seconds) // 2]
    each = ", ".join(f"{s:.2f}" for s in seconds)
    print(f"render_pdf CPU s: {each} (median {median:.2f}); {len(data) / 1024:,.0f} KB")
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        render_pdf(document)
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile)


def variants_cost(document, repeat: int, extra_css: str | None) -> None:
    """CPU seconds of writing the PDF's HTML as it is and changed: with empty boxes instead of its
    SVG figures, or (``extra_css``) with that CSS appended to its style sheet; alternately."""
    import gc
    import re

    from simreport.render.documents import Prepared
    from simreport.render.environment import shipped_templates
    from simreport.render.pdf import import_weasyprint, local_fetcher, print_html

    weasyprint = import_weasyprint()

    html = print_html(Prepared(document))

    def box(match: re.Match) -> str:
        size = {k: v if v.endswith("pt") else v + "px"
                for k, v in re.findall(r'\b(width|height)="([^"]+)"', match.group(0).split(">", 1)[0])}
        return f'<div style="width:{size["width"]};height:{size["height"]}"></div>'

    if extra_css:
        assert "</style>" in html
        variants = {"as it is": html, "with the extra CSS": html.replace("</style>", extra_css + "\n</style>", 1)}
    else:
        variants = {"with figures": html,
                    "figures as empty boxes": re.sub(r"<svg\b.*?</svg>", box, html, flags=re.S)}
    base, fetcher = str(shipped_templates()) + "/", local_fetcher([shipped_templates()])
    seconds: dict[str, list[float]] = {name: [] for name in variants}
    for k in range(repeat + 1):
        for name, text in variants.items():
            gc.disable()
            start = time.process_time()
            weasyprint.HTML(string=text, base_url=base, url_fetcher=fetcher).write_pdf(pdf_variant="pdf/a-3b")
            if k:  # the first round loads fonts and caches: not counted
                seconds[name].append(time.process_time() - start)
            gc.enable()
            gc.collect()
    for name, values in seconds.items():
        print(f"{name:24s} CPU s median {statistics.median(values):.3f} (min {min(values):.3f}, {repeat} runs)")
    if not extra_css:
        print(f"{html.count('<svg')} SVG figures")


IMPORT_CHILD = """
import sys, time
from simreport.render import pdf
start = time.perf_counter()
if sys.argv[1] == "plain":
    import weasyprint
else:
    pdf.import_weasyprint()
print(time.perf_counter() - start)
"""


def import_times(repeat: int) -> None:
    """Wall seconds of WeasyPrint's import in fresh processes: plain, and as the PDF process does it."""
    import subprocess
    import sys

    seconds: dict[str, list[float]] = {"plain": [], "import_weasyprint": []}
    for _ in range(repeat):
        for way in seconds:
            done = subprocess.run([sys.executable, "-c", IMPORT_CHILD, way], check=True, capture_output=True,
                                  text=True)
            seconds[way].append(float(done.stdout.split()[-1]))
    for way, values in seconds.items():
        print(f"{way:18s} median {statistics.median(values):.3f} s ({' '.join(f'{v:.3f}' for v in values)})")


def first_rendering(path: Path) -> None:
    """In this fresh process: ready WeasyPrint, then render twice; print the three CPU times."""
    import gc

    import simreport
    from simreport.render import context  # noqa: F401  (the forked process imports it while it waits)
    from simreport.render.pdf import _ready_weasyprint, render_pdf

    document = simreport.load_document(path)
    gc.disable()
    times = []
    start = time.process_time()
    _ready_weasyprint(None, "report.html.j2")
    times.append(time.process_time() - start)
    for _ in range(2):
        start = time.process_time()
        render_pdf(document)
        times.append(time.process_time() - start)
    print(" ".join(f"{t:.4f}" for t in times))


def first_renderings(document, repeat: int) -> None:
    import subprocess
    import sys

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "results.json"
        path.write_bytes(document.json_bytes())
        rows = [[float(v) for v in subprocess.run(
            [sys.executable, __file__, "--child", str(path)], check=True, capture_output=True,
            text=True).stdout.split()] for _ in range(repeat)]
    ready, first, second = (statistics.median(column) for column in zip(*rows, strict=True))
    print(f"fresh processes: {repeat}; CPU s, medians: readying WeasyPrint {ready:.3f}, first rendering "
          f"{first:.3f}, second rendering {second:.3f}")


if __name__ == "__main__":
    main()
