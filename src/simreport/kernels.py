"""The fused per-tile reduction, compiled with numba.

One call reads a tile of cosine similarities (rows ``row0..``, columns ``col0..``)
once and updates every running statistic the engine keeps. Only pairs ``j > i`` are
counted, so diagonal tiles contribute their strict upper triangle. The kernel
releases the GIL, so worker threads overlap one tile's reduction with another tile's
matrix product.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def _before(s1, i1, j1, s2, i2, j2, descending):
    """Order of pair lists: by similarity (desc or asc), then i, then j."""
    if s1 != s2:
        return s1 > s2 if descending else s1 < s2
    if i1 != i2:
        return i1 < i2
    return j1 < j2


@njit(cache=True, nogil=True)
def _insert(vals, ii, jj, count, s, i, j, descending):
    """Insert (s, i, j) into a sorted bounded list; returns the new count."""
    cap = vals.shape[0]
    if cap == 0:  # an empty list keeps nothing (writing at cap - 1 would land before the buffer)
        return 0
    if count == cap and not _before(s, i, j, vals[cap - 1], ii[cap - 1], jj[cap - 1], descending):
        return count
    pos = count if count < cap else cap - 1
    while pos > 0 and _before(s, i, j, vals[pos - 1], ii[pos - 1], jj[pos - 1], descending):
        if pos < cap:
            vals[pos] = vals[pos - 1]
            ii[pos] = ii[pos - 1]
            jj[pos] = jj[pos - 1]
        pos -= 1
    vals[pos] = s
    ii[pos] = i
    jj[pos] = j
    return count + 1 if count < cap else cap


@njit(cache=True, nogil=True)
def triangle_row_stats(tile, row0, col0):
    """Per-row max, its first column, and min over the columns j > i of a diagonal tile."""
    n_rows, n_cols = tile.shape
    row_max = np.full(n_rows, np.float32(-np.inf))
    row_min = np.full(n_rows, np.float32(np.inf))
    row_arg = np.zeros(n_rows, dtype=np.int64)
    for a in range(n_rows):
        for b in range(max(row0 + a - col0 + 1, 0), n_cols):
            s = tile[a, b]
            if s > row_max[a]:
                row_max[a] = s
                row_arg[a] = b
            if s < row_min[a]:
                row_min[a] = s
    return row_max, row_arg, row_min


def row_stats(tile, row0, col0):
    """Per-row max, argmax (first) and min over the pairs j > i of a tile.

    Off-diagonal tiles use numpy's vectorised reductions (they release the GIL);
    diagonal tiles need the strict upper triangle only.
    """
    if row0 == col0:
        return triangle_row_stats(tile, row0, col0)
    arg = tile.argmax(axis=1)
    return tile[np.arange(tile.shape[0]), arg], arg, tile.min(axis=1)


@njit(cache=True, nogil=True, fastmath={"nsz", "reassoc", "arcp", "contract"})
def _column_pass(row, local_row, block_max, block_sum, col_best, col_idx):
    """Per-column accumulators for one row: block max and sum, best row so far.

    Callers pass slices starting at the first column to visit: a loop from 0 is
    vectorised by LLVM, one from a run-time start was measured 4x slower.
    """
    for b in range(row.shape[0]):
        s = row[b]
        block_max[b] = max(block_max[b], s)
        block_sum[b] += s
        better = s > col_best[b]
        col_best[b] = s if better else col_best[b]
        col_idx[b] = local_row if better else col_idx[b]


@njit(cache=True, nogil=True, fastmath={"nsz", "reassoc", "arcp", "contract"})
def _histogram_pass(row, bins, local_hist):
    """Bin one row's values (width 0.001) and return the sum of their squares.

    A vectorised pass computes bin numbers (and the squares), then two interleaved
    counters take them, which breaks store-to-load chains.
    """
    n_cols = row.shape[0]
    squares = np.float32(0.0)
    for b in range(n_cols):
        s = row[b]
        squares += s * s
        bins[b] = min(max(np.int32((s + np.float32(1.0)) * np.float32(1000.0)), 0), 1999)
    half = n_cols // 2
    for b in range(half):
        local_hist[0, bins[2 * b]] += 1
        local_hist[1, bins[2 * b + 1]] += 1
    if n_cols % 2:
        local_hist[0, bins[n_cols - 1]] += 1
    return squares


@njit(cache=True, nogil=True, inline="always")
def _order_key(bits):
    """An int32 that orders as the float32 with these bits does (finite values; -0.0 just
    below 0.0); applied twice it gives the bits back."""
    return np.int32(bits ^ ((bits >> np.int32(31)) & np.int32(0x7FFFFFFF)))


@njit(cache=True, nogil=True)
def _row_max_min(row):
    """(max, min) of one row of finite values. Compared as integer keys, which the compiler
    vectorises (a float max or min reduction it does not: 0.5 ns a value against 0.1)."""
    bits = row.view(np.int32)
    hi = np.int32(-2147483648)
    lo = np.int32(2147483647)
    for b in range(bits.shape[0]):
        key = _order_key(bits[b])
        hi = max(hi, key)
        lo = min(lo, key)
    return _order_key(hi).view(np.float32), _order_key(lo).view(np.float32)


@njit(cache=True, nogil=True)
def reduce_tile(
    tile, row0, col0, extremes_given, row_max, row_arg, row_min,
    hist, moments, extremes,
    row_best, row_best_idx,
    ladder, ladder_pairs, touched,
    opposed_threshold, opposed_state, opposed_touched,
    top_s, top_i, top_j, top_count,
    low_s, low_i, low_j, low_count,
    block_of, grid_max, grid_sum,
):
    """Fold one tile into the running statistics (arrays are updated in place).

    With ``extremes_given``, ``row_max/row_arg/row_min`` are :func:`row_stats` of this tile;
    without, each row's max and min are taken here while the row is in cache (the arrays
    are not read, and the first column of the max is looked for only in a row whose
    nearest neighbour may change). moments: [sum, sum of squares of all
    similarities] (float64); extremes: [min, max] (float32); opposed_state: [pair
    count]; top_count/low_count: 1-element int64 arrays. Every value passes through
    loops that run along a row and update per-column accumulators (the compiler
    vectorises them); the pair lists and threshold counts are visited only for rows
    whose extremes reach a threshold.
    """
    n_rows, n_cols = tile.shape
    n_ladder = ladder.shape[0]
    ladder_min = ladder[0]
    tc = top_count[0]
    lc = low_count[0]
    top_cap = top_s.shape[0]
    if top_cap == 0:  # no top list: nothing enters it (and there is no last entry to read)
        top_floor = np.float32(np.inf)
    elif tc == top_cap:
        top_floor = top_s[top_cap - 1]
    else:
        top_floor = np.float32(-np.inf)
    # column runs that fall in one grid block
    starts = np.empty(n_cols + 1, dtype=np.int64)
    n_seg = 0
    for b in range(n_cols):
        if b == 0 or block_of[col0 + b] != block_of[col0 + b - 1]:
            starts[n_seg] = b
            n_seg += 1
    starts[n_seg] = n_cols
    col_best = np.full(n_cols, np.float32(-np.inf))
    col_idx = np.zeros(n_cols, dtype=np.int32)  # local row; int32 keeps the loop vectorised
    block_max = np.full(n_cols, np.float32(-np.inf))
    block_sum = np.zeros(n_cols, dtype=np.float32)
    local_hist = np.zeros((2, hist.shape[0]), dtype=np.int32)
    bins = np.empty(n_cols, dtype=np.int32)
    current_block = block_of[row0]
    total = 0.0
    total_sq = 0.0
    for a in range(n_rows + 1):
        # flush the per-column block accumulators when the row block changes (and at the end)
        if a == n_rows or block_of[row0 + a] != current_block:
            for g in range(n_seg):
                b0, b1 = starts[g], starts[g + 1]
                gj = block_of[col0 + b0]
                seg_max = np.float32(-np.inf)
                seg_sum = 0.0
                for b in range(b0, b1):
                    seg_max = max(seg_max, block_max[b])
                    seg_sum += block_sum[b]
                    block_max[b] = np.float32(-np.inf)
                    block_sum[b] = np.float32(0.0)
                if seg_max > grid_max[current_block, gj]:
                    grid_max[current_block, gj] = seg_max
                grid_sum[current_block, gj] += seg_sum
                total += seg_sum
            if a == n_rows:
                break
            current_block = block_of[row0 + a]
        i = row0 + a
        b_start = max(i - col0 + 1, 0)
        if b_start >= n_cols:
            continue
        row = tile[a]
        local_row = np.int32(a)
        if extremes_given:
            hi, lo, arg = row_max[a], row_min[a], row_arg[a]
        else:
            hi, lo = _row_max_min(row[b_start:])
            arg = -1  # found below, when needed
        _column_pass(row[b_start:], local_row, block_max[b_start:], block_sum[b_start:],
                     col_best[b_start:], col_idx[b_start:])
        total_sq += _histogram_pass(row[b_start:], bins[b_start:], local_hist)
        # this row's nearest neighbour within the tile (its first column of the max)
        if hi >= row_best[i]:
            if arg < 0:
                arg = b_start
                while row[arg] != hi:
                    arg += 1
            best = row[arg]
            j = col0 + arg
            if best > row_best[i] or (best == row_best[i] and j < row_best_idx[i]):
                row_best[i] = best
                row_best_idx[i] = j
        if hi > extremes[1]:
            extremes[1] = hi
        if lo < extremes[0]:
            extremes[0] = lo
        # rare paths: thresholds, pair lists
        if hi >= ladder_min or hi >= top_floor:
            for b in range(b_start, n_cols):
                s = row[b]
                if s >= ladder_min:
                    j = col0 + b
                    for t in range(n_ladder):
                        if s >= ladder[t]:
                            ladder_pairs[t] += 1
                            touched[t, i] = True
                            touched[t, j] = True
                if s >= top_floor:
                    tc = _insert(top_s, top_i, top_j, tc, s, i, col0 + b, True)
                    if tc == top_cap > 0:
                        top_floor = top_s[top_cap - 1]
        if lo <= opposed_threshold:
            for b in range(b_start, n_cols):
                s = row[b]
                if s <= opposed_threshold:
                    j = col0 + b
                    opposed_state[0] += 1
                    opposed_touched[i] = True
                    opposed_touched[j] = True
                    lc = _insert(low_s, low_i, low_j, lc, s, i, j, False)
    for b in range(n_cols):
        j = col0 + b
        s = col_best[b]
        i = row0 + col_idx[b]
        if s > row_best[j] or (s == row_best[j] and i < row_best_idx[j]):
            row_best[j] = s
            row_best_idx[j] = i
    for k in range(hist.shape[0]):
        hist[k] += local_hist[0, k] + local_hist[1, k]
    moments[0] += total
    moments[1] += total_sq
    top_count[0] = tc
    low_count[0] = lc


# ----------------------------------------------------------------------------- screening: bfloat16 tiles

FAST = {"nsz", "reassoc", "arcp", "contract"}


@njit(cache=True, nogil=True, fastmath=FAST)
def _widen_row(bits, out):
    """bfloat16 bit patterns to float32 (exact: the upper half of a float32's bits)."""
    for b in range(bits.shape[0]):
        out[b] = np.uint32(np.uint32(bits[b]) << np.uint32(16)).view(np.float32)


@njit(cache=True, nogil=True, fastmath={"nnan", "ninf", "nsz"})
def _row_extremes(row, col_max):
    """(max, min) of one row and each column's running max (finite values only)."""
    for b in range(row.shape[0]):
        col_max[b] = max(col_max[b], row[b])
    return _row_max_min(row)


@njit(cache=True, nogil=True)
def widen_and_scan(bits, tile, row0, col0, row_max, row_min, col_max):
    """Write the float32 values of a bfloat16 tile (given as uint16 bits) into ``tile`` and
    take, over the pairs j > i only, each row's max and min and each column's max
    (-inf/+inf where a row or column has no pair)."""
    n_rows, n_cols = bits.shape
    col_max[:] = np.float32(-np.inf)
    for a in range(n_rows):
        _widen_row(bits[a], tile[a])
        b_start = max(row0 + a - col0 + 1, 0)
        row_max[a] = np.float32(-np.inf)
        row_min[a] = np.float32(np.inf)
        if b_start < n_cols:
            row_max[a], row_min[a] = _row_extremes(tile[a, b_start:], col_max[b_start:])


@njit(cache=True, nogil=True)
def _collect_row(row, offset, row_cut, col_cut, lo_cut, centres, halves, out_b, count):
    """Append the columns of one row's hits to ``out_b`` from ``count`` on (branch-free:
    every column is written, the count advances on hits); returns the new count."""
    for b in range(row.shape[0]):
        s = row[b]
        hit = (s >= row_cut) | (s >= col_cut[b]) | (s <= lo_cut)
        for k in range(centres.shape[0]):
            hit |= abs(s - centres[k]) <= halves[k]
        out_b[count] = offset + b
        count += hit
    return count


@njit(cache=True, nogil=True)
def screen_candidates(tile, row0, col0, row_cut, col_cut, lo_cut, row_max, row_min, centres, halves,
                      out_a, out_b):
    """Positions (a, b) of the pairs j > i whose value is at or above ``row_cut[a]`` or
    ``col_cut[b]``, at or below ``lo_cut``, or within ``halves[k]`` of ``centres[k]``
    (bands checked only on rows whose [min, max] reaches them).

    Returns (count, out_a, out_b): the buffers, grown when they were too small.
    """
    n_rows, n_cols = tile.shape
    count = 0
    band_c = np.empty(centres.shape[0], dtype=np.float32)
    band_h = np.empty(centres.shape[0], dtype=np.float32)
    for a in range(n_rows):
        b_start = max(row0 + a - col0 + 1, 0)
        if b_start >= n_cols:
            continue
        if count + n_cols > out_b.shape[0]:
            size = 2 * (count + n_cols)
            grown_a, grown_b = np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int64)
            grown_a[:count] = out_a[:count]
            grown_b[:count] = out_b[:count]
            out_a, out_b = grown_a, grown_b
        nb = 0
        for k in range(centres.shape[0]):
            if row_max[a] >= centres[k] - halves[k] and row_min[a] <= centres[k] + halves[k]:
                band_c[nb] = centres[k]
                band_h[nb] = halves[k]
                nb += 1
        start = count
        count = _collect_row(tile[a, b_start:], b_start, row_cut[a], col_cut[b_start:], lo_cut,
                             band_c[:nb], band_h[:nb], out_b, count)
        out_a[start:count] = a
    return count, out_a, out_b


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def exact_dots(unit, rows, cols, out):
    """out[k] = float32 of the float64 dot product of unit[rows[k]] and unit[cols[k]].

    Products of float32 values are exact in float64; the float64 sum (any order) errs by
    far less than float32 rounding, which screen_bound accounts for.
    """
    d = unit.shape[1]
    for k in range(rows.shape[0]):
        x = unit[rows[k]]
        y = unit[cols[k]]
        acc = 0.0
        for t in range(d):
            acc += np.float64(x[t]) * np.float64(y[t])
        out[k] = np.float32(acc)


