"""The compact JSON form of picture matrices (heatmap cells, cluster means, overview grids).

Pictures are drawn, not read as statistics, so they are stored as 16-bit codes rather
than as lists of decimal numbers (a 300 x 300 heatmap: about 120 KB instead of 1 MB).
One picture is a JSON object::

    {"encoding": "uint16-base64", "shape": [m, m], "layout": "upper" | "full",
     "offset": lo, "scale": s, "missing": 65535, "data": "<base64>"}

- ``data`` is the base64 of little-endian unsigned 16-bit integers (codes);
- ``layout`` "upper": only the upper triangle of a symmetric matrix, diagonal included,
  row by row (row 0 columns 0..m-1, row 1 columns 1..m-1, ...); the lower triangle is its
  mirror. "full": every cell, row by row (m * m codes);
- a cell's value is ``offset + code * scale``; ``offset`` is the smallest value present and
  ``scale`` is (largest - smallest) / 65534, so the error is at most ``scale / 2`` (about
  1.5e-5 for similarities spread over [-1, 1]);
- code ``missing`` (65535) is an empty cell (no pairs; drawn grey, shown as a gap).

Statistics (means, quantiles, counts, pair similarities) are never stored this way; they
keep full precision. Readers also accept the older form, a list of rows of numbers with
null for an empty cell.
"""

from __future__ import annotations

import base64

import numpy as np

ENCODING = "uint16-base64"
MISSING = 65535
TOP_CODE = 65534


def encode_picture(matrix: np.ndarray) -> dict:
    """A square matrix (NaN = empty cell) as its compact JSON form."""
    values = np.asarray(matrix, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"a picture is a 2-D matrix, got shape {values.shape}")
    present = ~np.isnan(values)
    symmetric = (values.shape[0] == values.shape[1]
                 and np.array_equal(present, present.T)
                 and np.allclose(np.where(present, values, 0.0), np.where(present, values, 0.0).T,
                                 rtol=0.0, atol=1e-6))
    if symmetric:
        rows, cols = np.triu_indices(values.shape[0])
        cells, kept = values[rows, cols], present[rows, cols]
    else:
        cells, kept = values.ravel(), present.ravel()
    lo = float(cells[kept].min()) if kept.any() else 0.0
    hi = float(cells[kept].max()) if kept.any() else 0.0
    scale = (hi - lo) / TOP_CODE if hi > lo else 1.0
    codes = np.full(cells.shape, MISSING, dtype="<u2")
    codes[kept] = np.rint((cells[kept] - lo) / scale).astype(np.int64).clip(0, TOP_CODE)
    return {"encoding": ENCODING, "shape": [int(s) for s in values.shape], "layout": "upper" if symmetric else "full",
            "offset": lo, "scale": scale, "missing": MISSING,
            "data": base64.b64encode(codes.tobytes()).decode("ascii")}


def decode_picture(picture: dict | list) -> np.ndarray:
    """The float64 matrix of a picture (NaN for empty cells), from either JSON form."""
    if isinstance(picture, list):
        return np.array([[np.nan if v is None else v for v in row] for row in picture], dtype=np.float64).reshape(
            len(picture), -1)
    if not isinstance(picture, dict) or picture.get("encoding") != ENCODING:
        raise ValueError("a picture must be a list of rows or an object with encoding 'uint16-base64'")
    m, k = (int(s) for s in picture["shape"])
    codes = np.frombuffer(base64.b64decode(picture["data"]), dtype="<u2")
    cells = picture["offset"] + codes.astype(np.float64) * picture["scale"]
    cells[codes == picture["missing"]] = np.nan
    if picture["layout"] == "full":
        return cells.reshape(m, k)
    out = np.empty((m, m), dtype=np.float64)
    rows, cols = np.triu_indices(m)
    if codes.size != rows.size:
        raise ValueError(f"picture data holds {codes.size} cells; an upper triangle of {m} x {m} has {rows.size}")
    out[rows, cols] = cells
    out[cols, rows] = cells
    return out
