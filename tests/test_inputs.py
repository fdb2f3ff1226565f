"""Unit tests of loading and validating embeddings: every format, dtype and bad input."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simreport.inputs import InputError, check_embeddings, from_array, load_embeddings

N, D = 12, 6
DTYPES = ("float16", "float32", "float64")


def base_matrix(n: int = N, d: int = D, seed: int = 1) -> np.ndarray:
    """Random values exactly representable in float16, so every dtype holds the same numbers."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)).astype(np.float16).astype(np.float64)


def names(n: int = N) -> list[str]:
    return [f"item-{k}" for k in range(n)]


def write_npy(path: Path, x: np.ndarray) -> Path:
    np.save(path, x)
    return path


def write_list_csv(path: Path, rows: list, labels: list[str] | None = None) -> Path:
    """A CSV with a column of vectors written as JSON lists (strings are written as given)."""
    cells = [r if isinstance(r, str) else json.dumps([float(v) for v in r]) for r in rows]
    frame = pd.DataFrame({"vec": cells})
    if labels is not None:
        frame.insert(0, "name", labels)
    frame.to_csv(path, index=False)
    return path


def write_list_parquet(path: Path, rows: list, labels: list[str] | None = None) -> Path:
    frame = pd.DataFrame({"vec": [np.asarray(r) if r is not None else None for r in rows]})
    if labels is not None:
        frame.insert(0, "name", labels)
    frame.to_parquet(path)
    return path


def numeric_frame(x: np.ndarray, labels: list[str] | None = None) -> pd.DataFrame:
    frame = pd.DataFrame(x, columns=[f"c{k}" for k in range(x.shape[1])])
    if labels is not None:
        frame.insert(0, "name", labels)
    return frame


def load_error(path, **kw) -> str:
    """The InputError message for a rejected input; asserts the file is named in it."""
    with pytest.raises(InputError) as info:
        load_embeddings(path, **kw)
    message = str(info.value)
    assert Path(path).name in message, message
    assert "\n" not in message, message
    return message


def assert_rows(message: str, path: Path | str, rows: list[int]) -> None:
    """The message names exactly these 0-based rows (and not the 1-based numbers)."""
    text = message.replace(str(path), "FILE")
    numbers = {int(m) for m in re.findall(r"\d+", text)}
    for row in rows:
        assert row in numbers, f"row {row} not named in: {message}"
    for row in rows:
        if row + 1 not in rows:
            assert row + 1 not in numbers, f"1-based row {row + 1} appears in: {message}"
    assert "0-based" in message, message


# --- formats and dtypes --------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_npy_every_float_dtype_gives_the_same_float32_matrix(tmp_path, dtype):
    x = base_matrix()
    path = write_npy(tmp_path / f"emb_{dtype}.npy", x.astype(dtype))
    data = load_embeddings(path)
    assert data.matrix.dtype == np.float32
    assert data.matrix.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(data.matrix, x.astype(np.float32))
    assert data.source_dtype == dtype
    assert data.source == path.name
    assert (data.n, data.dim) == (N, D)
    assert data.labels == [str(k) for k in range(N)]
    assert data.label_source == "index"
    assert data.file_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    same = hashlib.sha256(np.ascontiguousarray(x, dtype="<f4").tobytes()).hexdigest()
    assert data.array_sha256 == same  # identical across dtypes


@pytest.mark.parametrize("dtype", DTYPES)
def test_npz_single_array_every_dtype(tmp_path, dtype):
    x = base_matrix()
    path = tmp_path / "emb.npz"
    np.savez(path, embeddings=x.astype(dtype))
    data = load_embeddings(path)
    np.testing.assert_array_equal(data.matrix, x.astype(np.float32))
    assert data.source_dtype == dtype


def test_npz_compressed_with_key(tmp_path):
    x = base_matrix()
    path = tmp_path / "many.npz"
    np.savez_compressed(path, ids=np.arange(N), emb=x.astype(np.float32), other=-x)
    data = load_embeddings(path, key="emb")
    np.testing.assert_array_equal(data.matrix, x.astype(np.float32))
    np.testing.assert_array_equal(load_embeddings(path, key="other").matrix, (-x).astype(np.float32))


