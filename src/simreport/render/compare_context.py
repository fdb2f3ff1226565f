"""Turn a :class:`~simreport.results.Comparison` into the plain data the comparison templates
receive. Each model's own part comes from :func:`~simreport.render.context.build_context`,
so numbers, findings and figures look exactly as in a single report; one small builder per
part of the comparison, put together by :func:`build_compare_context`.
"""

from __future__ import annotations

import copy

from markupsafe import Markup

from simreport import numbers
from simreport.findings import COMPARE_CHECKS
from simreport.render import figures, governance
from simreport.render.context import build_context
from simreport.render.format import (
    STATUS_WORDS,
    finding_rows,
    number,
    paired_rows,
    percent,
    signed,
)
from simreport.results import Comparison, Result


def _row(name: str, va: float, vb: float, kind: str = "number") -> dict:
    """One row of the side-by-side table: the value under each model and the difference (B - A)."""
    if kind == "count":
        return {"name": name, "a": numbers.count(va), "b": numbers.count(vb), "diff": f"{vb - va:+,}"}
    if kind == "share":
        diff = "0" if vb == va else ("+" if vb > va else "-") + numbers.percentage_points(vb - va)
        return {"name": name, "a": percent(va), "b": percent(vb), "diff": diff.replace("percentage points", "pts")}
    return {"name": name, "a": number(va, 3), "b": number(vb, 3), "diff": signed(vb - va, 3)}


def side_by_side(a: Result, b: Result) -> list[dict]:
    """The two models' headline numbers, row by row."""
    n = a.input["n"]
    sa, sb, nna, nnb = a.stats, b.stats, a.nearest_neighbour, b.nearest_neighbour
    t = a.near_duplicates["threshold"]
    quantiles = [("5th percentile", "p05"), ("Median", "p50"), ("95th percentile", "p95"), ("99th percentile", "p99")]
    return [
        {"name": "Dimensions", "a": f"{a.input['dim']:,}", "b": f"{b.input['dim']:,}", "diff": ""},
        _row("Mean similarity", sa["mean"], sb["mean"]), _row("Standard deviation", sa["std"], sb["std"]),
        _row("Minimum", sa["min"], sb["min"]),
        *(_row(name, sa["quantiles"][key], sb["quantiles"][key]) for name, key in quantiles),
        _row("Maximum", sa["max"], sb["max"]),
        _row("Median nearest-neighbour similarity", nna["quantiles"]["p50"], nnb["quantiles"]["p50"]),
        _row("Mean nearest-neighbour similarity", nna["mean"], nnb["mean"]),
        _row(f"Pairs at or above {t:.2f}", a.near_duplicates["pairs"], b.near_duplicates["pairs"], "count"),
        _row(f"Records with a neighbour at or above {t:.2f}", nna["items_above_threshold"] / n,
             nnb["items_above_threshold"] / n, "share"),
        _row(f"Pairs at or below {a.opposed['threshold']:.2f}", a.opposed["pairs"], b.opposed["pairs"], "count"),
        _row("Exactly identical rows", a.identical_rows["rows"], b.identical_rows["rows"], "count"),
    ]


def check_rows(ctx_a: dict, ctx_b: dict) -> list[dict]:
    """Each single-model finding under both models."""
    by_b = {f["id"]: f for f in ctx_b["findings"]}
    return [{"title": fa["title"], "anchor_a": fa["anchor"], "a_value": fa["value"], "a_status": fa["status"],
             "a_word": fa["status_word"], "b_value": fb["value"], "b_status": fb["status"],
             "b_word": fb["status_word"], "a_message": fa["message"], "b_message": fb["message"]}
            for fa in ctx_a["findings"] if (fb := by_b.get(fa["id"])) is not None]


def _side_figure(figure: dict) -> dict:
    """A plotly heatmap made narrow enough to sit beside another (its heading names the model); the
    title stays, smaller, as in print."""
    fig = copy.deepcopy(figure)
    layout = fig["layout"]
    layout["title"] = {**layout["title"], "font": {"size": 12}}
    layout["height"] = 520
    layout["margin"] = {"l": 40, "r": 10, "t": 44, "b": 40}
    for axis in ("xaxis", "yaxis"):
        layout[axis]["showticklabels"] = False
        layout[axis]["tickvals"] = []
        layout[axis]["ticktext"] = []
    return fig


