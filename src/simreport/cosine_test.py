"""The cosine-similarity test: validated embeddings in, one :class:`Result` out.

The flow, one step per module: :mod:`inputs` (load, validate) -> :mod:`engine`
(all-pairs statistics) -> :mod:`views` (heatmap block) -> :mod:`findings` (judge)
-> :mod:`results` (the object documents are rendered from). The document's wording
(purpose, mechanism, strengths, limitations) lives in ``templates/sections/``.
"""

from __future__ import annotations

import platform
from dataclasses import asdict, dataclass, field

import numpy as np

from simreport.clusters import ClusterView, build_cluster_view, import_scipy_here
from simreport.config import check_option, default
from simreport.duplicates import (
    identical_vectors_of_distinct_texts,
    near_duplicate_split,
    opposed_defects,
    repeated_texts,
    text_ids,
)
from simreport.engine import (
    DEFAULT_LADDER,
    HIST_EDGES,
    EngineSettings,
    SimilarityStats,
    normalise_rows,
    reduction_for,
)
from simreport.errors import ConfigError
from simreport.findings import ALL_CHECKS, CHECKS, merge_thresholds, summary_of
from simreport.inputs import Embeddings, labels_sha256, short_label
from simreport.pictures import encode_picture
from simreport.results import Result, Stopwatch, created_timestamp
from simreport.runners import compute
from simreport.version import __version__
from simreport.views import HeatmapView, build_view

REPORT_KEYS = ("model", "model_version", "model_id", "intended_use", "risk_tier", "dataset", "data_source",
               "data_period", "owner", "validator")
SIGNOFF_KEYS = ("reviewers", "approvers", "decision", "conditions", "comments")
# TestOptions fields that are settings of the configuration schema -> (section, key)
SETTINGS = {"title": ("report", "title"),
            **{key: ("test", key) for key in ("near_duplicate_threshold", "opposed_threshold", "display_cap",
                                              "heatmap_order", "seed", "threshold_set", "labels_are_texts")},
            "color_scale": ("render", "color_scale"), "color_range": ("render", "color_range"),
            **{key: ("engine", key) for key in ("tile_size", "runner", "workers", "scheduler", "device",
                                                "precision")}}