@pytest.mark.parametrize("dtype", DTYPES)
def test_csv_list_column(tmp_path, dtype):
    x = base_matrix().astype(dtype)
    path = write_list_csv(tmp_path / "emb.csv", list(x))
    data = load_embeddings(path)
    np.testing.assert_array_equal(data.matrix, base_matrix().astype(np.float32))
    assert data.labels == [str(k) for k in range(N)]


@pytest.mark.parametrize("dtype", DTYPES)
def test_csv_numeric_columns(tmp_path, dtype):
    path = tmp_path / "emb.csv"
    numeric_frame(base_matrix().astype(dtype)).to_csv(path, index=False, float_format="%.17g")
    data = load_embeddings(path)
    np.testing.assert_array_equal(data.matrix, base_matrix().astype(np.float32))
    assert data.matrix.dtype == np.float32


def test_csv_integer_columns_are_accepted(tmp_path):
    path = tmp_path / "ints.csv"
    x = np.arange(1, N * D + 1).reshape(N, D)
    numeric_frame(x).to_csv(path, index=False)
    np.testing.assert_array_equal(load_embeddings(path).matrix, x.astype(np.float32))


@pytest.mark.parametrize("dtype", DTYPES)
def test_parquet_list_column(tmp_path, dtype):
    x = base_matrix()
    path = write_list_parquet(tmp_path / "emb.parquet", list(x.astype(dtype)))
    data = load_embeddings(path)
    np.testing.assert_array_equal(data.matrix, x.astype(np.float32))
    assert data.matrix.dtype == np.float32


@pytest.mark.parametrize("dtype", DTYPES)
def test_parquet_numeric_columns(tmp_path, dtype):
    x = base_matrix()
    path = tmp_path / "emb.parquet"
    numeric_frame(x.astype(dtype)).to_parquet(path)
    data = load_embeddings(path)
    np.testing.assert_array_equal(data.matrix, x.astype(np.float32))
    assert data.source_dtype == dtype


def test_all_formats_agree(tmp_path):
    x = base_matrix()
    np.save(tmp_path / "a.npy", x)
    np.savez(tmp_path / "a.npz", x=x)
    write_list_csv(tmp_path / "a.csv", list(x))
    write_list_parquet(tmp_path / "b.parquet", list(x))
    numeric_frame(x).to_csv(tmp_path / "c.csv", index=False)
    numeric_frame(x).to_parquet(tmp_path / "c.parquet")
    hashes = {load_embeddings(tmp_path / name).array_sha256
              for name in ("a.npy", "a.npz", "a.csv", "b.parquet", "c.csv", "c.parquet")}
    assert len(hashes) == 1


def test_suffix_is_case_insensitive(tmp_path):
    path = tmp_path / "EMB.NPY"
    with open(path, "wb") as handle:  # np.save(name) would append ".npy"
        np.save(handle, base_matrix())
    assert load_embeddings(path).n == N


def test_vector_column_picks_one_of_several(tmp_path):
    x = base_matrix()
    path = tmp_path / "two.csv"
    pd.DataFrame({"a": [json.dumps(list(r)) for r in x],
                  "b": [json.dumps(list(-r)) for r in x]}).to_csv(path, index=False)
    np.testing.assert_array_equal(load_embeddings(path, vector_column="b").matrix, (-x).astype(np.float32))
    np.testing.assert_array_equal(load_embeddings(path, vector_column="a").matrix, x.astype(np.float32))


def test_vector_column_in_parquet(tmp_path):
    x = base_matrix()
    path = tmp_path / "two.parquet"
    pd.DataFrame({"a": list(x), "b": list(2 * x)}).to_parquet(path)
    np.testing.assert_array_equal(load_embeddings(path, vector_column="b").matrix, (2 * x).astype(np.float32))


# --- labels ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["csv-list", "csv-numeric", "parquet-list", "parquet-numeric"])
def test_labels_from_a_column(tmp_path, kind):
    x = base_matrix()
    if kind == "csv-list":
        path = write_list_csv(tmp_path / "t.csv", list(x), names())
    elif kind == "parquet-list":
        path = write_list_parquet(tmp_path / "t.parquet", list(x), names())
    elif kind == "csv-numeric":
        path = tmp_path / "t.csv"
        numeric_frame(x, names()).to_csv(path, index=False)
    else:
        path = tmp_path / "t.parquet"
        numeric_frame(x, names()).to_parquet(path)
    data = load_embeddings(path, label_column="name")
    assert data.labels == names()
    assert data.label_source == "column name"
    np.testing.assert_array_equal(data.matrix, x.astype(np.float32))


