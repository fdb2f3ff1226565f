"""Mutation testing of the exact core, module by module (slow; not part of CI).

    python tools/mutation.py                 # every module in [tool.simreport-mutation]
    python tools/mutation.py kernels engine  # some of them
    python tools/mutation.py --list          # the modules, their files and test selections

The mutants are mutmut's (2.5: its operators on the source text, so they also reach the
numba kernels, which mutmut 3 skips as decorated functions). Each module is mutated in a
temporary copy of the repository (the working tree is never edited) and its own small test
selection runs once per mutant in a process forked from a warm one (numpy, numba, pytest,
... already imported; simreport imported fresh each time), which costs about a second
where a new interpreter per mutant costs several. Score = killed / mutants; a test run
that fails in any way (an import error too) or times out twice (5x the clean run, at least
20 s, then 4x that: a busy machine alone is no kill) kills; timeouts are printed.

Modules whose code is compiled with numba run with ``NUMBA_DISABLE_JIT=1`` (the kernels
then run as Python and the tests shrink their inputs, see tests/exactness.py), so a mutant
costs no compilation. Decorator lines are never mutated (numba's compile options: with the
JIT off they do nothing). A module given with ``lines`` (the agreement pass, while it shares
compare.py with the rest of the comparison) is mutated only within the functions named.
The modules, files and test selections are in pyproject.toml ([tool.simreport-mutation]);
[tool.mutmut] configures a plain ``mutmut run`` (the kernels) the same way.

Survivors are printed as diffs; ``--json FILE`` saves the table and the survivors;
``--sample N`` tests a seeded random sample of N mutants per module (an estimate, for a
busy machine: a full campaign of the eight modules is about 3,000 mutants).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
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


def without_annotations(source: str) -> str | None:
    """The module's syntax tree with every annotation blanked (None if it does not parse)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            node.returns = None
        elif isinstance(node, ast.arg):
            node.annotation = None
        elif isinstance(node, ast.AnnAssign):
            node.annotation = ast.Constant(None)
    return ast.dump(tree)


def only_annotations(original: str, mutated: str) -> bool:
    """Whether a mutant changes nothing but annotations: with ``from __future__ import
    annotations`` they are never evaluated, so no test can tell (not counted in the score)."""
    if "from __future__ import annotations" not in original:
        return False
    blank = without_annotations(mutated)
    return blank is not None and blank == without_annotations(original)


PRELOADED = ("numpy", "numba", "scipy", "pandas", "pyarrow", "jinja2", "plotly", "pypdf", "threadpoolctl", "pytest",
             "hypothesis", "click", "rich")


def run_tests(args: list[str], timeout: float) -> tuple[str, float]:
    """Run pytest in a forked child of this (warm) process: 'passed', 'failed' or 'timeout'."""
    import pytest

    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: no output, a fresh import of simreport, pytest's status as exit code
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        try:
            code = int(pytest.main(args))
        except BaseException:
            code = 3
        os._exit(code)
    deadline = start + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            return ("passed" if code == 0 else "failed"), time.monotonic() - start
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timeout", time.monotonic() - start
        time.sleep(0.02)


