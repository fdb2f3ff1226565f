"""Timestamps of a run's stages for the benchmarks (a leaf, so every layer may name it).

When the environment variable SIMREPORT_STAGE_LOG names a file, :func:`stage` appends one line
per call: the stage's name, the wall-clock time and the process's CPU time (a log that cannot
be written is skipped).
``benchmarks/bench_everyday.py`` reads them to break a run down into stages, the forked PDF
process's included. Without the variable nothing is written.
"""

from __future__ import annotations

import os
import time


def stage(name: str) -> None:
    """Note the wall-clock time the stage ``name`` ended, when SIMREPORT_STAGE_LOG names a file.
    A log that cannot be written is skipped: a benchmark's aid never stops a run."""
    log = os.environ.get("SIMREPORT_STAGE_LOG")
    if log:
        try:
            with open(log, "a", encoding="utf-8") as stream:
                stream.write(f"{name} {time.time():.6f} {time.process_time():.6f}\n")
        except (OSError, ValueError):  # a folder, a missing folder, no permission, a NUL in the name
            pass