def test_numeric_label_column_is_not_part_of_the_vectors(tmp_path):
    x = base_matrix()
    frame = numeric_frame(x)
    frame.insert(0, "id", np.arange(100, 100 + N))
    path = tmp_path / "ids.csv"
    frame.to_csv(path, index=False)
    data = load_embeddings(path, label_column="id")
    assert data.dim == D
    assert data.labels == [str(k) for k in range(100, 100 + N)]


def test_missing_label_cell_becomes_empty_text(tmp_path):
    labels: list = names()
    labels[4] = None
    path = tmp_path / "t.parquet"
    numeric_frame(base_matrix(), labels).to_parquet(path)
    assert load_embeddings(path, label_column="name").labels[4] == ""


@pytest.mark.parametrize("ending", ["\n", "", "\r\n"])
def test_labels_from_a_file(tmp_path, ending):
    path = write_npy(tmp_path / "e.npy", base_matrix())
    labels_file = tmp_path / "labels.txt"
    sep = "\r\n" if ending == "\r\n" else "\n"
    labels_file.write_bytes((sep.join(["Grüße", *names()[1:]]) + ending).encode("utf-8"))
    data = load_embeddings(path, labels_file=labels_file)
    assert data.labels == ["Grüße", *names()[1:]]
    assert data.label_source == "file labels.txt"


def test_labels_file_works_for_tables_too(tmp_path):
    path = write_list_csv(tmp_path / "t.csv", list(base_matrix()))
    labels_file = tmp_path / "l.txt"
    labels_file.write_text("\n".join(names()) + "\n", encoding="utf-8")
    assert load_embeddings(path, labels_file=labels_file).labels == names()


def test_from_array_in_memory():
    x = base_matrix()
    data = from_array(x.tolist(), labels=names())
    np.testing.assert_array_equal(data.matrix, x.astype(np.float32))
    assert data.labels == names()
    assert data.file_sha256 is None
    with pytest.raises(InputError, match="labels"):
        from_array(x, labels=names()[:-1])


# --- check_embeddings directly ---------------------------------------------------------


def test_check_embeddings_returns_contiguous_float32():
    x = np.asfortranarray(base_matrix())
    out = check_embeddings(x, "src")
    assert out.dtype == np.float32 and out.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(out, x.astype(np.float32))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_check_embeddings_non_finite_rows(bad):
    x = base_matrix()
    x[3, 0] = bad
    x[7, 0] = bad
    with pytest.raises(InputError) as info:
        check_embeddings(x, "mysource")
    message = str(info.value)
    assert message.startswith("mysource:")
    assert_rows(message, "mysource", [3, 7])
    assert "NaN or infinite" in message


def test_check_embeddings_many_bad_rows_are_summarised():
    x = base_matrix(n=40)
    bad = list(range(5, 35, 2))  # 15 rows
    x[bad, 0] = np.nan
    message = str(pytest.raises(InputError, check_embeddings, x, "src").value)
    assert "rows 5, 7, 9" in message
    assert "15 rows in all" in message


def test_check_embeddings_zero_vector():
    x = base_matrix()
    x[5] = 0.0
    message = str(pytest.raises(InputError, check_embeddings, x, "src").value)
    assert "row 5" in message and "zero" in message
    assert_rows(message, "src", [5])


def test_check_embeddings_zero_vectors_several():
    x = base_matrix()
    x[[0, 11]] = 0.0
    message = str(pytest.raises(InputError, check_embeddings, x, "src").value)
    assert_rows(message, "src", [0, 11])


def test_check_embeddings_float32_underflow_is_a_zero_vector():
    x = base_matrix()
    x[2] = 1e-50  # underflows to 0 in float32
    x[3] = 1e-40  # subnormal in float32: most of its precision is lost, refused as well
    x[4] = 1e-30  # small but a normal float32: accepted
    message = str(pytest.raises(InputError, check_embeddings, x, "src").value)
    assert_rows(message, "src", [2, 3])
    assert "underflow" in message and "float32" in message


def test_check_embeddings_beyond_float32():
    x = base_matrix()
    x[6, 1] = 1e300
    message = str(pytest.raises(InputError, check_embeddings, x, "src").value)
    assert_rows(message, "src", [6])
    assert "float32" in message


