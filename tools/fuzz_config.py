"""Every key of the configuration, set to values of every kind, through ``simreport run``.

    python tools/fuzz_config.py EMBEDDINGS.npy

The keys are those ``simreport config --show`` lists (every section, set or not). For each,
a ``simreport.toml`` holding only that key set to each of: text, empty text, markup, 3, -1, 0,
1.5, 1e308, nan, inf, -inf, true, 2147483648, a list of numbers, a list of text, an empty list,
a table, a table of limits (warn above fail, and warn as text), is given to
``simreport run EMBEDDINGS.npy --config FILE --format json`` (in-process, click's test runner).
A configuration file is untrusted input: every value must give exit 0 (a value the run can
use) or exit 2 (refused with one line naming the file and the key), with nothing written.
Any other exit, an "unexpected failure", or a file left behind after a refusal, is listed
with the value that caused it. Exits 1 when any is found. Slow (a few minutes: one run per
key and value); not part of CI, where ``tests/test_options.py`` and ``tests/test_hostile.py``
keep cases of each kind.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

VALUES = ('"text"', '""', '"<script>x</script>"', "3", "-1", "0", "1.5", "1e308", "nan", "inf", "-inf",
          "true", "2147483648", "[1, 2]", '["a"]', "[]", "{ a = 1 }", "{ warn = 0.5, fail = 0.4 }",
          '{ warn = "x" }')


def configuration_keys() -> list[tuple[str, str]]:
    """(section, key) for every key ``simreport config --show`` prints."""
    from click.testing import CliRunner

    from simreport.cli import main

    shown = CliRunner().invoke(main, ["config", "--show"]).output
    keys, section = [], None
    for line in shown.splitlines():
        if heading := re.match(r"^\[(\w+)\]", line):
            section = heading.group(1)
        elif (key := re.match(r"^#? ?(\w+) = ", line)) and section:
            keys.append((section, key.group(1)))
    return keys


def fuzz(embeddings: Path, folder: Path) -> tuple[int, dict[str, list[str]]]:
    """How many runs, and the keys whose values gave neither exit 0 nor a clean exit 2."""
    from click.testing import CliRunner

    from simreport.cli import main

    runner = CliRunner()
    config, out = folder / "simreport.toml", folder / "out"
    found: dict[str, list[str]] = {}
    runs = 0
    for section, key in configuration_keys():
        for value in VALUES:
            config.write_text(f"[{section}]\n{key} = {value}\n", encoding="utf-8")
            done = runner.invoke(main, ["run", str(embeddings), "--config", str(config), "-o", str(out / "r"),
                                        "--format", "json", "--quiet"])
            runs += 1
            left = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
            problem = None
            if done.exit_code not in (0, 2):
                last = (done.output or "").strip().splitlines()[-1:] or [repr(done.exception)]
                problem = f"exit {done.exit_code}, {last[0]}"
            elif done.exit_code == 2 and left:
                problem = f"refused but left {', '.join(left)}"
            if problem:
                found.setdefault(f"{section}.{key}", []).append(f"{value}: {problem}")
            for path in left:
                (out / path).unlink()
    return runs, found


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        runs, found = fuzz(Path(sys.argv[1]).resolve(), Path(tmp))
    print(f"{runs} runs, {len(found)} keys with an unexpected failure")
    for key, problems in found.items():
        print(f"  {key}: {'; '.join(problems[:3])}")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
