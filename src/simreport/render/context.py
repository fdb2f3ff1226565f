"""Turn a :class:`~simreport.results.Result` into the plain data templates receive.

All formatting and figure drawing happens here, so templates only place values.
"""

from __future__ import annotations

from markupsafe import Markup

from simreport.findings import CHECKS, format_value
from simreport.models import report_context
from simreport.pictures import decode_picture
from simreport.render import figures
from simreport.results import Result

STATUS_WORDS = {"pass": "Pass", "warn": "Warning", "fail": "Fail"}


def _num(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _count(value: int) -> str:
    return f"{value:,}"


def _share(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.2f}%" if whole else "n/a"


def _percentile_name(key: str) -> str:
    """'p05' -> '5th percentile'."""
    k = int(key[1:])
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix} percentile"


def _range_text(color_range) -> str:
    if color_range == "auto" or color_range is None:
        return "automatic (from the smallest to the largest value shown; colours are relative to this run)"
    lo, hi = color_range
    return f"fixed from {lo:g} to {hi:g}"


def _pair_rows(pairs: list[dict]) -> list[dict]:
    return [{"rank": k + 1, "i": p["i"], "j": p["j"], "label_i": p["label_i"], "label_j": p["label_j"],
             "similarity": f"{p['similarity']:.4f}"} for k, p in enumerate(pairs)]


