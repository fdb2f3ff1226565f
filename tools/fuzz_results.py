"""Every key of a results JSON, set to a value of the wrong kind, through ``simreport render``.

    python tools/fuzz_results.py reports/demo.json [more.json ...]

For each key path of each file (every key of every object; the first and the last item of
every list), the file is written again with that key set to each of: a list, an object,
text, 3, -1, 1.5, null and true, and ``simreport render FILE --format html`` runs on it
(in-process, click's test runner). A hostile or corrupted results file must give exit 0
(the value is one the report can print) or exit 2 (refused with one line naming the file
and the key path): any other exit, an "unexpected failure", is a gap in the schema or in the
checks of :mod:`simreport.results`, and is listed with the values that caused it. Exits 1
when any is found. Slow (a few minutes a file: one render per key and value); not part of CI,
where ``tests/test_hostile.py`` keeps one case for each gap this found.
"""

from __future__ import annotations

import copy
import json
import sys
import tempfile
from pathlib import Path

WRONG_VALUES = ([], {"a": 1}, "x", 3, -1, 1.5, None, True)


def key_paths(document: object) -> list[list]:
    """Every key path (objects: every key; lists: the first and last item)."""
    paths: list[list] = []

    def walk(node: object, path: list) -> None:
        if path:
            paths.append(path)
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, [*path, key])
        elif isinstance(node, list) and node:
            walk(node[0], [*path, 0])
            if len(node) > 1:
                walk(node[-1], [*path, len(node) - 1])

    walk(document, [])
    return paths


def fuzz(path: Path, folder: Path) -> dict[str, list[str]]:
    """The key paths (numbers for list items) whose wrong values gave neither exit 0 nor 2."""
    from click.testing import CliRunner

    from simreport.cli import main

    base = json.loads(path.read_text(encoding="utf-8"))
    runner = CliRunner()
    edited = folder / "edited.json"
    found: dict[str, list[str]] = {}
    for keys in key_paths(base):
        for value in WRONG_VALUES:
            document = copy.deepcopy(base)
            target = document
            for key in keys[:-1]:
                target = target[key]
            target[keys[-1]] = value
            edited.write_text(json.dumps(document), encoding="utf-8")
            done = runner.invoke(main, ["render", str(edited), "-o", str(folder / "out" / "x"), "--format", "html"])
            if done.exit_code not in (0, 2):
                last = (done.output or "").strip().splitlines()[-1:] or [repr(done.exception)]
                found.setdefault(".".join(map(str, keys)), []).append(f"{value!r}: exit {done.exit_code}, {last[0]}")
    return found


def main() -> int:
    files = [Path(a) for a in sys.argv[1:]]
    if not files:
        print(__doc__)
        return 2
    gaps = 0
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            found = fuzz(path, Path(tmp))
            print(f"{path}: {len(key_paths(json.loads(path.read_text(encoding='utf-8'))))} key paths, "
                  f"{len(found)} with an unexpected failure")
            for key, problems in found.items():
                print(f"  {key}: {'; '.join(problems[:3])}")
            gaps += len(found)
    return 1 if gaps else 0


if __name__ == "__main__":
    raise SystemExit(main())
