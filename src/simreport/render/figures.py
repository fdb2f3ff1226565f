"""Figures from plain result data: the plotly heatmap (HTML) and static SVG for print.

Static figures are drawn without a browser: the heatmap is a Pillow raster (max-pooled
when it has to shrink, so near-duplicates stay visible) inside an SVG that carries the
axes and the colour bar; histograms are plain SVG. Every label is XML-escaped.
"""

from __future__ import annotations

import base64
import io
from html import escape

import numpy as np

from simreport import numbers
from simreport.config import colorscale

AXIS_LABEL_CHARS = 28
HOVER_LABEL_CHARS = 120
TICK_LABELS_UP_TO = 60  # rows; beyond this the axes carry no text labels


def _ticks_within(low: float, high: float, target: int = 5) -> list[float]:
    """Round tick values (numbers.nice_ticks) that fall inside [low, high]."""
    return [t for t in numbers.nice_ticks(low, high, target) if low - 1e-9 <= t <= high + 1e-9]


def _rgb(color: str) -> tuple[int, int, int]:
    color = color.strip()
    if color.startswith("#"):
        return tuple(int(color[k:k + 2], 16) for k in (1, 3, 5))  # type: ignore[return-value]
    parts = color[color.index("(") + 1:color.index(")")].split(",")
    return tuple(int(round(float(p))) for p in parts[:3])  # type: ignore[return-value]


def color_lut(name: str, size: int = 256) -> np.ndarray:
    """(size, 3) uint8 lookup table interpolated from a plotly colour scale."""
    scale = colorscale(name)
    positions = np.array([p for p, _ in scale])
    colors = np.array([_rgb(c) for _, c in scale], dtype=np.float64)
    x = np.linspace(0.0, 1.0, size)
    return np.stack([np.interp(x, positions, colors[:, k]) for k in range(3)], axis=1).round().astype(np.uint8)


def axis_names(indices: list[int], labels: list[str], limit: int = AXIS_LABEL_CHARS) -> list[str]:
    """Unique axis categories: '#row label', truncated."""
    out = []
    for index, label in zip(indices, labels, strict=False):
        text = f"#{index} {label}" if label != str(index) else f"#{index}"
        out.append(text if len(text) <= limit else text[: limit - 1] + "\u2026")
    return out


def heatmap_figure(heatmap: dict, scale: str, value_range: list | None, title: str) -> dict:
    """Plotly figure of the records view: hover gives both labels and the value."""
    hover = axis_names(heatmap["indices"], heatmap["labels"], HOVER_LABEL_CHARS)
    ticks = axis_names(heatmap["indices"], heatmap["labels"])
    return matrix_figure(None, hover, ticks, scale, value_range, title, "records")


def cluster_names(clusters: dict, limit: int) -> list[str]:
    """'C12 (540 records): example; example; example', truncated to ``limit`` per example."""
    out = []
    for c, size, examples in zip(clusters["order"], clusters["sizes"], clusters["examples"], strict=True):
        shown = "; ".join(e if len(e) <= limit else e[: limit - 1] + "\u2026" for e in examples)
        out.append(f"C{c} ({size:,} records): {shown}")
    return out


def cluster_figure(clusters: dict, scale: str, value_range: list | None, title: str) -> dict:
    """Plotly figure of the cluster view: hover gives sizes, a few members and the mean."""
    hover = cluster_names(clusters, 60)
    ticks = [f"C{c} ({size:,})" for c, size in zip(clusters["order"], clusters["sizes"], strict=True)]
    figure = matrix_figure(None, hover, ticks, scale, value_range, title, "clusters",
                           value_name="mean similarity", colorbar_title="mean cosine similarity")
    add_size_bars(figure, clusters["sizes"])
    return figure


SIZE_STRIP = 0.14  # share of the plot height given to the cluster-size bars above a cluster map