def worker(name: str, work: Path, show: bool, sample: int | None = None) -> dict:
    """One module's campaign, inside the temporary copy (this process imports no simreport module)."""
    import importlib

    import mutmut

    config = modules_config()[name]
    for module in PRELOADED:
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    os.chdir(work)
    sys.path.insert(0, str(work / "src"))
    target = work / config["path"]
    original = target.read_text("utf-8")
    scope = set(scope_lines(target, config.get("lines")))
    ids = [m for m in mutmut.list_mutations(mutmut.Context(source=original, filename=config["path"]))
           if m.line_number + 1 in scope]
    population = len(ids)
    sampled = bool(sample) and sample < population
    if sampled:  # a seeded random sample: an estimate of the score
        import random

        ids = sorted(random.Random(f"{name}:{sample}").sample(ids, sample), key=lambda m: (m.line_number, m.index))
    args = ["-x", "-q", "-p", "no:cacheprovider", *shlex.split(config["tests"])]
    outcome, baseline = run_tests(args, timeout=1800)
    if outcome != "passed":
        raise SystemExit(f"{name}: the tests fail without any mutation; fix them first")
    timeout = max(20.0, 5 * baseline)
    print(f"{name}: {len(ids)} mutants of {config['path']}; the tests take {baseline:.1f} s", flush=True)
    counts = {"killed": 0, "timeout": 0, "survived": 0, "annotation": 0}
    survivors = []
    try:
        for k, mutation_id in enumerate(ids, 1):
            mutated, changed = mutmut.mutate(mutmut.Context(source=original, mutation_id=mutation_id,
                                                            filename=config["path"]))
            if not changed:
                continue
            if only_annotations(original, mutated):
                counts["annotation"] += 1
                continue
            target.write_text(mutated, "utf-8")
            outcome, _ = run_tests(args, timeout)
            if outcome == "timeout":  # a busy machine is no kill: once more with four times the time
                outcome, _ = run_tests(args, 4 * timeout)
            counts[{"passed": "survived", "failed": "killed", "timeout": "timeout"}[outcome]] += 1
            if outcome != "failed":
                diff = [f"-{a}" for a in original.splitlines()[mutation_id.line_number:mutation_id.line_number + 1]]
                diff += [f"+{b}" for b in mutated.splitlines()[mutation_id.line_number:mutation_id.line_number + 1]]
                what = "survivor" if outcome == "passed" else "timeout (counted as killed)"
                if outcome == "passed":
                    survivors.append({"line": mutation_id.line_number + 1, "diff": diff})
                if show:
                    print(f"  {what}, line {mutation_id.line_number + 1}:\n    " + "\n    ".join(diff), flush=True)
            if k % 25 == 0:
                print(f"  {k}/{len(ids)}: {counts}", flush=True)
    finally:
        target.write_text(original, "utf-8")
    killed = counts["killed"] + counts["timeout"]
    total = killed + counts["survived"]
    return {"module": name, "file": config["path"], "sampled": sampled, "population": population,
            "mutants": total, "killed": killed,
            "timeouts": counts["timeout"], "survived": counts["survived"], "annotations": counts["annotation"],
            "score": round(100.0 * killed / total, 1) if total else None, "survivors": survivors}


def run_module(name: str, config: dict, work: Path, show: bool, sample: int | None) -> dict:
    """The campaign in a fresh interpreter with the module's environment (JIT on or off)."""
    env = {**os.environ, "PYTHONPATH": str(work / "src"), "HYPOTHESIS_PROFILE": "mutation",
           "PYTHONDONTWRITEBYTECODE": "1", "SIMREPORT_TEST_CACHE": str(work / ".test-cache")}
    env.pop("CI", None)
    if not config.get("jit", True):
        env["NUMBA_DISABLE_JIT"] = "1"
    result = work / "result.json"
    args = [sys.executable, str(Path(__file__).resolve()), "--worker", name, "--work", str(work),
            "--json", str(result)] + (["--quiet"] if not show else []) + (["--sample", str(sample)] if sample else [])
    subprocess.run(args, env=env, check=True)
    return json.loads(result.read_text("utf-8"))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--json", type=Path, help="save the table and the survivors as JSON")
    parser.add_argument("--quiet", action="store_true", help="do not print the survivors' diffs")
    parser.add_argument("--sample", type=int, help="test a seeded random sample of N mutants per module (an estimate)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.worker:
        row = worker(options.worker, options.work, not options.quiet, options.sample)
        options.json.write_text(json.dumps(row) + "\n", "utf-8")
        return 0
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
            row = run_module(name, modules[name], work, not options.quiet, options.sample)
            rows.append(row)
            print(f"{name}: {row['killed']} of {row['mutants']} killed ({row['score']}%)", flush=True)
    print("\n| module | file | mutants tested | killed | survived | score | annotations only |\n"
          "|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        tested = f"{r['mutants']} of {r['population']}" if r.get("sampled") else f"{r['mutants']}"
        print(f"| {r['module']} | {r['file']} | {tested} | {r['killed']} | {r['survived']} | {r['score']}% "
              f"| {r['annotations']} |")
    if options.json:
        options.json.write_text(json.dumps(rows, indent=1) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