def build_context(result: Result, medium: str) -> dict:
    """Everything a report template shows, as plain strings, numbers, lists and markup."""
    params = result.parameters
    stats = result.stats
    n, dim, pairs = result.input["n"], result.input["dim"], stats["pairs"]
    nd, nn, opp = result.near_duplicates, result.nearest_neighbour, result.opposed
    heat = result.heatmap
    color_range = None if params["color_range"] == "auto" else params["color_range"]
    findings = []
    for f in result.findings:
        unit = CHECKS[f.id].unit if f.id in CHECKS else "similarity"
        word = "above" if f.worse == "higher" else "below"
        findings.append({
            "id": f.id, "anchor": f"finding-{f.id}", "title": f.title, "status": f.status,
            "status_word": STATUS_WORDS[f.status], "value": format_value(f.value, unit),
            "warn": f"{word} {format_value(f.warn_threshold, unit)}",
            "fail": f"{word} {format_value(f.threshold, unit)}", "message": f.message,
        })
    quantiles = stats["quantiles"]
    stats_rows = [
        ("Records (n)", _count(n)), ("Dimensions (d)", _count(dim)), ("Distinct pairs", _count(pairs)),
        ("Mean similarity", _num(stats["mean"])), ("Standard deviation", _num(stats["std"])),
        ("Minimum", _num(stats["min"])), ("Maximum", _num(stats["max"])),
    ] + [(_percentile_name(name), _num(value, 3)) for name, value in quantiles.items()]
    ladder = [{"threshold": f"{row['threshold']:.2f}", "pairs": _count(row["pairs"]),
               "pairs_share": _share(row["pairs"], pairs), "records": _count(row["items"]),
               "records_share": _share(row["items"], n),
               "is_near_duplicate": abs(row["threshold"] - nd["threshold"]) < 1e-6}
              for row in stats["threshold_counts"]]
    nn_rows = [(_percentile_name(name), _num(value, 3)) for name, value in nn["quantiles"].items()]
    near_marker = (nd["threshold"], f"near-duplicate {nd['threshold']:.2f}")
    hist_markers = [(stats["mean"], f"mean {stats['mean']:.3f}"), near_marker]
    if stats["min"] <= opp["threshold"]:
        hist_markers.append((opp["threshold"], f"opposed {opp['threshold']:.2f}"))
    edges = stats["histogram"]["edges"]
    shown = len(heat["indices"])
    run_limits = []
    if heat["selection"] == "subset":
        run_limits.append(f"The heatmap shows {shown:,} of {n:,} records; patterns among the other "
                          f"{n - shown:,} records are in the statistics but not in the picture.")
    if color_range is None:
        run_limits.append("The colour range is automatic, so colours compare records within this report only, "
                          "not across reports.")
    if n < 50:
        run_limits.append(f"With only {n} records the statistics rest on few pairs ({pairs:,}) and can move a "
                          "lot when records are added or removed.")
    engine_info = stats.get("engine") or {}
    precision_note = None
    if engine_info.get("precision") == "screen":
        precision_note = (
            "Screening precision: the histogram, the percentiles read from it and the overview grid come from "
            f"bfloat16 tile products, each within {engine_info['screen_bound']:.4f} of the exact similarity. "
            "Counts at every threshold, the pair lists, nearest neighbours, minimum and maximum were re-checked "
            "in full precision and are exact; mean and standard deviation are exact (Gram matrix).")
        stats_rows = [(f"{name} (screened)" if name.startswith("Percentile") or name.endswith("percentile")
                       else name, value) for name, value in stats_rows]
    if engine_info.get("note"):
        run_limits.append(f"Engine: {engine_info['note']}.")
    borderline = engine_info.get("borderline") or {}
    if borderline.get("pairs"):
        named = "; ".join(f"{p['label_i']} / {p['label_j']} ({p['similarity']:.7f} at {p['threshold']:.2f})"
                          for p in borderline["listed"][:10])
        count = borderline["pairs"]
        run_limits.append(
            f"{count:,} {'pair lies' if count == 1 else 'pairs lie'} within float32 rounding "
            f"({borderline['tolerance']:.1e}) of a threshold; another float32 engine or device may count "
            f"{'it' if count == 1 else 'them'} on the other side: {named}"
            + (f" and {count - 10:,} more" if count > 10 else "") + ".")
    if result.identical_rows["rows"]:
        repeats = result.identical_rows["rows"]
        run_limits.append(f"{repeats:,} {'row repeats an earlier row' if repeats == 1 else 'rows repeat earlier rows'} "
                          "exactly; they count as separate records in every statistic.")
    metadata = [
        ("Tool", f"{result.tool['name']} {result.tool['version']}"),
        ("Python / numpy", f"{result.environment['python']} / {result.environment['numpy']}"),
        ("Platform", result.environment.get("platform", "")),
        ("Input file", result.input["path"]),
        ("Input SHA-256", result.input["sha256"] or "(in-memory array: no file)"),
        ("Array SHA-256 (float32)", result.input["array_sha256"]),
        ("Input dtype", result.input["dtype"]),
        ("Labels", result.input["labels"]),
        ("Created (UTC)", result.created),
        ("Run duration", "not recorded (SOURCE_DATE_EPOCH set)" if result.duration_seconds is None
         else f"{result.duration_seconds:.2f} s"),
        ("Schema version", result.schema_version),
    ]
    if engine_info:
        product = engine_info.get("tile_product", "float32")
        metadata.append(("All-pairs engine", f"{engine_info.get('engine')} on {engine_info.get('device')}, "
                                             f"{engine_info.get('precision')} precision ({product})"))
    parameter_rows = [
        ("Near-duplicate threshold", f"{params['near_duplicate_threshold']:.2f}"),
        ("Opposed threshold", f"{params['opposed_threshold']:.2f}"),
        ("Threshold ladder", ", ".join(f"{t:.2f}" for t in params["ladder"])),
        ("Top pairs kept", str(params["top_k"])),
        ("Display cap", _count(params["display_cap"])),
        ("Heatmap order", params["heatmap_order"]),
        ("Sampling seed", str(params["seed"])),
        ("Colour scale", params["color_scale"]),
        ("Colour range", _range_text(params["color_range"])),
        ("Tile size / runner / workers", f"{params['tile_size']:,} / {params['runner']} / {params['workers']}"),
    ]
    threshold_rows = [{"id": c.id, "title": c.title, "measure": c.measure,
                       "warn": format_value(params["thresholds"][c.id]["warn"], c.unit),
                       "fail": format_value(params["thresholds"][c.id]["fail"], c.unit),
                       "worse": c.worse, "rationale": c.rationale} for c in CHECKS.values()]
    heatmap = {
        "description": heat["description"], "shown": shown, "selection": heat["selection"],
        "scale": params["color_scale"], "range_text": _range_text(params["color_range"]),
    }
    if medium == "html":
        heatmap["figure"] = figures.heatmap_figure(heat, params["color_scale"], color_range,
                                                   "Cosine similarity of the shown records")
    else:
        heatmap["svg"] = Markup(figures.heatmap_svg(decode_picture(heat["values"]), heat["indices"], heat["labels"],
                                                    params["color_scale"], color_range))
    clusters = None
    if result.clusters is not None:
        cl = result.clusters
        clusters = {"description": cl["description"], "k": cl["k"]}
        if medium == "html":
            clusters["figure"] = figures.cluster_figure(cl, params["color_scale"], color_range,
                                                        "Mean cosine similarity between clusters")
        else:
            grid = decode_picture(cl["mean"])
            clusters["svg"] = Markup(figures.heatmap_svg(grid, None, None, params["color_scale"], color_range,
                                                         "clusters, ordered by linkage"))
            clusters["largest"] = [
                {"name": f"C{c}", "size": f"{size:,}", "examples": "; ".join(ex)}
                for c, size, ex in sorted(zip(cl["order"], cl["sizes"], cl["examples"], strict=True),
                                          key=lambda t: -t[1])[:10]]
    overview = None
    if result.overview is not None and medium == "pdf":
        def grid_svg(key: str) -> Markup:
            grid = decode_picture(result.overview[key])
            return Markup(figures.heatmap_svg(grid, None, None, params["color_scale"], color_range,
                                              "blocks of records, input order"))

        overview = {"grid": result.overview["grid"], "rows_per_block": f"{result.overview['rows_per_block']:.1f}",
                    "svg": grid_svg("max"), "mean_svg": grid_svg("mean")}
    report_id = result.report_id()
    info = result.report or {}
    not_stated = "not stated"
    model = info.get("model") or not_stated
    if info.get("model") and info.get("model_version"):
        model = f"{info['model']} (version {info['model_version']})"
    cover = {
        "report_id": report_id,
        "rows": [("Model", model), ("Dataset", info.get("dataset") or not_stated),
                 ("Owner", info.get("owner") or not_stated), ("Validator", info.get("validator") or not_stated),
                 ("Report ID", report_id), ("Date", result.created[:10]),
                 ("Input", f"{result.input['path']} ({n:,} records x {dim:,} dimensions)")],
    }
    toc = [("summary", "Summary"), ("purpose", "Purpose"), ("mechanism", "Test Mechanism"),
           ("risk", "Signs of High Risk"), ("statistics", "Statistics"), ("near-duplicates", "Near-duplicate pairs"),
           ("heatmap", "Heatmap"), ("strengths", "Strengths"), ("limitations", "Limitations"),
           ("appendix", "Appendix: how this report was produced"), ("signoff", "Review and sign-off")]
    keywords = ["embedding validation", "cosine similarity", "model risk", report_id]
    keywords += [v for v in (info.get("model"), info.get("dataset")) if v]
    pdf_meta = {
        "author": ", ".join(v for v in (info.get("validator"), info.get("owner")) if v) or "simreport",
        "subject": f"Cosine-similarity validation test of {info.get('model') or 'an embedding model'} on "
                   f"{n:,} records: outcome {STATUS_WORDS[result.status].lower()}",
        "keywords": ", ".join(keywords),
    }
    configuration = []
    if result.configuration:
        for section, keys in result.configuration.items():
            if section == "thresholds":
                continue  # printed in the thresholds table
            for key, value in keys.items():
                configuration.append((f"{section}.{key}", "not set" if value is None else
                                      ", ".join(map(str, value)) if isinstance(value, list) else str(value)))
    return {
        "medium": medium,
        "report_id": report_id,
        "cover": cover,
        "toc": toc,
        "pdf_meta": pdf_meta,
        "configuration": configuration,
        "title": params["title"],
        "status": result.status,
        "status_word": STATUS_WORDS[result.status],
        "counts": result.summary["counts"],
        "created": result.created,
        "input_name": result.input["path"],
        "run": {
            "n": _count(n), "dim": _count(dim), "pairs": _count(pairs),
            "mean": _num(stats["mean"], 3), "std": _num(stats["std"], 3),
            "near_threshold": f"{nd['threshold']:.2f}", "near_pairs": _count(nd["pairs"]),
            "near_items": _count(nd["items"]), "near_items_share": _share(nd["items"], n),
            "opposed_threshold": f"{opp['threshold']:.2f}", "opposed_pairs": _count(opp["pairs"]),
            "opposed_items": _count(opp["items"]),
            "nn_above": _count(nn["items_above_threshold"]), "nn_median": _num(nn["quantiles"]["p50"], 3),
            "nn_mean": _num(nn["mean"], 3),
            "identical_rows": _count(result.identical_rows["rows"]),
            "identical_groups": _count(result.identical_rows["groups"]),
            "ladder": ", ".join(f"{t:.2f}" for t in params["ladder"]),
            "tiles": (f"{stats['tile_pass']['tiles']:,} tile" if stats["tile_pass"]["tiles"] == 1
                      else f"{stats['tile_pass']['tiles']:,} tiles"), "tile_size": _count(params["tile_size"]),
            "display_cap": _count(params["display_cap"]),
        },
        "findings": findings,
        "stats_rows": stats_rows,
        "precision_note": precision_note,
        "ladder": ladder,
        "nn_rows": nn_rows,
        "near_duplicates": _pair_rows(nd["top"]),
        "most_similar": _pair_rows(result.most_similar),
        "opposed": _pair_rows(opp["lowest"]),
        "histogram_svg": Markup(figures.histogram_svg(stats["histogram"]["counts"], edges, hist_markers,
                                                      "cosine similarity of distinct pairs")),
        "nn_histogram_svg": Markup(figures.histogram_svg(
            nn["histogram"]["counts"], nn["histogram"]["edges"], [near_marker],
            "similarity of each record to its nearest neighbour")),
        "heatmap": heatmap,
        "overview": overview,
        "clusters": clusters,
        "run_limitations": run_limits,
        "metadata": metadata,
        "parameters": parameter_rows,
        "thresholds": threshold_rows,
        "model": report_context(result.model),
    }
