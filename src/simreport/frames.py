"""Tables and flat metrics from a results document's plain data: the numbers a validator
puts in a DataFrame, an MLflow run or a model inventory.

Everything here reads the JSON-able dicts of a :class:`~simreport.results.Result` or a
:class:`~simreport.compare.Comparison`; pandas is imported only when a frame is asked for.
"""

from __future__ import annotations

from typing import Any

STATUS_LEVEL = {"na": -1, "pass": 0, "warn": 1, "fail": 2}  # -1: not assessed
LEVEL_NAMES = ("pass", "warn", "fail")
PAIR_LISTS = (("near_duplicate", "near_duplicates", "top"), ("most_similar", None, None),
              ("opposed", "opposed", "lowest"))


def _pandas():
    try:
        import pandas
    except ImportError:  # pragma: no cover - pandas is a core dependency
        raise ImportError("tables need pandas: pip install pandas") from None
    return pandas


def _key(value: float) -> str:
    """A threshold as it appears in a metric name: 0.95 -> '0.95', -0.5 -> 'minus0.5'."""
    text = f"{abs(value):g}"
    return f"minus{text}" if value < 0 else text


def _findings_metrics(findings: list[dict], prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    for f in findings:
        if f.get("value") is not None:
            out[f"{prefix}finding.{f['id']}.value"] = float(f["value"])
        out[f"{prefix}finding.{f['id']}.level"] = STATUS_LEVEL[f["status"]]
    return out


def _summary_metrics(summary: dict, prefix: str = "") -> dict[str, float]:
    out = {f"{prefix}outcome.level": STATUS_LEVEL[summary["status"]]}
    for name in (*LEVEL_NAMES, "na"):
        out[f"{prefix}outcome.{name}"] = int(summary["counts"].get(name, 0))
    return out


def result_metrics(data: dict, prefix: str = "") -> dict[str, float]:
    """Every scalar statistic of one run, flat: ``{"mean": 0.12, "p95": 0.41, ...}``.

    Findings appear as ``finding.<id>.value`` and ``finding.<id>.level`` (0 pass, 1 warn,
    2 fail, -1 not assessed), the outcome as ``outcome.level`` and ``outcome.pass|warn|fail|na``
    (counts).
    Every value is a number, so the dict can be logged as metrics as it is.
    """
    stats, inp = data["stats"], data["input"]
    out: dict[str, float] = {"n": int(inp["n"]), "dim": int(inp["dim"]), "pairs": int(stats["pairs"])}
    for name in ("mean", "std", "min", "max"):
        out[name] = float(stats[name])
    for name, value in stats["quantiles"].items():
        out[name] = float(value)
    for row in stats.get("threshold_counts", []):
        out[f"pairs_at.{_key(row['threshold'])}"] = int(row["pairs"])
        out[f"items_at.{_key(row['threshold'])}"] = int(row["items"])
    nd, op, nn, ident = data["near_duplicates"], data["opposed"], data["nearest_neighbour"], data["identical_rows"]
    out.update({"near_duplicate.pairs": int(nd["pairs"]), "near_duplicate.items": int(nd["items"]),
                "opposed.pairs": int(op["pairs"]), "opposed.items": int(op["items"]),
                "nearest_neighbour.mean": float(nn["mean"]),
                "nearest_neighbour.items_above_threshold": int(nn["items_above_threshold"]),
                "identical.rows": int(ident["rows"]), "identical.groups": int(ident["groups"])})
    for name, value in nn["quantiles"].items():
        out[f"nearest_neighbour.{name}"] = float(value)
    if data.get("duration_seconds") is not None:
        out["duration_seconds"] = float(data["duration_seconds"])
    out.update(_findings_metrics(data["findings"]))
    out.update(_summary_metrics(data["summary"]))
    return {prefix + k: v for k, v in out.items()}


def comparison_metrics(data: dict) -> dict[str, float]:
    """The comparison's agreement and findings, then each model's metrics under ``a.`` and ``b.``."""
    agreement = data["agreement"]
    out: dict[str, float] = {"pairs": int(agreement["pairs"])}
    corr = agreement["correlation"]
    if corr.get("pearson") is not None:
        out["correlation.pearson"] = float(corr["pearson"])
    nb = agreement["neighbours"]
    out.update({"neighbours.k": int(nb["k"]), "neighbours.mean_overlap": float(nb["mean_overlap"]),
                "neighbours.median_overlap": float(nb["median_overlap"]),
                "neighbours.same_nearest_share": float(nb["same_nearest_share"]),
                "neighbours.no_overlap": int(nb["no_overlap"])})
    nd = agreement["near_duplicates"]
    for name in ("both", "only_a", "only_b"):
        out[f"near_duplicate.{name}"] = int(nd[name])
    if nd.get("jaccard") is not None:
        out["near_duplicate.jaccard"] = float(nd["jaccard"])
    out.update(_findings_metrics(data["findings"]))
    out.update(_summary_metrics(data["summary"]))
    for side, result in zip("ab", data["results"], strict=True):
        out.update(result_metrics(result, prefix=f"{side}."))
    return out


def metrics_of(data: dict) -> dict[str, float]:
    """Flat metrics of a single run's or a comparison's dict (by its ``kind``)."""
    return comparison_metrics(data) if data.get("kind") == "simreport-comparison" else result_metrics(data)


def _finding_rows(findings: list[dict]) -> list[dict[str, Any]]:
    return [{"id": f["id"], "title": f["title"], "status": f["status"], "value": f.get("value"),
             "warn_threshold": f.get("warn_threshold"), "fail_threshold": f.get("threshold"),
             "worse": f.get("worse"), "message": f["message"]} for f in findings]


FINDING_COLUMNS = ["id", "title", "status", "value", "warn_threshold", "fail_threshold", "worse", "message"]
PAIR_COLUMNS = ["list", "i", "j", "label_i", "label_j", "similarity"]
THRESHOLD_COLUMNS = ["threshold", "pairs", "share_of_pairs", "items", "share_of_items"]


def findings_frame(data: dict):
    """One row per finding: id, title, status, value, warn and fail thresholds, direction, message.

    For a comparison, the comparison's own findings come first (``model`` = ``"comparison"``),
    then each model's findings under its name.
    """
    pd = _pandas()
    if data.get("kind") != "simreport-comparison":
        return pd.DataFrame(_finding_rows(data["findings"]), columns=FINDING_COLUMNS)
    rows = [{"model": "comparison", **r} for r in _finding_rows(data["findings"])]
    for name, result in zip(data["names"], data["results"], strict=True):
        rows += [{"model": name, **r} for r in _finding_rows(result["findings"])]
    return pd.DataFrame(rows, columns=["model", *FINDING_COLUMNS])


def _pair_rows(data: dict) -> list[dict[str, Any]]:
    rows = []
    for name, section, key in PAIR_LISTS:
        pairs = data["most_similar"] if section is None else data[section][key]
        rows += [{"list": name, "i": p["i"], "j": p["j"], "label_i": p["label_i"], "label_j": p["label_j"],
                  "similarity": p["similarity"]} for p in pairs]
    return rows


def pairs_frame(data: dict, which: str | None = None):
    """The pairs the results list: ``list`` is ``near_duplicate`` (the most similar pairs at or
    above the near-duplicate threshold), ``most_similar`` (the 10 most similar, whatever their
    similarity) or ``opposed`` (at or below the opposed threshold). ``which`` keeps one list.

    For a comparison: the near-duplicate pairs only one model finds (``only_a``/``only_b``,
    with both similarities) and each model's lists under its name.
    """
    pd = _pandas()
    names = {"near_duplicate", "most_similar", "opposed", "only_a", "only_b"}
    if which is not None and which not in names:
        raise ValueError(f"which must be one of {', '.join(sorted(names))}, not {which!r}")
    if data.get("kind") != "simreport-comparison":
        frame = pd.DataFrame(_pair_rows(data), columns=PAIR_COLUMNS)
    else:
        rows = []
        nd = data["agreement"]["near_duplicates"]
        for side in ("only_a", "only_b"):
            rows += [{"model": "comparison", "list": side, **p} for p in nd[f"{side}_pairs"]]
        for name, result in zip(data["names"], data["results"], strict=True):
            rows += [{"model": name, **r} for r in _pair_rows(result)]
        frame = pd.DataFrame(rows)
        first = ["model", *PAIR_COLUMNS]
        frame = frame.reindex(columns=first + [c for c in frame.columns if c not in first])
    if which is not None:
        frame = frame[frame["list"] == which].reset_index(drop=True)
    return frame


def _threshold_rows(data: dict) -> list[dict[str, Any]]:
    pairs, n = data["stats"]["pairs"], data["input"]["n"]
    return [{"threshold": r["threshold"], "pairs": r["pairs"], "share_of_pairs": r["pairs"] / pairs if pairs else 0.0,
             "items": r["items"], "share_of_items": r["items"] / n if n else 0.0}
            for r in data["stats"]["threshold_counts"]]


def threshold_frame(data: dict):
    """Pairs (and the records they involve) at or above each similarity threshold of the ladder,
    with their shares of all pairs and of all records. For a comparison, one block per model."""
    pd = _pandas()
    if data.get("kind") != "simreport-comparison":
        return pd.DataFrame(_threshold_rows(data), columns=THRESHOLD_COLUMNS)
    rows = []
    for name, result in zip(data["names"], data["results"], strict=True):
        rows += [{"model": name, **r} for r in _threshold_rows(result)]
    return pd.DataFrame(rows, columns=["model", *THRESHOLD_COLUMNS])
