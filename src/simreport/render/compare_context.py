"""Turn a :class:`~simreport.results.Comparison` into the plain data the comparison templates
receive. Each model's own part comes from :func:`~simreport.render.context.build_context`,
so numbers, findings and figures look exactly as in a single report.
"""

from __future__ import annotations

import copy
from html import escape

import numpy as np
from markupsafe import Markup

from simreport.findings import COMPARE_CHECKS, format_value
from simreport.render import figures
from simreport.render.context import STATUS_WORDS, build_context
from simreport.results import Comparison, Result


def _num(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _signed(value: float, digits: int = 3) -> str:
    return f"{value:+.{digits}f}"


def _side_by_side(a: Result, b: Result) -> list[dict]:
    """Rows of the side-by-side table: name, value under each model, difference (B - A)."""
    n = a.input["n"]

    def row(name, va, vb, digits=3, kind="number"):
        if kind == "count":
            return {"name": name, "a": f"{va:,}", "b": f"{vb:,}", "diff": f"{vb - va:+,}"}
        if kind == "share":
            return {"name": name, "a": _share(va), "b": _share(vb), "diff": f"{(vb - va) * 100:+.1f} pts"}
        return {"name": name, "a": _num(va, digits), "b": _num(vb, digits), "diff": _signed(vb - va, digits)}

    sa, sb = a.stats, b.stats
    nna, nnb = a.nearest_neighbour, b.nearest_neighbour
    t = a.near_duplicates["threshold"]
    rows = [
        {"name": "Dimensions", "a": f"{a.input['dim']:,}", "b": f"{b.input['dim']:,}", "diff": ""},
        row("Mean similarity", sa["mean"], sb["mean"]),
        row("Standard deviation", sa["std"], sb["std"]),
        row("Minimum", sa["min"], sb["min"]),
        row("5th percentile", sa["quantiles"]["p05"], sb["quantiles"]["p05"]),
        row("Median", sa["quantiles"]["p50"], sb["quantiles"]["p50"]),
        row("95th percentile", sa["quantiles"]["p95"], sb["quantiles"]["p95"]),
        row("99th percentile", sa["quantiles"]["p99"], sb["quantiles"]["p99"]),
        row("Maximum", sa["max"], sb["max"]),
        row("Median nearest-neighbour similarity", nna["quantiles"]["p50"], nnb["quantiles"]["p50"]),
        row("Mean nearest-neighbour similarity", nna["mean"], nnb["mean"]),
        row(f"Pairs at or above {t:.2f}", a.near_duplicates["pairs"], b.near_duplicates["pairs"], kind="count"),
        row(f"Records with a neighbour at or above {t:.2f}", nna["items_above_threshold"] / n,
            nnb["items_above_threshold"] / n, kind="share"),
        row(f"Pairs at or below {a.opposed['threshold']:.2f}", a.opposed["pairs"], b.opposed["pairs"], kind="count"),
        row("Exactly identical rows", a.identical_rows["rows"], b.identical_rows["rows"], kind="count"),
    ]
    return rows


def _check_rows(a: Result, b: Result, ctx_a: dict, ctx_b: dict) -> list[dict]:
    by_b = {f["id"]: f for f in ctx_b["findings"]}
    rows = []
    for fa in ctx_a["findings"]:
        fb = by_b.get(fa["id"])
        if fb is None:
            continue
        rows.append({"title": fa["title"], "anchor_a": fa["anchor"], "a_value": fa["value"], "a_status": fa["status"],
                     "a_word": fa["status_word"], "b_value": fb["value"], "b_status": fb["status"],
                     "b_word": fb["status_word"], "a_message": fa["message"], "b_message": fb["message"]})
    return rows


def _compare_findings(comparison) -> list[dict]:
    out = []
    for f in comparison.findings:
        check = COMPARE_CHECKS.get(f.id)
        unit = check.unit if check else "similarity"
        word = "above" if f.worse == "higher" else "below"
        out.append({"id": f.id, "anchor": f"compare-{f.id}", "title": f.title, "status": f.status,
                    "status_word": STATUS_WORDS[f.status], "value": format_value(f.value, unit),
                    "warn": f"{word} {format_value(f.warn_threshold, unit)}",
                    "fail": f"{word} {format_value(f.threshold, unit)}",
                    "message": f.message})
    return out


def _pair_rows(rows: list[dict]) -> list[dict]:
    return [{"rank": k + 1, "i": p["i"], "j": p["j"], "label_i": p["label_i"], "label_j": p["label_j"],
             "a": f"{p['similarity_a']:.4f}", "b": f"{p['similarity_b']:.4f}"} for k, p in enumerate(rows)]


def joint_svg(counts: list[list[int]], bins: int, names: list[str], scale: str = "Blues") -> str:
    """Density of (similarity under A, similarity under B) over all pairs, log-scaled, with y = x."""
    grid = np.asarray(counts, dtype=np.float64)
    occupied = np.flatnonzero(grid.sum(axis=1) + grid.sum(axis=0))
    lo_bin = max(int(occupied.min()) - 1, 0) if occupied.size else 0
    hi_bin = min(int(occupied.max()) + 2, bins) if occupied.size else bins
    grid = grid[lo_bin:hi_bin, lo_bin:hi_bin]
    width = 2.0 / bins
    lo, hi = -1.0 + lo_bin * width, -1.0 + hi_bin * width
    shown = np.log10(1.0 + grid.T[::-1])  # rows: B from high to low; columns: A from low to high
    top_value = float(shown.max()) or 1.0
    lut = figures.color_lut(scale)
    position = np.clip(shown / top_value, 0.0, 1.0)
    rgb = lut[np.round(0.15 * (len(lut) - 1) + position * 0.85 * (len(lut) - 1)).astype(int)]
    rgb[grid.T[::-1] == 0] = (255, 255, 255)
    image = figures._png(np.ascontiguousarray(rgb, dtype=np.uint8))
    left, top, size = 64, 12, 420
    w, h = left + size + 20, top + size + 56

    def sx(v: float) -> float:
        return left + (v - lo) / (hi - lo) * size

    def sy(v: float) -> float:
        return top + size - (v - lo) / (hi - lo) * size

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" '
             f'viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
             f'aria-label="Similarity under both models, all pairs">',
             f'<image x="{left}" y="{top}" width="{size}" height="{size}" preserveAspectRatio="none" '
             f'image-rendering="pixelated" style="image-rendering:pixelated" '
             f'href="data:image/png;base64,{image}"/>',
             f'<rect x="{left}" y="{top}" width="{size}" height="{size}" fill="none" stroke="#444" '
             'stroke-width="0.6"/>',
             f'<line x1="{sx(lo):.1f}" y1="{sy(lo):.1f}" x2="{sx(hi):.1f}" y2="{sy(hi):.1f}" stroke="#c0392b" '
             'stroke-dasharray="4 3"/>']
    for tick in np.linspace(lo, hi, 6):
        parts.append(f'<text x="{sx(tick):.1f}" y="{top + size + 14}" font-size="10" text-anchor="middle">'
                     f'{tick:.2f}</text>')
        parts.append(f'<text x="{left - 5}" y="{sy(tick):.1f}" font-size="10" text-anchor="end" '
                     f'dominant-baseline="middle">{tick:.2f}</text>')
    parts.append(f'<text x="{left + size / 2}" y="{top + size + 34}" font-size="11" text-anchor="middle">'
                 f'similarity under {escape(names[0])}</text>')
    parts.append(f'<text transform="translate({left - 44},{top + size / 2}) rotate(-90)" font-size="11" '
                 f'text-anchor="middle">similarity under {escape(names[1])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def overlap_svg(distribution: list[int], k: int) -> str:
    """Bar chart: how many records share 0, 1, ..., k of their k nearest neighbours."""
    counts = np.asarray(distribution, dtype=np.int64)
    width, height, left, right, top, bottom = 640, 210, 60, 16, 16, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(int(counts.max()), 1)
    bar = plot_w / len(counts)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-label="Neighbours in common">']
    for m, count in enumerate(counts):
        hgt = count / peak * plot_h
        x = left + m * bar
        parts.append(f'<rect x="{x + 1:.1f}" y="{top + plot_h - hgt:.1f}" width="{max(bar - 2, 1):.1f}" '
                     f'height="{hgt:.1f}" fill="#4a6fa5"/>')
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{top + plot_h + 14}" font-size="10" '
                     f'text-anchor="middle">{m}</text>')
    parts += figures.count_axes(left, top, plot_w, plot_h, peak)
    parts.append(f'<text x="{left + plot_w / 2}" y="{height - 6}" font-size="11" text-anchor="middle">'
                 f'nearest neighbours in common (of {k})</text>')
    parts.append("</svg>")
    return "".join(parts)


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