@pytest.mark.parametrize(
    ("values", "words"),
    [
        (np.ones((1, 4)), "2 rows"),
        (np.ones(4), "2-D"),
        (np.ones((2, 3, 4)), "2-D"),
        (np.ones((0, 4)), "empty"),
        (np.ones((3, 0)), "empty"),
        (np.array([["a", "b"], ["c", "d"]]), "not numbers"),
        (np.ones((3, 3), dtype=bool), "not numbers"),
        (np.ones((3, 3), dtype=complex), "not numbers"),
    ],
    ids=["one-row", "1-d", "3-d", "no-rows", "no-dims", "strings", "bool", "complex"],
)
def test_check_embeddings_rejects_shapes_and_kinds(values, words):
    message = str(pytest.raises(InputError, check_embeddings, values, "src").value)
    assert message.startswith("src:")
    assert words in message


def test_check_embeddings_ragged_object_array_names_rows():
    values = np.empty(4, dtype=object)
    values[:] = [[1.0, 2.0], [1.0, 2.0], [1.0], [3.0, 4.0]]
    message = str(pytest.raises(InputError, check_embeddings, values, "src").value)
    assert "different lengths" in message
    assert "row 2" in message


def test_check_embeddings_non_numeric_object_array():
    values = np.empty(3, dtype=object)
    values[:] = [[1.0, 2.0], [1.0, "x"], [3.0, 4.0]]
    message = str(pytest.raises(InputError, check_embeddings, values, "src").value)
    assert "non-numeric" in message


# --- bad input files -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["npy", "npz", "csv-list", "csv-numeric", "parquet-list", "parquet-numeric"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_rows_in_every_format(tmp_path, fmt, bad):
    x = base_matrix()
    x[3, 0] = bad
    x[7, 0] = bad
    path = write_any(tmp_path, fmt, x)
    message = load_error(path)
    assert_rows(message, path, [3, 7])
    assert "NaN" in message


@pytest.mark.parametrize("fmt", ["npy", "npz", "csv-list", "csv-numeric", "parquet-list", "parquet-numeric"])
def test_zero_vector_in_every_format(tmp_path, fmt):
    x = base_matrix()
    x[5] = 0.0
    path = write_any(tmp_path, fmt, x)
    message = load_error(path)
    assert "row 5" in message
    assert_rows(message, path, [5])
    assert "zero" in message


@pytest.mark.parametrize("fmt", ["npy", "npz", "csv-list", "csv-numeric", "parquet-list", "parquet-numeric"])
def test_single_row_in_every_format(tmp_path, fmt):
    path = write_any(tmp_path, fmt, base_matrix()[:1])
    assert "2 rows" in load_error(path)


def write_any(tmp_path: Path, fmt: str, x: np.ndarray) -> Path:
    if fmt == "npy":
        return write_npy(tmp_path / "bad.npy", x)
    if fmt == "npz":
        np.savez(tmp_path / "bad.npz", emb=x)
        return tmp_path / "bad.npz"
    if fmt == "csv-list":
        return write_list_csv(tmp_path / "bad.csv", list(x))
    if fmt == "parquet-list":
        return write_list_parquet(tmp_path / "bad.parquet", list(x))
    if fmt == "csv-numeric":
        numeric_frame(x).to_csv(tmp_path / "bad.csv", index=False)
        return tmp_path / "bad.csv"
    numeric_frame(x).to_parquet(tmp_path / "bad.parquet")
    return tmp_path / "bad.parquet"


def test_csv_empty_cell_names_row(tmp_path):
    frame = numeric_frame(base_matrix())
    frame.loc[4, "c2"] = np.nan
    path = tmp_path / "holes.csv"
    frame.to_csv(path, index=False)
    assert_rows(load_error(path), path, [4])


@pytest.mark.parametrize(
    ("values", "words"),
    [
        (np.ones(4), "2-D"),
        (np.ones((2, 3, 4)), "2-D"),
        (np.zeros((0, 4)), "empty"),
        (np.zeros((4, 0)), "empty"),
        (np.array([["a", "b"], ["c", "d"]]), "not numbers"),
    ],
    ids=["1-d", "3-d", "no-rows", "no-dims", "strings"],
)
def test_bad_npy_arrays(tmp_path, values, words):
    path = write_npy(tmp_path / "bad.npy", values)
    assert words in load_error(path)


