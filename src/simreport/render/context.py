"""Turn a :class:`~simreport.results.Result` into the plain data templates receive.

One small builder per part of the report; :func:`build_context` puts them together.
Numbers read the same everywhere through :mod:`.format`; figures come from :mod:`.figures`.
Templates only place values.
"""

from __future__ import annotations

from markupsafe import Markup

from simreport.findings import CHECKS
from simreport.pictures import decode_picture
from simreport.render import figures
from simreport.render.format import (
    STATUS_WORDS,
    count,
    finding_rows,
    number,
    pair_rows,
    percentile_name,
    range_text,
    setting_text,
    share_of,
    threshold_rows,
)
from simreport.render.model import report_context
from simreport.results import Result

TOC = [("summary", "Summary"), ("purpose", "Purpose"), ("mechanism", "Test Mechanism"),
       ("risk", "Signs of High Risk"), ("statistics", "Statistics"), ("near-duplicates", "Near-duplicate pairs"),
       ("heatmap", "Heatmap"), ("strengths", "Strengths"), ("limitations", "Limitations"),
       ("appendix", "Appendix: how this report was produced"), ("signoff", "Review and sign-off")]
NOT_STATED = "not stated"


def _color_range(result: Result) -> list | None:
    value = result.parameters["color_range"]
    return None if value == "auto" else value


def _engine(result: Result) -> dict:
    """Which engine, device and precision computed the pass (empty for older results)."""
    return result.stats.get("engine") or {}


def statistics_section(result: Result) -> dict:
    """The statistics tables: summary numbers, threshold ladder, nearest-neighbour percentiles."""
    stats, nd, nn = result.stats, result.near_duplicates, result.nearest_neighbour
    n, pairs = result.input["n"], stats["pairs"]
    stats_rows = [
        ("Records (n)", count(n)), ("Dimensions (d)", count(result.input["dim"])), ("Distinct pairs", count(pairs)),
        ("Mean similarity", number(stats["mean"], 4)), ("Standard deviation", number(stats["std"], 4)),
        ("Minimum", number(stats["min"], 4)), ("Maximum", number(stats["max"], 4)),
    ] + [(percentile_name(name), number(value, 3)) for name, value in stats["quantiles"].items()]
    ladder = [{"threshold": f"{row['threshold']:.2f}", "pairs": count(row["pairs"]),
               "pairs_share": share_of(row["pairs"], pairs), "records": count(row["items"]),
               "records_share": share_of(row["items"], n),
               "is_near_duplicate": abs(row["threshold"] - nd["threshold"]) < 1e-6}
              for row in stats["threshold_counts"]]
    nn_rows = [(percentile_name(name), number(value, 3)) for name, value in nn["quantiles"].items()]
    precision_note = None
    engine = _engine(result)
    if engine.get("precision") == "screen":
        precision_note = (
            "Screening precision: the histogram, the percentiles read from it and the overview grid come from "
            f"bfloat16 tile products, each within {engine['screen_bound']:.4f} of the exact similarity. "
            "Counts at every threshold, the pair lists, nearest neighbours, minimum and maximum were re-checked "
            "in full precision and are exact; mean and standard deviation are exact (Gram matrix).")
        stats_rows = [(f"{name} (screened)" if name.startswith("Percentile") or name.endswith("percentile")
                       else name, value) for name, value in stats_rows]
    return {"stats_rows": stats_rows, "precision_note": precision_note, "ladder": ladder, "nn_rows": nn_rows}


def histograms_section(result: Result) -> dict:
    """The two histograms (all pairs; each record's nearest neighbour), with their markers."""
    stats, nd, nn, opp = result.stats, result.near_duplicates, result.nearest_neighbour, result.opposed
    near_marker = (nd["threshold"], f"near-duplicate {nd['threshold']:.2f}")
    markers = [(stats["mean"], f"mean {stats['mean']:.3f}"), near_marker]
    if stats["min"] <= opp["threshold"]:
        markers.append((opp["threshold"], f"opposed {opp['threshold']:.2f}"))
    return {
        "histogram_svg": Markup(figures.histogram_svg(stats["histogram"]["counts"], stats["histogram"]["edges"],
                                                      markers, "cosine similarity of distinct pairs")),
        "nn_histogram_svg": Markup(figures.histogram_svg(
            nn["histogram"]["counts"], nn["histogram"]["edges"], [near_marker],
            "similarity of each record to its nearest neighbour")),
    }


def heatmap_section(result: Result, medium: str) -> dict:
    """The records view: an interactive figure (HTML) or a static SVG (PDF)."""
    heat, params = result.heatmap, result.parameters
    section = {"description": heat["description"], "shown": len(heat["indices"]), "selection": heat["selection"],
               "scale": params["color_scale"], "range_text": range_text(params["color_range"])}
    if medium == "html":
        section["figure"] = figures.heatmap_figure(heat, params["color_scale"], _color_range(result),
                                                   "Cosine similarity of the shown records")
    else:
        section["svg"] = Markup(figures.heatmap_svg(decode_picture(heat["values"]), heat["indices"], heat["labels"],
                                                    params["color_scale"], _color_range(result)))
    return section