def paired_views(contexts: tuple[dict, dict], names: list[str], view: str, values: str, medium: str) -> list[dict]:
    """Both models' picture of one view ("heatmap" or "clusters"), side by side."""
    entries = []
    for k, (ctx, name) in enumerate(zip(contexts, names, strict=True)):
        entry = {"name": name, "description": ctx[view]["description"], "plot_id": f"{view}-{k}",
                 "values_key": ["results", k, view, values]}
        if medium == "html":
            entry["figure"] = _side_figure(ctx[view]["figure"])
        else:
            entry["svg"] = ctx[view]["svg"]
        entries.append(entry)
    return entries


def limitations(comparison: Comparison, a: Result, b: Result) -> list[str]:
    """What this comparison's numbers and pictures cannot show."""
    names, n, ag = comparison.names, comparison.input["n"], comparison.agreement
    nd = ag["near_duplicates"]
    out = []
    if a.heatmap["selection"] == "subset":
        out.append(f"The heatmaps show {len(a.heatmap['indices']):,} of {n:,} records, chosen from "
                   f"{names[0]}'s similarities; patterns that only {names[1]} shows among the other records "
                   "are in the numbers but not in the pictures.")
    if n < 50:
        out.append(f"With only {n} records the comparison rests on {ag['pairs']:,} pairs; correlation and "
                   "neighbour overlap can move a lot when records are added or removed.")
    if nd["only_a"] > nd["listed_cap"] or nd["only_b"] > nd["listed_cap"]:
        out.append(f"Every near-duplicate pair found by one model only is counted, but at most "
                   f"{nd['listed_cap']} of each kind are listed: those whose similarity differs most "
                   "between the models.")
    if a.input["dim"] != b.input["dim"]:
        out.append("The models have different dimensions; similarities are compared directly, which is "
                   "meaningful for cosine similarity but says nothing about how the vectors themselves relate.")
    return out


def key_numbers(agreement: dict) -> dict:
    """The agreement's headline numbers as the text quotes them."""
    corr, nbr, nd = agreement["correlation"], agreement["neighbours"], agreement["near_duplicates"]
    return {
        "pearson": number(corr["pearson"], 3), "tile_pearson": number(corr["tile_pass_pearson"], 6),
        "exact_pearson": number(corr["pearson"], 6), "k": nbr["k"],
        "mean_overlap": percent(nbr["mean_overlap"]), "median_overlap": percent(nbr["median_overlap"]),
        "same_nearest": f"{nbr['same_nearest']:,}", "same_nearest_share": percent(nbr["same_nearest_share"]),
        "no_overlap": f"{nbr['no_overlap']:,}", "threshold": f"{nd['threshold']:.2f}", "both": f"{nd['both']:,}",
        "both_text": numbers.plural(nd["both"], "pair"),
        "only_a": f"{nd['only_a']:,}", "only_b": f"{nd['only_b']:,}",
        "jaccard": "n/a (neither model has a near-duplicate pair)" if nd["jaccard"] is None
        else percent(nd["jaccard"]),
        "listed_cap": nd["listed_cap"], "tiles": f"{agreement['tiles']:,}",
    }


def agreement_figures(agreement: dict, names: list[str]) -> dict:
    """The joint density of both models' similarities and the neighbour-overlap bars."""
    nbr, joint = agreement["neighbours"], agreement["joint_histogram"]
    return {"joint_svg": Markup(figures.joint_svg(joint["counts"], joint["bins"], names)),
            "overlap_svg": Markup(figures.overlap_svg(nbr["distribution"], nbr["k"]))}


def comparison_parameters(comparison: Comparison, ctx_a: dict) -> list[tuple[str, str]]:
    """The comparison's own parameters, then those of each model's test."""
    p = comparison.parameters
    return [
        ("Nearest neighbours compared per record (k)", str(p["neighbours"])),
        ("Pairs listed per model (most different first)", str(p["listed_pairs"])),
        ("Records listed with the least neighbour overlap", str(p["listed_records"])),
        ("Joint histogram", f"{p['joint_bins']} x {p['joint_bins']} cells of width {2 / p['joint_bins']:.2f}"),
    ] + list(ctx_a["parameters"])