def add_size_bars(figure: dict, sizes: list[int]) -> None:
    """Records per cluster as bars above the map, on the map's own column axis (as in print).
    The bars' categories are the map's columns: the page copies them (``x`` is left out)."""
    heat = figure["data"][0]
    figure["data"].append({
        "type": "bar", "name": "records per cluster", "y": [int(s) for s in sizes],
        "xaxis": "x", "yaxis": "y2", "marker": {"color": "#4a6fa5"}, "showlegend": False,
        "hovertemplate": "%{x}<br>%{y:,} records<extra></extra>",
    })
    layout = figure["layout"]
    layout["yaxis"]["domain"] = [0.0, 1.0 - SIZE_STRIP - 0.02]
    layout["yaxis"]["constraintoward"] = "top"  # a map narrowed to a square stays under its bars
    layout["yaxis2"] = {"domain": [1.0 - SIZE_STRIP, 1.0], "anchor": "x", "rangemode": "tozero",
                        "title": {"text": "records", "font": {"size": 11}}, "tickfont": {"size": 9},
                        "nticks": 3, "fixedrange": True}
    heat["colorbar"] = {**heat.get("colorbar", {}), "len": 1.0 - SIZE_STRIP - 0.02, "y": 0.0, "yanchor": "bottom"}
    layout["bargap"] = 0.05


def matrix_figure(values: list | None, hover: list[str], ticks: list[str], scale: str, value_range: list | None,
                  title: str, axis_title: str, value_name: str = "similarity",
                  colorbar_title: str = "cosine similarity") -> dict:
    """Plotly heatmap (a plain dict) with unique category axes; user text is escaped for plotly.

    ``values`` may be None when the page fills ``z`` from the embedded results JSON. The
    rows carry the same names as the columns: ``y`` is left out and the page sets it to ``x``.
    """
    m = len(hover)
    # plotly renders a little HTML in hover and tick text: escape user text for it.
    # Names start with a row or cluster number, so categories are unique.
    names = [escape(name, quote=False) for name in hover]
    tick_text = [escape(t, quote=False) for t in ticks]
    show_ticks = m <= TICK_LABELS_UP_TO
    trace = {
        "type": "heatmap",
        "x": names,
        "colorscale": colorscale(scale),
        "colorbar": {"title": {"text": escape(colorbar_title, quote=False)}},
        "hovertemplate": f"row %{{y}}<br>column %{{x}}<br>{value_name}: %{{z:.3f}}<extra></extra>",
        "hoverongaps": False,
    }
    if values is not None:
        trace["z"] = values
    if value_range is not None:
        trace["zmin"], trace["zmax"] = float(value_range[0]), float(value_range[1])
        if value_range[0] < 0 < value_range[1]:
            trace["zmid"] = 0.0
    axis = {
        "type": "category",
        "showticklabels": show_ticks,
        "tickmode": "array",
        "tickvals": names if show_ticks else [],
        "ticktext": tick_text if show_ticks else [],
        "tickfont": {"size": 9},
        "showgrid": False,
    }
    layout = {
        "title": {"text": escape(title, quote=False)},
        "xaxis": {**axis, "title": {"text": f"{axis_title} (column)"}, "tickangle": -60, "constrain": "domain"},
        "yaxis": {**axis, "title": {"text": f"{axis_title} (row)"}, "autorange": "reversed",
                  "scaleanchor": "x", "constrain": "domain"},  # square cells, a square map
        "height": 760,
        "margin": {"l": 180 if show_ticks else 60, "r": 20, "t": 60, "b": 180 if show_ticks else 60},
    }
    return {"data": [trace], "layout": layout}


# ----------------------------------------------------------------------------- static (print)


PRINT_PIXELS = 600  # the heatmap prints about 11 cm wide: 600 pixels is about 140 dpi there


def _png(rgb: np.ndarray) -> str:
    """Base64 PNG of an RGB array, compressed lightly: WeasyPrint decodes it and writes the
    pixels into the PDF with its own compression, so effort spent here would be lost."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb, mode="RGB").save(buffer, format="PNG", compress_level=1)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def max_pool(values: np.ndarray, size: int) -> np.ndarray:
    """Shrink a square matrix to at most size x size, keeping each block's maximum."""
    m = values.shape[0]
    if m <= size:
        return values
    edges = np.linspace(0, m, size + 1).astype(int)
    rows = np.maximum.reduceat(values, edges[:-1], axis=0)
    return np.maximum.reduceat(rows, edges[:-1], axis=1)