def clusters_section(result: Result, medium: str) -> dict | None:
    """The cluster view (above the display cap), with the largest clusters listed in print."""
    if result.clusters is None:
        return None
    cl, scale = result.clusters, result.parameters["color_scale"]
    section = {"description": cl["description"], "k": cl["k"]}
    if medium == "html":
        section["figure"] = figures.cluster_figure(cl, scale, _color_range(result),
                                                   "Mean cosine similarity between clusters")
        return section
    section["svg"] = Markup(figures.heatmap_svg(decode_picture(cl["mean"]), None, None, scale, _color_range(result),
                                                "clusters, ordered by linkage"))
    largest = sorted(zip(cl["order"], cl["sizes"], cl["examples"], strict=True), key=lambda t: -t[1])[:10]
    section["largest"] = [{"name": f"C{c}", "size": f"{size:,}", "examples": "; ".join(ex)} for c, size, ex in largest]
    return section


def overview_section(result: Result, medium: str) -> dict | None:
    """The coarse overview grid of all records (print only)."""
    if result.overview is None or medium != "pdf":
        return None
    scale, overview = result.parameters["color_scale"], result.overview

    def grid_svg(key: str) -> Markup:
        return Markup(figures.heatmap_svg(decode_picture(overview[key]), None, None, scale, _color_range(result),
                                          "blocks of records, input order"))

    return {"grid": overview["grid"], "rows_per_block": f"{overview['rows_per_block']:.1f}",
            "svg": grid_svg("max"), "mean_svg": grid_svg("mean")}


def run_limitations(result: Result) -> list[str]:
    """What this run's own numbers cannot show (shown with the general limitations)."""
    n, pairs, shown = result.input["n"], result.stats["pairs"], len(result.heatmap["indices"])
    limits = []
    if result.heatmap["selection"] == "subset":
        limits.append(f"The heatmap shows {shown:,} of {n:,} records; patterns among the other "
                      f"{n - shown:,} records are in the statistics but not in the picture.")
    if _color_range(result) is None:
        limits.append("The colour range is automatic, so colours compare records within this report only, "
                      "not across reports.")
    if n < 50:
        limits.append(f"With only {n} records the statistics rest on few pairs ({pairs:,}) and can move a "
                      "lot when records are added or removed.")
    limits += engine_limitations(_engine(result))
    repeats = result.identical_rows["rows"]
    if repeats:
        limits.append(f"{repeats:,} {'row repeats an earlier row' if repeats == 1 else 'rows repeat earlier rows'} "
                      "exactly; they count as separate records in every statistic.")
    return limits


def engine_limitations(engine: dict) -> list[str]:
    """The engine's own note, and pairs within float32 rounding of a threshold, named."""
    limits = [f"Engine: {engine['note']}."] if engine.get("note") else []
    borderline = engine.get("borderline") or {}
    total = borderline.get("pairs")
    if total:
        named = "; ".join(f"{p['label_i']} / {p['label_j']} ({p['similarity']:.7f} at {p['threshold']:.2f})"
                          for p in borderline["listed"][:10])
        limits.append(
            f"{total:,} {'pair lies' if total == 1 else 'pairs lie'} within float32 rounding "
            f"({borderline['tolerance']:.1e}) of a threshold; another float32 engine or device may count "
            f"{'it' if total == 1 else 'them'} on the other side: {named}"
            + (f" and {total - 10:,} more" if total > 10 else "") + ".")
    return limits


def metadata_rows(result: Result) -> list[tuple[str, str]]:
    """Provenance: tool, environment, input fingerprints, dates."""
    tool, env, inp, engine = result.tool, result.environment, result.input, _engine(result)
    rows = [
        ("Tool", f"{tool['name']} {tool['version']}"), ("Python / numpy", f"{env['python']} / {env['numpy']}"),
        ("Platform", env.get("platform", "")), ("Input file", inp["path"]),
        ("Input SHA-256", inp["sha256"] or "(in-memory array: no file)"),
        ("Array SHA-256 (float32)", inp["array_sha256"]), ("Input dtype", inp["dtype"]), ("Labels", inp["labels"]),
        ("Created (UTC)", result.created),
        ("Run duration", "not recorded (SOURCE_DATE_EPOCH set)" if result.duration_seconds is None
         else f"{result.duration_seconds:.2f} s"),
        ("Schema version", result.schema_version),
    ]
    if engine:
        product = engine.get("tile_product", "float32")
        rows.append(("All-pairs engine", f"{engine.get('engine')} on {engine.get('device')}, "
                                         f"{engine.get('precision')} precision ({product})"))
    return rows


