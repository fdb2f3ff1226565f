"""Brute-force references and input strategies for the exactness tests of the all-pairs core.

The references compute every statistic from the full float32 similarity matrix with plain
numpy, written independently of the engine's code. Only two things are done "the same
way" as the engine, because they define the numbers rather than compute statistics:

* the similarities are the float32 products of the engine's documented tiling (one
  ``rows @ cols.T`` per tile of ``tile_size`` rows, single-threaded BLAS). A float32 dot
  product's last bit depends on how BLAS blocks it (tile shape; ``a @ a.T`` on one buffer
  takes the syrk path), so a reference from one big product differs from a tiled pass in
  a few pairs by one unit in the last place, and exact counts need the same products;
* a histogram bin is ``floor(fl32(1000 s + 1000))``, the kernel's documented float32 rule
  (the compiled kernel fuses it into one rounding); a value within about 3e-8 below an
  edge rounds up to it, which the float64 edges would place one bin lower.

Hypothesis profiles: ``ci`` (loaded when ``CI`` is set: derandomised, bounded examples),
``dev`` (the default), ``thorough`` (``HYPOTHESIS_PROFILE=thorough``: many examples),
``mutation`` (tools/mutation.py: few, derandomised examples).
"""

from __future__ import annotations

import math
import os

import numpy as np
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from threadpoolctl import threadpool_limits

_COMMON = {"deadline": None, "database": None,
           "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
settings.register_profile("ci", max_examples=60, derandomize=True, **_COMMON)
settings.register_profile("dev", max_examples=60, **_COMMON)
settings.register_profile("thorough", max_examples=1000, **_COMMON)
# mutation runs need a failure, not its smallest example: no shrinking (it made killed mutants time out)
settings.register_profile("mutation", max_examples=10, derandomize=True,
                          phases=(Phase.explicit, Phase.reuse, Phase.generate), **_COMMON)
_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if _CI else "dev"))


# without the JIT (mutation runs of the kernels) the kernels run as Python: keep inputs small
SIZE_LIMIT = 40 if os.environ.get("NUMBA_DISABLE_JIT") == "1" else None


