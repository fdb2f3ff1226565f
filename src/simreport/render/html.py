"""The self-contained HTML report: plotly.js inlined, no network needed to open it."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from simreport.render import make_environment
from simreport.render.context import build_context
from simreport.results import Result


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """The plotly.js bundle shipped with the plotly package (no CDN)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def render_html(result: Result, templates: str | Path | None = None, fragment: bool = False) -> str:
    """The HTML report as text. ``fragment`` gives a <div> for notebooks (no <html> shell)."""
    env = make_environment(templates)
    context = build_context(result, "html")
    context["plotlyjs"] = plotly_js()
    context["fragment"] = fragment
    context["results_json"] = result.to_dict()
    # element ids: fixed for documents; unique per result in notebooks, where several share a page
    context["dom_prefix"] = "simreport" if not fragment else f"simreport-{result.fingerprint()[:12]}"
    return env.get_template("report.html.j2").render(report=context)