@dataclass
class TestOptions:
    """Everything a user can set for one run (defaults: :data:`simreport.config.SCHEMA`)."""

    __test__ = False  # not a pytest test class

    title: str = default("report", "title")
    near_duplicate_threshold: float = default("test", "near_duplicate_threshold")
    opposed_threshold: float = default("test", "opposed_threshold")
    ladder: tuple[float, ...] = DEFAULT_LADDER
    top_k: int = 50
    lowest_k: int = 10
    display_cap: int = default("test", "display_cap")
    heatmap_order: str = default("test", "heatmap_order")
    seed: int = default("test", "seed")
    thresholds: dict[str, dict[str, float]] = field(default_factory=dict)
    color_scale: str = default("render", "color_scale")
    color_range: tuple[float, float] | None = tuple(default("render", "color_range"))
    tile_size: int = default("engine", "tile_size")
    runner: str = default("engine", "runner")
    workers: int = default("engine", "workers")
    scheduler: str | None = default("engine", "scheduler")
    device: str = default("engine", "device")  # torch engine: cpu or cuda
    precision: str = default("engine", "precision")  # torch engine: exact or screen
    threshold_set: str | None = default("test", "threshold_set")  # a threshold-set file; None: the shipped set
    labels_are_texts: bool | None = default("test", "labels_are_texts")  # None: from where the labels came from
    report: dict[str, str | None] = field(default_factory=dict)  # model, model_version, dataset, owner, validator
    configuration: dict | None = None  # the effective configuration, when it came from config/CLI

    @classmethod
    def from_config(cls, config: dict) -> TestOptions:
        """The options of an effective configuration (:func:`simreport.config.effective_config`)."""
        values = {name: config[section][key] for name, (section, key) in SETTINGS.items()}
        if values["color_range"] == "auto":
            values["color_range"] = None
        else:
            values["color_range"] = tuple(values["color_range"])
        # [ci] decides the exit code, not what the report says: not recorded either
        recorded = {section: dict(keys) for section, keys in config.items() if section != "ci"}
        # the list of output formats decides which files are written, not what they say (so the
        # JSON of a json-only run equals that of a full run): it is not recorded
        recorded["render"].pop("formats", None)
        options = cls(**values, thresholds={k: dict(v) for k, v in config["thresholds"].items() if v},
                      report={**{key: config["report"][key] for key in REPORT_KEYS},
                              "signoff": dict(config["signoff"]),
                              "actions": {k: v for k, v in config["actions"].items() if v}},
                      configuration=recorded)
        options.check()
        return options

    def engine_settings(self) -> EngineSettings:
        return EngineSettings(
            near_duplicate_threshold=self.near_duplicate_threshold, ladder=tuple(self.ladder),
            opposed_threshold=self.opposed_threshold, top_k=self.top_k, lowest_k=self.lowest_k,
            tile_size=self.tile_size, runner=self.runner, workers=self.workers, scheduler=self.scheduler,
            device=self.device, precision=self.precision)

    def check(self) -> None:
        """Raise ConfigError (a ValueError) naming the option that is out of range.

        Each setting gets its schema check; the colour scale is checked when a report is drawn.
        """
        for name, (section, key) in SETTINGS.items():
            value = getattr(self, name)
            if name == "color_range":
                value = "auto" if value is None else list(value)
            if name != "color_scale":
                check_option(section, key, value, "options")
        if self.runner != "torch" and (self.device != "cpu" or self.precision != "exact"):
            raise ConfigError(f"device {self.device} and precision {self.precision} need the torch engine "
                              "(--engine torch)")
        limits = self.limits()
        defect = limits["opposed_pairs"].get("defect_similarity")
        if defect is not None and defect > self.opposed_threshold:
            raise ValueError(f"thresholds: opposed_pairs.defect_similarity {defect:g} must be at or below the opposed "
                             f"threshold {self.opposed_threshold:g}")

    def threshold_set_loaded(self):
        """The threshold set in force (the shipped default unless ``threshold_set`` names a file)."""
        from simreport.threshold_set import default_set, load_threshold_set

        if self.threshold_set is None:
            return default_set()
        return load_threshold_set(self.threshold_set, set(ALL_CHECKS))

    def limits(self) -> dict[str, dict[str, float]]:
        """The single-run limits: the threshold set with the user's overrides applied."""
        single = {k: v for k, v in self.thresholds.items() if k in CHECKS}
        try:
            return merge_thresholds(single, CHECKS, base=self.threshold_set_loaded().numbers(list(CHECKS)))
        except ValueError as exc:
            raise ValueError(f"thresholds: {exc}") from None

    def threshold_identity(self, overrides: dict | None = None) -> dict:
        """The set's identity with any overrides the user applied on top of it."""
        identity = self.threshold_set_loaded().identity()
        identity["overrides"] = overrides if overrides is not None else dict(self.thresholds)
        return identity


TEXT_COLUMNS = ("text", "texts", "sentence", "sentences")


def texts_known(data: Embeddings, setting: bool | None = None) -> bool:
    """Whether the labels are the records' texts: embedded from texts, passed as texts, or read from a
    column named text/texts/sentence(s); ``setting`` (labels_are_texts) overrides."""
    if setting is not None:
        return bool(setting)
    source = data.label_source or ""
    if source == "texts" or source.endswith("texts)"):  # "column X (texts)", "file F (the embedded texts)"
        return True
    return any(source.endswith(f"column {name}") for name in TEXT_COLUMNS)


def picture_values(matrix: np.ndarray) -> dict:
    """A matrix for a picture (heatmap, cluster view, overview) in its compact JSON form
    (16-bit codes with offset and scale: see :mod:`simreport.pictures`); NaN = empty cell."""
    return encode_picture(matrix)


