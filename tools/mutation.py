"""Mutation testing of the exact core, module by module (slow; not part of CI).

    python tools/mutation.py                 # every module in [tool.simreport-mutation]
    python tools/mutation.py kernels engine  # some of them
    python tools/mutation.py --list          # the modules, their files and test selections

For each module this copies the repository (src, tests, templates, examples, pyproject)
to a temporary folder, runs ``mutmut run`` there (mutmut 2.5: it edits the source text,
so it also reaches the numba kernels, which mutmut 3 skips as decorated functions) with
the module's own small test selection, and prints the score: killed / (killed + survived),
timeouts counted as killed. The working tree is never edited. The selections and options
live in pyproject.toml ([tool.mutmut] for the defaults, [tool.simreport-mutation] per module).

Modules whose code is compiled with numba are mutated with ``NUMBA_DISABLE_JIT=1`` (the
kernels then run as Python; the tests shrink their inputs, see tests/exactness.py), so a
mutant does not cost a compilation. A module given with ``lines`` (the agreement pass,
while it shares compare.py with the rest of the comparison) is mutated only within the
functions named there. Decorator lines are never mutated (numba's compile options, which do
nothing with the JIT off). Both go through a patch file that mutmut's --use-patch-file reads.
mutmut 2 counts only exit status 1 as a kill, so the test command maps every failure
(an import error is pytest's status 2) to 1.

Survivors are printed as diffs (``mutmut show``); ``--json FILE`` saves the table.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPIED = ("src", "tests", "templates", "examples", "pyproject.toml")


def modules_config() -> dict[str, dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["simreport-mutation"]


def scope_lines(path: Path, names: list[str] | None) -> list[int]:
    """The lines to mutate: the named top-level functions and classes (all lines when None),
    never a decorator's lines (numba's compile options: with the JIT off they do nothing)."""
    tree = ast.parse(path.read_text("utf-8"))
    if names is None:
        lines = set(range(1, len(path.read_text("utf-8").splitlines()) + 1))
    else:
        spans = {node.name: (node.lineno, node.end_lineno) for node in tree.body
                 if isinstance(node, ast.FunctionDef | ast.ClassDef)}
        missing = [n for n in names if n not in spans]
        if missing:
            raise SystemExit(f"{path}: no function or class {', '.join(missing)}; update [tool.simreport-mutation]")
        lines = {k for n in names for k in range(spans[n][0], spans[n][1] + 1)}
    for node in ast.walk(tree):
        for decorator in getattr(node, "decorator_list", []):
            lines -= set(range(decorator.lineno, decorator.end_lineno + 1))
    return sorted(lines)


def patch_for(path: str, lines: list[int], source: Path) -> str:
    """A patch that 'adds' exactly these lines, so mutmut (--use-patch-file) mutates nothing else."""
    text = source.read_text("utf-8").splitlines()
    hunks = [f"@@ -{k - 1},0 +{k},1 @@\n+{text[k - 1]}" for k in lines]
    return f"--- a/{path}\n+++ b/{path}\n" + "\n".join(hunks) + "\n"


def read_cache(cache: Path) -> dict:
    db = sqlite3.connect(cache)
    rows = db.execute("select Mutant.id, Mutant.status, Line.line_number from Mutant "
                      "join Line on Mutant.line = Line.id")
    counts: dict[str, int] = {}
    survivors = []
    for mutant_id, status, line in rows:
        counts[status] = counts.get(status, 0) + 1
        if status in ("bad_survived", "ok_suspicious", "untested", "skipped"):
            survivors.append((mutant_id, line + 1, status))
    db.close()
    return {"counts": counts, "survivors": survivors}


def run_module(name: str, config: dict, work: Path, show: bool) -> dict:
    target = config["path"]
    env = {**os.environ, "PYTHONPATH": str(work / "src"), "HYPOTHESIS_PROFILE": "mutation",
           "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("CI", None)
    if not config.get("jit", True):
        env["NUMBA_DISABLE_JIT"] = "1"
    # mutmut 2 counts only exit status 1 as a kill; an import error (pytest's 2) would pass as a survivor
    tests = f"{sys.executable} -m pytest -x -q -p no:cacheprovider {config['tests']} || exit 1"
    runner = f"sh -c {shlex.quote(tests)}"
    cache = work / ".mutmut-cache"
    cache.unlink(missing_ok=True)
    args = [sys.executable, "-m", "mutmut", "run", "--paths-to-mutate", target, "--runner", runner,
            "--tests-dir", "tests", "--simple-output", "--no-progress"]
    patch = work / "mutation-scope.patch"
    patch.write_text(patch_for(target, scope_lines(work / target, config.get("lines")), work / target), "utf-8")
    args += ["--use-patch-file", str(patch)]
    subprocess.run(args, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    result = read_cache(cache)
    c = result["counts"]
    killed = c.get("ok_killed", 0) + c.get("bad_timeout", 0)
    survived = c.get("bad_survived", 0) + c.get("ok_suspicious", 0)
    untested = c.get("untested", 0) + c.get("skipped", 0)
    total = killed + survived
    row = {"module": name, "file": target, "mutants": total + untested, "killed": killed, "survived": survived,
           "untested": untested, "score": round(100.0 * killed / total, 1) if total else None,
           "survivors": []}
    for mutant_id, line, status in result["survivors"]:
        diff = subprocess.run([sys.executable, "-m", "mutmut", "show", str(mutant_id)], cwd=work, env=env,
                              capture_output=True, text=True).stdout
        body = [ln for ln in diff.splitlines() if ln.startswith(("+", "-")) and not ln.startswith(("+++", "---"))]
        row["survivors"].append({"id": mutant_id, "line": line, "status": status, "diff": body})
        if show:
            print(f"  survivor {mutant_id} ({status}) line {line}:\n    " + "\n    ".join(body), flush=True)
    return row


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--json", type=Path, help="save the table and the survivors as JSON")
    parser.add_argument("--quiet", action="store_true", help="do not print the survivors' diffs")
    options = parser.parse_args(argv)
    modules = modules_config()
    chosen = options.modules or list(modules)
    unknown = [m for m in chosen if m not in modules]
    if unknown:
        parser.error(f"unknown module {', '.join(unknown)}; known: {', '.join(modules)}")
    if options.list:
        for name in chosen:
            print(f"{name}: {modules[name]['path']}  tests: {modules[name]['tests']}")
        return 0
    rows = []
    with tempfile.TemporaryDirectory(prefix="simreport-mutation-") as tmp:
        for name in chosen:
            work = Path(tmp) / name
            for item in COPIED:
                source = ROOT / item
                if source.is_dir():
                    shutil.copytree(source, work / item, ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
                elif source.exists():
                    shutil.copy2(source, work / item)
            print(f"{name}: mutating {modules[name]['path']} ...", flush=True)
            row = run_module(name, modules[name], work, not options.quiet)
            rows.append(row)
            print(f"{name}: {row['killed']} of {row['killed'] + row['survived']} killed "
                  f"({row['score']}%), {row['untested']} untested", flush=True)
    print("\n| module | file | mutants | killed | survived | score |\n|---|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['module']} | {r['file']} | {r['mutants']} | {r['killed']} | {r['survived']} | {r['score']}% |")
    if options.json:
        options.json.write_text(json.dumps(rows, indent=1) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
