"""The command line end to end: every input format, labels, bad input and usage, render, atomic output."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import planted_embeddings, run_cli
from security_helpers import cli_inproc
from simreport.output import write_all

N, D = 120, 8
EPOCH = "1700000000"


def cli(*args: str, cwd: Path, **extra_env: str):
    """Run `python -m simreport.cli` in a subprocess, without debug / reproducibility switches unless given."""
    env = {k: v for k, v in os.environ.items() if k not in ("SIMREPORT_DEBUG", "SOURCE_DATE_EPOCH")}
    env.update(extra_env)
    return run_cli(*map(str, args), cwd=cwd, env=env)


def labels() -> list[str]:
    return [f"item-{k}" for k in range(N)]


def near_pairs(path: Path) -> tuple[set[tuple[int, int]], list[dict]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    top = data["near_duplicates"]["top"]
    return {(p["i"], p["j"]) for p in top}, top


def assert_one_line_error(proc, *needles: str) -> str:
    """Exit 2, one line on stderr naming what is wrong, no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def leftovers(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """One embedding set (with planted near-duplicates) in every supported format."""
    folder = tmp_path_factory.mktemp("inputs")
    x, _ = planted_embeddings(n=N, d=D)
    np.save(folder / "e.npy", x)
    np.savez(folder / "e.npz", embeddings=x)
    np.savez(folder / "multi.npz", ids=np.arange(N), emb=x)
    pd.DataFrame({"name": labels(), "vec": list(x)}).to_parquet(folder / "e.parquet")
    pd.DataFrame({"name": labels(), "vec": [json.dumps([float(v) for v in r]) for r in x]}).to_csv(
        folder / "e.csv", index=False)
    numeric = pd.DataFrame(x, columns=[f"c{k}" for k in range(D)])
    numeric.insert(0, "name", labels())
    numeric.to_csv(folder / "num.csv", index=False, float_format="%.9g")
    numeric.to_parquet(folder / "num.parquet")
    numeric.drop(columns="name").to_csv(folder / "plain.csv", index=False, float_format="%.9g")
    (folder / "labels.txt").write_text("\n".join(labels()) + "\n", encoding="utf-8")
    return folder


PLANTED = set(planted_embeddings(n=N, d=D)[1])


# --- happy paths -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "extra", "runner"),
    [
        ("e.npy", [], cli),
        ("e.npz", [], cli),
        ("e.parquet", [], cli),
        ("e.csv", [], cli),
        ("multi.npz", ["--key", "emb"], cli_inproc),
        ("plain.csv", [], cli_inproc),
        ("num.csv", ["--label-column", "name"], cli_inproc),
        ("num.parquet", ["--label-column", "name"], cli_inproc),
        ("e.csv", ["--vector-column", "vec"], cli_inproc),
    ],
    ids=["npy", "npz", "parquet-list", "csv-list", "npz-key", "csv-numeric", "csv-numeric-labels",
         "parquet-numeric-labels", "csv-vector-column"],
)
def test_run_every_input_format(data_dir, tmp_path, name, extra, runner):
    out = tmp_path / "out"
    proc = runner("run", data_dir / name, "-o", out / "r", "--format", "json", *extra, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert leftovers(out) == ["r.json"]
    assert proc.stdout.count("\n") == 1 and f"files {out / 'r.json'}" in proc.stdout  # the outcome line
    data = json.loads((out / "r.json").read_text(encoding="utf-8"))
    assert (data["input"]["n"], data["input"]["dim"]) == (N, D)
    assert data["input"]["path"].endswith(name)
    found, _ = near_pairs(out / "r.json")
    assert found == PLANTED


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("e.npy", ["--labels", "LABELS"]),
        ("e.npz", ["--labels", "LABELS"]),
        ("e.csv", ["--label-column", "name"]),
        ("e.parquet", ["--label-column", "name"]),
        ("num.csv", ["--label-column", "name"]),
        ("plain.csv", ["--labels", "LABELS"]),
    ],
)
def test_labels_appear_in_near_duplicates(data_dir, tmp_path, name, extra):
    extra = [str(data_dir / "labels.txt") if a == "LABELS" else a for a in extra]
    proc = cli_inproc("run", data_dir / name, "-o", tmp_path / "r", "--format", "json", "--quiet", *extra,
                      cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("simreport: ") and proc.stdout.count("\n") == 1  # --quiet keeps the outcome
    found, top = near_pairs(tmp_path / "r.json")
    assert found == PLANTED
    for pair in top:
        assert pair["label_i"] == f"item-{pair['i']}"
        assert pair["label_j"] == f"item-{pair['j']}"


def test_without_labels_rows_are_named_by_index(data_dir, tmp_path):
    proc = cli_inproc("run", data_dir / "e.npy", "-o", tmp_path / "r", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    _, top = near_pairs(tmp_path / "r.json")
    assert all(p["label_i"] == str(p["i"]) and p["label_j"] == str(p["j"]) for p in top)


def test_options_reach_the_results(data_dir, tmp_path):
    proc = cli_inproc("run", data_dir / "e.npy", "-o", tmp_path / "r", "--format", "json", "--title", "My model ü",
               "--near-duplicate-threshold", "0.99995", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["parameters"]["title"] == "My model ü"
    assert data["near_duplicates"]["threshold"] == 0.99995
    # only the two tightest planted pairs (0.999995, 0.999975) clear 0.99995
    assert {(p["i"], p["j"]) for p in data["near_duplicates"]["top"]} == {(25, 90), (3, 40)}


def test_default_output_prefix_is_reports_stem_in_cwd(data_dir, tmp_path):
    shutil.copy(data_dir / "e.npz", tmp_path / "my_vectors.npz")
    proc = cli_inproc("run", "my_vectors.npz", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert leftovers(tmp_path / "reports") == ["my_vectors.json"]


def test_format_list_is_respected(data_dir, tmp_path):
    proc = cli_inproc("run", data_dir / "e.npy", "-o", tmp_path / "r", "--format", " JSON , html ", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert leftovers(tmp_path) == ["r.html", "r.json"]


def test_demo(tmp_path):
    proc = cli_inproc("demo", "-o", tmp_path / "d" / "demo", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "d" / "demo.json").read_text(encoding="utf-8"))
    assert data["input"]["n"] == 296
    assert "demo" in data["parameters"]["title"]


@pytest.fixture(scope="module")
def full_run(data_dir, tmp_path_factory) -> Path:
    """One reproducible run writing all three formats (the default)."""
    folder = tmp_path_factory.mktemp("full")
    proc = cli("run", data_dir / "e.npy", "-o", folder / "out" / "e", "--labels", data_dir / "labels.txt",
               "--title", "Full run", cwd=data_dir, SOURCE_DATE_EPOCH=EPOCH)
    assert proc.returncode == 0, proc.stderr
    return folder / "out"


def test_run_writes_json_html_pdf_by_default(full_run):
    assert leftovers(full_run) == ["e.html", "e.json", "e.pdf"]  # and no temporaries
    assert (full_run / "e.pdf").read_bytes().startswith(b"%PDF")
    html = (full_run / "e.html").read_text(encoding="utf-8")
    assert "<html" in html.lower() and "Full run" in html
    assert "item-25" in html
    data = json.loads((full_run / "e.json").read_text(encoding="utf-8"))
    assert data["input"]["labels"] == "file labels.txt"
    assert {(t["label_i"], t["label_j"]) for t in data["near_duplicates"]["top"]} == {
        (f"item-{i}", f"item-{j}") for i, j in PLANTED}
    assert data["created"] == "2023-11-14T22:13:20Z"
    assert data["duration_seconds"] is None


def test_json_is_byte_identical_across_runs(data_dir, full_run, tmp_path):
    proc = cli("run", data_dir / "e.npy", "-o", tmp_path / "e", "--labels", data_dir / "labels.txt",
               "--title", "Full run", "--format", "json", cwd=data_dir, SOURCE_DATE_EPOCH=EPOCH)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "e.json").read_bytes() == (full_run / "e.json").read_bytes()


def test_render_gives_the_same_documents(full_run, tmp_path):
    proc = cli("render", full_run / "e.json", "-o", tmp_path / "y", "--format", "html,pdf", cwd=tmp_path,
               SOURCE_DATE_EPOCH=EPOCH)
    assert proc.returncode == 0, proc.stderr
    assert leftovers(tmp_path) == ["y.html", "y.pdf"]
    assert (tmp_path / "y.html").read_bytes() == (full_run / "e.html").read_bytes()
    assert (tmp_path / "y.pdf").read_bytes() == (full_run / "e.pdf").read_bytes()


def test_render_json_round_trip_beside_the_input(full_run, tmp_path):
    copy = tmp_path / "copy.json"
    shutil.copy(full_run / "e.json", copy)
    refused = cli_inproc("render", copy, "--format", "json", cwd=tmp_path)  # render never overwrites its input
    assert_one_line_error(refused, "copy.json", "overwrite", "-o")
    proc = cli_inproc("render", copy, "--format", "json", "-o", tmp_path / "again", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert leftovers(tmp_path) == ["again.json", "copy.json"]
    assert (tmp_path / "again.json").read_bytes() == (full_run / "e.json").read_bytes()


# --- bad input through the CLI --------------------------------------------------------------


def _matrix(n: int = 12, d: int = 6) -> np.ndarray:
    return np.random.default_rng(3).standard_normal((n, d))


def _save(path: Path, x) -> None:
    np.save(path, x)


def bad_nan(folder: Path):
    x = _matrix()
    x[3, 0] = x[7, 0] = np.nan
    _save(folder / "nan.npy", x)
    return ["nan.npy"], ["nan.npy", "NaN"], [3, 7]


def bad_inf_csv(folder: Path):
    x = _matrix()
    x[3, 0] = np.inf
    x[7, 0] = -np.inf
    pd.DataFrame({"vec": [json.dumps(list(r)) for r in x]}).to_csv(folder / "inf.csv", index=False)
    return ["inf.csv"], ["inf.csv", "infinite"], [3, 7]


def bad_zero_parquet(folder: Path):
    x = _matrix()
    x[5] = 0
    pd.DataFrame({"vec": list(x)}).to_parquet(folder / "zero.parquet")
    return ["zero.parquet"], ["zero.parquet", "row 5", "zero"], [5]


def bad_zero_npz(folder: Path):
    x = _matrix()
    x[5] = 0
    np.savez(folder / "zero.npz", emb=x)
    return ["zero.npz"], ["zero.npz", "row 5"], [5]


def bad_one_row(folder: Path):
    _save(folder / "one.npy", _matrix(n=1))
    return ["one.npy"], ["one.npy", "2 rows"], None


def bad_3d(folder: Path):
    _save(folder / "cube.npy", np.ones((2, 3, 4)))
    return ["cube.npy"], ["cube.npy", "2-D"], None


def bad_1d(folder: Path):
    _save(folder / "flat.npy", np.ones(5))
    return ["flat.npy"], ["flat.npy", "2-D"], None


def bad_empty_npy(folder: Path):
    _save(folder / "empty.npy", np.zeros((0, 6)))
    return ["empty.npy"], ["empty.npy", "empty"], None


def bad_header_only_csv(folder: Path):
    (folder / "header.csv").write_text("a,b,c\n")
    return ["header.csv"], ["header.csv", "no rows"], None


def bad_non_numeric_csv(folder: Path):
    frame = pd.DataFrame(_matrix(), columns=list("abcdef"))
    frame["b"] = frame["b"].astype(object)
    frame.loc[4, "b"] = "oops"
    frame.to_csv(folder / "text.csv", index=False)
    return ["text.csv"], ["text.csv", "'b'", "row 4"], [4]


def bad_strings_npy(folder: Path):
    _save(folder / "words.npy", np.array([["a", "b"], ["c", "d"]]))
    return ["words.npy"], ["words.npy", "not numbers"], None


def bad_ragged_parquet(folder: Path):
    rows = list(_matrix())
    rows[6] = np.ones(2)
    pd.DataFrame({"vec": rows}).to_parquet(folder / "ragged.parquet")
    return ["ragged.parquet"], ["ragged.parquet", "row 6"], [6]


def bad_ragged_csv(folder: Path):
    rows = [json.dumps(list(r)) for r in _matrix()]
    rows[6] = "[1.0, 2.0]"
    pd.DataFrame({"vec": rows}).to_csv(folder / "ragged.csv", index=False)
    return ["ragged.csv"], ["ragged.csv", "row 6"], [6]


def bad_ragged_npy(folder: Path):
    values = np.empty(3, dtype=object)
    values[:] = [[1.0, 2.0], [1.0], [3.0, 4.0]]
    np.save(folder / "objects.npy", values, allow_pickle=True)
    return ["objects.npy"], ["objects.npy"], None


def bad_corrupt_npy(folder: Path):
    (folder / "junk.npy").write_bytes(b"definitely not numpy" * 10)
    return ["junk.npy"], ["junk.npy"], None


def bad_corrupt_npz(folder: Path):
    np.savez(folder / "full.npz", emb=_matrix(n=50))
    data = (folder / "full.npz").read_bytes()
    (folder / "cut.npz").write_bytes(data[: len(data) // 2])
    (folder / "full.npz").unlink()
    return ["cut.npz"], ["cut.npz"], None


def bad_renamed_npz(folder: Path):
    np.savez(folder / "real.npz", emb=_matrix())
    (folder / "real.npz").rename(folder / "fake.npy")
    return ["fake.npy"], ["fake.npy"], None


def bad_corrupt_parquet(folder: Path):
    (folder / "junk.parquet").write_bytes(b"PAR1 but not really" * 10)
    return ["junk.parquet"], ["junk.parquet"], None


def bad_binary_csv(folder: Path):
    (folder / "binary.csv").write_bytes(b"\xff\xfe\x00\x81" * 50)
    return ["binary.csv"], ["binary.csv"], None


def bad_missing(folder: Path):
    return ["absent.npy"], ["absent.npy", "not found"], None


def bad_extension(folder: Path):
    (folder / "vectors.txt").write_text("1 2\n3 4\n")
    return ["vectors.txt"], ["vectors.txt", ".npy"], None


def bad_label_count(folder: Path):
    _save(folder / "e.npy", _matrix())
    (folder / "few.txt").write_text("a\nb\nc\n")
    return ["e.npy", "--labels", "few.txt"], ["few.txt", "3 labels", "12"], None


def bad_labels_file_missing(folder: Path):
    _save(folder / "e.npy", _matrix())
    return ["e.npy", "--labels", "gone.txt"], ["gone.txt", "not found"], None


def bad_npz_needs_key(folder: Path):
    np.savez(folder / "many.npz", a=_matrix(), b=_matrix())
    return ["many.npz"], ["many.npz", "--key"], None


def bad_npz_unknown_key(folder: Path):
    np.savez(folder / "one.npz", emb=_matrix())
    return ["one.npz", "--key", "nope"], ["one.npz", "'nope'", "emb"], None


def bad_vector_column(folder: Path):
    pd.DataFrame({"vec": list(_matrix())}).to_parquet(folder / "t.parquet")
    return ["t.parquet", "--vector-column", "embedding"], ["t.parquet", "'embedding'", "--vector-column"], None


def bad_label_column(folder: Path):
    pd.DataFrame({"vec": [json.dumps(list(r)) for r in _matrix()]}).to_csv(folder / "t.csv", index=False)
    return ["t.csv", "--label-column", "title"], ["t.csv", "'title'", "--label-column"], None


def bad_label_column_on_array(folder: Path):
    _save(folder / "e.npy", _matrix())
    return ["e.npy", "--label-column", "name"], ["e.npy", "--labels"], None


BAD_INPUTS = [
    bad_nan, bad_inf_csv, bad_zero_parquet, bad_zero_npz, bad_one_row, bad_3d, bad_1d, bad_empty_npy,
    bad_header_only_csv, bad_non_numeric_csv, bad_strings_npy, bad_ragged_parquet, bad_ragged_csv,
    bad_ragged_npy, bad_corrupt_npy, bad_corrupt_npz, bad_renamed_npz, bad_corrupt_parquet, bad_binary_csv,
    bad_missing, bad_extension, bad_label_count, bad_labels_file_missing, bad_npz_needs_key,
    bad_npz_unknown_key, bad_vector_column, bad_label_column, bad_label_column_on_array,
]


IN_SUBPROCESS = {bad_nan, bad_zero_parquet, bad_ragged_csv, bad_corrupt_npz, bad_npz_needs_key, bad_label_count}


@pytest.mark.parametrize("build", BAD_INPUTS, ids=[b.__name__[4:] for b in BAD_INPUTS])
def test_bad_input_exits_2_and_writes_nothing(tmp_path, build):
    args, needles, rows = build(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    before = leftovers(tmp_path)
    runner = cli if build in IN_SUBPROCESS else cli_inproc
    proc = runner("run", *args, "-o", "out/r", cwd=tmp_path)  # all three formats requested
    line = assert_one_line_error(proc, *needles)
    if rows is not None:
        numbers = {int(m) for m in re.findall(r"\d+", line)}
        assert set(rows) <= numbers, line
        assert not ({r + 1 for r in rows} - set(rows)) & numbers, f"1-based rows in: {line}"
    assert proc.stdout == ""
    assert leftovers(out) == []
    assert leftovers(tmp_path) == before  # no reports/ folder, no temporaries


def test_bad_input_does_not_create_the_output_folder(tmp_path):
    bad_nan(tmp_path)
    proc = cli_inproc("run", "nan.npy", "-o", "new/deeper/r", cwd=tmp_path)
    assert_one_line_error(proc, "nan.npy")
    assert not (tmp_path / "new").exists()


# --- bad usage -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--format", "json,xml"], "--format"),
        (["--format", ","], "--format"),
        (["--threshold", "garbage"], "--threshold"),
        (["--threshold", "mean_similarity.warn=high"], "--threshold"),
        (["--threshold", "no_such_check.warn=1"], "no_such_check"),
        (["--labels", "labels.txt", "--label-column", "name"], "--label-column"),
        (["--near-duplicate-threshold", "abc"], "--near-duplicate-threshold"),
        (["--near-duplicate-threshold", "1.5"], "1.5"),
        (["--color-range", "1,0"], "--color-range"),
        (["--color-range", "wide"], "--color-range"),
        (["--heatmap-order", "random"], "--heatmap-order"),
        (["--no-such-option"], "--no-such-option"),
    ],
)
def test_bad_usage_exits_2(data_dir, tmp_path, extra, needle):
    out = tmp_path / "out"
    out.mkdir()
    extra = [str(data_dir / "labels.txt") if a == "labels.txt" else a for a in extra]
    # click's own parse errors and the command's checks, each once in a real process
    runner = cli if extra[0] in ("--near-duplicate-threshold", "--format") and extra[1] in ("abc", ",") else cli_inproc
    proc = runner("run", data_dir / "num.csv", "-o", out / "r", *extra, cwd=tmp_path)
    assert_one_line_error(proc, needle)
    assert leftovers(out) == []


@pytest.mark.parametrize("args", [["run"], ["frobnicate"], ["render"], ["demo", "--format", "docx"]])
def test_bad_command_line_exits_2(tmp_path, args):
    proc = (cli if args == ["frobnicate"] else cli_inproc)(*args, cwd=tmp_path)
    assert_one_line_error(proc)
    assert leftovers(tmp_path) == []


def test_help_and_version_exit_0(tmp_path):
    assert cli_inproc("--version", cwd=tmp_path).returncode == 0
    proc = cli_inproc("run", "--help", cwd=tmp_path)
    assert proc.returncode == 0 and "--vector-column" in proc.stdout


# --- render of wrong files ---------------------------------------------------------------------


def render_not_json(folder: Path, full: Path) -> tuple[str, list[str]]:
    (folder / "notes.json").write_text("this is not json\n")
    return "notes.json", ["notes.json", "not valid JSON"]


def render_binary(folder: Path, full: Path):
    np.save(folder / "array.npy", _matrix())
    (folder / "array.npy").rename(folder / "array.json")
    return "array.json", ["array.json"]


def render_list(folder: Path, full: Path):
    (folder / "list.json").write_text("[1, 2, 3]\n")
    return "list.json", ["list.json"]


def render_other_dict(folder: Path, full: Path):
    (folder / "other.json").write_text('{"hello": "world"}\n')
    return "other.json", ["other.json"]


def render_missing_key(folder: Path, full: Path):
    data = json.loads((full / "e.json").read_text(encoding="utf-8"))
    del data["stats"]
    (folder / "partial.json").write_text(json.dumps(data))
    return "partial.json", ["partial.json", "stats"]


def render_future_schema(folder: Path, full: Path):
    data = json.loads((full / "e.json").read_text(encoding="utf-8"))
    data["schema_version"] = "9.0"
    (folder / "future.json").write_text(json.dumps(data))
    return "future.json", ["future.json", "9.0"]


def render_missing_file(folder: Path, full: Path):
    return "nowhere.json", ["nowhere.json", "not found"]


RENDER_BAD = [render_not_json, render_binary, render_list, render_other_dict, render_missing_key,
              render_future_schema, render_missing_file]


@pytest.mark.parametrize("build", RENDER_BAD, ids=[b.__name__[7:] for b in RENDER_BAD])
def test_render_of_a_wrong_file_exits_2(full_run, tmp_path, build):
    name, needles = build(tmp_path, full_run)
    out = tmp_path / "out"
    out.mkdir()
    runner = cli if build in (render_not_json, render_binary) else cli_inproc
    proc = runner("render", name, "-o", out / "y", "--format", "html", cwd=tmp_path)
    assert_one_line_error(proc, *needles)
    assert leftovers(out) == []


def test_render_bad_format_exits_2(full_run, tmp_path):
    proc = cli_inproc("render", full_run / "e.json", "-o", tmp_path / "y", "--format", "svg", cwd=tmp_path)
    assert_one_line_error(proc, "--format")
    assert leftovers(tmp_path) == []


# --- unexpected failures and all-or-nothing output -----------------------------------------------


@pytest.fixture
def broken_templates(tmp_path) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "report.html.j2").write_text("{% if %}broken{% endif %}\n")
    return folder


def test_broken_template_exits_2_naming_it_and_writes_nothing(data_dir, tmp_path, broken_templates):
    out = tmp_path / "out"
    out.mkdir()
    proc = cli("run", data_dir / "e.npy", "-o", out / "r", "--format", "json,pdf", "--templates",
               broken_templates, cwd=tmp_path)
    assert_one_line_error(proc, "report.html.j2, line 1", "syntax error")
    assert leftovers(out) == []  # decided before the computation: nothing is written


def test_unexpected_failure_exits_1_and_writes_nothing(data_dir, tmp_path, monkeypatch):
    import simreport.render.pdf

    def boom(*args, **kwargs):
        raise RuntimeError("the PDF writer broke")

    monkeypatch.setattr(simreport.render.pdf, "render_pdf", boom)
    out = tmp_path / "out"
    out.mkdir()
    proc = cli_inproc("run", data_dir / "e.npy", "-o", out / "r", "--format", "json,pdf", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("simreport: unexpected failure"), proc.stderr
    assert "SIMREPORT_DEBUG" in lines[0] and "the PDF writer broke" in lines[0]
    assert leftovers(out) == []  # the JSON was ready but is not written when the PDF fails


def test_debug_switch_shows_the_traceback(data_dir, tmp_path, monkeypatch):
    import simreport.render.html

    def boom(*args, **kwargs):
        raise RuntimeError("the HTML writer broke")

    monkeypatch.setattr(simreport.render.html, "render_html", boom)
    proc = cli_inproc("run", data_dir / "e.npy", "-o", tmp_path / "out" / "r", "--format", "html", cwd=tmp_path,
                      SIMREPORT_DEBUG="1")
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and "the HTML writer broke" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_unwritable_output_location_fails_cleanly(data_dir, tmp_path):
    (tmp_path / "blocker").write_text("a file, not a folder\n")
    proc = cli_inproc("run", data_dir / "e.npy", "-o", "blocker/r", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "blocker" in proc.stderr and "-o" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert leftovers(tmp_path) == ["blocker"]
    assert (tmp_path / "blocker").read_text() == "a file, not a folder\n"


def test_write_all_writes_every_file(tmp_path):
    files = {tmp_path / "a.json": b"{}", tmp_path / "sub" / "deeper" / "b.html": b"<html>",
             tmp_path / "c.pdf": b"%PDF-1.7"}
    write_all(files)
    for path, data in files.items():
        assert path.read_bytes() == data
    assert leftovers(tmp_path) == ["a.json", "c.pdf", "sub"]
    assert leftovers(tmp_path / "sub" / "deeper") == ["b.html"]


def test_write_all_failure_midway_leaves_nothing(tmp_path):
    (tmp_path / "blocker").write_text("x")
    files = {tmp_path / "r.json": b"{}", tmp_path / "blocker" / "r.html": b"<html>", tmp_path / "r.pdf": b"%PDF"}
    with pytest.raises(OSError):
        write_all(files)
    assert leftovers(tmp_path) == ["blocker"]


def test_write_all_bad_payload_leaves_nothing_and_keeps_old_files(tmp_path):
    old = tmp_path / "r.json"
    old.write_bytes(b"old report")
    files = {old: b"new report", tmp_path / "r.html": b"<html>", tmp_path / "r.pdf": None}
    with pytest.raises(TypeError):
        write_all(files)  # type: ignore[arg-type]
    assert leftovers(tmp_path) == ["r.json"]
    assert old.read_bytes() == b"old report"
    assert not any(name.endswith(".tmp") for name in os.listdir(tmp_path))