def test_ragged_npy_object_array(tmp_path):
    values = np.empty(3, dtype=object)
    values[:] = [[1.0, 2.0], [1.0], [3.0, 4.0]]
    path = tmp_path / "ragged.npy"
    np.save(path, values, allow_pickle=True)
    assert "objects" in load_error(path)


def test_ragged_npz_object_array(tmp_path):
    values = np.empty(3, dtype=object)
    values[:] = [[1.0, 2.0], [1.0], [3.0, 4.0]]
    path = tmp_path / "ragged.npz"
    np.savez(path, emb=values)
    assert "objects" in load_error(path)


def test_csv_ragged_list_column(tmp_path):
    rows = list(base_matrix())
    rows[6] = [1.0, 2.0]
    path = write_list_csv(tmp_path / "ragged.csv", rows)
    message = load_error(path)
    assert "ragged" in message
    assert_rows(message, path, [6])


def test_parquet_ragged_list_column(tmp_path):
    rows = list(base_matrix())
    rows[6] = np.array([1.0, 2.0])
    path = write_list_parquet(tmp_path / "ragged.parquet", rows)
    message = load_error(path)
    assert "ragged" in message
    assert_rows(message, path, [6])


@pytest.mark.parametrize(
    ("cell", "words"),
    [('[1, "a", 3, 4, 5, 6]', "non-numeric"), ("[1, 2", "not a list"), ("", "empty"), ("5", "not a vector")],
    ids=["non-numeric", "broken-list", "empty-cell", "scalar"],
)
def test_csv_list_column_bad_cell_names_row(tmp_path, cell, words):
    rows: list = list(base_matrix())
    rows[2] = cell
    path = write_list_csv(tmp_path / "cells.csv", rows)
    message = load_error(path)
    assert words in message
    assert "row 2" in message


def test_parquet_list_column_missing_cell(tmp_path):
    rows: list = list(base_matrix())
    rows[2] = None
    path = write_list_parquet(tmp_path / "cells.parquet", rows)
    message = load_error(path)
    assert "row 2" in message and "empty" in message


def test_csv_non_numeric_column_names_column_and_row(tmp_path):
    frame = numeric_frame(base_matrix())
    frame["c1"] = frame["c1"].astype(object)
    frame.loc[4, "c1"] = "oops"
    path = tmp_path / "text.csv"
    frame.to_csv(path, index=False)
    message = load_error(path)
    assert "'c1'" in message and "not numeric" in message
    assert_rows(message, path, [4])


def test_csv_label_column_without_option_suggests_label_column(tmp_path):
    path = tmp_path / "names.csv"
    numeric_frame(base_matrix(), names()).to_csv(path, index=False)
    message = load_error(path)
    assert "'name'" in message and "--label-column" in message


@pytest.mark.parametrize("kind", ["empty", "header-only"])
def test_empty_csv(tmp_path, kind):
    path = tmp_path / "empty.csv"
    path.write_text("" if kind == "empty" else "a,b,c\n")
    load_error(path)


def test_table_with_only_labels(tmp_path):
    path = tmp_path / "labels_only.csv"
    pd.DataFrame({"name": names()}).to_csv(path, index=False)
    assert "no columns besides the labels" in load_error(path, label_column="name")


def test_several_vector_columns_need_vector_column(tmp_path):
    x = base_matrix()
    path = tmp_path / "two.parquet"
    pd.DataFrame({"a": list(x), "b": list(x)}).to_parquet(path)
    message = load_error(path)
    assert "--vector-column" in message and "a, b" in message


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_unknown_vector_column(tmp_path, fmt):
    path = (write_list_csv(tmp_path / "t.csv", list(base_matrix())) if fmt == "csv"
            else write_list_parquet(tmp_path / "t.parquet", list(base_matrix())))
    message = load_error(path, vector_column="nope")
    assert "'nope'" in message and "--vector-column" in message and "vec" in message


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_unknown_label_column(tmp_path, fmt):
    path = (write_list_csv(tmp_path / "t.csv", list(base_matrix())) if fmt == "csv"
            else write_list_parquet(tmp_path / "t.parquet", list(base_matrix())))
    message = load_error(path, label_column="nope")
    assert "'nope'" in message and "--label-column" in message


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_label_column_needs_a_table(tmp_path, suffix):
    path = tmp_path / f"e{suffix}"
    if suffix == ".npy":
        np.save(path, base_matrix())
    else:
        np.savez(path, e=base_matrix())
    message = load_error(path, label_column="name")
    assert "--labels" in message


