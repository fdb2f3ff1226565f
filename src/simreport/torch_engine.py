"""The torch engine: the same tiles, :class:`~simreport.engine.Partial` and exact merge as the
numba engine, with the tile product and every per-tile reduction done by torch on one
device (CPU or CUDA), so nothing of size tile x tile ever leaves the device.

Two precisions of the tile product:

``exact``
    float32, like the numba engine. Counts, pairs and findings agree with it except for
    pairs within float32 rounding of a threshold (:func:`float32_tolerance`): two float32
    products of the same unit vectors (different BLAS, device or summation order) may put
    such a pair on different sides. They are counted and named (``borderline``).
``screen``
    the product in bfloat16 with float32 accumulation. :func:`screen_bound` bounds the
    difference between a screened similarity and the exact one for unit vectors; every
    pair whose screened value lies within the bound of a threshold, of the running top or
    lowest lists, of a row's or column's best candidate or of the running minimum is
    recomputed exactly (float64 dot product of the float32 unit vectors, rounded to
    float32). Counts, pair lists, nearest neighbours, min and max are therefore exact; the
    histogram (hence the quantiles), the tile-pass moments and the overview grid are read
    from the screened values and labelled so.

torch is imported only when this engine runs.
"""

from __future__ import annotations

import math
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from simreport.engine import BORDERLINE_LISTED, EngineSettings, Partial, ProgressCallback

U32 = 2.0**-24  # unit roundoff of float32 (24-bit significand)
U_BF16 = 2.0**-8  # unit roundoff of bfloat16 (8-bit significand)
TINY = 2.0**-126  # smallest normal float32/bfloat16; flushed subnormals err by less
NORM_SLACK = 2.0 * U32  # |u| <= 1 + NORM_SLACK for rows from engine.normalise_rows
RECHECK_CHUNK = 16384
FLOAT32_MAX = float(np.finfo(np.float32).max)  # pairs recomputed per float64 batch


def _gamma(m: int, u: float = U32) -> float:
    """Higham's gamma_m = m u / (1 - m u): the relative error bound of m roundings."""
    return m * u / (1.0 - m * u)


def float32_tolerance(dim: int) -> float:
    """How far two float32 dot products of the same unit vectors can lie apart.

    Each float32 evaluation (any summation order, with or without FMA) is within
    gamma_d (1 + eta)^2 of the true dot product, so two of them differ by at most twice
    that. A pair this close to a threshold may fall on either side depending on BLAS,
    device or engine.
    """
    norm = (1.0 + NORM_SLACK) ** 2
    return 2.0 * _gamma(dim) * norm + 2.0 * dim * TINY


def screen_bound(dim: int, output_bfloat16: bool) -> float:
    """Rigorous bound on |screened - exact| for rows of norm at most 1 + NORM_SLACK.

    screened: both vectors rounded to bfloat16, products accumulated in float32 (any
    order), the sum optionally rounded to bfloat16. exact: the float64 dot product of
    the float32 vectors, rounded to float32 (the value the re-check computes). The
    derivation is in the README (section "Screening precision").
    """
    norm = (1.0 + NORM_SLACK) ** 2  # ||x|| ||y||
    ub = U_BF16
    inputs = (2.0 * ub + ub * ub) * norm  # rounding x and y to bfloat16
    rounded_norm = (1.0 + ub) ** 2 * norm  # ||x~|| ||y~||
    accumulate = _gamma(dim + 1) * rounded_norm  # float32 sums (and rounded products)
    output = ub * rounded_norm * (1.0 + _gamma(dim + 1)) if output_bfloat16 else 0.0
    exact_side = U32 * norm + _gamma(dim, 2.0**-53) * norm  # the float64 re-check rounded to float32
    flushed = 4.0 * dim * TINY  # subnormal inputs and partial sums flushed to zero
    bound = inputs + accumulate + output + exact_side + flushed
    return bound * (1.0 + 2.0**-20) + 8.0 * 2.0**-23  # slack for evaluating this and comparing in float32


# ----------------------------------------------------------------------------- device and precision


def import_torch():
    """torch, or a ValueError that says how to install it."""
    try:
        import torch
    except ImportError:
        raise ValueError("the torch engine needs torch: pip install 'simreport[models]'") from None
    return torch


