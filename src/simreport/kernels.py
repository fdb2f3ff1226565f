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

HIST_BINS = 2000  # bins of width 0.001 over [-1, 1]


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


@njit(cache=True, nogil=True, fastmath=True)
def _segment_stats(row, b0, b1):
    """max, min and sum (float64) of row[b0:b1]; a loop LLVM vectorises."""
    hi = np.float32(-np.inf)
    lo = np.float32(np.inf)
    total = np.float32(0.0)
    for b in range(b0, b1):
        s = row[b]
        hi = max(hi, s)
        lo = min(lo, s)
        total += s
    return hi, lo, np.float64(total)


@njit(cache=True, nogil=True)
def reduce_tile(
    tile, row0, col0,
    hist, moments, extremes,
    row_best, row_best_idx,
    ladder, ladder_pairs, touched,
    opposed_threshold, opposed_state, opposed_touched,
    top_s, top_i, top_j, top_count,
    low_s, low_i, low_j, low_count,
    block_of, grid_max, grid_sum,
):
    """Fold one tile into the running statistics (arrays are updated in place).

    moments: [sum of all similarities] (float64); extremes: [min, max] (float32);
    opposed_state: [pair count]; top_count/low_count: 1-element int64 arrays.
    Per row, cheap vectorised passes (per-block max/min/sum, column maxima, bin
    indices) run over every value; the pair lists and threshold counts are only
    visited for rows whose extremes reach a threshold.
    """
    n_rows, n_cols = tile.shape
    n_ladder = ladder.shape[0]
    ladder_min = ladder[0]
    lo = extremes[0]
    hi = extremes[1]
    tc = top_count[0]
    lc = low_count[0]
    top_cap = top_s.shape[0]
    top_floor = top_s[top_cap - 1] if tc == top_cap else np.float32(-np.inf)
    # column runs that fall in one grid block
    starts = np.empty(n_cols + 1, dtype=np.int64)
    n_seg = 0
    for b in range(n_cols):
        if b == 0 or block_of[col0 + b] != block_of[col0 + b - 1]:
            starts[n_seg] = b
            n_seg += 1
    starts[n_seg] = n_cols
    col_best = np.full(n_cols, np.float32(-np.inf))
    col_idx = np.zeros(n_cols, dtype=np.int64)
    bins = np.empty(n_cols, dtype=np.int32)
    local_hist = np.zeros((2, hist.shape[0]), dtype=np.int32)
    total = 0.0
    for a in range(n_rows):
        i = row0 + a
        b_start = i - col0 + 1
        if b_start < 0:
            b_start = 0
        if b_start >= n_cols:
            continue
        row = tile[a]
        gi = block_of[i]
        row_hi = np.float32(-np.inf)
        row_lo = np.float32(np.inf)
        for g in range(n_seg):
            b0 = max(starts[g], b_start)
            b1 = starts[g + 1]
            if b0 >= b1:
                continue
            s_hi, s_lo, s_sum = _segment_stats(row, b0, b1)
            gj = block_of[col0 + b0]
            if s_hi > grid_max[gi, gj]:
                grid_max[gi, gj] = s_hi
            grid_sum[gi, gj] += s_sum
            total += s_sum
            row_hi = max(row_hi, s_hi)
            row_lo = min(row_lo, s_lo)
        lo = min(lo, row_lo)
        hi = max(hi, row_hi)
        # histogram: bin indices in a vectorisable pass, then two interleaved counters
        for b in range(b_start, n_cols):
            k = np.int32((row[b] + np.float32(1.0)) * np.float32(1000.0))
            bins[b] = min(max(k, 0), 1999)
        b = b_start
        while b + 1 < n_cols:
            local_hist[0, bins[b]] += 1
            local_hist[1, bins[b + 1]] += 1
            b += 2
        if b < n_cols:
            local_hist[0, bins[b]] += 1
        # nearest neighbours: this row's best, and each column's best so far
        if row_hi > row_best[i] or row_hi == row_best[i]:
            for b in range(b_start, n_cols):
                if row[b] == row_hi:
                    j = col0 + b
                    if row_hi > row_best[i] or j < row_best_idx[i]:
                        row_best[i] = row_hi
                        row_best_idx[i] = j
                    break
        for b in range(b_start, n_cols):
            s = row[b]
            better = s > col_best[b]
            col_best[b] = s if better else col_best[b]
            col_idx[b] = i if better else col_idx[b]
        # rare paths: thresholds, pair lists
        if row_hi >= ladder_min or row_hi >= top_floor:
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
                    if tc == top_cap:
                        top_floor = top_s[top_cap - 1]
        if row_lo <= opposed_threshold:
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
        if s > row_best[j] or (s == row_best[j] and col_idx[b] < row_best_idx[j]):
            row_best[j] = s
            row_best_idx[j] = col_idx[b]
    for k in range(hist.shape[0]):
        hist[k] += local_hist[0, k] + local_hist[1, k]
    moments[0] += total
    extremes[0] = lo
    extremes[1] = hi
    top_count[0] = tc
    low_count[0] = lc