def masked_diagonal(values: np.ndarray) -> np.ndarray:
    """A records-view block with its diagonal (each record with itself, always 1) blanked, so it
    neither hides near-duplicate cells next to it nor stretches the colour range."""
    out = np.array(values, dtype=np.float64)
    np.fill_diagonal(out, np.nan)
    return out


def _pairs(pairs: list[tuple[int, int, float]], labels: list[str]) -> list[dict]:
    return [{"i": i, "j": j, "label_i": short_label(labels[i]), "label_j": short_label(labels[j]),
             "similarity": round(s, 6)} for i, j, s in pairs]


def _heatmap(view: HeatmapView, labels: list[str], cap: int) -> dict:
    return {
        "indices": view.indices,
        "labels": [short_label(labels[k]) for k in view.indices],
        "values": picture_values(masked_diagonal(view.values)),
        "selection": view.selection,
        "order": view.order,
        "display_cap": cap,
        "near_duplicate_items": view.near_duplicate_items,
        "opposed_items": view.opposed_items,
        "sampled_items": view.sampled_items,
        "description": view.description,
    }


def _stats_block(s: SimilarityStats) -> dict:
    return {
        "pairs": s.pairs, "mean": s.mean, "std": s.std, "min": s.min, "max": s.max,
        "quantiles": s.quantiles,
        "histogram": {"edges": [round(float(e), 3) for e in HIST_EDGES], "counts": s.hist_counts.tolist()},
        "threshold_counts": s.threshold_counts,
        "tile_pass": {"mean": s.tile_mean, "tiles": s.tiles},
    }


def _engine_block(s: SimilarityStats, labels: list[str]) -> dict:
    """Which engine, device and precision computed the pass; pairs within float32 rounding
    of a threshold (the torch engine looks for them), named."""
    block = dict(s.engine_info)
    if block.get("float32_tolerance") is not None:
        block["borderline"] = {
            "tolerance": block["float32_tolerance"], "pairs": s.borderline_total,
            "listed": [{"i": i, "j": j, "label_i": short_label(labels[i]), "label_j": short_label(labels[j]),
                        "similarity": round(v, 7), "threshold": round(t, 6)} for i, j, v, t in s.borderline]}
    return block