def cpu_has_bf16() -> bool:
    """True when this CPU has bfloat16 dot-product instructions (AVX-512 BF16 or AMX-BF16)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    flags: set[str] = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def resolve_device(torch, name: str):
    """The torch device for ``cpu`` or ``cuda`` (``cuda:N``); ValueError when unavailable."""
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"--device {name}: torch finds no CUDA device here "
                             f"(torch {torch.__version__}); use --device cpu")
        return torch.device(name)
    raise ValueError(f"device {name!r} must be cpu or cuda")


def effective_precision(torch, device, requested: str) -> tuple[str, str | None]:
    """(precision that will run, note for the user or None).

    Screening needs bfloat16 arithmetic in hardware; without it the engine says so and
    runs exact.
    """
    if requested not in ("exact", "screen"):
        raise ValueError(f"precision {requested!r} must be exact or screen")
    if requested == "exact":
        return "exact", None
    if device.type == "cuda":
        if torch.cuda.is_bf16_supported():
            return "screen", None
        return "exact", (f"screening needs bfloat16 tensor cores; {torch.cuda.get_device_name(device)} "
                         "has none, so the pass ran exact (float32)")
    if cpu_has_bf16():
        return "screen", None
    return "exact", ("screening needs a CPU with bfloat16 instructions (AVX-512 BF16 or AMX-BF16); "
                     "this CPU has neither, so the pass ran exact (float32)")


# ----------------------------------------------------------------------------- the pass


class _Pass:
    """Running state of the tile pass on the device, and the per-tile reductions."""

    def __init__(self, torch, device, unit: np.ndarray, settings: EngineSettings, precision: str) -> None:
        self.torch = torch
        self.dev = device
        self.settings = settings
        n, d = unit.shape
        self.n = n
        self.u = torch.from_numpy(np.ascontiguousarray(unit)).to(device)
        self.u64 = None
        self.screen = precision == "screen"
        self.product = self._product_fn()
        self.B = screen_bound(d, self.output_bf16) if self.screen else 0.0
        self.eps = float32_tolerance(d)
        self.margin = max(self.B, self.eps)
        self.p = Partial.empty(n, settings)
        f32, i64 = torch.float32, torch.int64
        self.hist = torch.zeros(self.p.hist.shape[0], dtype=torch.float64, device=device)
        self.row_best = torch.full((n,), -math.inf, dtype=f32, device=device)
        self.row_idx = torch.full((n,), n, dtype=i64, device=device)
        self.ladder = [float(t) for t in self.p.ladder]
        self.ladder_pairs = torch.zeros(len(self.ladder), dtype=i64, device=device)
        self.touched = torch.zeros((len(self.ladder), n), dtype=torch.bool, device=device)
        self.opp = float(self.p.opposed_threshold)
        self.opposed = torch.zeros((), dtype=i64, device=device)
        self.opp_touched = torch.zeros(n, dtype=torch.bool, device=device)
        self.block_of = torch.from_numpy(self.p.block_of).to(device)
        self.grid_max = torch.from_numpy(self.p.grid_max).to(device)
        self.grid_sum = torch.from_numpy(self.p.grid_sum).to(device)
        self.sum = torch.zeros((), dtype=torch.float64, device=device)
        self.sum_sq = torch.zeros((), dtype=torch.float64, device=device)
        self.minimum = math.inf
        self.top: list[tuple[int, int, float]] = []
        self.low: list[tuple[int, int, float]] = []
        self.borderline: list[tuple[int, int, float, float]] = []
        self.borderline_total = 0
        self.rechecked = 0
        self._triangles: dict = {}

    # -- the product

    def _product_fn(self):
        torch = self.torch
        if not self.screen:
            self.output_bf16 = False
            return lambda rows, cols: rows @ cols.T
        self.ub = self.u.to(torch.bfloat16)
        probe = self.ub[:2]
        try:  # bfloat16 in, float32 out (CUDA; newer builds)
            out = torch.mm(probe, probe.T, out_dtype=torch.float32)
            self.output_bf16 = out.dtype != torch.float32
            return lambda rows, cols: torch.mm(rows, cols.T, out_dtype=torch.float32)
        except (RuntimeError, TypeError, NotImplementedError):
            self.output_bf16 = True
            return lambda rows, cols: (rows @ cols.T).float()

    def rows_of(self, lo: int, hi: int):
        return (self.ub if self.screen else self.u)[lo:hi]

    def exact(self, i, j):
        """Exact similarities of pairs (i, j): float64 dot products of the float32 rows, as float32."""
        torch = self.torch
        if self.u64 is None:  # the rows in float64, made once (products of float32 values are exact there)
            self.u64 = self.u.double()
        out = torch.empty(i.shape[0], dtype=torch.float32, device=self.dev)
        for k in range(0, i.shape[0], RECHECK_CHUNK):
            a, b = self.u64[i[k:k + RECHECK_CHUNK]], self.u64[j[k:k + RECHECK_CHUNK]]
            out[k:k + RECHECK_CHUNK] = (a * b).sum(dim=1).float()
        self.rechecked += int(i.shape[0])
        return out

    def _triangle(self, rows: int, cols: int):
        """Mask of the pairs j > i in a diagonal tile (cached per shape)."""
        key = (rows, cols)
        if key not in self._triangles:
            torch = self.torch
            a = torch.arange(rows, device=self.dev)[:, None]
            b = torch.arange(cols, device=self.dev)[None, :]
            self._triangles[key] = b > a
        return self._triangles[key]

    # -- one tile

    def tile(self, r0: int, c0: int, tile_size: int) -> None:
        torch = self.torch
        n = self.n
        r1, c1 = min(r0 + tile_size, n), min(c0 + tile_size, n)
        s = self.product(self.rows_of(r0, r1), self.rows_of(c0, c1))
        if r0 == c0:
            valid = self._triangle(r1 - r0, c1 - c0)
            s_hi = s.masked_fill(~valid, -math.inf)  # for maxima
            s_lo = s.masked_fill(~valid, math.inf)  # for minima
            s_zero = s.masked_fill(~valid, 0.0)  # for sums
            row_max, row_min = s_hi.amax(dim=1), s_lo.amin(dim=1)
        else:
            s_hi = s_lo = s_zero = s
            row_min, row_max = torch.aminmax(s, dim=1)
        rb, cb = self.block_of[r0:r1], self.block_of[c0:c1]
        g0, h0 = int(rb[0]), int(cb[0])
        rseg, cseg = rb - g0, cb - h0
        nr = int(rseg[-1]) + 1
        # per grid row block, each column's max: the overview grid and the columns' maxima
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # index_reduce_ is marked beta
            seg_max = torch.full((nr, c1 - c0), -math.inf, device=self.dev).index_reduce_(0, rseg, s_hi, "amax")
        col_max = seg_max.amax(dim=0)
        tile_min, tile_max = float(row_min.min()), float(row_max.max())
        self._histogram(s_hi, s_lo, tile_max, tile_min)
        self._grid_and_moments(seg_max, s_zero, rseg, cseg, g0, h0, r0, r1, c0, c1)
        self._nearest(s_hi, row_max, col_max, r0, c0)
        self._minimum(s_lo, row_min, tile_min, r0, c0)
        self._thresholds(s_hi, row_max, r0, c0)
        self._top(s_hi, row_max, r0, c0)
        if tile_min <= self.opp + self.margin:
            self._opposed(s_lo, row_min, r0, c0)
        self.p.tiles += 1

    def _histogram(self, s_hi, s_lo, tile_max: float, tile_min: float) -> None:
        """Fine histogram; values a rounding beyond +-1 go to the end bins (as the numba kernel).

        ``histc`` counts in the input's float32, exact up to 2^24 per bin, so it runs on
        row blocks of at most 2^24 entries and the totals add up in float64.
        """
        torch = self.torch
        rows = max(1, (1 << 24) // max(1, s_hi.shape[1]))
        for a in range(0, s_hi.shape[0], rows):
            self.hist += torch.histc(s_hi[a:a + rows], bins=self.hist.shape[0], min=-1.0, max=1.0).double()
        if tile_max > 1.0:
            self.hist[-1] += (s_hi > 1.0).sum()
        if tile_min < -1.0:
            self.hist[0] += (s_lo < -1.0).sum()

    def _grid_and_moments(self, seg_max, s_zero, rseg, cseg, g0: int, h0: int,
                          r0: int, r1: int, c0: int, c1: int) -> None:
        """Overview grid (max and sum per block pair) and the tile's sum and sum of squares.

        Sums over a block pair need no pass over the tile: the sum of u_a . v_b over a
        block pair is (sum of u_a) . (sum of v_b), in float64 from the float32 rows; in a
        diagonal tile, the pairs inside one block are (|sum u|^2 - sum |u|^2) / 2.
        """
        torch = self.torch
        nr, nc = int(rseg[-1]) + 1, int(cseg[-1]) + 1
        rows = self.u[r0:r1].double()
        row_sums = _segment_sums(torch, rows, rseg, nr)
        if r0 == c0:
            block_sum = torch.triu(row_sums @ row_sums.T, diagonal=1)
            own = _segment_sums(torch, (rows * rows).sum(dim=1, keepdim=True), rseg, nr)[:, 0]
            block_sum += torch.diag(((row_sums * row_sums).sum(dim=1) - own) / 2.0)
        else:
            block_sum = row_sums @ _segment_sums(torch, self.u[c0:c1].double(), cseg, nc).T
        self.grid_sum[g0:g0 + nr, h0:h0 + nc] += block_sum
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # index_reduce_ is marked beta
            block_max = torch.full((nr, nc), -math.inf, device=self.dev).index_reduce_(1, cseg, seg_max, "amax")
        cell = self.grid_max[g0:g0 + nr, h0:h0 + nc]
        torch.maximum(cell, block_max, out=cell)
        self.sum += block_sum.sum()
        flat = s_zero.reshape(-1)
        self.sum_sq += torch.dot(flat, flat).double()

    def _best(self, key, other, value, size: int):
        """Per ``key`` (0..size-1): the largest value and, among equals, the smallest ``other``."""
        torch = self.torch
        best = torch.full((size,), -math.inf, dtype=value.dtype, device=self.dev)
        best.scatter_reduce_(0, key, value, "amax")
        hit = value == best[key]
        idx = torch.full((size,), self.n, dtype=torch.int64, device=self.dev)
        idx.scatter_reduce_(0, key[hit], other[hit], "amin")
        return best, idx

    def _update_best(self, targets, value, idx) -> None:
        cur, cur_idx = self.row_best[targets], self.row_idx[targets]
        better = (value > cur) | ((value == cur) & (idx < cur_idx))
        self.row_best[targets] = self.torch.where(better, value, cur)
        self.row_idx[targets] = self.torch.where(better, idx, cur_idx)

    def _nearest(self, s_hi, row_max, col_max, r0: int, c0: int) -> None:
        """Each row's and each column's best partner in this tile (exact value, first index)."""
        torch = self.torch
        B = self.B
        rows_n, cols_n = s_hi.shape
        # rows: partners j > i in this tile
        best = self.row_best[r0:r0 + rows_n]
        live = torch.nonzero((row_max > -math.inf) & (row_max >= best - B)).squeeze(1)
        if live.numel():
            floor = torch.maximum(row_max[live] - 2 * B, best[live] - B)
            rows = s_hi if live.numel() == rows_n else s_hi[live]
            a, b = torch.nonzero(rows >= floor[:, None], as_tuple=True)
            i, j = r0 + live[a], c0 + b
            value = self.exact(i, j) if self.screen else s_hi[live[a], b]
            top, idx = self._best(a, j, value, live.numel())
            self._update_best(r0 + live, top, idx)
        # columns: partners i < j in this tile
        best = self.row_best[c0:c0 + cols_n]
        live = torch.nonzero((col_max > -math.inf) & (col_max >= best - B)).squeeze(1)
        if live.numel():
            floor = torch.maximum(col_max[live] - 2 * B, best[live] - B)
            cols = s_hi if live.numel() == cols_n else s_hi[:, live]
            a, b = torch.nonzero(cols >= floor[None, :], as_tuple=True)
            i, j = r0 + a, c0 + live[b]
            value = self.exact(i, j) if self.screen else s_hi[a, live[b]]
            top, idx = self._best(b, i, value, live.numel())
            self._update_best(c0 + live, top, idx)

    def _minimum(self, s_lo, row_min, tile_min: float, r0: int, c0: int) -> None:
        if tile_min == math.inf:  # no pair in this tile (a 1 x 1 diagonal tile)
            return
        if not self.screen:
            self.minimum = min(self.minimum, tile_min)
            return
        if tile_min - self.B > self.minimum:
            return
        cut = min(tile_min + 2 * self.B, self.minimum + self.B)
        i, j, _ = self._candidates(s_lo, row_min <= cut, lambda sub: sub <= cut, r0, c0)
        self.minimum = min(self.minimum, float(self.exact(i, j).min()))

    def _candidates(self, s, rows_mask, test, r0: int, c0: int):
        """(i, j, screened value) of entries of ``s`` passing ``test`` in the rows of ``rows_mask``."""
        torch = self.torch
        live = torch.nonzero(rows_mask).squeeze(1)
        if not live.numel():
            return None
        sub = s if live.numel() == s.shape[0] else s[live]
        a, b = torch.nonzero(test(sub), as_tuple=True)
        if not a.numel():
            return None
        return r0 + live[a], c0 + b, sub[a, b]

    def _decide(self, i, j, v, thresholds: list[float], above: bool):
        """(values, which are exact, for each threshold the mask of pairs on its far side).

        A pair farther than B + eps from every threshold is decided by its screened value;
        the others are recomputed exactly. Pairs within eps of a threshold are borderline.
        """
        torch = self.torch
        B, eps = self.B, self.eps
        if self.screen:
            near = torch.zeros_like(v, dtype=torch.bool)
            for t in thresholds:
                near |= (v - t).abs() <= B + eps
            r = v.clone()
            if bool(near.any()):
                r[near] = self.exact(i[near], j[near])
        else:
            r, near = v, torch.ones_like(v, dtype=torch.bool)
        sides = [(r >= t) if above else (r <= t) for t in thresholds]
        for t in thresholds:
            close = (r - t).abs() <= eps
            if bool(close.any()):
                self._borderline(i[close], j[close], r[close], t)
        return r, near, sides

    def _borderline(self, i, j, r, t: float) -> None:
        self.borderline_total += int(i.numel())
        found = zip(i.tolist(), j.tolist(), r.tolist(), strict=True)
        self.borderline.extend((a, b, s, t) for a, b, s in found)
        self.borderline = sorted(set(self.borderline), key=lambda p: (p[0], p[1], p[3]))[:BORDERLINE_LISTED]

    def _thresholds(self, s_hi, row_max, r0: int, c0: int) -> None:
        lowest = self.ladder[0] - self.margin
        found = self._candidates(s_hi, row_max >= lowest, lambda sub: sub >= lowest, r0, c0)
        if found is None:
            return
        i, j, v = found
        _, _, sides = self._decide(i, j, v, self.ladder, above=True)
        for t, hit in enumerate(sides):
            if bool(hit.any()):
                self.ladder_pairs[t] += hit.sum()
                self.touched[t, i[hit]] = True
                self.touched[t, j[hit]] = True

    def _kth_floor(self, values, k: int, largest: bool) -> float:
        """The k-th largest (smallest) of ``values`` if there are k, else -inf (+inf)."""
        if values.numel() < k or k == 0:
            return -math.inf if largest else math.inf
        return float(self.torch.topk(values, k, largest=largest).values[-1])

    def _top(self, s_hi, row_max, r0: int, c0: int) -> None:
        k = len(self.p.top_s)
        if k == 0:
            return
        B = self.B
        finite = row_max[row_max > -math.inf]
        if not finite.numel():
            return
        floor = self.top[-1][2] if len(self.top) == k else -math.inf
        # k distinct pairs (row maxima) reach the k-th row maximum v, so exact >= v - B;
        # the cut stays finite so that the masked-out entries (-inf) never pass
        cut = max(floor - B, self._kth_floor(finite, k, True) - 2 * B, -FLOAT32_MAX)
        found = self._candidates(s_hi, row_max >= cut, lambda sub: sub >= cut, r0, c0)
        if found is None:
            return
        i, j, v = found
        r = self.exact(i, j) if self.screen else v
        keep = r >= max(floor, self._kth_floor(r, k, True))
        self.top = _merge_list(self.top, i[keep], j[keep], r[keep], k, descending=True)

    def _opposed(self, s_lo, row_min, r0: int, c0: int) -> None:
        B, k = self.B, len(self.p.low_s)
        edge = self.opp + self.margin
        found = self._candidates(s_lo, row_min <= edge, lambda sub: sub <= edge, r0, c0)
        if found is None:
            return
        i, j, v = found
        r, known, (hit,) = self._decide(i, j, v, [self.opp], above=False)
        if bool(hit.any()):
            self.opposed += hit.sum()
            self.opp_touched[i[hit]] = True
            self.opp_touched[j[hit]] = True
        if k == 0:
            return
        # the lowest list: exact values of the candidates that can enter it
        ceiling = self.low[-1][2] if len(self.low) == k else math.inf
        cut = min(ceiling + B, self._kth_floor(v, k, False) + 2 * B, self.opp + B)
        pick = v <= cut
        if self.screen:
            need = pick & ~known
            if bool(need.any()):
                r = r.clone()
                r[need] = self.exact(i[need], j[need])
        pick &= r <= self.opp
        pick &= r <= min(ceiling, self._kth_floor(r[pick], k, False))
        self.low = _merge_list(self.low, i[pick], j[pick], r[pick], k, descending=False)

    # -- the result

    def partial(self) -> Partial:
        """The state as a numpy :class:`Partial` (the only transfer of per-row arrays)."""
        p = self.p
        p.hist[:] = self.hist.to("cpu").numpy().round().astype(np.int64)
        p.moments[:] = [float(self.sum), float(self.sum_sq)]
        row_best = self.row_best.to("cpu").numpy()
        p.row_best[:] = row_best
        p.row_best_idx[:] = self.row_idx.to("cpu").numpy()
        finite = row_best[np.isfinite(row_best)]
        p.extremes[:] = [self.minimum, finite.max() if finite.size else -np.inf]
        p.ladder_pairs[:] = self.ladder_pairs.to("cpu").numpy()
        p.touched[:] = self.touched.to("cpu").numpy()
        p.opposed_state[0] = int(self.opposed)
        p.opposed_touched[:] = self.opp_touched.to("cpu").numpy()
        p.set_pairs("top", self.top)
        p.set_pairs("low", self.low)
        p.grid_max[:] = self.grid_max.to("cpu").numpy()
        p.grid_sum[:] = self.grid_sum.to("cpu").numpy()
        p.borderline = list(self.borderline)
        p.borderline_total = self.borderline_total
        return p


def _segment_sums(torch, values, seg, count: int):
    """Sums of the rows of ``values`` over the groups ``seg`` (0..count-1), as one product."""
    onehot = torch.zeros((count, values.shape[0]), dtype=values.dtype, device=values.device)
    onehot[seg, torch.arange(values.shape[0], device=values.device)] = 1.0
    return onehot @ values


def _merge_list(current: list, i, j, r, k: int, descending: bool) -> list:
    """Merge candidate pairs into a sorted bounded list (ties by smaller i, then j)."""
    if not i.numel():
        return current
    new = list(zip(i.tolist(), j.tolist(), r.tolist(), strict=True))
    sign = -1.0 if descending else 1.0
    merged = sorted(set(current) | set(new), key=lambda p: (sign * p[2], p[0], p[1]))
    return [(a, b, float(np.float32(s))) for a, b, s in merged[:k]]


class _CpuTiles:
    """The torch engine on the CPU: torch computes each tile product (float32, or bfloat16
    with bfloat16 output when screening) and the numba kernel of the CPU engine folds the
    tile into a :class:`Partial`, in the tile's own memory.

    When screening, every value whose exact value matters is recomputed first and written
    into the tile: values within ``B + eps`` of a threshold (ladder and opposed), and the
    candidates for each row's and column's best partner, the top and lowest lists and the
    minimum (cuts argued in the README, "Screening precision"). Every other value is
    farther than ``B`` from all of those decisions, so the kernel reaches the same counts,
    pairs, nearest neighbours, minimum and maximum as with exact values; the histogram,
    grid and tile moments read the screened values. In both precisions the values within
    float32 rounding of a threshold are named as borderline.
    """

    def __init__(self, torch, unit: np.ndarray, settings: EngineSettings, precision: str) -> None:
        self.torch = torch
        self.unit = np.ascontiguousarray(unit, dtype=np.float32)
        self.settings = settings
        self.screen = precision == "screen"
        self.u = torch.from_numpy(self.unit)
        self.operand = self.u.to(torch.bfloat16) if self.screen else self.u
        self.output_bf16 = self.screen  # torch's CPU product of bfloat16 rounds its output to bfloat16
        self.B = screen_bound(unit.shape[1], True) if self.screen else 0.0
        self.eps = float32_tolerance(unit.shape[1])
        self.rechecked = 0

    def new_worker(self) -> dict:
        tile = self.settings.tile_size
        partial = Partial.empty(self.unit.shape[0], self.settings)
        thresholds = np.array([*partial.ladder, partial.opposed_threshold], dtype=np.float32)
        return {"partial": partial, "buffer": np.empty(tile * tile, dtype=np.float32),
                "row_max": np.empty(tile, np.float32), "row_min": np.empty(tile, np.float32),
                "col_max": np.empty(tile, np.float32), "thresholds": thresholds,
                "out_a": np.empty(4 * tile, np.int64), "out_b": np.empty(4 * tile, np.int64), "rechecked": 0}

    def run_task(self, task: tuple[int, ...], worker: dict, tick) -> None:
        n, size = self.unit.shape[0], self.settings.tile_size
        for band in task:
            r0 = band * size
            for c0 in range(r0, n, size):
                self.tile(worker, r0, c0, min(r0 + size, n), min(c0 + size, n))
                tick()

    def tile(self, w: dict, r0: int, c0: int, r1: int, c1: int) -> None:
        from simreport.kernels import row_stats, widen_and_scan

        torch = self.torch
        product = self.operand[r0:r1] @ self.operand[c0:c1].T
        rows, cols = r1 - r0, c1 - c0
        extremes = None  # the exact tile's row statistics, reused by the reduction (a screened tile changes)
        if self.screen:
            tile = w["buffer"][: rows * cols].reshape(rows, cols)
            bits = product.view(torch.int16).numpy().view(np.uint16)
            row_max, row_min, col_max = w["row_max"][:rows], w["row_min"][:rows], w["col_max"][:cols]
            widen_and_scan(bits, tile, r0, c0, row_max, row_min, col_max)
            cuts = self._cuts(w["partial"], row_max, row_min, col_max, r0, c0)
        else:
            tile = product.numpy()
            extremes = row_stats(tile, r0, c0)
            row_max, _, row_min = extremes
            inf = np.full(max(rows, cols), np.inf, dtype=np.float32)
            cuts = (inf[:rows], inf[:cols], np.float32(-np.inf))
        self._exact_where_needed(w, tile, r0, c0, cuts, row_max, row_min)
        w["partial"].add_tile(tile, r0, c0, extremes)

    def _cuts(self, p: Partial, row_max, row_min, col_max, r0: int, c0: int):
        """(row cut, column cut, low cut): values at or above a row's or column's cut, or at or
        below the low cut, are recomputed exactly (see the class docstring)."""
        B, f32 = self.B, np.float32
        k_top, k_low = len(p.top_s), len(p.low_s)
        rows, cols = row_max.shape[0], col_max.shape[0]
        best_r, best_c = p.row_best[r0:r0 + rows], p.row_best[c0:c0 + cols]
        finite_max = row_max[row_max > -np.inf]
        finite_min = row_min[row_min < np.inf]
        top = -np.inf
        if p.top_count[0] == k_top and k_top:
            top = float(p.top_s[k_top - 1]) - B  # exact values below the k-th kept never enter
        if 0 < k_top <= finite_max.size:  # k pairs reach the k-th row maximum, so exact >= it - B
            top = max(top, float(np.partition(finite_max, finite_max.size - k_top)[finite_max.size - k_top]) - 2 * B)
        elif k_top == 0:
            top = np.inf
        row_cut = np.minimum(np.maximum(row_max - 2 * B, best_r - B), f32(top) if top < np.inf else f32(np.inf))
        col_cut = np.maximum(col_max - 2 * B, best_c - B)
        tile_min = float(finite_min.min()) if finite_min.size else np.inf
        lowest = min(tile_min + 2 * B, float(p.extremes[0]) + B)  # candidates for the minimum
        low = float(p.opposed_threshold) + B if k_low else -np.inf  # candidates for the lowest list
        if k_low and p.low_count[0] == k_low:
            low = min(low, float(p.low_s[k_low - 1]) + B)
        if k_low and k_low <= finite_min.size:
            low = min(low, float(np.partition(finite_min, k_low - 1)[k_low - 1]) + 2 * B)
        return row_cut.astype(f32), col_cut.astype(f32), f32(max(lowest, low))

    def _exact_where_needed(self, w: dict, tile, r0: int, c0: int, cuts, row_max, row_min) -> None:
        """Find the values that need their exact value (screening) or lie within float32 rounding
        of a threshold (both), recompute the first into the tile, and record the second."""
        from simreport.kernels import exact_dots, screen_candidates

        row_cut, col_cut, lo_cut = cuts
        thresholds = w["thresholds"]
        margin = np.float32(self.B + self.eps)
        halves = np.full(thresholds.shape, margin, dtype=np.float32)
        count, w["out_a"], w["out_b"] = screen_candidates(tile, r0, c0, row_cut, col_cut, lo_cut, row_max, row_min,
                                                          thresholds, halves, w["out_a"], w["out_b"])
        if count == 0:
            return
        a, b = w["out_a"][:count], w["out_b"][:count]
        if self.screen:
            exact = np.empty(count, dtype=np.float32)
            exact_dots(self.unit, a + r0, b + c0, exact)
            tile[a, b] = exact
            w["rechecked"] += count
            values = exact
        else:
            values = tile[a, b]
        self._borderline(w["partial"], a + r0, b + c0, values, thresholds)

    def _borderline(self, p: Partial, i, j, values, thresholds) -> None:
        eps = np.float32(self.eps)
        for t in thresholds:
            close = np.abs(values - t) <= eps
            if close.any():
                p.borderline_total += int(close.sum())
                found = zip(i[close].tolist(), j[close].tolist(), values[close].tolist(), strict=True)
                p.borderline = sorted(set(p.borderline) | {(x, y, s, float(t)) for x, y, s in found},
                                      key=lambda q: (q[0], q[1], q[3]))[:BORDERLINE_LISTED]


def _run_cpu(torch, unit: np.ndarray, settings: EngineSettings, precision: str,
             progress: ProgressCallback | None) -> tuple[Partial, _CpuTiles]:
    """All tiles on ``settings.workers`` threads, each with one torch thread for its products."""
    from simreport.engine import merge_all, on_threads, thread_tasks

    tiles = _CpuTiles(torch, unit, settings, precision)
    workers = on_threads(thread_tasks(unit.shape[0], settings.tile_size), settings.workers, tiles.new_worker,
                         tiles.run_task, progress)
    tiles.rechecked = sum(w["rechecked"] for w in workers)
    return merge_all([w["partial"] for w in workers]), tiles


def run_torch(unit: np.ndarray, settings: EngineSettings, progress: ProgressCallback | None = None) -> Partial:
    """The whole upper triangle with torch on ``settings.device``, one tile after another.

    torch uses ``settings.workers`` threads on the CPU. The returned partial carries
    ``engine_info`` (device, precision that ran, bound, re-checked pairs, any note).
    """
    torch = import_torch()
    device = resolve_device(torch, settings.device)
    precision, note = effective_precision(torch, device, settings.precision)
    threads = torch.get_num_threads()
    try:
        with torch.inference_mode(), _full_precision_products(torch):
            if device.type == "cpu":
                torch.set_num_threads(1)  # one torch thread per worker thread
                partial, state = _run_cpu(torch, unit, settings, precision, progress)
            else:
                state = _Pass(torch, device, unit, settings, precision)
                n, tile = unit.shape[0], settings.tile_size
                for r0 in range(0, n, tile):
                    for c0 in range(r0, n, tile):
                        state.tile(r0, c0, tile)
                        if progress is not None:
                            progress(1)
                partial = state.partial()
    finally:
        torch.set_num_threads(threads)
    partial.engine_info = {
        "engine": "torch",
        "device": _device_name(torch, device),
        "precision": precision,
        "requested_precision": settings.precision,
        "tile_product": ("bfloat16 inputs, float32 accumulation" + (", bfloat16 output" if state.output_bf16 else ""))
        if precision == "screen" else "float32",
        "screen_bound": state.B if precision == "screen" else None,
        "rechecked_pairs": state.rechecked if precision == "screen" else None,
        "float32_tolerance": state.eps,
        "note": note,
    }
    return partial


@contextmanager
def _full_precision_products(torch):
    """No TF32 for float32 products and no reduced-precision reductions for bfloat16 ones
    while the pass runs (the bounds assume float32 arithmetic); the caller's settings
    come back afterwards."""
    matmul = torch.backends.cuda.matmul
    saved = (torch.get_float32_matmul_precision(), matmul.allow_tf32,
             matmul.allow_bf16_reduced_precision_reduction)
    torch.set_float32_matmul_precision("highest")
    matmul.allow_tf32 = False
    matmul.allow_bf16_reduced_precision_reduction = False
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(saved[0])
        matmul.allow_tf32, matmul.allow_bf16_reduced_precision_reduction = saved[1], saved[2]


def _device_name(torch, device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return "cpu"


__all__ = ["cpu_has_bf16", "effective_precision", "float32_tolerance", "run_torch", "screen_bound"]
