"""Plant each of the five bugs of issue 14 in turn, run the test that must catch it, restore.

    python tools/planted_bugs.py [WORD ...]    (only the bugs whose name contains a WORD)

Each bug is a one-line edit of the source in this working tree; the named test must fail
with it and pass without it. The file is restored in a ``finally``, also on Ctrl-C or
SIGTERM. Run nothing else from this tree meanwhile (it would see the planted bug); each
edit makes numba recompile the kernels, so a run takes minutes.
Prints one line per bug; exits 1 if a test missed its bug or failed on the real code.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXACT = "tests/test_exact_core.py::"
TAMPER = "tests/test_verify_tamper.py::test_tampered_report_fails_exactly_the_expected_checks"

# name: (file, original text, planted text, test that must catch it)
BUGS = {
    "threshold counting s >= t became s > t": (
        "src/simreport/kernels.py", "                        if s >= ladder[t]:",
        "                        if s > ladder[t]:", EXACT + "test_a_similarity_exactly_on_a_threshold_counts"),
    "histogram bin index shifted by one": (
        "src/simreport/kernels.py",
        "bins[b] = min(max(np.int32((s + np.float32(1.0)) * np.float32(1000.0)), 0), 1999)",
        "bins[b] = min(max(np.int32((s + np.float32(1.0)) * np.float32(1000.0)) + 1, 0), 1999)",
        EXACT + "test_histogram_bins_are_exact"),
    "tie rule reversed (kernel pair lists)": (
        "src/simreport/kernels.py", "    if i1 != i2:\n        return i1 < i2\n    return j1 < j2",
        "    if i1 != i2:\n        return i1 > i2\n    return j1 > j2",
        EXACT + "test_tied_pairs_follow_the_documented_order"),
    "tie rule reversed (merge of partials)": (
        "src/simreport/engine.py", "key=lambda p: (sign * p[2], p[0], p[1])",
        "key=lambda p: (sign * p[2], -p[0], -p[1])", EXACT + "test_tied_pairs_follow_the_documented_order"),
    "merge_all drops the last partial when their number is odd": (
        "src/simreport/engine.py",
        "        items = [merge(items[k], items[k + 1]) if k + 1 < len(items) else items[k]\n"
        "                 for k in range(0, len(items), 2)]",
        "        items = [merge(items[k], items[k + 1]) for k in range(0, len(items) - 1, 2)]",
        EXACT + "test_an_odd_number_of_partials_all_merge"),
    "verify's page-1 report-ID check always passes": (
        "src/simreport/verify.py", "computed_id in compact_page, ", "True, ",
        TAMPER + "[results edited, metadata ID restamped]"),
}


def pytest_outcome(test: str) -> tuple[bool, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", test],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    lines = proc.stdout.strip().splitlines()
    return proc.returncode == 0, lines[-1] if lines else proc.stderr.strip()[-200:]


def main(words: list[str]) -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that ``finally`` restores the source
    ok = True
    for name, (path, original, planted, test) in BUGS.items():
        if words and not any(w in name for w in words):
            continue
        source = ROOT / path
        text = source.read_text(encoding="utf-8")
        if text.count(original) != 1:
            print(f"{name}: the original line is no longer in {path}; update this script")
            ok = False
            continue
        try:
            source.write_text(text.replace(original, planted), encoding="utf-8")
            passed_with_bug, with_bug = pytest_outcome(test)
        finally:
            source.write_text(text, encoding="utf-8")
        passed_clean, clean = pytest_outcome(test)
        caught = not passed_with_bug and passed_clean
        ok = ok and caught
        print(f"{'CAUGHT' if caught else 'MISSED'}  {name}\n        {test}\n"
              f"        with the bug: {with_bug}; on the code: {clean}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
