"""Turn a :class:`~simreport.results.Result` into the plain data templates receive.

One small builder per part of the report; :func:`build_context` puts them together.
Numbers read the same everywhere through :mod:`.format`; figures come from :mod:`.figures`.
Templates only place values.
"""

from __future__ import annotations

from markupsafe import Markup

from simreport import numbers
from simreport.findings import CHECKS
from simreport.pictures import decode_picture
from simreport.render import figures, governance
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
)
from simreport.render.model import report_context
from simreport.results import Result

TOC = [("summary", "Summary"), ("purpose", "Purpose"), ("mechanism", "Test Mechanism"),
       ("risk", "Signs of High Risk"), ("actions", "Findings and actions"), ("statistics", "Statistics"),
       ("near-duplicates", "Near-duplicate pairs"), ("heatmap", "Heatmap"), ("strengths", "Strengths"),
       ("limitations", "Limitations"), ("appendix", "Appendix: how this report was produced"),
       ("signoff", "Review and sign-off")]
MEAN_OVERVIEW_SIGNAL = 2.0  # block means varying less than twice chance draw a flat field: the map is left out
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
        ("Mean similarity", number(stats["mean"])), ("Standard deviation", number(stats["std"])),
        ("Minimum", number(stats["min"])), ("Maximum", number(stats["max"])),
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
            "similarity of each record to its nearest neighbour", y_label="records")),
    }


RECORDS_TITLE = "Records view: cosine similarity between the shown records"  # both media: one document
CLUSTERS_TITLE = "Cluster view: mean similarity between clusters"


def heatmap_section(result: Result, medium: str) -> dict:
    """The records view: an interactive figure (HTML) or a static SVG (PDF)."""
    heat, params = result.heatmap, result.parameters
    section = {"description": heat["description"], "shown": len(heat["indices"]), "selection": heat["selection"],
               "scale": params["color_scale"], "range_text": range_text(params["color_range"])}
    if medium == "html":
        section["figure"] = figures.heatmap_figure(heat, params["color_scale"], _color_range(result), RECORDS_TITLE)
    else:
        section["svg"] = Markup(figures.heatmap_svg(decode_picture(heat["values"]), heat["indices"], heat["labels"],
                                                    params["color_scale"], _color_range(result), title=RECORDS_TITLE))
    return section


def clusters_section(result: Result, medium: str) -> dict | None:
    """The cluster view (above the display cap): the map with cluster sizes drawn, the largest
    clusters and the clusters holding the records of the listed pairs, in both media."""
    if result.clusters is None:
        return None
    cl, scale = result.clusters, result.parameters["color_scale"]
    section = {"description": cl["description"], "k": cl["k"],
               "sizes_text": (f"Cluster sizes range from {numbers.plural(min(cl['sizes']), 'record')} to "
                              f"{numbers.plural(max(cl['sizes']), 'record')}; the bars above the map show each "
                              "cluster's size, and hovering a cell (HTML) names its clusters and sizes.")}
    if medium == "html":
        section["figure"] = figures.cluster_figure(cl, scale, _color_range(result), CLUSTERS_TITLE)
    else:
        section["svg"] = Markup(figures.heatmap_svg(
            decode_picture(cl["mean"]), None, None, scale, _color_range(result), "clusters, ordered by linkage",
            value_name="mean cosine similarity", title=CLUSTERS_TITLE,
            sizes=cl["sizes"]))
    largest = sorted(zip(cl["order"], cl["sizes"], cl["examples"], strict=True), key=lambda t: -t[1])[:10]
    section["largest"] = [{"name": f"C{c}", "size": count(size), "examples": "; ".join(ex)}
                          for c, size, ex in largest]
    section["flagged"] = [
        {"name": f"C{f['cluster']}", "position": count(f["position"] + 1), "size": count(f["size"]),
         "rows": ", ".join(str(r) for r in f["rows"])} for f in cl.get("flagged", [])]
    return section


def overview_section(result: Result, medium: str) -> dict | None:
    """The coarse overview grid of all records (both media); the block-mean map only when the
    means vary more than chance gives, else the reason it is left out."""
    if result.overview is None:
        return None
    import numpy as np

    scale, overview = result.parameters["color_scale"], result.overview

    def grid_svg(grid, name: str, title: str) -> Markup:
        return Markup(figures.heatmap_svg(grid, None, None, scale, _color_range(result),
                                          "blocks of records, input order", value_name=name, title=title))

    per_block = f"{overview['rows_per_block']:.1f}"
    means = decode_picture(overview["mean"])
    observed = float(np.nanstd(means)) if np.isfinite(means).any() else 0.0
    # a block mean over about (n / grid)^2 pairs varies by about std / (n / grid) from chance alone
    chance = result.stats["std"] / max(overview["rows_per_block"], 1.0)
    section = {"grid": overview["grid"], "rows_per_block": per_block, "mean_svg": None, "mean_dropped": "",
               "svg": grid_svg(decode_picture(overview["max"]), "highest cosine similarity",
                               "Overview: highest similarity between blocks of records"),
               "text": (f"The overview divides all {result.input['n']:,} records, in input order, into "
                        f"{overview['grid']} blocks of about {per_block} records and colours each pair of blocks by "
                        "the highest similarity between them, so any near-duplicate pair shows wherever it sits.")}
    if observed >= MEAN_OVERVIEW_SIGNAL * chance:
        section["mean_svg"] = grid_svg(means, "mean cosine similarity",
                                       "Overview: mean similarity between blocks of records")
        section["mean_text"] = "A second overview colours the same blocks by the mean similarity over all their pairs."
    else:
        section["mean_dropped"] = (
            "The overview by block means is left out: the block means vary by "
            f"{numbers.similarity(observed)} (standard deviation), no more than chance alone gives for blocks of "
            f"this size (about {numbers.similarity(chance)}), so the map would be a flat field: the input order "
            "does not group similar records.")
        section["mean_text"] = section["mean_dropped"]
    return section


