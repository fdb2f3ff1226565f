"""CPU time of laying out and writing one PDF report, and where it goes.

Usage:
    python benchmarks/bench_pdf.py                      # a fresh n = 500 result, 3 renderings
    python benchmarks/bench_pdf.py --json r.json --profile 25

Renders the same results JSON several times in one process (after one untimed rendering
that loads WeasyPrint and the fonts) and prints the CPU seconds of each (process time: a
shared machine's waiting does not count). ``--profile N`` adds the N most expensive
functions of one rendering by cumulative time (cProfile; its times are inflated, its
shares are what to read), e.g. WeasyPrint's ``columns_layout`` or ``table_wrapper_width``.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="a results JSON [a fresh n = 500, d = 384 run]")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    args = parser.parse_args()

    import simreport
    from simreport.render.pdf import render_pdf

    if args.json is None:
        x = np.random.default_rng(0).standard_normal((500, 384)).astype(np.float32)
        document = simreport.run_test(x)
    else:
        document = simreport.load_document(args.json)
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


if __name__ == "__main__":
    main()