def raster(values: np.ndarray, scale: str, value_range: list | None, pixels: int = PRINT_PIXELS) -> str:
    """Base64 PNG of a similarity block, one pixel per cell (blocks max-pooled above ``pixels``
    cells a side); NaN cells are light grey. The PDF draws it without smoothing
    (``image-rendering="pixelated"``), so cells stay sharp at any zoom without upsampling."""
    values = np.asarray(values, dtype=np.float64)
    values = max_pool(np.where(np.isnan(values), -np.inf, values), pixels)
    missing = ~np.isfinite(values)
    lo, hi = (value_range if value_range is not None
              else (float(np.min(values[~missing])), float(np.max(values[~missing]))))
    span = hi - lo if hi > lo else 1.0
    lut = color_lut(scale)
    position = np.clip((values - lo) / span, 0.0, 1.0)
    position[missing] = 0.0
    rgb = lut[np.round(position * (len(lut) - 1)).astype(int)]
    rgb[missing] = (235, 235, 235)
    return _png(np.ascontiguousarray(rgb, dtype=np.uint8))


# Static heatmaps are laid out in points: the SVG prints at its own size (print.css draws it
# unscaled), so every font size below is the printed size.
LABEL_PT = 7.5  # record and cluster labels: the smallest text on a printed figure
TICK_PT = 8.0
AXIS_PT = 8.5
TITLE_PT = 10.0
LABEL_COLUMN_PT = 122.0  # AXIS_LABEL_CHARS characters at LABEL_PT
MAP_PT = {True: 280.0, False: 320.0}  # map side with and without record labels
ORDINALS = {2: "second", 3: "third", 4: "fourth"}


def bars_path(bars: list[tuple[float, float, float, float]], fill: str = "#4a6fa5", digits: int = 2) -> str:
    """Bars (x, bottom, width, height), standing on their bottom edge, as one SVG path: drawn the
    same as a rectangle each, but one shape to lay out and paint (the cluster strip has a bar per
    cluster: hundreds of rectangles cost WeasyPrint about 0.05 s of a report's PDF,
    ``benchmarks/bench_pdf.py``); bars without height draw nothing."""
    f = f".{digits}f"
    d = "".join(f"M{x:{f}} {bottom - h:{f}}h{w:{f}}v{h:{f}}h{-w:{f}}z" for x, bottom, w, h in bars if h > 0)
    return f'<path d="{d}" fill="{fill}"/>' if d else ""


def label_step(m: int, side: float) -> int:
    """Label every k-th row so that labels LABEL_PT high never overlap (k = 1 when they fit)."""
    return max(1, int(np.ceil(LABEL_PT * 1.15 / (side / max(m, 1)) - 1e-9)))