def cosine_similarity_test(data: Embeddings, options: TestOptions | None = None,
                           progress=None) -> Result:
    """Run the test on validated embeddings and return the results."""
    options = options or TestOptions()
    options.check()
    thresholds = options.limits()
    clock = Stopwatch()
    unit = normalise_rows(data.matrix)
    clock.lap("normalise")
    with_clusters = data.n > options.display_cap
    settings = options.engine_settings()
    if reduction_for(data.n, settings) == "compiled":
        # scipy is imported whole on this thread while the side thread starts on the moments and the
        # k-means, before the tile threads start numba (whose start imports scipy.linalg): see
        # clusters.import_scipy_here
        beside = (lambda: build_cluster_view(unit, options.display_cap, options.seed)) if with_clusters else None
        before_tiles = import_scipy_here if with_clusters else None
    else:
        # no numba: the side thread imports scipy (for the cluster view, and for the heatmap's
        # clustered order) while the tiles run, instead of this thread before them
        def beside():
            if with_clusters or options.heatmap_order == "cluster":
                import_scipy_here()
            return build_cluster_view(unit, options.display_cap, options.seed) if with_clusters else None
        before_tiles = None
    stats = compute(data.matrix, settings, progress, unit=unit, beside=beside, before_tiles=before_tiles)
    clock.lap("all_pairs")  # with the cluster view, built beside the tiles
    near_duplicates = {
        "threshold": options.near_duplicate_threshold,
        "pairs": stats.near_duplicate_pairs,
        "items": stats.near_duplicate_items,
        "top": _pairs([p for p in stats.top_pairs if p[2] >= np.float32(options.near_duplicate_threshold)],
                      data.labels),
    }
    nearest = {
        "threshold": options.near_duplicate_threshold,
        "quantiles": stats.nn_quantiles,
        "mean": float(stats.nn_similarity.astype(np.float64).mean()),
        "items_above_threshold": stats.nn_above_threshold,
        "histogram": {"edges": [round(float(e), 3) for e in HIST_EDGES], "counts": stats.nn_hist_counts.tolist()},
    }
    opposed = {"threshold": options.opposed_threshold, "pairs": stats.opposed_pairs,
               "items": stats.opposed_items, "lowest": _pairs(stats.lowest_pairs, data.labels)}
    identical = {"rows": stats.identical_rows, "groups": stats.identical_groups}
    defect_level = thresholds["opposed_pairs"].get("defect_similarity")
    if defect_level is not None:
        found = opposed_defects(unit, stats.opposed_rows, defect_level, keep=options.lowest_k,
                                tile=options.tile_size)
        opposed["defects"] = {"threshold": found["threshold"], "pairs": found["pairs"], "items": found["items"],
                              "lowest": _pairs(found["lowest"], data.labels)}
    with_texts = texts_known(data, options.labels_are_texts)
    duplicate_texts = None
    if with_texts:
        ids = text_ids(data.labels)
        duplicate_texts = repeated_texts(data.labels, unit)
        duplicate_texts["table"] = [{**g, "text": short_label(g["text"])} for g in duplicate_texts["table"]]
        split = near_duplicate_split(unit, stats.nn_similarity, options.near_duplicate_threshold, ids,
                                     top_k=options.top_k, tile=options.tile_size)
        near_duplicates["split"] = {k: v for k, v in split.items() if k != "top"}
        if split["computed"]:
            near_duplicates["distinct_text_top"] = _pairs(split["top"], data.labels)
        rows, groups = identical_vectors_of_distinct_texts(stats.identical_row_groups, ids)
        identical.update({"distinct_text_rows": rows, "distinct_text_groups": groups})
    clock.lap("duplicates")
    listed_near = split["top"] if with_texts and split["computed"] else []
    listed_near = listed_near + [p for p in stats.top_pairs if p not in listed_near]
    listed_opposed = list(found["lowest"]) if defect_level is not None else []
    listed_opposed += [p for p in stats.lowest_pairs if p[2] <= np.float32(options.opposed_threshold)]
    view = build_view(unit, listed_near, stats.near_duplicate_threshold, options.display_cap,
                      options.heatmap_order, options.seed, opposed_pairs=listed_opposed)
    clusters = (_clusters(stats.beside, unit, data.labels, options, [p for p in listed_near if p[2] >= np.float32(
        options.near_duplicate_threshold)][: options.top_k] + listed_opposed) if with_clusters else None)
    clock.lap("heatmap")
    parameters = asdict(options)
    parameters.pop("report")
    parameters.pop("configuration")
    parameters["threshold_set"] = options.threshold_identity({k: v for k, v in options.thresholds.items()
                                                               if k in CHECKS})
    parameters["labels_are_texts"] = with_texts
    parameters["ladder"] = list(options.ladder)
    parameters["color_range"] = list(options.color_range) if options.color_range else "auto"
    parameters["thresholds"] = thresholds
    result = Result(
        tool={"name": "simreport", "version": __version__},
        environment={"python": platform.python_version(), "numpy": np.__version__,
                     "platform": platform.platform(terse=True)},
        input={"path": data.source, "sha256": data.file_sha256, "array_sha256": data.array_sha256,
               "n": data.n, "dim": data.dim, "dtype": data.source_dtype, "labels": data.label_source,
               "labels_sha256": labels_sha256(data.labels)},
        parameters=parameters,
        stats={**_stats_block(stats), "engine": _engine_block(stats, data.labels)},
        near_duplicates=near_duplicates,
        most_similar=_pairs(stats.top_pairs[:10], data.labels),
        opposed=opposed,
        nearest_neighbour=nearest,
        identical_rows=identical,
        duplicate_texts=duplicate_texts,
        findings_data=[],
        summary={},
        heatmap=_heatmap(view, data.labels, options.display_cap),
        created=created_timestamp(),
        duration_seconds=clock.seconds(),
        timings=clock.timings(),
        overview=_overview(stats) if data.n > options.display_cap else None,
        clusters=clusters,
        report=_report_block(options),
        configuration=options.configuration,
    )
    # judged from the blocks just recorded, as a results file read back is judged again
    judged = result.derived_findings()
    result.findings_data, result.summary = [f.to_dict() for f in judged], summary_of(judged)
    return result