# ----------------------------------------------------------------------------- comparison: top-k neighbours


@njit(cache=True, nogil=True, inline="always")
def _push_neighbour(vals, idx, s, j):
    """Insert neighbour j with similarity s into a row's sorted top-k (ties: smaller j first)."""
    last = vals.shape[0] - 1
    if s < vals[last] or (s == vals[last] and j > idx[last]):
        return
    pos = last
    while pos > 0 and (s > vals[pos - 1] or (s == vals[pos - 1] and j < idx[pos - 1])):
        vals[pos] = vals[pos - 1]
        idx[pos] = idx[pos - 1]
        pos -= 1
    vals[pos] = s
    idx[pos] = j


@njit(cache=True, nogil=True)
def topk_tile(tile, row0, col0, best_s, best_i):
    """Fold the pairs j > i of one tile into every record's top-k neighbour list (both ends)."""
    n_rows, n_cols = tile.shape
    for a in range(n_rows):
        i = row0 + a
        for b in range(max(i - col0 + 1, 0), n_cols):
            j = col0 + b
            s = tile[a, b]
            _push_neighbour(best_s[i], best_i[i], s, j)
            _push_neighbour(best_s[j], best_i[j], s, i)


@njit(cache=True, nogil=True)
def merge_topk(best_s, best_i, other_s, other_i):
    """Fold another partial's top-k lists into these (exact; same tie rule)."""
    n, k = best_s.shape
    for i in range(n):
        for m in range(k):
            if other_i[i, m] < n:
                _push_neighbour(best_s[i], best_i[i], other_s[i, m], other_i[i, m])
