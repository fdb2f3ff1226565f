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

from simreport.clusters import build_cluster_view
from simreport.config import check_option, default
from simreport.engine import DEFAULT_LADDER, HIST_EDGES, EngineSettings, SimilarityStats, normalise_rows
from simreport.errors import ConfigError
from simreport.findings import evaluate, merge_thresholds, summary_of
from simreport.inputs import Embeddings, short_label
from simreport.pictures import encode_picture
from simreport.results import Result, Stopwatch, created_timestamp
from simreport.runners import compute
from simreport.version import __version__
from simreport.views import HeatmapView, build_view

REPORT_KEYS = ("model", "model_version", "dataset", "owner", "validator")
# TestOptions fields that are settings of the configuration schema -> (section, key)
SETTINGS = {"title": ("report", "title"),
            **{key: ("test", key) for key in ("near_duplicate_threshold", "opposed_threshold", "display_cap",
                                              "heatmap_order", "seed")},
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
        recorded = {section: dict(keys) for section, keys in config.items()}
        # the list of output formats decides which files are written, not what they say (so the
        # JSON of a json-only run equals that of a full run): it is not recorded
        recorded["render"].pop("formats", None)
        options = cls(**values, thresholds={k: dict(v) for k, v in config["thresholds"].items()},
                      report={key: config["report"][key] for key in REPORT_KEYS}, configuration=recorded)
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
        try:
            merge_thresholds(self.thresholds)
        except ValueError as exc:
            raise ValueError(f"thresholds: {exc}") from None


def picture_values(matrix: np.ndarray) -> dict:
    """A matrix for a picture (heatmap, cluster view, overview) in its compact JSON form
    (16-bit codes with offset and scale: see :mod:`simreport.pictures`); NaN = empty cell."""
    return encode_picture(matrix)


def _pairs(pairs: list[tuple[int, int, float]], labels: list[str]) -> list[dict]:
    return [{"i": i, "j": j, "label_i": short_label(labels[i]), "label_j": short_label(labels[j]),
             "similarity": round(s, 6)} for i, j, s in pairs]


def _heatmap(view: HeatmapView, labels: list[str], cap: int) -> dict:
    return {
        "indices": view.indices,
        "labels": [short_label(labels[k]) for k in view.indices],
        "values": picture_values(view.values),
        "selection": view.selection,
        "order": view.order,
        "display_cap": cap,
        "near_duplicate_items": view.near_duplicate_items,
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
    thresholds = merge_thresholds(options.thresholds)
    clock = Stopwatch()
    unit = normalise_rows(data.matrix)
    clock.lap("normalise")
    stats = compute(data.matrix, options.engine_settings(), progress, unit=unit)
    clock.lap("all_pairs")
    view = build_view(unit, stats.top_pairs, stats.near_duplicate_threshold, options.display_cap,
                      options.heatmap_order, options.seed)
    clusters = _clusters(unit, data.labels, options) if data.n > options.display_cap else None
    clock.lap("heatmap")
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
    judged = evaluate({"n": stats.n, "pairs": stats.pairs, "mean": stats.mean, "std": stats.std,
                       "near_duplicates": near_duplicates, "nearest_neighbour": nearest,
                       "opposed": opposed, "identical_rows": identical}, thresholds)
    parameters = asdict(options)
    parameters.pop("report")
    parameters.pop("configuration")
    parameters["ladder"] = list(options.ladder)
    parameters["color_range"] = list(options.color_range) if options.color_range else "auto"
    parameters["thresholds"] = thresholds
    return Result(
        tool={"name": "simreport", "version": __version__},
        environment={"python": platform.python_version(), "numpy": np.__version__,
                     "platform": platform.platform(terse=True)},
        input={"path": data.source, "sha256": data.file_sha256, "array_sha256": data.array_sha256,
               "n": data.n, "dim": data.dim, "dtype": data.source_dtype, "labels": data.label_source},
        parameters=parameters,
        stats={**_stats_block(stats), "engine": _engine_block(stats, data.labels)},
        near_duplicates=near_duplicates,
        most_similar=_pairs(stats.top_pairs[:10], data.labels),
        opposed=opposed,
        nearest_neighbour=nearest,
        identical_rows=identical,
        findings_data=[f.to_dict() for f in judged],
        summary=summary_of(judged),
        heatmap=_heatmap(view, data.labels, options.display_cap),
        created=created_timestamp(),
        duration_seconds=clock.seconds(),
        timings=clock.timings(),
        overview=_overview(stats) if data.n > options.display_cap else None,
        clusters=clusters,
        report=_report_block(options),
        configuration=options.configuration,
    )


def _report_block(options: TestOptions) -> dict:
    """Who and what the document is about (cover page); unknown keys are refused."""
    unknown = set(options.report) - set(REPORT_KEYS)
    if unknown:
        raise ValueError(f"unknown report field(s) {', '.join(sorted(unknown))}; use {', '.join(REPORT_KEYS)}")
    return {"title": options.title, **{key: options.report.get(key) for key in REPORT_KEYS}}


def _clusters(unit: np.ndarray, labels: list[str], options: TestOptions) -> dict:
    """The cluster view: k about the display cap, exact mean similarity between clusters."""
    view = build_cluster_view(unit, options.display_cap, options.seed)
    k = len(view.sizes)
    return {
        "k": k,
        "seed": options.seed,
        "iterations": view.iterations,
        "order": view.order,
        "sizes": [view.sizes[c] for c in view.order],
        "examples": [[short_label(labels[r]) for r in view.examples[c]] for c in view.order],
        "mean": picture_values(view.mean),
        "description": (
            f"The cluster view groups all {unit.shape[0]:,} records into {k} clusters (spherical k-means on cosine, "
            f"seed {options.seed}, {view.iterations} rounds) and shows the exact mean similarity between every two "
            "clusters, computed from the clusters' vector sums over all their pairs; the diagonal is the mean "
            "similarity of distinct pairs inside a cluster. Clusters are ordered by average linkage."),
    }


def _overview(s: SimilarityStats) -> dict:
    """The coarse grid kept during the pass: max and mean per block, input order."""
    grid = s.grid_max.shape[0]
    return {"grid": grid, "rows_per_block": s.n / grid, "max": picture_values(s.grid_max),
            "mean": picture_values(s.grid_mean)}