def _shared_histograms(results: list[Result], names: list[str]) -> list[dict]:
    """Both models' similarity histograms on one horizontal and one vertical axis."""
    import numpy as np

    lo = max(np.floor(min(r.stats["min"] for r in results) * 10) / 10, -1.0)
    hi = min(np.ceil(max(r.stats["max"] for r in results) * 10) / 10, 1.0)
    peaks = []
    for r in results:
        counts = np.asarray(r.stats["histogram"]["counts"], dtype=np.int64)
        peaks.append(int(counts[: len(counts) // 10 * 10].reshape(-1, 10).sum(axis=1).max()))
    out = []
    for r, name in zip(results, names, strict=True):
        markers = [(r.stats["mean"], f"mean {numbers.similarity(r.stats['mean'])}")]
        svg = figures.histogram_svg(r.stats["histogram"]["counts"], r.stats["histogram"]["edges"], markers,
                                    f"cosine similarity of distinct pairs under {name}", x_range=(lo, hi),
                                    y_max=max(peaks))
        out.append({"name": name, "svg": Markup(svg)})
    return out


def difference_map(a: Result, b: Result, names: list[str], medium: str) -> dict:
    """B minus A on the records view (same records, same order), on a symmetric round colour range;
    left out, with the reason, when the two agree exactly."""
    import numpy as np

    from simreport.pictures import decode_picture, encode_picture

    diff = decode_picture(b.heatmap["values"]) - decode_picture(a.heatmap["values"])
    finite = np.abs(diff[np.isfinite(diff)])
    largest = float(finite.max()) if finite.size else 0.0
    typical = float(np.quantile(finite, 0.99)) if finite.size else 0.0  # a few outliers must not wash the map out
    bound = next((t for t in (0.05, 0.1, 0.2, 0.5, 1.0, 2.0) if typical <= t + 1e-12), 2.0)
    title = f"Difference: similarity under {names[1]} minus under {names[0]}"
    text = (f"The colour range runs from -{bound:g} to {bound:g} (99% of the differences on these records lie within "
            f"{numbers.similarity(typical)}; the largest is {numbers.similarity(largest)}, and cells beyond the range "
            f"take its end colour): red where {names[1]} sees a pair as more similar than {names[0]}, blue where less, "
            "white where they agree.")
    entry = {"description": text, "plot_id": "difference", "figure": None, "svg": None}
    if largest < 1e-4:  # below the pictures' 16-bit resolution: the same similarities
        entry["description"] = ("The difference map is left out: the two models give the same similarity for every "
                                "pair shown, so it would be a blank field.")
        return entry
    if medium == "html":
        hover = figures.axis_names(a.heatmap["indices"], a.heatmap["labels"], figures.HOVER_LABEL_CHARS)
        ticks = figures.axis_names(a.heatmap["indices"], a.heatmap["labels"])
        figure = figures.matrix_figure(encode_picture(diff), hover, ticks, "RdBu_r", [-bound, bound], title,
                                       "records", value_name="difference (B - A)")  # compact; the page decodes it
        figure["data"][0]["colorbar"] = {"title": {"text": "difference (B - A)"}}
        entry["figure"] = figure
    else:
        entry["svg"] = Markup(figures.heatmap_svg(diff, a.heatmap["indices"], a.heatmap["labels"], "RdBu_r",
                                                  [-bound, bound], value_name="difference (B - A)", title=title))
    return entry


def _file_names(path: str) -> str:
    """Only file names (never a local folder) of 'PATH' or 'PATH / PATH'."""
    from pathlib import PurePath

    return " / ".join(PurePath(p.strip()).name or p.strip() for p in path.split(" / "))


def governance_section(comparison: Comparison, a: Result, b: Result, report_id: str) -> dict:
    """Same-sides statement, findings and actions (the comparison's and each model's), sign-off, threshold set."""
    from simreport.findings import own_comparison_status

    names, ag, params = comparison.names, comparison.agreement, comparison.parameters
    info = comparison.report or {}
    identity = params.get("threshold_set")
    same = ag.get("sameness") or {}
    sameness = ""
    if same.get("identical_vectors"):
        sameness = (f"{names[0]} and {names[1]} give identical vectors for every record"
                    + (" and have the same model fingerprint" if same.get("same_fingerprint") else "")
                    + ": the comparison's agreement checks are not informative, and the outcome rests on each "
                    "model's own checks.")
    elif same.get("same_fingerprint"):
        sameness = (f"{names[0]} and {names[1]} are the same model by fingerprint; the differences below come from "
                    "how the texts were embedded (settings), not from the model.")
    actions = governance.finding_actions(comparison.findings, info, "compare")
    for prefix, name, r in (("A", names[0], a), ("B", names[1], b)):
        for entry in governance.finding_actions(r.findings, info, "model"):
            entry["title"] = f"{prefix}: {name}: {entry['title']}"
            entry["anchor"] = "summary"
            actions.append(entry)
    own = own_comparison_status(comparison.findings)  # from the findings: files before 0.1.2 said "pass" for "na"
    return {
        "sameness": sameness, "actions": actions, "signoff": governance.signoff(info, report_id),
        "threshold_set": governance.threshold_set_rows(identity),
        "threshold_set_line": governance.threshold_set_line(identity) if identity else "",
        "own_word": "not informative" if own == "na" else STATUS_WORDS[own].lower(),
        "compare_thresholds": governance.limit_rows(params["thresholds"], list(COMPARE_CHECKS), identity),
    }


COMPARE_TOC = [("summary", "Summary"), ("purpose", "Purpose"), ("mechanism", "Test Mechanism"),
               ("side-by-side", "Statistics side by side"), ("risk", "Signs of High Risk in the Comparison"),
               ("actions", "Findings and actions"), ("agreement", "How much the models agree"),
               ("heatmap", "Heatmaps"), ("limitations", "Limitations"),
               ("appendix", "Appendix: how this comparison was produced"), ("signoff", "Review and sign-off")]


def build_compare_context(comparison: Comparison, medium: str, report_id: str | None = None,
                          shared: dict | None = None) -> dict:
    """Everything the comparison templates show, as plain strings, lists and markup.

    ``report_id``: the ID of the comparison's JSON when already serialised; ``shared`` is
    accepted for the common builder signature (a comparison is built whole per medium)."""
    a, b, names, n = comparison.a, comparison.b, comparison.names, comparison.input["n"]
    ctx_a, ctx_b = build_context(a, medium), build_context(b, medium)
    contexts, ag, report_id = (ctx_a, ctx_b), comparison.agreement, report_id or comparison.report_id()
    nbr, nd = ag["neighbours"], ag["near_duplicates"]
    both_clusters = ctx_a.get("clusters") and ctx_b.get("clusters")
    return {
        "medium": medium, "title": comparison.title, "report_id": report_id, "created": comparison.created,
        "status": comparison.status, "status_word": STATUS_WORDS[comparison.status],
        "counts": comparison.summary["counts"], "names": names,
        "toc": COMPARE_TOC,
        "cover_rows": [("Model A", names[0]), ("Model B", names[1])]
        + [row for row in governance.cover_rows(comparison.report or {}, comparison.parameters.get("threshold_set"))
           if row[0] != "Model"]
        + [("Records", f"{n:,} ({_file_names(comparison.input['path'])})"),
           ("Report ID", report_id), ("Date", comparison.created[:10])],
        "outcomes": [{"name": name, "status": r.status, "status_word": STATUS_WORDS[r.status],
                      "counts": r.summary["counts"]} for name, r in zip(names, (a, b), strict=True)],
        "n": f"{n:,}", "pairs": f"{ag['pairs']:,}", "key": key_numbers(ag),
        "findings": finding_rows(comparison.findings, COMPARE_CHECKS, "compare"),
        "side_by_side": side_by_side(a, b), "check_rows": check_rows(ctx_a, ctx_b),
        "only_a": paired_rows(nd["only_a_pairs"]), "only_b": paired_rows(nd["only_b_pairs"]),
        "neighbours_changed": nbr["mean_overlap"] < 1.0,
        "least": [{**r, "a": numbers.similarity(r["similarity_a"]), "b": numbers.similarity(r["similarity_b"])}
                  for r in nbr["least_agreeing"] if r["overlap"] < nbr["k"]] if nbr["mean_overlap"] < 1.0 else [],
        **agreement_figures(ag, names),
        "histograms": _shared_histograms([a, b], names),
        "difference": difference_map(a, b, names, medium),
        "heatmaps": paired_views(contexts, names, "heatmap", "values", medium),
        "clusters": paired_views(contexts, names, "clusters", "mean", medium) if both_clusters else None,
        "colour_note": f"Colour scale {ctx_a['heatmap']['scale']}, range {ctx_a['heatmap']['range_text']}, the "
                       "same for both models.",
        "limitations": limitations(comparison, a, b),
        "provenance": [{"name": name, "metadata": ctx["metadata"], "model": ctx.get("model")}
                       for name, ctx in zip(names, contexts, strict=True)],
        "parameters": comparison_parameters(comparison, ctx_a),
        "thresholds": ctx_a["thresholds"],
        **governance_section(comparison, a, b, report_id),
        "tool": f"{comparison.tool['name']} {comparison.tool['version']}",
        "duration": "not recorded (SOURCE_DATE_EPOCH set)" if comparison.duration_seconds is None
        else f"{comparison.duration_seconds:.2f} s",
    }
