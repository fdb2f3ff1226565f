"""The cluster view for large n: spherical k-means, then exact mean similarity between clusters.

For clusters A and B with unit-vector sums s_A and s_B, the mean cosine similarity over
all pairs (a in A, b in B) is s_A . s_B / (|A| |B|); inside one cluster (distinct pairs)
it is (|s_A|^2 - sum of |u|^2) / (|A| (|A| - 1)). No pairwise matrix is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHUNK = 16384


@dataclass
class ClusterView:
    """k clusters of the records, ordered so that similar clusters sit together."""

    order: list[int]  # cluster ids in display order
    sizes: list[int]  # per cluster id
    mean: np.ndarray  # (k, k) exact mean similarity, in display order
    examples: list[list[int]]  # per cluster id: rows closest to the centre
    iterations: int
    assignment: np.ndarray  # cluster id of every row
    fitted_on: int  # rows the k-means centres were fitted on (all of them up to clusters.FIT_ROWS)


def _assign(unit: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best centre and its similarity for every row, in row chunks."""
    n = unit.shape[0]
    labels = np.empty(n, dtype=np.int64)
    best = np.empty(n, dtype=np.float32)
    for r0 in range(0, n, CHUNK):
        sims = unit[r0:r0 + CHUNK] @ centres.T
        labels[r0:r0 + CHUNK] = sims.argmax(axis=1)
        best[r0:r0 + CHUNK] = sims[np.arange(sims.shape[0]), labels[r0:r0 + CHUNK]]
    return labels, best


def _members(labels: np.ndarray, k: int) -> list[np.ndarray]:
    """Row numbers of each cluster, ascending."""
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(k + 1))
    return [order[bounds[c]:bounds[c + 1]] for c in range(k)]


def _sums(unit: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """float64 sum of the unit vectors of each cluster."""
    sums = np.zeros((k, unit.shape[1]), dtype=np.float64)
    for c, rows in enumerate(_members(labels, k)):
        if rows.size:
            sums[c] = unit[rows].sum(axis=0, dtype=np.float64)
    return sums


FIT_ROWS = 20_000  # k-means centres are fitted on at most this many rows; every row is then assigned


def spherical_kmeans(unit: np.ndarray, k: int, seed: int = 0, max_iter: int = 12,
                     tolerance: float = 0.001, fit_rows: int | None = None) -> tuple[np.ndarray, int, int]:
    """Cluster unit vectors by cosine; deterministic for a seed. Returns (labels, iterations,
    rows the centres were fitted on).

    Stops when fewer than ``tolerance`` of the rows change cluster, or after
    ``max_iter`` rounds: the view needs a reasonable grouping, and the similarities
    it shows are exact for whatever grouping results. Beyond ``fit_rows`` rows (``FIT_ROWS``
    when None) the centres are fitted on a seeded sample of that many rows and every row is
    then assigned to its nearest centre once: at n = 100,000 and k = 300 (the display cap),
    fitting on all rows took 3.75 s of CPU, on the sample 1.15 s (``benchmarks/bench_pass_parts.py``
    with and without ``--fit-rows 100000``).
    """
    n = unit.shape[0]
    k = min(k, n)
    fit_rows = FIT_ROWS if fit_rows is None else fit_rows
    rng = np.random.default_rng(seed)
    fit = unit if n <= fit_rows else unit[np.sort(rng.choice(n, size=fit_rows, replace=False))]
    m = fit.shape[0]
    centres = fit[np.sort(rng.choice(m, size=k, replace=False))].astype(np.float32)
    labels = np.full(m, -1, dtype=np.int64)
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        new = _assign_all(fit, centres, k)
        changed = int(np.count_nonzero(new != labels))
        labels = new
        if changed <= tolerance * m:
            break
        sums = _sums(fit, labels, k)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        centres = (sums / np.where(norms > 0, norms, 1.0)).astype(np.float32)
    if fit is not unit:
        labels = _assign_all(unit, centres, k)
    return labels, iterations, m


def _assign_all(unit: np.ndarray, centres: np.ndarray, k: int) -> np.ndarray:
    """Every row's nearest centre; a cluster left empty takes the rows worst served by theirs."""
    labels, best = _assign(unit, centres)
    counts = np.bincount(labels, minlength=k)
    for c in np.flatnonzero(counts == 0):  # re-seed empty clusters with the worst-served rows
        worst = int(np.argmin(best))
        labels[worst] = c
        best[worst] = np.inf
    return labels


def cluster_means(unit: np.ndarray, labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact mean similarity between every two clusters, and the cluster sizes."""
    sums = _sums(unit, labels, k)
    sizes = np.bincount(labels, minlength=k).astype(np.float64)
    sq = np.zeros(k, dtype=np.float64)
    np.add.at(sq, labels, np.einsum("ij,ij->i", unit, unit, dtype=np.float64))
    dots = sums @ sums.T
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = dots / np.outer(sizes, sizes)
        inside = (np.diag(dots) - sq) / (sizes * (sizes - 1))
    np.fill_diagonal(mean, np.where(sizes > 1, inside, np.nan))
    return mean, sizes.astype(np.int64)


def import_scipy_here() -> None:
    """Import the scipy modules :func:`build_cluster_view` uses (its hierarchy, which brings
    scipy.linalg), on the calling thread. The test builds the view on a side thread while the
    tile threads load numba, whose start imports scipy.linalg too: two threads importing parts
    of scipy at once can deadlock inside scipy's own package import, which Python breaks with
    an ImportError in one thread and ``KeyError: 'scipy'`` in the other (5 of 30 fresh runs of
    ``simreport run`` in a new virtual environment failed so). :func:`~simreport.runners.compute`
    calls this before it starts the tile threads; the side thread's own import of the same
    module waits for this one (one lock per module), so scipy is whole before numba starts."""
    import scipy.cluster.hierarchy  # noqa: F401


def build_cluster_view(unit: np.ndarray, k: int, seed: int = 0, examples: int = 3) -> ClusterView:
    """Cluster, measure, and order the clusters by average linkage (optimal leaf order)."""
    from simreport.views import cluster_order

    labels, iterations, fitted_on = spherical_kmeans(unit, k, seed)
    k = int(labels.max()) + 1
    mean, sizes = cluster_means(unit, labels, k)
    linkage_input = np.where(np.isnan(mean), 1.0, mean)
    order = cluster_order(linkage_input)
    sums = _sums(unit, labels, k)
    picked = []
    for c, rows in enumerate(_members(labels, k)):
        closeness = unit[rows] @ sums[c].astype(np.float32)  # order by similarity to the cluster centre
        picked.append([int(r) for r in rows[np.argsort(-closeness, kind="stable")[:examples]]])
    return ClusterView(order=[int(c) for c in order], sizes=sizes.tolist(), mean=mean[np.ix_(order, order)],
                       examples=picked, iterations=iterations, assignment=labels, fitted_on=fitted_on)
