"""The HTML report: self-contained by default (plotly.js inlined, no network needed to open it;
see ``plotlyjs`` for a file beside it or the CDN instead)."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

from simreport.config import PLOTLYJS_MODES
from simreport.render.documents import Prepared
from simreport.render.environment import make_environment
from simreport.results import ReportDocument

VENDOR = Path(__file__).resolve().parent.parent / "vendor"
PLOTLY_FILE = "plotly-cartesian.min.js"  # the official cartesian partial bundle (see vendor/README.md)


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """plotly.js as shipped with simreport: the cartesian partial bundle (heatmaps, bars), no CDN."""
    return (VENDOR / PLOTLY_FILE).read_text(encoding="utf-8")


def plotly_js_version() -> str:
    """The version of the shipped plotly.js bundle, read from its header."""
    with open(VENDOR / PLOTLY_FILE, encoding="utf-8") as stream:
        head = stream.read(200)
    match = re.search(r"\bv(\d+\.\d+\.\d+)\b", head)
    if match is None:
        raise RuntimeError(f"{PLOTLY_FILE}: no version in its header")
    return match.group(1)


def plotly_cdn_url() -> str:
    """The CDN address of the same partial bundle at the same version."""
    return f"https://cdn.plot.ly/plotly-cartesian-{plotly_js_version()}.min.js"


def render_html(result: ReportDocument, templates: str | Path | None = None, fragment: bool = False,
                plotlyjs: str = "inline", prepared: Prepared | None = None) -> str:
    """The HTML report as text. ``fragment`` gives a <div> for notebooks (no <html> shell).

    ``plotlyjs``: "inline" (default; works offline), "directory" (expects plotly-cartesian.min.js
    beside the report: see :func:`plotly_js`), or "cdn" (loads it from the plotly CDN).
    ``prepared``: the document's JSON and shared template data when other formats of the
    same run use them too (see :class:`~simreport.render.documents.Prepared`).
    """
    if plotlyjs not in PLOTLYJS_MODES:
        raise ValueError(f"unknown plotly.js mode {plotlyjs!r}; use one of {', '.join(PLOTLYJS_MODES)}")
    env = make_environment(templates)
    prepared = prepared or Prepared(result)
    template, context = prepared.template_and_context("html")
    context["plotly"] = ({"inline": plotly_js()} if plotlyjs == "inline" else
                         {"inline": None, "src": PLOTLY_FILE if plotlyjs == "directory" else plotly_cdn_url()})
    context["fragment"] = fragment
    context["results_json"] = prepared.script_json()
    # element ids: fixed for documents; unique per result in notebooks, where several share a page
    fingerprint = hashlib.sha256(prepared.json_bytes).hexdigest()
    context["dom_prefix"] = "simreport" if not fragment else f"simreport-{fingerprint[:12]}"
    return env.get_template(template).render(report=context)
