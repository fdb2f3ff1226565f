"""The hostile-input suite (issue 10): inputs, configuration, flags, paths, templates, results
JSON and PDFs that try to crash, mislead or trick simreport. Every case asserts the exit
code, that the one error line names what is wrong, and that nothing is left behind (no
report, no temporary file, no folder). Runs in process (click's runner), so the whole
suite takes well under two minutes."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from security_helpers import cli_inproc, files_under

RNG = np.random.default_rng(11)
GOOD = RNG.standard_normal((20, 6)).astype(np.float32)


def npy_header(shape, descr="<f4", fortran=False) -> bytes:
    stream = io.BytesIO()
    np.lib.format.write_array_header_1_0(stream, {"descr": descr, "fortran_order": fortran, "shape": shape})
    return stream.getvalue()


def save_npy(name, array, **kw):
    def make(folder: Path) -> list[str]:
        np.save(folder / name, array, **kw)
        return [name]
    return make


def write(name, data: bytes | str, *extra: str):
    def make(folder: Path) -> list[str]:
        (folder / name).write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return [name, *extra]
    return make


def npz(name, members: dict[str, bytes], *extra: str):
    def make(folder: Path) -> list[str]:
        with zipfile.ZipFile(folder / name, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for member, data in members.items():
                archive.writestr(member, data)
        return [name, *extra]
    return make


def npy_bytes(array) -> bytes:
    stream = io.BytesIO()
    np.save(stream, array)
    return stream.getvalue()


def parquet(name, frame_maker, *extra: str):
    def make(folder: Path) -> list[str]:
        frame_maker().to_parquet(folder / name)
        return [name, *extra]
    return make


def with_labels(text: bytes, make_input):
    def make(folder: Path) -> list[str]:
        (folder / "labels.txt").write_bytes(text)
        return make_input(folder) + ["--labels", "labels.txt"]
    return make


def matrix(**edits) -> np.ndarray:
    x = GOOD.astype(np.float64).copy()
    for row, value in edits.items():
        x[int(row[1:])] = value
    return x


def csv_text(rows: list[list[str]], sep: str = ",") -> str:
    return "\n".join(sep.join(r) for r in rows) + "\n"


NUMERIC = [["a", "b", "c"]] + [[f"{v:.5f}" for v in row[:3]] for row in GOOD]

# (id, setup -> run arguments, needles in the error line)
INPUT_CASES = [
    ("npy-nan", save_npy("x.npy", matrix(r3=np.nan)), ["x.npy", "NaN", "row 3"]),
    ("npy-inf", save_npy("x.npy", matrix(r4=np.inf)), ["x.npy", "infinite"]),
    ("npy-neg-inf", save_npy("x.npy", matrix(r5=-np.inf)), ["x.npy", "infinite"]),
    ("npy-zero-row", save_npy("x.npy", matrix(r2=0.0)), ["x.npy", "zero vectors", "row 2"]),
    ("npy-underflow", save_npy("x.npy", matrix(r6=1e-50)), ["x.npy", "underflow", "float32"]),
    ("npy-subnormal", save_npy("x.npy", matrix(r6=1e-40)), ["x.npy", "underflow"]),
    ("npy-overflow", save_npy("x.npy", matrix(r1=1e300)), ["x.npy", "overflow", "float32"]),
    ("npy-one-row", save_npy("x.npy", GOOD[:1]), ["x.npy", "2 rows"]),
    ("npy-1d", save_npy("x.npy", GOOD[0]), ["x.npy", "2-D"]),
    ("npy-3d", save_npy("x.npy", GOOD.reshape(2, 10, 6)), ["x.npy", "2-D"]),
    ("npy-empty", save_npy("x.npy", np.zeros((0, 6))), ["x.npy", "empty"]),
    ("npy-no-columns", save_npy("x.npy", np.zeros((5, 0))), ["x.npy", "empty"]),
    ("npy-scalar", save_npy("x.npy", np.float32(3)), ["x.npy", "2-D"]),
    ("npy-strings", save_npy("x.npy", np.array([["a", "b"], ["c", "d"]])), ["x.npy", "not numbers"]),
    ("npy-bool", save_npy("x.npy", GOOD > 0), ["x.npy", "bool"]),
    ("npy-complex", save_npy("x.npy", GOOD.astype(np.complex64)), ["x.npy", "not numbers"]),
    ("npy-datetime", save_npy("x.npy", np.zeros((4, 2), dtype="datetime64[s]")), ["x.npy", "not numbers"]),
    ("npy-structured", save_npy("x.npy", np.zeros(4, dtype=[("a", "<f4"), ("b", "<f4")])), ["x.npy"]),
    ("npy-pickle", save_npy("x.npy", np.array([[1.0], [1.0, 2.0]], dtype=object), allow_pickle=True),
     ["x.npy", "Python objects"]),
    ("npy-bad-magic", write("x.npy", b"not numpy at all" * 8), ["x.npy", "not a .npy"]),
    ("npy-empty-file", write("x.npy", b""), ["x.npy"]),
    ("npy-truncated", write("x.npy", npy_header((40, 6)) + b"\0" * 100), ["x.npy", "truncated"]),
    ("npy-header-only", write("x.npy", npy_header((40, 6))), ["x.npy", "truncated"]),
    ("npy-bomb-rows", write("x.npy", npy_header((10**12, 4)) + b"\0" * 64), ["x.npy", "memory"]),
    ("npy-bomb-cols", write("x.npy", npy_header((4, 10**12)) + b"\0" * 64), ["x.npy", "memory"]),
    ("npy-bomb-square", write("x.npy", npy_header((10**7, 10**6), "<f8")), ["x.npy", "memory", "TB"]),
    ("npy-bomb-fortran", write("x.npy", npy_header((10**7, 10**6), "<f4", True)), ["x.npy", "memory"]),
    ("npy-bad-header", write("x.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': oops}  \n"), ["x.npy", "header"]),
    ("npy-header-code", write("x.npy", b"\x93NUMPY\x01\x00\x30\x00{'descr': __import__('os').system('x')}  \n"),
     ["x.npy", "header"]),
    ("npy-renamed-npz", lambda f: (np.savez(f / "x.npy", a=GOOD), (f / "x.npy.npz").rename(f / "x.npy"),
                                   ["x.npy"])[2], ["x.npy", "not a .npy"]),
    ("npz-two-arrays", lambda f: (np.savez(f / "x.npz", a=GOOD, b=GOOD), ["x.npz"])[1], ["x.npz", "--key"]),
    ("npz-unknown-key", lambda f: (np.savez(f / "x.npz", a=GOOD), ["x.npz", "--key", "b"])[1],
     ["x.npz", "'b'", "--key"]),
    ("npz-empty", npz("x.npz", {}), ["x.npz", "0 arrays"]),
    ("npz-not-zip", write("x.npz", b"definitely not a zip"), ["x.npz", "not a .npz"]),
    ("npz-cut", lambda f: (np.savez(f / "x.npz", a=GOOD),
                           (f / "x.npz").write_bytes((f / "x.npz").read_bytes()[:300]), ["x.npz"])[2], ["x.npz"]),
    ("npz-bomb-member", npz("x.npz", {"a.npy": npy_header((10**7, 10**6)) + b"\0" * 64}), ["x.npz", "'a'", "memory"]),
    ("npz-bomb-other-key", npz("x.npz", {"a.npy": npy_bytes(GOOD), "b.npy": npy_header((10**9, 10**5))},
                               "--key", "b"), ["x.npz", "'b'", "memory"]),
    ("npz-truncated-member", npz("x.npz", {"a.npy": npy_header((40, 6)) + b"\0" * 10}), ["x.npz", "truncated"]),
    ("npz-member-not-npy", npz("x.npz", {"a.npy": b"garbage bytes here"}), ["x.npz"]),
    ("npz-object-member", npz("x.npz", {"a.npy": npy_bytes(np.array([None, 1], dtype=object))}),
     ["x.npz", "Python objects"]),
    ("npz-nan", lambda f: (np.savez(f / "x.npz", a=matrix(r7=np.nan)), ["x.npz"])[1], ["x.npz", "row 7"]),
    ("csv-mixed-delimiters", write("x.csv", "a;b;c\n1;2;3\n4,5,6,7\n1;2\n"), ["x.csv", "delimiter"]),
    ("csv-ragged-commas", write("x.csv", "a,b,c\n1,2,3\n4,5\n6,7,8,9\n"), ["x.csv", "delimiter"]),
    ("csv-not-utf8", write("x.csv", b"a,b\n\xff\xfe,1\n"), ["x.csv", "UTF-8"]),
    ("csv-binary", write("x.csv", b"\x00\x81\xff" * 40), ["x.csv"]),
    ("csv-empty", write("x.csv", ""), ["x.csv"]),
    ("csv-header-only", write("x.csv", "a,b,c\n"), ["x.csv", "no rows"]),
    ("csv-text-column", write("x.csv", csv_text(NUMERIC[:1] + [["x", "1", "2"]] * 5)), ["x.csv", "'a'"]),
    ("csv-bool-column", write("x.csv", csv_text([["a", "b"]] + [["0.5", "True"], ["0.1", "False"]] * 4)),
     ["x.csv", "'b'", "bool"]),
    ("csv-nan-cell", write("x.csv", csv_text(NUMERIC[:3] + [["nan", "1", "2"]] + NUMERIC[3:])), ["x.csv", "NaN"]),
    ("csv-inf-cell", write("x.csv", csv_text(NUMERIC[:3] + [["inf", "1", "2"]] + NUMERIC[3:])),
     ["x.csv", "infinite"]),
    ("csv-missing-cell", write("x.csv", csv_text(NUMERIC[:3] + [["", "1", "2"]] + NUMERIC[3:])), ["x.csv", "NaN"]),
    ("csv-one-row", write("x.csv", csv_text(NUMERIC[:2])), ["x.csv", "2 rows"]),
    ("csv-zero-row", write("x.csv", csv_text(NUMERIC[:3] + [["0", "0", "0"]])), ["x.csv", "zero"]),
    ("csv-huge-value", write("x.csv", csv_text(NUMERIC[:3] + [["1e300", "1", "2"]])), ["x.csv", "overflow"]),
    ("csv-vector-ragged", write("x.csv", 'v\n"[1, 2]"\n"[1, 2, 3]"\n"[4, 5]"\n'), ["x.csv", "ragged", "row 1"]),
    ("csv-vector-garbage", write("x.csv", 'v\n"[1, 2]"\n"[1, oops]"\n'), ["x.csv", "row 1"]),
    ("csv-eu-text", write("x.csv", "a;b\n0,5;x\n0,25;y\n"), ["x.csv", "'b'"]),
    ("csv-unknown-label-col", write("x.csv", csv_text(NUMERIC), "--label-column", "name"),
     ["x.csv", "'name'", "--label-column"]),
    ("csv-unknown-vector-col", write("x.csv", csv_text(NUMERIC), "--vector-column", "vec"),
     ["x.csv", "'vec'", "--vector-column"]),
    ("parquet-corrupt", write("x.parquet", b"PAR1 not really" * 5), ["x.parquet"]),
    ("parquet-empty-file", write("x.parquet", b""), ["x.parquet"]),
    ("parquet-bool-column", parquet("x.parquet", lambda: pd.DataFrame({"a": GOOD[:, 0], "f": GOOD[:, 1] > 0})),
     ["x.parquet", "'f'", "bool"]),
    ("parquet-bool-vectors", parquet("x.parquet", lambda: pd.DataFrame({"v": list(GOOD > 0)})),
     ["x.parquet", "bool"]),
    ("parquet-text-column", parquet("x.parquet", lambda: pd.DataFrame({"a": GOOD[:, 0], "t": ["x"] * 20})),
     ["x.parquet", "'t'"]),
    ("parquet-ragged", parquet("x.parquet", lambda: pd.DataFrame({"v": [GOOD[0], GOOD[1][:3]] * 3})),
     ["x.parquet", "ragged"]),
    ("parquet-null-vector", parquet("x.parquet", lambda: pd.DataFrame({"v": [list(GOOD[0]), None] * 3})),
     ["x.parquet", "row 1"]),
    ("parquet-no-rows", parquet("x.parquet", lambda: pd.DataFrame({"a": pd.Series([], dtype=float)})),
     ["x.parquet", "no rows"]),
    ("parquet-two-vector-cols", parquet("x.parquet", lambda: pd.DataFrame({"v": list(GOOD), "w": list(GOOD)})),
     ["x.parquet", "--vector-column"]),
    ("labels-missing", lambda f: save_npy("x.npy", GOOD)(f) + ["--labels", "nope.txt"], ["nope.txt", "not found"]),
    ("labels-too-few", with_labels(b"a\nb\n", save_npy("x.npy", GOOD)), ["labels.txt", "2 labels", "20"]),
    ("labels-not-utf8", with_labels(b"\xff\xfe\n" * 20, save_npy("x.npy", GOOD)), ["labels.txt"]),
    ("labels-and-column", lambda f: save_npy("x.npy", GOOD)(f) + ["--labels", "x.npy", "--label-column", "a"],
     ["--label-column"]),
    ("label-column-on-array", lambda f: save_npy("x.npy", GOOD)(f) + ["--label-column", "a"], ["x.npy", "--labels"]),
    ("unsupported-suffix", write("x.txt", "1 2\n3 4\n"), ["x.txt", ".npy"]),
    ("no-suffix", write("data", "1 2\n"), ["data", ".npy"]),
    ("missing-input", lambda f: ["absent.npy"], ["absent.npy", "not found"]),
    ("input-is-folder", lambda f: ((f / "d.npy").mkdir(), ["d.npy"])[1], ["d.npy", "not a file"]),
    ("text-column-without-model", lambda f: save_npy("x.npy", GOOD)(f) + ["--text-column", "t"], ["--model"]),
]


@pytest.mark.parametrize("setup,needles", [c[1:] for c in INPUT_CASES], ids=[c[0] for c in INPUT_CASES])
def test_hostile_input(tmp_path, setup, needles):
    args = setup(tmp_path)
    _refused(tmp_path, ["run", *args, "-o", "out/r", "--quiet"], 2, needles)


CONFIG_CASES = [
    ("unknown-section", "[tests]\n", ["[tests]"]),
    ("unknown-key", "[test]\ndisplay_capp = 3\n", ["test.display_capp"]),
    ("unknown-threshold", "[thresholds]\nno_such = { warn = 1 }\n", ["no_such"]),
    ("threshold-level", "[thresholds]\nmean_similarity = { worry = 1 }\n", ["thresholds.mean_similarity"]),
    ("threshold-nan", "[thresholds]\nmean_similarity = { warn = nan }\n", ["thresholds.mean_similarity", "finite"]),
    ("threshold-inf", "[thresholds]\nmean_similarity = { fail = inf }\n", ["thresholds.mean_similarity", "finite"]),
    ("threshold-bool", "[thresholds]\nmean_similarity = { warn = true }\n", ["thresholds.mean_similarity"]),
    ("threshold-text", '[thresholds]\nmean_similarity = { warn = "high" }\n', ["thresholds.mean_similarity"]),
    ("threshold-not-table", "[thresholds]\nmean_similarity = 3\n", ["thresholds.mean_similarity"]),
    ("threshold-order", "[thresholds]\nmean_similarity = { warn = 0.9, fail = 0.1 }\n", ["mean_similarity"]),
    ("near-dup-nan", "[test]\nnear_duplicate_threshold = nan\n", ["test.near_duplicate_threshold", "finite"]),
    ("near-dup-range", "[test]\nnear_duplicate_threshold = 1.5\n", ["test.near_duplicate_threshold"]),
    ("opposed-inf", "[test]\nopposed_threshold = -inf\n", ["test.opposed_threshold", "finite"]),
    ("display-cap-1", "[test]\ndisplay_cap = 1\n", ["test.display_cap"]),
    ("display-cap-float", "[test]\ndisplay_cap = 3.5\n", ["test.display_cap"]),
    ("seed-negative", "[test]\nseed = -1\n", ["test.seed"]),
    ("seed-bool", "[test]\nseed = true\n", ["test.seed"]),
    ("heatmap-order", '[test]\nheatmap_order = "random"\n', ["test.heatmap_order"]),
    ("color-range-inf", "[render]\ncolor_range = [-inf, inf]\n", ["render.color_range", "finite"]),
    ("color-range-nan", "[render]\ncolor_range = [nan, 1]\n", ["render.color_range", "finite"]),
    ("color-range-bool", "[render]\ncolor_range = [false, true]\n", ["render.color_range"]),
    ("color-range-reversed", "[render]\ncolor_range = [1, -1]\n", ["render.color_range"]),
    ("color-range-three", "[render]\ncolor_range = [-1, 0, 1]\n", ["render.color_range"]),
    ("color-range-text", '[render]\ncolor_range = "wide"\n', ["render.color_range"]),
    ("color-scale", '[render]\ncolor_scale = "NoSuchScale"\n', ["render.color_scale"]),
    ("formats", '[render]\nformats = ["json", "xml"]\n', ["render.formats"]),
    ("pdf-variant", '[render]\npdf_variant = "pdf/x-1"\n', ["render.pdf_variant"]),
    ("plotlyjs", '[render]\nplotlyjs = "remote"\n', ["render.plotlyjs"]),
    ("attach-data-text", '[render]\nattach_data = "yes"\n', ["render.attach_data"]),
    ("templates-missing", '[render]\ntemplates = "no/such/dir"\n', ["no/such/dir", "templates"]),
    ("workers-zero", "[engine]\nworkers = 0\n", ["engine.workers"]),
    ("tile-size-zero", "[engine]\ntile_size = 0\n", ["engine.tile_size"]),
    ("runner", '[engine]\nrunner = "gpu-cloud"\n', ["engine.runner"]),
    ("title-number", "[report]\ntitle = 3\n", ["report.title"]),
    ("section-not-table", "report = 3\n", ["[report]"]),
    ("invalid-toml", "[report\n", ["not valid TOML"]),
    ("not-utf8", b'[report]\ntitle = "\xff"\n', ["UTF-8"]),
]


@pytest.mark.parametrize("text,needles", [c[1:] for c in CONFIG_CASES], ids=[c[0] for c in CONFIG_CASES])
def test_hostile_configuration_file(tmp_path, text, needles):
    np.save(tmp_path / "x.npy", GOOD)
    (tmp_path / "c.toml").write_bytes(text.encode() if isinstance(text, str) else text)
    _refused(tmp_path, ["run", "x.npy", "--config", "c.toml", "-o", "out/r"], 2, needles + ["c.toml"])


@pytest.mark.parametrize("text,needles", [CONFIG_CASES[4][1:], CONFIG_CASES[18][1:], CONFIG_CASES[-1][1:]],
                         ids=["found-threshold-nan", "found-color-range-inf", "found-not-utf8"])
def test_hostile_configuration_found_in_the_folder(tmp_path, text, needles):
    np.save(tmp_path / "x.npy", GOOD)
    (tmp_path / "simreport.toml").write_bytes(text.encode() if isinstance(text, str) else text)
    proc = _refused(tmp_path, ["run", "x.npy", "-o", "out/r"], 2, needles + ["simreport.toml"])
    assert "using configuration simreport.toml (found in the current folder)" in proc.stderr


FLAG_CASES = [
    ("threshold-nan", ["--threshold", "mean_similarity.warn=nan"], ["--threshold", "finite"]),
    ("threshold-inf", ["--threshold", "mean_similarity.fail=inf"], ["--threshold", "finite"]),
    ("threshold-garbage", ["--threshold", "garbage"], ["--threshold"]),
    ("threshold-text", ["--threshold", "mean_similarity.warn=high"], ["--threshold"]),
    ("threshold-unknown", ["--threshold", "no_such.warn=1"], ["no_such"]),
    ("threshold-level", ["--threshold", "mean_similarity.worry=1"], ["--threshold"]),
    ("threshold-order", ["--threshold", "mean_similarity.warn=0.9", "--threshold", "mean_similarity.fail=0.1"],
     ["mean_similarity"]),
    ("near-dup-nan", ["--near-duplicate-threshold", "nan"], ["--near-duplicate-threshold", "finite"]),
    ("near-dup-2", ["--near-duplicate-threshold", "2"], ["--near-duplicate-threshold"]),
    ("near-dup-text", ["--near-duplicate-threshold", "high"], ["--near-duplicate-threshold"]),
    ("opposed-inf", ["--opposed-threshold", "-inf"], ["--opposed-threshold", "finite"]),
    ("color-range-inf", ["--color-range", "-inf,inf"], ["--color-range", "finite"]),
    ("color-range-nan", ["--color-range", "nan,1"], ["--color-range", "finite"]),
    ("color-range-one", ["--color-range", "1"], ["--color-range"]),
    ("color-range-reversed", ["--color-range", "1,-1"], ["--color-range"]),
    ("display-cap-1", ["--display-cap", "1"], ["--display-cap"]),
    ("tile-size-0", ["--tile-size", "0"], ["--tile-size"]),
    ("workers-0", ["--workers", "0"], ["--workers"]),
    ("seed-negative", ["--seed", "-3"], ["--seed"]),
    ("format-xml", ["--format", "json,xml"], ["--format"]),
    ("format-empty", ["--format", ","], ["--format"]),
    ("pdf-variant", ["--pdf-variant", "pdf/x"], ["--pdf-variant"]),
    ("plotlyjs", ["--plotlyjs", "remote"], ["--plotlyjs"]),
    ("color-scale", ["--color-scale", "Nope"], ["--color-scale"]),
    ("engine", ["--engine", "cloud"], ["--engine"]),
    ("templates-missing", ["--templates", "no/such"], ["no/such"]),
    ("scheduler-unreachable", ["--engine", "dask", "--scheduler", "tcp://127.0.0.1:9"], ["--scheduler"]),
    ("scheduler-garbage", ["--engine", "dask", "--scheduler", "tcp://:::"], ["--scheduler"]),
    ("config-missing", ["--config", "nope.toml"], ["nope.toml"]),
    ("config-folder", ["--config", "."], ["folder"]),
    ("sign-missing", ["--sign", "nope.p12"], ["nope.p12"]),
    ("sign-not-p12", ["--sign", "x.npy"], ["x.npy", "PKCS#12"]),
    ("sign-without-pdf", ["--sign", "x.npy", "--format", "json"], ["--sign", "--format"]),
    ("unknown-option", ["--passphrase", "secret"], ["--passphrase"]),
]


@pytest.mark.parametrize("args,needles", [c[1:] for c in FLAG_CASES], ids=[c[0] for c in FLAG_CASES])
def test_hostile_flags(tmp_path, args, needles):
    np.save(tmp_path / "x.npy", GOOD)
    _refused(tmp_path, ["run", "x.npy", "-o", "out/r", *args], 2, needles, SIMREPORT_SIGN_PASSPHRASE="x")


ENV_CASES = [("abc", ["SOURCE_DATE_EPOCH", "'abc'"]), ("1.5", ["SOURCE_DATE_EPOCH"]),
             ("99999999999999999999", ["SOURCE_DATE_EPOCH"]), ("-99999999999999", ["SOURCE_DATE_EPOCH"])]


@pytest.mark.parametrize("value,needles", ENV_CASES, ids=[c[0][:12] for c in ENV_CASES])
def test_hostile_environment(tmp_path, value, needles):
    np.save(tmp_path / "x.npy", GOOD)
    _refused(tmp_path, ["run", "x.npy", "-o", "out/r"], 2, needles, SOURCE_DATE_EPOCH=value)


PATH_CASES = [
    ("prefix-empty", lambda f: ["run", "x.npy", "-o", ""], ["-o", "output prefix"]),
    ("prefix-dot", lambda f: ["run", "x.npy", "-o", "."], ["-o", "output prefix"]),
    ("prefix-dotdot", lambda f: ["run", "x.npy", "-o", ".."], ["-o", "output prefix"]),
    ("prefix-name-too-long", lambda f: ["run", "x.npy", "-o", "out/" + "n" * 300, "--format", "json"],
     ["nnnn", "-o"]),
    ("output-is-folder", lambda f: ((f / "r.json").mkdir(), ["run", "x.npy", "-o", "r", "--format", "json"])[1],
     ["r.json", "folder"]),
    ("parent-is-file", lambda f: ((f / "block").write_text("x"), ["run", "x.npy", "-o", "block/r"])[1],
     ["block", "-o"]),
    ("grandparent-is-file", lambda f: ((f / "block").write_text("x"), ["run", "x.npy", "-o", "block/a/b/r"])[1],
     ["block", "-o"]),
    ("demo-prefix-empty", lambda f: ["demo", "-o", ""], ["-o", "output prefix"]),
    ("render-missing", lambda f: ["render", "nope.json"], ["nope.json", "not found"]),
    ("render-folder", lambda f: ((f / "d.json").mkdir(), ["render", "d.json"])[1], ["d.json", "folder"]),
    ("render-prefix-dot", lambda f: ["render", "x.json", "-o", "."], ["-o"]),
    ("verify-missing", lambda f: ["verify", "nope.pdf"], ["nope.pdf", "not found"]),
    ("verify-folder", lambda f: ((f / "d.pdf").mkdir(), ["verify", "d.pdf"])[1], ["d.pdf", "folder"]),
    ("verify-trust-missing", lambda f: ["verify", "x.npy", "--trust", "ca.pem"], ["--trust", "ca.pem"]),
    ("compare-prefix-empty", lambda f: ["compare", "x.npy", "x.npy", "-o", ""], ["-o", "output prefix"]),
]


@pytest.mark.parametrize("setup,needles", [c[1:] for c in PATH_CASES], ids=[c[0] for c in PATH_CASES])
def test_hostile_paths(tmp_path, setup, needles):
    np.save(tmp_path / "x.npy", GOOD)
    _refused(tmp_path, setup(tmp_path), 2, needles)


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("hostile-results")
    np.save(folder / "x.npy", GOOD)
    proc = cli_inproc("run", "x.npy", "-o", "r", "--format", "json", "--quiet", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    return json.loads((folder / "r.json").read_text())


TEMPLATE_CASES = [
    ("syntax", "{% if %}\n", "html", ["report.html.j2, line 1", "syntax"]),
    ("unclosed-block", "{% block x %}\n\n", "html", ["report.html.j2", "syntax"]),
    ("unknown-tag", "\n\n{% frobnicate %}\n", "html", ["report.html.j2, line 3"]),
    ("undefined", "{{ report.nothing_here }}\n", "html", ["report.html.j2, line 1", "undefined"]),
    ("globals-escape", "{{ cycler.__init__.__globals__.os.system('touch PWNED') }}", "html",
     ["report.html.j2, line 1", "unsafe"]),
    ("joiner-escape", "\n{{ joiner.__init__.__globals__ }}", "html", ["report.html.j2, line 2", "unsafe"]),
    ("namespace-escape", "{{ namespace.__init__.__globals__ }}", "html", ["unsafe"]),
    ("lipsum-escape", "{{ lipsum.__globals__['os'].popen('id').read() }}", "html", ["unsafe"]),
    ("class-mro", "{{ ''.__class__.__mro__[1].__subclasses__() }}", "html", ["unsafe"]),
    ("format-escape", "{{ '{0.__class__}'.format(report) }}", "html", ["unsafe"]),
    ("attr-filter-escape", "{{ report|attr('__class__') }}", "html", ["unsafe"]),
    ("huge-range", "{% for i in range(10**9) %}{% endfor %}", "html", ["report.html.j2", "range"]),
    ("include-missing", "{% include 'nothing.html.j2' %}", "html", ["report.html.j2, line 1", "not found"]),
    ("include-absolute", "{% include '/etc/passwd' %}", "html", ["report.html.j2", "not found"]),
    ("include-parent", "{% include '../../../../etc/passwd' %}", "html", ["report.html.j2", "not found"]),
    ("self-include", "{% include 'report.html.j2' %}", "html", ["report.html.j2"]),
    ("pdf-globals-escape", "{{ cycler.__init__.__globals__.os.system('touch PWNED') }}", "pdf", ["unsafe"]),
    ("pdf-syntax", "{% for %}", "pdf", ["report.html.j2, line 1", "syntax"]),
]


@pytest.mark.parametrize("body,fmt,needles", [c[1:] for c in TEMPLATE_CASES], ids=[c[0] for c in TEMPLATE_CASES])
def test_hostile_templates(tmp_path, results, body, fmt, needles):
    (tmp_path / "r.json").write_text(json.dumps(results))
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "report.html.j2").write_text(body)
    _refused(tmp_path, ["render", "r.json", "--templates", "t", "-o", "out/x", "--format", fmt], 2, needles)
    assert not (tmp_path / "PWNED").exists()


def _edit(path: str, value=None, delete: bool = False):
    def apply(data: dict) -> dict:
        keys = path.split(".")
        target = data
        for key in keys[:-1]:
            target = target[int(key)] if isinstance(target, list) else target[key]
        last = int(keys[-1]) if isinstance(target, list) else keys[-1]
        if delete:
            del target[last]
        else:
            target[last] = value
        return data
    return apply


JSON_CASES = [
    ("status-bogus", _edit("summary.status", "bogus"), ["summary.status"]),
    ("mean-null", _edit("stats.mean", None), ["stats.mean"]),
    ("mean-text", _edit("stats.mean", "0.5"), ["stats.mean"]),
    ("histogram-empty", _edit("stats.histogram.counts", []), ["stats.histogram.counts"]),
    ("histogram-negative", _edit("stats.histogram.counts.0", -1), ["stats.histogram.counts[0]"]),
    ("n-text", _edit("input.n", "40"), ["input.n"]),
    ("n-one", _edit("input.n", 1), ["input.n"]),
    ("counts-missing", _edit("summary.counts", delete=True), ["summary"]),
    ("counts-float", _edit("summary.counts.pass", 1.5), ["summary.counts.pass"]),
    ("findings-empty", _edit("findings", []), ["findings"]),
    ("finding-status", _edit("findings.0.status", "ok"), ["findings[0].status"]),
    ("finding-value", _edit("findings.1.value", "high"), ["findings[1].value"]),
    ("finding-missing-message", _edit("findings.2.message", delete=True), ["findings[2]"]),
    ("pair-index-negative", _edit("most_similar.0.i", -1), ["most_similar[0].i"]),
    ("pair-label-number", _edit("most_similar.0.label_i", 3), ["most_similar[0].label_i"]),
    ("heatmap-values-text", _edit("heatmap.values", "cells"), ["heatmap.values"]),
    ("created-format", _edit("created", "yesterday"), ["created"]),
    ("sha-not-hex", _edit("input.array_sha256", "zz"), ["input.array_sha256"]),
    ("tool-name", _edit("tool.name", "othertool"), ["tool.name"]),
    ("schema-version", _edit("schema_version", "9.0"), ["schema_version"]),
    ("extra-top-key", _edit("injected", "<script>"), ["injected"]),
    ("kind-comparison", _edit("kind", "simreport-comparison"), ["(top level)"]),
    ("stats-missing", _edit("stats", delete=True), ["stats"]),
    ("report-title-list", _edit("report.title", ["x"]), ["report.title"]),
    # the engine block: once read unchecked, these failed as "unexpected failure" (exit 1)
    ("engine-reduction-list", _edit("stats.engine.reduction", []), ["stats.engine.reduction"]),
    ("engine-borderline-text", _edit("stats.engine.borderline", "x"), ["stats.engine.borderline"]),
    ("engine-borderline-listed-text", _edit("stats.engine.borderline", {"tolerance": 1e-7, "pairs": 3, "listed": "x"}),
     ["stats.engine.borderline.listed"]),
    ("engine-screen-without-bound", _edit("stats.engine.precision", "screen"), ["stats.engine", "screen_bound"]),
    # more blocks the report prints, each once read unchecked (a fuzz of every key through render)
    ("tile-size-list", _edit("parameters.tile_size", []), ["parameters.tile_size"]),
    ("threshold-set-sources-text", _edit("parameters.threshold_set.sources", "x"),
     ["parameters.threshold_set.sources"]),
    ("threshold-set-nameless", _edit("parameters.threshold_set", {"sources": {}}), ["parameters.threshold_set"]),
    ("defects-lowest-text", _edit("opposed.defects.lowest", "x"), ["opposed.defects.lowest"]),
    ("owner-object", _edit("report.owner", {"a": 1}), ["report.owner"]),
    ("reviewers-number", _edit("report.signoff.reviewers", 3), ["report.signoff.reviewers"]),
    ("actions-text", _edit("report.actions", "x"), ["report.actions"]),
    ("configuration-section-text", _edit("configuration.test", "x"), ["configuration.test"]),
    ("model-without-keys", _edit("model", {"a": 1}), ["model"]),
]


@pytest.mark.parametrize("edit,needles", [c[1:] for c in JSON_CASES], ids=[c[0] for c in JSON_CASES])
def test_hostile_results_json(tmp_path, results, edit, needles):
    (tmp_path / "bad.json").write_text(json.dumps(edit(json.loads(json.dumps(results)))))
    _refused(tmp_path, ["render", "bad.json", "-o", "out/x", "--format", "html"], 2, ["bad.json", *needles])


def test_hostile_cluster_view_in_results_json(tmp_path):
    """The cluster view's flagged clusters (a run with more records than the display cap), edited."""
    np.save(tmp_path / "x.npy", RNG.standard_normal((60, 6)).astype(np.float32))
    proc = cli_inproc("run", "x.npy", "-o", "r", "--format", "json", "--quiet", "--display-cap", "20", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["clusters"]["flagged"], "the edit needs a flagged cluster"
    edits = (_edit("clusters.flagged.0.rows", 3), _edit("clusters.flagged", "x"), _edit("clusters.flagged.0.size", []))
    for edit in edits:
        (tmp_path / "bad.json").write_text(json.dumps(edit(json.loads(json.dumps(data)))))
        _refused(tmp_path, ["render", "bad.json", "-o", "out/x", "--format", "html"], 2, ["bad.json", "clusters"])


@pytest.fixture(scope="module")
def comparison(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("hostile-comparison")
    np.save(folder / "a.npy", GOOD)
    np.save(folder / "b.npy", GOOD + 0.3 * RNG.standard_normal(GOOD.shape).astype(np.float32))
    proc = cli_inproc("compare", "a.npy", "b.npy", "-o", "c", "--format", "json", "--quiet", cwd=folder)
    assert proc.returncode in (0, 4), proc.stderr
    return json.loads((folder / "c.json").read_text())


# each once failed render with "unexpected failure" (python tools/fuzz_results.py over a comparison)
COMPARISON_CASES = [
    ("distribution-text", _edit("agreement.neighbours.distribution", "x"), ["agreement.neighbours.distribution"]),
    ("least-agreeing-item-text", _edit("agreement.neighbours", {"k": 5, "distribution": [], "least_agreeing": ["x"]}),
     ["agreement.neighbours.least_agreeing[0]"]),
    ("jaccard-list", _edit("agreement.near_duplicates.jaccard", []), ["agreement.near_duplicates.jaccard"]),
    ("joint-cell-null", _edit("agreement.joint_histogram.counts.0.0", None),
     ["agreement.joint_histogram.counts[0][0]"]),
    ("tiles-object", _edit("agreement.tiles", {"a": 1}), ["agreement.tiles"]),
    ("pearson-on-tiles-list", _edit("agreement.correlation.tile_pass_pearson", []),
     ["agreement.correlation.tile_pass_pearson"]),
    ("joint-bins-list", _edit("parameters.joint_bins", []), ["parameters.joint_bins"]),
    ("signoff-text", _edit("report.signoff", "x"), ["report.signoff"]),
]


@pytest.mark.parametrize("edit,needles", [c[1:] for c in COMPARISON_CASES], ids=[c[0] for c in COMPARISON_CASES])
def test_hostile_comparison_json(tmp_path, comparison, edit, needles):
    (tmp_path / "bad.json").write_text(json.dumps(edit(json.loads(json.dumps(comparison)))))
    _refused(tmp_path, ["render", "bad.json", "-o", "out/x", "--format", "html"], 2, ["bad.json", *needles])


RAW_JSON_CASES = [
    ("not-json", b"{ this is not json", ["bad.json", "not valid JSON"]),
    ("empty", b"", ["bad.json", "not valid JSON"]),
    ("not-utf8", b'{"a": "\xff"}', ["bad.json", "UTF-8"]),
    ("array", b"[1, 2, 3]", ["bad.json"]),
    ("number", b"42", ["bad.json"]),
    ("nan-literal", None, ["bad.json", "NaN"]),
    ("deep-nesting", b"[" * 100000 + b"]" * 100000, ["bad.json"]),
]


@pytest.mark.parametrize("raw,needles", [c[1:] for c in RAW_JSON_CASES], ids=[c[0] for c in RAW_JSON_CASES])
def test_hostile_raw_json(tmp_path, results, raw, needles):
    if raw is None:
        raw = json.dumps(results).replace('"mean": ', '"mean": NaN, "x": ', 1).encode()
    (tmp_path / "bad.json").write_bytes(raw)
    _refused(tmp_path, ["render", "bad.json", "-o", "out/x"], 2, needles)


def _tiny_pdf(attachments: dict[str, bytes] | None = None, metadata_id: str | None = None) -> bytes:
    import weasyprint

    head = f'<meta name="simreportreportid" content="{metadata_id}">' if metadata_id else ""
    html = weasyprint.HTML(string=f"<html><head>{head}</head><body><p>not a report</p></body></html>")
    files = [weasyprint.Attachment(string=data, name=name) for name, data in (attachments or {}).items()]
    return html.write_pdf(attachments=files, custom_metadata=True)


PDF_CASES = [
    ("not-pdf", lambda r: b"hello, not a pdf", 2, ["not a PDF"]),
    ("empty", lambda r: b"", 2, ["not a PDF"]),
    ("pdf-header-garbage", lambda r: b"%PDF-1.7\n" + b"\x00garbage" * 50, 2, ["not a readable PDF"]),
    ("truncated", lambda r: _tiny_pdf()[:200], 2, ["r.pdf"]),
    ("no-attachment", lambda r: _tiny_pdf(), 2, ["simreport-results.json"]),
    ("attachment-not-json", lambda r: _tiny_pdf({"simreport-results.json": b"{oops"}), 3, ["schema"]),
    ("attachment-nan", lambda r: _tiny_pdf({"simreport-results.json": b'{"stats": NaN}'}), 3, ["schema"]),
    ("attachment-schema", lambda r: _tiny_pdf({"simreport-results.json": json.dumps(
        _edit("summary.status", "bogus")(json.loads(json.dumps(r)))).encode()}), 3, ["schema"]),
    ("attachment-no-id", lambda r: _tiny_pdf({"simreport-results.json": json.dumps(r).encode()}), 3,
     ["report ID"]),
]


@pytest.mark.parametrize("make,code,needles", [c[1:] for c in PDF_CASES], ids=[c[0] for c in PDF_CASES])
def test_hostile_pdf(tmp_path, results, make, code, needles):
    (tmp_path / "r.pdf").write_bytes(make(results))
    _refused(tmp_path, ["verify", "r.pdf"], code, needles)


def test_the_suite_has_at_least_150_cases():
    total = (len(INPUT_CASES) + len(CONFIG_CASES) + 3 + len(FLAG_CASES) + len(ENV_CASES) + len(PATH_CASES)
             + len(TEMPLATE_CASES) + len(JSON_CASES) + len(RAW_JSON_CASES) + len(PDF_CASES))
    assert total >= 150, total


def _refused(folder: Path, args: list, code: int, needles: list[str], **env):
    """Run, then assert the exit code, the named things in the error line, and that no file
    or folder appeared (outputs, temporaries)."""
    before = files_under(folder)
    folders_before = sorted(str(p) for p in folder.rglob("*") if p.is_dir())
    proc = cli_inproc(*args, cwd=folder, **env)
    assert proc.returncode == code, (proc.returncode, proc.stdout[-1500:], proc.stderr[-2500:])
    assert "Traceback" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.strip().splitlines() if line.startswith("simreport: error")
              or line.startswith("simreport: verification failed") or line.startswith("simreport: interrupted")]
    assert len(errors) == 1, proc.stderr
    shown = errors[0] if code == 2 else errors[0] + proc.stdout
    for needle in needles:
        assert needle in shown, (needle, shown[-1500:])
    assert files_under(folder) == before, "something was left behind"
    assert sorted(str(p) for p in folder.rglob("*") if p.is_dir()) == folders_before, "a folder was left behind"
    return proc