def scaled(examples: int) -> int:
    """``examples`` relative to the loaded profile's default of 60."""
    return max(1, examples * settings.default.max_examples // 60)


# ----------------------------------------------------------------------------- similarities


def tiled_similarities(unit: np.ndarray, tile_size: int) -> np.ndarray:
    """The float32 similarity of every pair i < j (upper triangle; the rest is NaN)."""
    n = unit.shape[0]
    sim = np.full((n, n), np.nan, dtype=np.float32)
    with threadpool_limits(limits=1, user_api="blas"):
        for r0 in range(0, n, tile_size):
            rows = unit[r0:r0 + tile_size]
            for c0 in range(r0, n, tile_size):
                sim[r0:r0 + tile_size, c0:c0 + tile_size] = rows @ unit[c0:c0 + tile_size].T
    sim[np.tril_indices(n)] = np.nan
    return sim


def symmetric(sim: np.ndarray) -> np.ndarray:
    """Upper triangle mirrored into a full matrix, diagonal -inf (for row-wise maxima)."""
    full = np.where(np.isnan(sim), sim.T, sim)
    np.fill_diagonal(full, -np.inf)
    return full


def bins_of(values: np.ndarray, bins: int = 2000) -> np.ndarray:
    """The kernel's histogram bin of each value: floor(fl32(s * bins/2 + bins/2)), clipped.

    Compiled (fastmath), the kernel's (s + 1) * 1000 becomes one fused multiply-add with one
    rounding; run as Python (NUMBA_DISABLE_JIT=1, mutation runs) it rounds after each step.
    """
    half = bins / 2
    if SIZE_LIMIT:  # the kernel runs as Python
        scaled_values = (values.astype(np.float32) + np.float32(1.0)) * np.float32(half)
    else:
        scaled_values = (values.astype(np.float64) * half + half).astype(np.float32)
    return np.clip(np.floor(scaled_values), 0, bins - 1).astype(np.int64)


# ----------------------------------------------------------------------------- the test's statistics


def reference_stats(x: np.ndarray, unit: np.ndarray, sim: np.ndarray, *, thresholds: tuple[float, ...],
                    near_duplicate: float, opposed: float, top_k: int, lowest_k: int, grid_size: int) -> dict:
    """Every statistic of the all-pairs pass, by brute force over ``sim`` (see module doc)."""
    n = unit.shape[0]
    iu = np.triu_indices(n, 1)
    values = sim[iu]
    vi, vj = iu[0].astype(np.int64), iu[1].astype(np.int64)
    v64 = values.astype(np.float64)
    out: dict = {"pairs": len(values), "min": float(values.min()), "max": float(values.max()),
                 "mean": float(v64.mean()), "std": float(v64.std())}
    out["hist"] = np.bincount(bins_of(values), minlength=2000)
    counts = []
    for t in thresholds:
        hit = values >= np.float32(t)
        counts.append({"threshold": round(float(np.float32(t)), 6), "pairs": int(hit.sum()),
                       "items": len(set(vi[hit].tolist()) | set(vj[hit].tolist()))})
    out["threshold_counts"] = counts
    nd = np.float32(near_duplicate)
    nd_hit = values >= nd
    out["near_duplicate_pairs"] = int(nd_hit.sum())
    out["near_duplicate_items"] = len(set(vi[nd_hit].tolist()) | set(vj[nd_hit].tolist()))
    order = np.lexsort((vj, vi, -v64))[:top_k]
    out["top_pairs"] = [(int(vi[k]), int(vj[k]), float(values[k])) for k in order]
    low = values <= np.float32(opposed)
    out["opposed_pairs"] = int(low.sum())
    out["opposed_items"] = len(set(vi[low].tolist()) | set(vj[low].tolist()))
    idx = np.flatnonzero(low)
    order = idx[np.lexsort((vj[idx], vi[idx], v64[idx]))][:lowest_k]
    out["lowest_pairs"] = [(int(vi[k]), int(vj[k]), float(values[k])) for k in order]
    full = symmetric(sim)
    out["nn_similarity"] = full.max(axis=1)
    out["nn_index"] = full.argmax(axis=1).astype(np.int64)  # first maximum: the smaller index
    out["nn_above_threshold"] = int((out["nn_similarity"] >= nd).sum())
    grid = max(1, min(n, grid_size))
    block = np.arange(n) * grid // n
    gmax = np.full((grid, grid), np.nan)
    gmean = np.full((grid, grid), np.nan)
    for a in range(grid):
        for b in range(grid):
            cell = full[np.ix_(block == a, block == b)]
            if a == b:
                cell = cell[np.triu_indices(cell.shape[0], 1)]
            if cell.size:
                gmax[a, b] = cell.max()
                gmean[a, b] = cell.astype(np.float64).mean()
    out["grid_max"], out["grid_mean"] = gmax, gmean
    raw = np.ascontiguousarray(x)
    keys = [raw[r].tobytes() for r in range(n)]
    sizes: dict[bytes, int] = {}
    for key in keys:
        sizes[key] = sizes.get(key, 0) + 1
    out["identical_rows"] = n - len(sizes)
    out["identical_groups"] = sum(1 for s in sizes.values() if s > 1)
    return out


def quantile_in_bin(value: float, values: np.ndarray, q: float) -> bool:
    """A histogram quantile is within one bin (0.001) of the exact order statistic."""
    exact = float(np.quantile(values.astype(np.float64), q, method="inverted_cdf"))
    return abs(value - exact) <= 0.001 + 1e-6


# ----------------------------------------------------------------------------- the agreement pass


def reference_agreement(sim_a: np.ndarray, sim_b: np.ndarray, k: int, threshold: float, cap: int,
                        joint_bins: int) -> dict:
    """The comparison's tiled pass by brute force over both models' upper triangles."""
    n = sim_a.shape[0]
    iu = np.triu_indices(n, 1)
    a, b = sim_a[iu], sim_b[iu]
    vi, vj = iu[0].astype(np.int64), iu[1].astype(np.int64)
    out: dict = {}
    for name, sim in (("a", sim_a), ("b", sim_b)):
        full = symmetric(sim)
        cols = np.arange(n)
        best_s = np.full((n, k), -np.inf, dtype=np.float32)
        best_i = np.full((n, k), n, dtype=np.int64)
        for r in range(n):
            row = full[r]
            order = np.lexsort((cols, -row.astype(np.float64)))
            order = order[order != r][:k]
            best_s[r, :len(order)] = row[order]
            best_i[r, :len(order)] = order
        out[f"best_s_{name}"], out[f"best_i_{name}"] = best_s, best_i
    half = np.float32(joint_bins / 2)
    bins_a = np.clip(((a + np.float32(1.0)) * half).astype(np.int64), 0, joint_bins - 1)
    bins_b = np.clip(((b + np.float32(1.0)) * half).astype(np.int64), 0, joint_bins - 1)
    out["joint"] = np.bincount(bins_a * joint_bins + bins_b, minlength=joint_bins * joint_bins)
    t = np.float32(threshold)
    near_a, near_b = a >= t, b >= t
    out["both"] = int((near_a & near_b).sum())
    for name, mine, theirs, s_mine, s_theirs in (("a", near_a, near_b, a, b), ("b", near_b, near_a, b, a)):
        hit = np.flatnonzero(mine & ~theirs)
        out[f"only_{name}"] = len(hit)
        diff = s_mine[hit].astype(np.float64) - s_theirs[hit].astype(np.float64)
        order = hit[np.lexsort((vj[hit], vi[hit], -diff))][:cap]
        out[f"only_{name}_pairs"] = [(int(vi[m]), int(vj[m]), float(s_mine[m]), float(s_theirs[m])) for m in order]
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    out["sums"] = np.array([a64.sum(), b64.sum(), a64 @ a64, b64 @ b64, a64 @ b64])
    out["pearson"] = float(np.corrcoef(a64, b64)[0, 1]) if a64.std() > 0 and b64.std() > 0 else None
    return out


# ----------------------------------------------------------------------------- inputs


@st.composite
def embedding_inputs(draw, max_n: int = 300, max_d: int = 64, max_tiles: int = 300):
    """(embeddings, tile_size): n 2..max_n, d 1..max_d, float16/32/64, tile sizes from 1 up.

    Rows are drawn in one of several styles and then some are replaced by exact
    duplicates, exact opposites (-x), or power-of-two multiples (the same unit vector,
    different bytes), so tied, +1, -1 and 0 similarities occur.
    """
    if SIZE_LIMIT:
        max_n, max_d, max_tiles = min(max_n, SIZE_LIMIT), min(max_d, 16), min(max_tiles, 40)
    tile = draw(st.one_of(st.integers(1, 8), st.integers(1, 80)))
    bands_cap = max(1, int((math.sqrt(8 * max_tiles + 1) - 1) / 2))
    n = draw(st.integers(2, max(2, min(max_n, tile * bands_cap))))
    d = draw(st.integers(1, max_d))
    dtype = draw(st.sampled_from([np.float32, np.float64, np.float16]))
    style = draw(st.sampled_from(["gaussian", "integers", "axes", "clusters"]))
    share_dup, share_opp, share_scaled = (draw(st.sampled_from([0.0, 0.05, 0.2, 0.5])) for _ in range(3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if style == "gaussian":
        x = rng.standard_normal((n, d))
    elif style == "integers":
        x = rng.integers(-2, 3, (n, d)).astype(np.float64)
    elif style == "axes":
        x = np.zeros((n, d))
        x[np.arange(n), rng.integers(0, d, n)] = rng.choice([-1.0, 1.0, 2.0], n)
    else:
        centres = rng.standard_normal((max(1, n // 10), d))
        x = centres[rng.integers(0, len(centres), n)] + 0.02 * rng.standard_normal((n, d))
    for r in range(1, n):
        src = int(rng.integers(0, r))
        roll = rng.random()
        if roll < share_dup:
            x[r] = x[src]
        elif roll < share_dup + share_opp:
            x[r] = -x[src]
        elif roll < share_dup + share_opp + share_scaled:
            x[r] = x[src] * 2.0
    x = x.astype(dtype)
    zero = ~np.any(x != 0, axis=1)
    x[zero, 0] = 1
    return x, tile