def views_text(result: Result, clusters: dict | None, overview: dict | None) -> list[str]:
    """The mechanism's account of exactly the views drawn (and those left out, with why)."""
    views = [result.clusters["description"]] if clusters else []
    views.append(result.heatmap["description"])
    if overview:
        views += [overview["text"], overview["mean_text"]]
    return views


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


REDUCTION_WORDS = {"numpy": ", tiles reduced with numpy", "compiled": ", tiles reduced by the compiled kernel (numba)"}


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
        reduced = REDUCTION_WORDS.get(engine.get("reduction"), "")
        rows.append(("All-pairs engine", f"{engine.get('engine')} on {engine.get('device')}, "
                                         f"{engine.get('precision')} precision ({product}){reduced}"))
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
            if section not in ("thresholds", "signoff", "actions") for key, value in keys.items()]


def cover_section(result: Result, report_id: str) -> dict:
    """The cover page: what was tested, by whom, and the report ID."""
    from pathlib import PurePath

    info = result.report or {}
    n, dim = result.input["n"], result.input["dim"]
    path = result.input["path"]
    input_name = PurePath(path).name if "/" in path else path  # never a local folder
    return {"report_id": report_id,
            "rows": governance.cover_rows(info, result.parameters.get("threshold_set")) + [
                ("Report ID", report_id), ("Date", result.created[:10]),
                ("Input", f"{input_name} ({n:,} records x {dim:,} dimensions)")]}


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
        "near_pairs_text": numbers.plural(nd["pairs"], "pair"),
        "near_items_text": numbers.plural(nd["items"], "record"),
        "opposed_pairs_text": numbers.plural(opp["pairs"], "pair"),
        "opposed_items_text": numbers.plural(opp["items"], "record"),
        "pairs_text": numbers.plural(stats["pairs"], "pair"), "n_text": numbers.plural(n, "record"),
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


def _split_text(nd: dict) -> dict | None:
    """How the near-duplicate pairs divide between repeated texts and distinct texts (texts known)."""
    split = nd.get("split")
    if not split or not split.get("computed"):
        return None
    return {"distinct_pairs": numbers.plural(split["distinct_text_pairs"], "pair"),
            "distinct_items": numbers.plural(split["distinct_text_items"], "record"),
            "same_pairs": numbers.plural(split["same_text_pairs"], "pair")}


def _defects(opp: dict) -> dict | None:
    defects = opp.get("defects")
    if not defects:
        return None
    return {"threshold": numbers.similarity(defects["threshold"]), "pairs": numbers.plural(defects["pairs"], "pair"),
            "count": defects["pairs"], "rows": pair_rows(defects["lowest"])}


def governance_section(result: Result, report_id: str) -> dict:
    """Findings and actions, sign-off, the threshold set and the limits with their sources."""
    info, params = result.report or {}, result.parameters
    identity = params.get("threshold_set")
    return {
        "actions": governance.finding_actions(result.findings, info),
        "signoff": governance.signoff(info, report_id),
        "threshold_set": governance.threshold_set_rows(identity),
        "threshold_set_line": governance.threshold_set_line(identity) if identity else "",
        "thresholds": governance.limit_rows(params["thresholds"], [c for c in CHECKS if c in params["thresholds"]],
                                            identity),
    }


def build_context(result: Result, medium: str, report_id: str | None = None, shared: dict | None = None) -> dict:
    """Everything a report template shows, as plain strings, numbers, lists and markup.

    ``report_id``: the ID of the JSON already written (not serialised again when given).
    ``shared``: a dict that keeps the part every medium shows alike: empty on the first call
    (it is filled), reused as it is by the next (HTML and PDF of one run build it once).
    """
    if shared:
        common = shared
    else:
        common = shared_context(result, report_id or result.report_id())
        if shared is not None:
            shared.update(common)
    heatmap, overview = heatmap_section(result, medium), overview_section(result, medium)
    clusters = clusters_section(result, medium)
    return {**common, "medium": medium, "heatmap": heatmap, "overview": overview, "clusters": clusters,
            "views": views_text(result, clusters, overview)}


def shared_context(result: Result, report_id: str) -> dict:
    """What the HTML and the PDF show alike: numbers, tables, texts, vector histograms."""
    return {
        "report_id": report_id, "cover": cover_section(result, report_id), "toc": TOC,
        "pdf_meta": pdf_metadata(result, report_id), "configuration": configuration_rows(result),
        "title": result.parameters["title"], "status": result.status, "status_word": STATUS_WORDS[result.status],
        "counts": result.summary["counts"], "created": result.created, "input_name": result.input["path"],
        "run": run_numbers(result),
        "findings": finding_rows(result.findings, CHECKS, "finding"),
        **statistics_section(result),
        "near_duplicates": pair_rows(result.near_duplicates.get("distinct_text_top",
                                                                result.near_duplicates["top"])),
        "near_split": _split_text(result.near_duplicates),
        "duplicate_texts": governance.duplicate_text_rows(getattr(result, "duplicate_texts", None)),
        "defects": _defects(result.opposed),
        "most_similar": pair_rows(result.most_similar), "opposed": pair_rows(result.opposed["lowest"]),
        **histograms_section(result),
        "run_limitations": run_limitations(result),
        "metadata": metadata_rows(result), "parameters": parameter_rows(result),
        **governance_section(result, report_id),
        "model": report_context(result.model),
    }
