"""Turn a :class:`~simreport.results.Comparison` into the plain data the comparison templates
receive. Each model's own part comes from :func:`~simreport.render.context.build_context`,
so numbers, findings and figures look exactly as in a single report; one small builder per
part of the comparison, put together by :func:`build_compare_context`.
"""

from __future__ import annotations

import copy

from markupsafe import Markup

from simreport.findings import COMPARE_CHECKS
from simreport.render import figures
from simreport.render.context import build_context
from simreport.render.format import (
    STATUS_WORDS,
    finding_rows,
    number,
    paired_rows,
    percent,
    signed,
    threshold_rows,
)
from simreport.results import Comparison, Result


def _row(name: str, va: float, vb: float, kind: str = "number") -> dict:
    """One row of the side-by-side table: the value under each model and the difference (B - A)."""
    if kind == "count":
        return {"name": name, "a": f"{va:,}", "b": f"{vb:,}", "diff": f"{vb - va:+,}"}
    if kind == "share":
        return {"name": name, "a": percent(va), "b": percent(vb), "diff": f"{(vb - va) * 100:+.1f} pts"}
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
    """A plotly heatmap made narrow enough to sit beside another (its heading names the model)."""
    fig = copy.deepcopy(figure)
    layout = fig["layout"]
    layout["title"] = {"text": ""}
    layout["height"] = 520
    layout["margin"] = {"l": 40, "r": 10, "t": 36, "b": 40}
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


def build_compare_context(comparison: Comparison, medium: str) -> dict:
    """Everything the comparison templates show, as plain strings, lists and markup."""
    a, b, names, n = comparison.a, comparison.b, comparison.names, comparison.input["n"]
    ctx_a, ctx_b = build_context(a, medium), build_context(b, medium)
    contexts, ag, report_id = (ctx_a, ctx_b), comparison.agreement, comparison.report_id()
    nbr, nd = ag["neighbours"], ag["near_duplicates"]
    both_clusters = ctx_a.get("clusters") and ctx_b.get("clusters")
    return {
        "medium": medium, "title": comparison.title, "report_id": report_id, "created": comparison.created,
        "status": comparison.status, "status_word": STATUS_WORDS[comparison.status],
        "counts": comparison.summary["counts"], "names": names,
        "cover_rows": [("Model A", names[0]), ("Model B", names[1]),
                       ("Records", f"{n:,} ({comparison.input['path']})"),
                       ("Report ID", report_id), ("Date", comparison.created[:10])],
        "outcomes": [{"name": name, "status": r.status, "status_word": STATUS_WORDS[r.status],
                      "counts": r.summary["counts"]} for name, r in zip(names, (a, b), strict=True)],
        "n": f"{n:,}", "pairs": f"{ag['pairs']:,}", "key": key_numbers(ag),
        "findings": finding_rows(comparison.findings, COMPARE_CHECKS, "compare"),
        "side_by_side": side_by_side(a, b), "check_rows": check_rows(ctx_a, ctx_b),
        "only_a": paired_rows(nd["only_a_pairs"]), "only_b": paired_rows(nd["only_b_pairs"]),
        "least": [{**r, "a": f"{r['similarity_a']:.4f}", "b": f"{r['similarity_b']:.4f}"}
                  for r in nbr["least_agreeing"]],
        **agreement_figures(ag, names),
        "histograms": [{"name": name, "svg": ctx["histogram_svg"]} for name, ctx in zip(names, contexts,
                                                                                       strict=True)],
        "heatmaps": paired_views(contexts, names, "heatmap", "values", medium),
        "clusters": paired_views(contexts, names, "clusters", "mean", medium) if both_clusters else None,
        "colour_note": f"Colour scale {ctx_a['heatmap']['scale']}, range {ctx_a['heatmap']['range_text']}, the "
                       "same for both models.",
        "limitations": limitations(comparison, a, b),
        "provenance": [{"name": name, "metadata": ctx["metadata"], "model": ctx.get("model")}
                       for name, ctx in zip(names, contexts, strict=True)],
        "parameters": comparison_parameters(comparison, ctx_a),
        "thresholds": ctx_a["thresholds"],
        "compare_thresholds": threshold_rows(COMPARE_CHECKS, comparison.parameters["thresholds"]),
        "tool": f"{comparison.tool['name']} {comparison.tool['version']}",
        "duration": "not recorded (SOURCE_DATE_EPOCH set)" if comparison.duration_seconds is None
        else f"{comparison.duration_seconds:.2f} s",
    }