def report_block(title: str, report: dict) -> dict:
    """Who and what the document is about (cover, findings and actions, sign-off); unknown keys are refused.

    ``report`` holds the cover fields of :data:`REPORT_KEYS`, ``signoff`` (reviewers, approvers,
    decision, conditions, comments) and ``actions`` ({check id: {action, owner, due, response}}).
    """
    unknown = set(report) - set(REPORT_KEYS) - {"signoff", "actions"}
    if unknown:
        raise ValueError(f"unknown report field(s) {', '.join(sorted(unknown))}; use {', '.join(REPORT_KEYS)}, "
                         "signoff, actions")
    signoff = dict(report.get("signoff") or {})
    bad = set(signoff) - set(SIGNOFF_KEYS)
    if bad:
        raise ValueError(f"unknown sign-off field(s) {', '.join(sorted(bad))}; use {', '.join(SIGNOFF_KEYS)}")
    actions = {k: dict(v) for k, v in (report.get("actions") or {}).items() if v}
    unknown_checks = set(actions) - set(ALL_CHECKS)
    if unknown_checks:
        raise ValueError(f"actions for unknown check(s) {', '.join(sorted(unknown_checks))}")
    return {"title": title, **{key: report.get(key) for key in REPORT_KEYS},
            "signoff": {"reviewers": list(signoff.get("reviewers") or []),
                        "approvers": list(signoff.get("approvers") or []),
                        "decision": signoff.get("decision"), "conditions": list(signoff.get("conditions") or []),
                        "comments": signoff.get("comments")},
            "actions": actions}


def _report_block(options: TestOptions) -> dict:
    return report_block(options.title, options.report)


def _clusters(view: ClusterView, unit: np.ndarray, labels: list[str], options: TestOptions,
              flagged: list[tuple[int, int, float]] | None = None) -> dict:
    """The cluster view (built by :func:`build_cluster_view`: k about the display cap, exact mean
    similarity between clusters) and which clusters hold the records of the listed pairs
    (``flagged``), so they can be found."""
    k = len(view.sizes)
    position = {c: p for p, c in enumerate(view.order)}
    holding: dict[int, list[int]] = {}
    for i, j, _ in flagged or []:
        for r in (i, j):
            rows = holding.setdefault(int(view.assignment[r]), [])
            if r not in rows:
                rows.append(int(r))
    return {
        "flagged": [{"cluster": c, "position": position[c], "size": view.sizes[c], "rows": sorted(rows)}
                    for c, rows in sorted(holding.items(), key=lambda t: position[t[0]])],
        "k": k,
        "seed": options.seed,
        "iterations": view.iterations,
        "fitted_on": view.fitted_on,
        "order": view.order,
        "sizes": [view.sizes[c] for c in view.order],
        "examples": [[short_label(labels[r]) for r in view.examples[c]] for c in view.order],
        "mean": picture_values(view.mean),
        "description": (
            f"The cluster view groups all {unit.shape[0]:,} records into {k} clusters (spherical k-means on cosine, "
            f"seed {options.seed}, {view.iterations} rounds"
            + (f"; the cluster centres were fitted on a seeded sample of {view.fitted_on:,} records, then every "
               "record was assigned to its nearest centre" if view.fitted_on < unit.shape[0] else "")
            + ") and shows the exact mean similarity between every two clusters, computed from the clusters' vector "
            "sums over all their pairs; the diagonal is the mean similarity of distinct pairs inside a cluster. "
            "Clusters are ordered by average linkage."),
    }


def _overview(s: SimilarityStats) -> dict:
    """The coarse grid kept during the pass: max and mean per block, input order."""
    grid = s.grid_max.shape[0]
    return {"grid": grid, "rows_per_block": s.n / grid, "max": picture_values(s.grid_max),
            "mean": picture_values(s.grid_mean)}