def test_npz_with_several_arrays_needs_key(tmp_path):
    path = tmp_path / "many.npz"
    np.savez(path, first=base_matrix(), second=base_matrix())
    message = load_error(path)
    assert "--key" in message and "first" in message and "second" in message


def test_npz_empty_archive(tmp_path):
    path = tmp_path / "none.npz"
    np.savez(path)
    assert "--key" in load_error(path)


def test_npz_unknown_key(tmp_path):
    path = tmp_path / "one.npz"
    np.savez(path, emb=base_matrix())
    message = load_error(path, key="vectors")
    assert "'vectors'" in message and "emb" in message and "--key" in message


def test_npz_member_that_is_not_an_array(tmp_path):
    path = tmp_path / "zip.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "hello")
    load_error(path)


def test_label_count_mismatch_file(tmp_path):
    path = write_npy(tmp_path / "e.npy", base_matrix())
    labels_file = tmp_path / "short_labels.txt"
    labels_file.write_text("\n".join(names()[:-1]) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_embeddings(path, labels_file=labels_file)
    message = str(info.value)
    assert "short_labels.txt" in message
    assert f"{N - 1} labels" in message and f"{N} embedding rows" in message


def test_labels_file_missing(tmp_path):
    path = write_npy(tmp_path / "e.npy", base_matrix())
    message = str(pytest.raises(InputError, load_embeddings, path, labels_file=tmp_path / "gone.txt").value)
    assert "gone.txt" in message and "not found" in message


def test_labels_file_not_utf8(tmp_path):
    path = write_npy(tmp_path / "e.npy", base_matrix())
    labels_file = tmp_path / "latin.txt"
    labels_file.write_bytes(b"\xff\xfe\xfa\n" * N)
    message = str(pytest.raises(InputError, load_embeddings, path, labels_file=labels_file).value)
    assert "latin.txt" in message and "UTF-8" in message


def test_missing_file(tmp_path):
    message = load_error(tmp_path / "nowhere.npy")
    assert "not found" in message


def test_directory_instead_of_file(tmp_path):
    (tmp_path / "folder.npy").mkdir()
    assert "not a file" in load_error(tmp_path / "folder.npy")


@pytest.mark.parametrize("name", ["emb.txt", "emb.json", "emb"])
def test_unsupported_extension(tmp_path, name):
    path = tmp_path / name
    path.write_text("1,2\n3,4\n")
    message = load_error(path)
    assert "unsupported" in message and ".npy" in message


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("garbage.npy", b"this is not numpy" * 5),
        ("empty.npy", b""),
        ("garbage.npz", b"this is not a zip" * 5),
        ("empty.npz", b""),
        ("garbage.parquet", b"this is not parquet" * 5),
        ("empty.parquet", b""),
        ("binary.csv", b"\xff\xfe\x00\x81garbage" * 10),
        ("badrows.csv", b"a,b\n1,2\n3,4,5\n6,7\n"),
    ],
)
def test_unreadable_or_corrupt_files(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    load_error(path)


def test_truncated_npy(tmp_path):
    source = write_npy(tmp_path / "full.npy", base_matrix())
    path = tmp_path / "cut.npy"
    path.write_bytes(source.read_bytes()[:100])
    load_error(path)


def test_truncated_and_damaged_npz(tmp_path):
    source = tmp_path / "full.npz"
    np.savez(source, emb=base_matrix(n=50))
    data = source.read_bytes()
    cut = tmp_path / "cut.npz"
    cut.write_bytes(data[: len(data) // 2])
    load_error(cut)
    damaged = bytearray(data)
    damaged[200:260] = b"\0" * 60
    (tmp_path / "damaged.npz").write_bytes(bytes(damaged))
    load_error(tmp_path / "damaged.npz")


@pytest.mark.parametrize(("real", "renamed"), [("npz", "npy"), ("npy", "npz"), ("npz", "parquet"), ("npz", "csv")])
def test_file_of_another_format_renamed(tmp_path, real, renamed):
    source = tmp_path / f"real.{real}"
    if real == "npy":
        np.save(source, base_matrix())
    else:
        np.savez(source, emb=base_matrix())
    path = tmp_path / f"renamed.{renamed}"
    shutil.copy(source, path)
    load_error(path)