def build_compare_context(comparison: Comparison, medium: str) -> dict:
    """Everything the comparison templates show, as plain strings, lists and markup."""
    a, b = comparison.a, comparison.b
    names = comparison.names
    ctx_a, ctx_b = build_context(a, medium), build_context(b, medium)
    ag = comparison.agreement
    corr, nbr, nd = ag["correlation"], ag["neighbours"], ag["near_duplicates"]
    n = comparison.input["n"]
    report_id = comparison.report_id()
    def pair_of_views(view: str, values: str) -> list[dict]:
        """Both models' picture of one view ("heatmap" or "clusters"), side by side."""
        entries = []
        for k, (ctx, name) in enumerate(zip((ctx_a, ctx_b), names, strict=True)):
            entry = {"name": name, "description": ctx[view]["description"], "plot_id": f"{view}-{k}",
                     "values_key": ["results", k, view, values]}
            if medium == "html":
                entry["figure"] = _side_figure(ctx[view]["figure"])
            else:
                entry["svg"] = ctx[view]["svg"]
            entries.append(entry)
        return entries

    heatmaps = pair_of_views("heatmap", "values")
    clusters = pair_of_views("clusters", "mean") if ctx_a.get("clusters") and ctx_b.get("clusters") else None
    outcomes = [{"name": name, "status": r.status, "status_word": STATUS_WORDS[r.status],
                 "counts": r.summary["counts"]} for name, r in zip(names, (a, b), strict=True)]
    findings = _compare_findings(comparison)
    limitations = []
    if a.heatmap["selection"] == "subset":
        limitations.append(f"The heatmaps show {len(a.heatmap['indices']):,} of {n:,} records, chosen from "
                           f"{names[0]}'s similarities; patterns that only {names[1]} shows among the other records "
                           "are in the numbers but not in the pictures.")
    if n < 50:
        limitations.append(f"With only {n} records the comparison rests on {ag['pairs']:,} pairs; correlation and "
                           "neighbour overlap can move a lot when records are added or removed.")
    if nd["only_a"] > nd["listed_cap"] or nd["only_b"] > nd["listed_cap"]:
        limitations.append(f"Every near-duplicate pair found by one model only is counted, but at most "
                           f"{nd['listed_cap']} of each kind are listed: those whose similarity differs most "
                           "between the models.")
    dims = {a.input["dim"], b.input["dim"]}
    if len(dims) > 1:
        limitations.append("The models have different dimensions; similarities are compared directly, which is "
                           "meaningful for cosine similarity but says nothing about how the vectors themselves "
                           "relate.")
    provenance = []
    for name, ctx in zip(names, (ctx_a, ctx_b), strict=True):
        provenance.append({"name": name, "metadata": ctx["metadata"], "model": ctx.get("model")})
    params = comparison.parameters
    compare_thresholds = [{"id": c.id, "title": c.title, "measure": c.measure, "worse": c.worse,
                           "warn": format_value(params["thresholds"][c.id]["warn"], c.unit),
                           "fail": format_value(params["thresholds"][c.id]["fail"], c.unit),
                           "rationale": c.rationale} for c in COMPARE_CHECKS.values()]
    parameter_rows = [
        ("Nearest neighbours compared per record (k)", str(params["neighbours"])),
        ("Pairs listed per model (most different first)", str(params["listed_pairs"])),
        ("Records listed with the least neighbour overlap", str(params["listed_records"])),
        ("Joint histogram", f"{params['joint_bins']} x {params['joint_bins']} cells of width "
                            f"{2 / params['joint_bins']:.2f}"),
    ] + list(ctx_a["parameters"])
    colour_note = (f"Colour scale {ctx_a['heatmap']['scale']}, range {ctx_a['heatmap']['range_text']}, the same for "
                   "both models.")
    return {
        "medium": medium,
        "title": comparison.title,
        "report_id": report_id,
        "created": comparison.created,
        "status": comparison.status,
        "status_word": STATUS_WORDS[comparison.status],
        "counts": comparison.summary["counts"],
        "names": names,
        "cover_rows": [("Model A", names[0]), ("Model B", names[1]),
                       ("Records", f"{n:,} ({comparison.input['path']})"),
                       ("Report ID", report_id), ("Date", comparison.created[:10])],
        "outcomes": outcomes,
        "n": f"{n:,}",
        "pairs": f"{ag['pairs']:,}",
        "key": {
            "pearson": _num(corr["pearson"]),
            "tile_pearson": _num(corr["tile_pass_pearson"], 6),
            "exact_pearson": _num(corr["pearson"], 6),
            "k": nbr["k"],
            "mean_overlap": _share(nbr["mean_overlap"]),
            "median_overlap": _share(nbr["median_overlap"]),
            "same_nearest": f"{nbr['same_nearest']:,}",
            "same_nearest_share": _share(nbr["same_nearest_share"]),
            "no_overlap": f"{nbr['no_overlap']:,}",
            "threshold": f"{nd['threshold']:.2f}",
            "both": f"{nd['both']:,}",
            "only_a": f"{nd['only_a']:,}",
            "only_b": f"{nd['only_b']:,}",
            "jaccard": "n/a (neither model has a near-duplicate pair)" if nd["jaccard"] is None
            else _share(nd["jaccard"]),
            "listed_cap": nd["listed_cap"],
            "tiles": f"{ag['tiles']:,}",
        },
        "findings": findings,
        "side_by_side": _side_by_side(a, b),
        "check_rows": _check_rows(a, b, ctx_a, ctx_b),
        "only_a": _pair_rows(nd["only_a_pairs"]),
        "only_b": _pair_rows(nd["only_b_pairs"]),
        "least": [{**r, "a": f"{r['similarity_a']:.4f}", "b": f"{r['similarity_b']:.4f}"}
                  for r in nbr["least_agreeing"]],
        "joint_svg": Markup(joint_svg(ag["joint_histogram"]["counts"], ag["joint_histogram"]["bins"], names)),
        "overlap_svg": Markup(overlap_svg(nbr["distribution"], nbr["k"])),
        "histograms": [{"name": name, "svg": ctx["histogram_svg"]} for name, ctx in zip(names, (ctx_a, ctx_b),
                                                                                       strict=True)],
        "heatmaps": heatmaps,
        "clusters": clusters,
        "colour_note": colour_note,
        "limitations": limitations,
        "provenance": provenance,
        "parameters": parameter_rows,
        "thresholds": ctx_a["thresholds"],
        "compare_thresholds": compare_thresholds,
        "tool": f"{comparison.tool['name']} {comparison.tool['version']}",
        "duration": "not recorded (SOURCE_DATE_EPOCH set)" if comparison.duration_seconds is None
        else f"{comparison.duration_seconds:.2f} s",
    }