def parameter_rows(result: Result) -> list[tuple[str, str]]:
    """The parameters of the run, in words."""
    p = result.parameters
    return [
        ("Near-duplicate threshold", f"{p['near_duplicate_threshold']:.2f}"),
        ("Opposed threshold", f"{p['opposed_threshold']:.2f}"),
        ("Threshold ladder", ", ".join(f"{t:.2f}" for t in p["ladder"])), ("Top pairs kept", str(p["top_k"])),
        ("Display cap", count(p["display_cap"])), ("Heatmap order", p["heatmap_order"]),
        ("Sampling seed", str(p["seed"])), ("Colour scale", p["color_scale"]),
        ("Colour range", range_text(p["color_range"])),
        ("Tile size / runner / workers", f"{p['tile_size']:,} / {p['runner']} / {p['workers']}"),
    ]


def configuration_rows(result: Result) -> list[tuple[str, str]]:
    """The effective configuration, key by key (thresholds have their own table)."""
    return [(f"{section}.{key}", setting_text(value)) for section, keys in (result.configuration or {}).items()
            if section != "thresholds" for key, value in keys.items()]


def cover_section(result: Result, report_id: str) -> dict:
    """The cover page: what was tested, by whom, and the report ID."""
    info = result.report or {}
    model = info.get("model") or NOT_STATED
    if info.get("model") and info.get("model_version"):
        model = f"{info['model']} (version {info['model_version']})"
    n, dim = result.input["n"], result.input["dim"]
    return {"report_id": report_id,
            "rows": [("Model", model), ("Dataset", info.get("dataset") or NOT_STATED),
                     ("Owner", info.get("owner") or NOT_STATED), ("Validator", info.get("validator") or NOT_STATED),
                     ("Report ID", report_id), ("Date", result.created[:10]),
                     ("Input", f"{result.input['path']} ({n:,} records x {dim:,} dimensions)")]}


def pdf_metadata(result: Result, report_id: str) -> dict:
    """Author, subject and keywords of the document."""
    info = result.report or {}
    keywords = ["embedding validation", "cosine similarity", "model risk", report_id]
    keywords += [v for v in (info.get("model"), info.get("dataset")) if v]
    return {
        "author": ", ".join(v for v in (info.get("validator"), info.get("owner")) if v) or "simreport",
        "subject": f"Cosine-similarity validation test of {info.get('model') or 'an embedding model'} on "
                   f"{result.input['n']:,} records: outcome {STATUS_WORDS[result.status].lower()}",
        "keywords": ", ".join(keywords),
    }


def run_numbers(result: Result) -> dict:
    """The run's headline numbers as the text quotes them."""
    stats, nd, nn, opp, p = (result.stats, result.near_duplicates, result.nearest_neighbour, result.opposed,
                             result.parameters)
    n, tiles = result.input["n"], stats["tile_pass"]["tiles"]
    return {
        "n": count(n), "dim": count(result.input["dim"]), "pairs": count(stats["pairs"]),
        "mean": number(stats["mean"], 3), "std": number(stats["std"], 3),
        "near_threshold": f"{nd['threshold']:.2f}", "near_pairs": count(nd["pairs"]),
        "near_items": count(nd["items"]), "near_items_share": share_of(nd["items"], n),
        "opposed_threshold": f"{opp['threshold']:.2f}", "opposed_pairs": count(opp["pairs"]),
        "opposed_items": count(opp["items"]),
        "nn_above": count(nn["items_above_threshold"]), "nn_median": number(nn["quantiles"]["p50"], 3),
        "nn_mean": number(nn["mean"], 3),
        "identical_rows": count(result.identical_rows["rows"]),
        "identical_groups": count(result.identical_rows["groups"]),
        "ladder": ", ".join(f"{t:.2f}" for t in p["ladder"]),
        "tiles": f"{tiles:,} tile" if tiles == 1 else f"{tiles:,} tiles", "tile_size": count(p["tile_size"]),
        "display_cap": count(p["display_cap"]),
    }


def build_context(result: Result, medium: str) -> dict:
    """Everything a report template shows, as plain strings, numbers, lists and markup."""
    report_id = result.report_id()
    return {
        "medium": medium, "report_id": report_id, "cover": cover_section(result, report_id), "toc": TOC,
        "pdf_meta": pdf_metadata(result, report_id), "configuration": configuration_rows(result),
        "title": result.parameters["title"], "status": result.status, "status_word": STATUS_WORDS[result.status],
        "counts": result.summary["counts"], "created": result.created, "input_name": result.input["path"],
        "run": run_numbers(result),
        "findings": finding_rows(result.findings, CHECKS, "finding"),
        **statistics_section(result),
        "near_duplicates": pair_rows(result.near_duplicates["top"]),
        "most_similar": pair_rows(result.most_similar), "opposed": pair_rows(result.opposed["lowest"]),
        **histograms_section(result),
        "heatmap": heatmap_section(result, medium), "overview": overview_section(result, medium),
        "clusters": clusters_section(result, medium), "run_limitations": run_limitations(result),
        "metadata": metadata_rows(result), "parameters": parameter_rows(result),
        "thresholds": threshold_rows(CHECKS, result.parameters["thresholds"]),
        "model": report_context(result.model),
    }
