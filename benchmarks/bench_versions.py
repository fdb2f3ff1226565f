"""Whole command-line runs of two versions of simreport, alternating, on the same inputs.

Usage:
    python benchmarks/bench_versions.py --against b78bc10                  # n = 500, 2,000, 20,000
    python benchmarks/bench_versions.py --against b78bc10 --sizes 500 --pairs 8

This machine's speed drifts by a tenth or more from one minute to the next, so a change is
measured against the code before it run by run, not against a table made earlier. The other
version is checked out into a temporary git worktree and run from its ``src`` (PYTHONPATH);
this checkout runs from its own ``src``. Each pair is one ``simreport run EMB.npy --format
json,html,pdf --quiet`` of each version, in fresh processes, in turn; both with bytecode caches
(PYTHONDONTWRITEBYTECODE dropped) and after one untimed run of each (numba and file caches).
The inputs are bench_everyday's (``bench_engine.make_embeddings``). Prints each version's
seconds, sorted, and the medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_engine import make_embeddings

HERE = Path(__file__).resolve().parent.parent


def run_once(src: Path, path: Path, out: Path, env: dict) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "simreport", "run", str(path), "-o", str(out), "--format", "json,html,pdf",
                    "--quiet"], env={**env, "PYTHONPATH": str(src)}, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", required=True, help="the other version: a commit, tag or branch")
    parser.add_argument("--sizes", default="500,2000,20000")
    parser.add_argument("--pairs", type=int, default=8)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        other = tmp_path / "other"
        subprocess.run(["git", "-C", str(HERE), "worktree", "add", "--detach", str(other), args.against],
                       check=True, capture_output=True)
        try:
            versions = {args.against: other / "src", "this checkout": HERE / "src"}
            for n in (int(s) for s in args.sizes.split(",")):
                path = tmp_path / f"emb_{n}.npy"
                make_embeddings(n, path)
                seconds: dict[str, list[float]] = {name: [] for name in versions}
                for k in range(args.pairs + 1):
                    for name, src in versions.items():
                        spent = run_once(src, path, tmp_path / "report", env)
                        if k:  # the first round warms the caches
                            seconds[name].append(spent)
                print(f"n = {n:,}, {args.pairs} alternating pairs, {time.strftime('%H:%M UTC', time.gmtime())}")
                for name, values in seconds.items():
                    print(f"  {name:>14}: median {statistics.median(values):.2f} s  "
                          f"({' '.join(f'{v:.2f}' for v in sorted(values))})")
        finally:
            subprocess.run(["git", "-C", str(HERE), "worktree", "remove", "--force", str(other)], check=False,
                           capture_output=True)


if __name__ == "__main__":
    main()
