"""The package's layers, as they must stay: imports only point down, and nothing imports in a circle.

Every ``import`` in ``src/simreport`` is read with :mod:`ast`, the ones inside functions
included, so a lazy import cannot hide an upward arrow. Layers, bottom to top:

    errors                 the one error base (and the version, the documents' JSON Schema, the stage log)
    findings, config       the checks and the one option schema
    compute                inputs, prepare, models, engine, runners, kernels, tile_numpy, views, clusters,
                           agreement, output
    results                the documents (plain data and JSON), their tables and metrics (frames),
                           and logging them to MLflow (which renders through the documents' own methods)
    test                   cosine_test, compare: compute -> judge -> results
    render                 documents -> HTML and PDF (and signing the PDF)
    top                    api, cli, verify, the package itself, the ValidMind test
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "simreport"

LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("errors", ("simreport.errors", "simreport.version", "simreport.schema", "simreport.stages")),
    ("schema", ("simreport.findings", "simreport.config", "simreport.numbers", "simreport.threshold_set")),
    ("compute", ("simreport.kernels", "simreport.tile_numpy", "simreport.engine", "simreport.runners",
                 "simreport.dask_runner", "simreport.inputs", "simreport.models", "simreport.views",
                 "simreport.clusters", "simreport.agreement", "simreport.prepare", "simreport.output", "simreport.demo",
                 "simreport.pictures", "simreport.torch_engine", "simreport.duplicates")),
    ("results", ("simreport.results", "simreport.frames", "simreport.integrations.mlflow")),
    ("test", ("simreport.cosine_test", "simreport.compare")),
    ("render", ("simreport.render", "simreport.signing")),
    ("top", ("simreport.api", "simreport.cli", "simreport.verify", "simreport.__main__", "simreport",
             "simreport.integrations")),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """The simreport modules a file imports anywhere in it (module level or inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # "from simreport import cli" imports the module simreport.cli
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def layer_of(name: str) -> int:
    best, rank = -1, None
    for k, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            inside = name == prefix or (name.startswith(prefix + ".") and prefix != "simreport")
            if inside and len(prefix) > best:
                best, rank = len(prefix), k
    if rank is None:
        raise AssertionError(f"{name} is in no layer; add it to LAYERS in tests/test_layers.py")
    return rank


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imports_of(path, name, known) for name, path in found.items()}


def test_every_module_has_a_layer():
    for name in modules():
        layer_of(name)


def test_imports_only_point_down():
    upward = []
    for name, targets in graph().items():
        for target in sorted(targets):
            if layer_of(target) > layer_of(name):
                upward.append(f"{name} ({LAYERS[layer_of(name)][0]}) imports {target} "
                              f"({LAYERS[layer_of(target)][0]})")
    assert not upward, "imports pointing up a layer:\n" + "\n".join(upward)


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycle():
    # a package imports its submodules' parent first; that edge is Python's, not ours
    edges = {name: {t for t in targets if not name.startswith(t + ".")} for name, targets in graph().items()}
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


@pytest.mark.parametrize("edges, expected", [
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
    ({"a": {"b"}, "b": set(), "c": {"a"}}, None),
])
def test_cycle_finder(edges, expected):
    assert find_cycle(edges) == expected


def test_imports_are_read_inside_functions(tmp_path):
    source = tmp_path / "simreport" / "mod.py"
    source.parent.mkdir()
    source.write_text("def f():\n    from simreport.render import html\n    import simreport.cli\n")
    known = {"simreport.render", "simreport.render.html", "simreport.cli", "simreport.mod"}
    assert imports_of(source, "simreport.mod", known) == {"simreport.render.html", "simreport.cli"}


HEAVY = ("numba", "plotly", "weasyprint", "pyarrow", "scipy", "torch")
LOADED = f"import sys; print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"


@pytest.mark.parametrize("code", [
    "import simreport",
    "from simreport.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass",
    "from simreport.cli import main\ntry:\n    main(['run', '--help'])\nexcept SystemExit:\n    pass",
])
def test_heavy_libraries_are_imported_where_used(code):
    """``import simreport`` and ``simreport --help`` load none of the heavy libraries."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.run([sys.executable, "-c", code + "\n" + LOADED], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]", proc.stdout
