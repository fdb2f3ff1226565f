"""The self-contained HTML report: plotly.js inlined, no network needed to open it."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from simreport.render import make_environment
from simreport.results import ReportDocument


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """The plotly.js bundle shipped with the plotly package (no CDN)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


PLOTLY_FILE = "plotly.min.js"
PLOTLYJS_MODES = ("inline", "directory", "cdn")


def plotly_cdn_url() -> str:
    """The CDN address of the plotly.js version bundled with the installed plotly."""
    from plotly.offline.offline import get_plotlyjs_version

    return f"https://cdn.plot.ly/plotly-{get_plotlyjs_version()}.min.js"


def render_html(result: ReportDocument, templates: str | Path | None = None, fragment: bool = False,
                plotlyjs: str = "inline") -> str:
    """The HTML report as text. ``fragment`` gives a <div> for notebooks (no <html> shell).

    ``plotlyjs``: "inline" (default; works offline), "directory" (expects plotly.min.js
    beside the report: see :func:`plotly_js`), or "cdn" (loads it from the plotly CDN).
    """
    if plotlyjs not in PLOTLYJS_MODES:
        raise ValueError(f"unknown plotly.js mode {plotlyjs!r}; use one of {', '.join(PLOTLYJS_MODES)}")
    env = make_environment(templates)
    context = result.render_context("html")
    context["plotly"] = ({"inline": plotly_js()} if plotlyjs == "inline" else
                         {"inline": None, "src": PLOTLY_FILE if plotlyjs == "directory" else plotly_cdn_url()})
    context["fragment"] = fragment
    context["results_json"] = result.to_dict()
    # element ids: fixed for documents; unique per result in notebooks, where several share a page
    context["dom_prefix"] = "simreport" if not fragment else f"simreport-{result.fingerprint()[:12]}"
    return env.get_template(result.TEMPLATE).render(report=context)
