"""The fused per-tile reduction in numpy, for passes too small to repay numba's start.

:func:`simreport.kernels.reduce_tile` folds a tile in one compiled pass; loading it costs a
fresh process about 0.4 s (importing numba, its registries and the cached kernel), far more
than the whole pass of a few thousand records. :func:`reduce_tile` here folds the same tile
into the same :class:`~simreport.engine.Partial` with numpy's vectorised operations:
identical counts, histogram, extremes, nearest neighbours and pair lists (the same order:
similarity, then i, then j); the tile-pass sum and the overview grid's sums may differ from
the compiled kernel's in their last bits (sums in another order).
"""

from __future__ import annotations

import numpy as np

HIST_LAST = 1999  # the last of the 2,000 histogram bins (width 0.001 over [-1, 1])


def reduce_tile(tile: np.ndarray, row0: int, col0: int, p) -> None:
    """Fold one tile of similarities (rows from ``row0``, columns from ``col0``; pairs j > i only)
    into the partial ``p`` (a :class:`~simreport.engine.Partial`)."""
    n_rows, n_cols = tile.shape
    rows = np.arange(row0, row0 + n_rows)
    cols = np.arange(col0, col0 + n_cols)
    if col0 >= row0 + n_rows:  # wholly above the diagonal: every pair counts
        valid = None
        masked, zeroed, values = tile, tile, tile.ravel()
    else:
        valid = cols[None, :] > rows[:, None]
        if not valid.any():  # a last tile of one row: no pair, still a tile of the pass
            p.tiles += 1
            return
        masked = np.where(valid, tile, np.float32(-np.inf))  # pairs j <= i can win no maximum
        zeroed = np.where(valid, tile, np.float32(0.0))  # nor add to a sum
        values = tile[valid]
    # histogram, extremes, tile moments
    # the kernel's bin rule, floor(fl32(1000 s + 1000)): one rounding (the compiled kernel fuses the
    # multiply-add); 1000 s + 1000 is exact in float64, so its float32 rounding is that one rounding
    bins = np.clip((values.astype(np.float64) * 1000.0 + 1000.0).astype(np.float32).astype(np.int32), 0, HIST_LAST)
    p.hist += np.bincount(bins, minlength=p.hist.shape[0])
    p.extremes[0] = min(p.extremes[0], values.min())
    p.extremes[1] = max(p.extremes[1], values.max())
    p.moments[1] += float(np.square(values).sum(dtype=np.float64))
    # overview grid: each row block's per-column sums (float32, row by row, as the kernel) and maxima,
    # then per block of columns (numpy's reduceat along rows is slow: one call per row block)
    blocks_r = p.block_of[row0:row0 + n_rows]
    blocks_c = p.block_of[col0:col0 + n_cols]
    r_starts = np.flatnonzero(np.r_[True, blocks_r[1:] != blocks_r[:-1]])
    c_starts = np.flatnonzero(np.r_[True, blocks_c[1:] != blocks_c[:-1]])
    column_sums = np.empty((r_starts.size, n_cols), dtype=np.float32)
    column_max = np.empty((r_starts.size, n_cols), dtype=np.float32)
    r_ends = np.r_[r_starts[1:], n_rows]
    for k, (a, b) in enumerate(zip(r_starts, r_ends, strict=True)):
        np.sum(zeroed[a:b], axis=0, out=column_sums[k])
        np.max(masked[a:b], axis=0, out=column_max[k])
    block_sums = np.add.reduceat(column_sums.astype(np.float64), c_starts, axis=1)
    cells = np.ix_(blocks_r[r_starts], blocks_c[c_starts])
    p.grid_sum[cells] += block_sums
    p.grid_max[cells] = np.maximum(p.grid_max[cells], np.maximum.reduceat(column_max, c_starts, axis=1))
    p.moments[0] += float(block_sums.sum())
    # nearest neighbours: each row's best column (the first of its maximum), each column's best row
    row_max = masked.max(axis=1)
    p.keep_neighbours(rows, row_max, cols[masked.argmax(axis=1)])
    col_max = column_max.max(axis=0)
    # a column's best row: the first row of the first row block that holds the column's maximum
    block = (column_max == col_max).argmax(axis=0)
    starts, ends = r_starts[block], r_ends[block]
    within = np.minimum(starts + np.arange(int((ends - starts).max()))[:, None], ends - 1)
    local = np.arange(n_cols)
    best_row = within[(masked[within, local] == col_max).argmax(axis=0), local]
    p.keep_neighbours(cols, col_max, rows[best_row])
    # the threshold ladder, the opposed pairs, the most similar pairs: looked for only in the rows
    # whose extremes reach them, as the kernel does
    for t, level in enumerate(p.ladder):
        a, b = _where(masked, row_max >= level, lambda part, level=level: part >= level)
        if a.size:
            p.ladder_pairs[t] += a.size
            p.touched[t, rows[a]] = True
            p.touched[t, cols[b]] = True
    cut = p.opposed_threshold
    near_rows = tile.min(axis=1) <= cut  # every row whose pairs reach the cut (and perhaps a few more)
    a, b = _where(tile, near_rows, lambda part: part <= cut, valid)
    if a.size:
        p.opposed_state[0] += a.size
        p.opposed_touched[rows[a]] = True
        p.opposed_touched[cols[b]] = True
        _keep(p, "low", tile[a, b], rows[a], cols[b])
    cap = p.top_s.shape[0]
    if cap:
        # the tile's cap best pairs are at or above its rows' cap-th highest maximum (those rows' maxima
        # are cap pairs at least that high): only they can enter the list
        with_pairs = row_max[row_max > -np.inf]
        floor = -np.partition(-with_pairs, cap - 1)[cap - 1] if with_pairs.size >= cap else -np.inf
        a, b = _where(masked, row_max >= floor, lambda part: part >= floor, valid)
        _keep(p, "top", tile[a, b], rows[a], cols[b])
    p.tiles += 1


def _where(values: np.ndarray, hot: np.ndarray, test, valid: np.ndarray | None = None
           ) -> tuple[np.ndarray, np.ndarray]:
    """(local rows, local columns) of the entries that pass ``test``, looked for in the ``hot`` rows
    only (and among the ``valid`` entries, when given)."""
    hot_rows = np.flatnonzero(hot)
    if hot_rows.size == 0:
        return hot_rows, hot_rows
    passed = test(values[hot_rows])
    if valid is not None:
        passed &= valid[hot_rows]
    a, b = np.nonzero(passed)
    return hot_rows[a], b


def _keep(p, which: str, s: np.ndarray, i: np.ndarray, j: np.ndarray) -> None:
    """Hand the bounded list ``which`` ("top" or "low") of the partial the pairs of this tile that can
    enter it: its ``cap`` best in the list's order, chosen vectorised (a tile may hold many tied pairs),
    merged by :meth:`~simreport.engine.Partial.keep_pairs`."""
    cap = (p.top_s if which == "top" else p.low_s).shape[0]
    if cap == 0 or s.size == 0:
        return
    key = -s if which == "top" else s
    if s.size > cap:  # only pairs at or beyond the cap-th value can enter
        near = key <= np.partition(key, cap - 1)[cap - 1]
        s, i, j, key = s[near], i[near], j[near], key[near]
    best = np.lexsort((j, i, key))[:cap]
    p.keep_pairs(which, list(zip(i[best].tolist(), j[best].tolist(), s[best].tolist(), strict=True)))