def heatmap_svg(values, indices: list[int] | None, labels: list[str] | None, scale: str, value_range: list | None,
                caption_axis: str = "records", value_name: str = "cosine similarity", title: str | None = None,
                axis_ticks: list[str] | None = None, sizes: list[int] | None = None) -> str:
    """Static heatmap: raster plus SVG axes, a titled colour bar and an optional figure title.

    Drawn in points at its print size, so no text prints under LABEL_PT. ``axis_ticks``: text
    for each row when there are no record labels; ``sizes``: records per row (clusters), drawn
    as a bar strip above the map so small and large clusters differ. Up to TICK_LABELS_UP_TO
    rows carry labels, every row where LABEL_PT fits and every k-th row (said under the map) where not."""
    values = np.asarray(values, dtype=np.float64)
    m = values.shape[0]
    show_labels = m <= TICK_LABELS_UP_TO and (indices is not None or axis_ticks is not None)
    size = MAP_PT[show_labels]
    every = label_step(m, size) if show_labels else 1
    left = LABEL_COLUMN_PT + 6 if show_labels else 24
    strip = 44 if sizes else 0
    top = (20 if title else 6) + strip
    bar_w, bar_gap = 12, 12
    bottom = LABEL_COLUMN_PT * 0.87 + (22 if every > 1 else 8) if show_labels else 22
    width = left + size + bar_gap + bar_w + 58
    height = top + size + bottom
    image = raster(values, scale, value_range)
    lo, hi = value_range if value_range is not None else (float(np.nanmin(values)), float(np.nanmax(values)))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" '
             f'viewBox="0 0 {width:g} {height:g}" width="{width:g}pt" height="{height:g}pt" role="img" '
             f'aria-label="Heatmap of cosine similarity">',
             f'<image x="{left:g}" y="{top:g}" width="{size:g}" height="{size:g}" preserveAspectRatio="none" '
             f'image-rendering="pixelated" style="image-rendering:pixelated" '
             f'href="data:image/png;base64,{image}"/>',
             f'<rect x="{left:g}" y="{top:g}" width="{size:g}" height="{size:g}" fill="none" stroke="#444" '
             f'stroke-width="0.5"/>']
    if title:
        parts.append(f'<text x="{left + size / 2:g}" y="{TITLE_PT + 2:g}" font-size="{TITLE_PT:g}" '
                     f'font-weight="bold" text-anchor="middle">{escape(title)}</text>')
    if sizes:
        biggest = max(max(sizes), 1)
        step = size / len(sizes)
        base = top - 4
        parts.append(bars_path([(left + k * step, base, max(step - 0.2, 0.3), (strip - 16) * count / biggest)
                                for k, count in enumerate(sizes)]))
        parts.append(f'<text x="{left:g}" y="{top - strip + 1:g}" font-size="{LABEL_PT:g}" '
                     f'dominant-baseline="hanging">records per cluster (tallest bar: {biggest:,})</text>')
    if show_labels:
        names = axis_ticks if axis_ticks is not None else axis_names(indices, labels)
        step = size / m
        for k, name in enumerate(names):
            if k % every:
                continue
            y = top + (k + 0.5) * step
            x = left + (k + 0.5) * step
            text = escape(name)
            parts.append(f'<text x="{left - 3:g}" y="{y:.2f}" font-size="{LABEL_PT:g}" text-anchor="end" '
                         f'dominant-baseline="middle">{text}</text>')
            parts.append(f'<text transform="translate({x:.2f},{top + size + 3:g}) rotate(60)" '
                         f'font-size="{LABEL_PT:g}" text-anchor="start">{text}</text>')
        if every > 1:
            nth = ORDINALS.get(every, f"{every}th")
            parts.append(f'<text x="{left:g}" y="{height - 6:g}" font-size="{LABEL_PT:g}">Every {nth} row and '
                         'column is labelled; the others lie between them, in map order.</text>')
    else:
        parts.append(f'<text x="{left + size / 2:g}" y="{top + size + 14:g}" font-size="{AXIS_PT:g}" '
                     f'text-anchor="middle">{escape(caption_axis)} (columns)</text>')
        parts.append(f'<text transform="translate({left - 8:g},{top + size / 2:g}) rotate(-90)" '
                     f'font-size="{AXIS_PT:g}" text-anchor="middle">{escape(caption_axis)} (rows)</text>')
    bar_x = left + size + bar_gap
    bar = color_lut(scale, 128)[::-1].reshape(128, 1, 3)  # one pixel per colour, highest value on top
    parts.append(f'<image x="{bar_x:g}" y="{top:g}" width="{bar_w}" height="{size:g}" preserveAspectRatio="none" '
                 f'image-rendering="pixelated" style="image-rendering:pixelated" '
                 f'href="data:image/png;base64,{_png(np.ascontiguousarray(bar))}"/>')
    parts.append(f'<rect x="{bar_x:g}" y="{top:g}" width="{bar_w}" height="{size:g}" fill="none" stroke="#444" '
                 f'stroke-width="0.5"/>')
    span = (hi - lo) or 1.0
    ticks = _ticks_within(lo, hi)
    for value, text in zip(ticks, numbers.tick_labels(ticks) if len(ticks) > 1 else [numbers.similarity(lo)],
                           strict=False):
        y = top + (hi - value) / span * size
        parts.append(f'<line x1="{bar_x + bar_w:g}" x2="{bar_x + bar_w + 3:g}" y1="{y:.2f}" y2="{y:.2f}" '
                     f'stroke="#444" stroke-width="0.5"/>')
        parts.append(f'<text x="{bar_x + bar_w + 5:g}" y="{y:.2f}" font-size="{TICK_PT:g}" '
                     f'dominant-baseline="middle">{text}</text>')
    parts.append(f'<text transform="translate({bar_x + bar_w + 48:g},{top + size / 2:g}) rotate(-90)" '
                 f'font-size="{AXIS_PT:g}" text-anchor="middle">{escape(value_name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def count_ticks(peak: int) -> list[int]:
    """Round whole-number ticks from 0 up to at most ``peak`` (1, 2 or 5 times a power of ten)."""
    if peak <= 1:
        return [0, 1]
    ticks = numbers.nice_ticks(0, peak)
    step = max(int(round(ticks[1] - ticks[0])), 1)
    return list(range(0, int(peak) + 1, step))


def count_axes(left: float, top: float, plot_w: float, plot_h: float, peak: int,
               y_label: str = "count") -> list[str]:
    """SVG for a bar chart's axes: the baseline, the vertical axis with round counts and its title."""
    parts = [f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#333"/>',
             f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#333"/>']
    for tick in count_ticks(peak):
        y = top + plot_h - tick / max(peak, 1) * plot_h
        parts.append(f'<line x1="{left - 3}" x2="{left}" y1="{y:.1f}" y2="{y:.1f}" stroke="#333"/>')
        parts.append(f'<text x="{left - 5}" y="{y:.1f}" font-size="10" text-anchor="end" '
                     f'dominant-baseline="middle">{numbers.count(tick)}</text>')
    parts.append(f'<text transform="translate({left - 46},{top + plot_h / 2}) rotate(-90)" font-size="11" '
                 f'text-anchor="middle">{escape(y_label)}</text>')
    return parts


def histogram_svg(counts: list[int], edges: list[float], markers: list[tuple[float, str]],
                  x_label: str, rebin: int = 10, width: int = 640, height: int = 230,
                  y_label: str = "pairs", x_range: tuple[float, float] | None = None,
                  y_max: int | None = None) -> str:
    """Bar chart of a fine histogram (rebinned for display) with labelled vertical markers."""
    counts_arr = np.asarray(counts, dtype=np.int64)
    edges_arr = np.asarray(edges, dtype=np.float64)
    usable = len(counts_arr) // rebin * rebin
    coarse = counts_arr[:usable].reshape(-1, rebin).sum(axis=1)
    coarse_edges = edges_arr[:usable + 1:rebin]
    nonzero = np.flatnonzero(coarse)
    if nonzero.size == 0:
        nonzero = np.array([0, len(coarse) - 1])
    first = max(nonzero[0] - 2, 0)
    last = min(nonzero[-1] + 3, len(coarse))
    for value, _ in markers:
        k = int(np.clip(np.searchsorted(coarse_edges, value) - 1, 0, len(coarse) - 1))
        first, last = min(first, max(k - 1, 0)), max(last, min(k + 2, len(coarse)))
    if x_range is not None:  # a shared axis (side-by-side charts)
        first = int(np.clip(np.searchsorted(coarse_edges, x_range[0] + 1e-9) - 1, 0, len(coarse) - 1))
        last = int(np.clip(np.searchsorted(coarse_edges, x_range[1] - 1e-9) + 1, first + 1, len(coarse)))
    shown = coarse[first:last]
    x0, x1 = float(coarse_edges[first]), float(coarse_edges[last])
    left, right, top, bottom = 72, 16, 24, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(int(shown.max()), 1, int(y_max or 0))  # y_max: a shared vertical axis

    def sx(value: float) -> float:
        return left + (value - x0) / (x1 - x0) * plot_w

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-label="{escape(x_label)} histogram">']
    bar_w = plot_w / len(shown)
    parts.append(bars_path([(left + k * bar_w, top + plot_h, max(bar_w - 0.3, 0.3), count / peak * plot_h)
                            for k, count in enumerate(shown)]))
    parts += count_axes(left, top, plot_w, plot_h, peak, y_label)
    ticks = _ticks_within(x0, x1, 9)
    for tick, text in zip(ticks, numbers.tick_labels(ticks), strict=True):
        parts.append(f'<line x1="{sx(tick):.1f}" x2="{sx(tick):.1f}" y1="{top + plot_h}" y2="{top + plot_h + 3}" '
                     f'stroke="#333"/>')
        parts.append(f'<text x="{sx(tick):.1f}" y="{top + plot_h + 14}" font-size="10" '
                     f'text-anchor="middle">{text}</text>')
    parts.append(f'<text x="{left + plot_w / 2}" y="{height - 6}" font-size="11" '
                 f'text-anchor="middle">{escape(x_label)}</text>')
    for k, (value, name) in enumerate(markers):
        x = sx(value)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#c0392b" '
                     f'stroke-dasharray="4 3"/>')
        anchor = "end" if x > left + plot_w * 0.8 else "start"
        dx = -3 if anchor == "end" else 3
        parts.append(f'<text x="{x + dx:.1f}" y="{top - 6 + 11 * (k % 2)}" font-size="10" fill="#c0392b" '
                     f'text-anchor="{anchor}">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


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
    lut = color_lut(scale)
    position = np.clip(shown / top_value, 0.0, 1.0)
    rgb = lut[np.round(0.15 * (len(lut) - 1) + position * 0.85 * (len(lut) - 1)).astype(int)]
    rgb[grid.T[::-1] == 0] = (255, 255, 255)
    image = _png(np.ascontiguousarray(rgb, dtype=np.uint8))
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
    ticks = _ticks_within(lo, hi, 6)
    for tick, text in zip(ticks, numbers.tick_labels(ticks), strict=True):
        parts.append(f'<text x="{sx(tick):.1f}" y="{top + size + 14}" font-size="10" text-anchor="middle">'
                     f'{text}</text>')
        parts.append(f'<text x="{left - 5}" y="{sy(tick):.1f}" font-size="10" text-anchor="end" '
                     f'dominant-baseline="middle">{text}</text>')
    parts.append(f'<text x="{left + size / 2}" y="{top + size + 34}" font-size="11" text-anchor="middle">'
                 f'similarity under {escape(names[0])}</text>')
    parts.append(f'<text transform="translate({left - 44},{top + size / 2}) rotate(-90)" font-size="11" '
                 f'text-anchor="middle">similarity under {escape(names[1])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def overlap_svg(distribution: list[int], k: int) -> str:
    """Bar chart: how many records share 0, 1, ..., k of their k nearest neighbours."""
    counts = np.asarray(distribution, dtype=np.int64)
    width, height, left, right, top, bottom = 640, 210, 72, 16, 16, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max(int(counts.max()), 1)
    bar = plot_w / len(counts)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-label="Neighbours in common">']
    parts.append(bars_path([(left + m * bar + 1, top + plot_h, max(bar - 2, 1), count / peak * plot_h)
                            for m, count in enumerate(counts)], digits=1))
    for m in range(len(counts)):
        parts.append(f'<text x="{left + m * bar + bar / 2:.1f}" y="{top + plot_h + 14}" font-size="10" '
                     f'text-anchor="middle">{m}</text>')
    parts += count_axes(left, top, plot_w, plot_h, peak, "records")
    parts.append(f'<text x="{left + plot_w / 2}" y="{height - 6}" font-size="11" text-anchor="middle">'
                 f'nearest neighbours in common (of {k})</text>')
    parts.append("</svg>")
    return "".join(parts)
