"""The HTML report: self-contained by default (plotly.js inlined, no network needed to open it;
see ``plotlyjs`` for a file beside it or the CDN instead)."""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path

from simreport.config import PLOTLYJS_MODES
from simreport.render.documents import Prepared
from simreport.render.environment import make_environment, render_template
from simreport.results import ReportDocument

VENDOR = Path(__file__).resolve().parent.parent / "vendor"
PLOTLY_FILE = "plotly-cartesian.min.js"  # the official cartesian partial bundle (see vendor/README.md)
PLOTLY_PACKED = PLOTLY_FILE + ".gz"  # shipped gzip-compressed (level 9, no timestamp): 0.5 MB instead of 1.5


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """plotly.js as shipped with simreport: the cartesian partial bundle (heatmaps, bars), no CDN."""
    import gzip

    return gzip.decompress((VENDOR / PLOTLY_PACKED).read_bytes()).decode("utf-8")


@lru_cache(maxsize=1)
def plotly_js_packed() -> str:
    """The shipped gzip file of plotly.js in base64, as a self-contained HTML report carries it:
    the page unpacks it with the browser's DecompressionStream (partials/plotly_packed.html.j2).
    A report stays under 2 MB at any n and any label length (1.5 MB of plotly.js alone did not)."""
    import base64

    return base64.b64encode((VENDOR / PLOTLY_PACKED).read_bytes()).decode("ascii")


def plotly_js_version() -> str:
    """The version of the shipped plotly.js bundle, read from its header."""
    match = re.search(r"\bv(\d+\.\d+\.\d+)\b", plotly_js()[:200])
    if match is None:
        raise RuntimeError(f"{PLOTLY_PACKED}: no version in its header")
    return match.group(1)


def plotly_cdn_url() -> str:
    """The CDN address of the same partial bundle at the same version."""
    return f"https://cdn.plot.ly/plotly-cartesian-{plotly_js_version()}.min.js"


NOTEBOOK_FOLDER = "simreport_files"  # beside the notebook: the one plotly.js every notebook cell shares


def notebook_plotly(folder: str | Path | None = None) -> dict:
    """How a notebook cell gets plotly.js: one shared script file, loaded once per page.

    The bundle is written (once) to ``simreport_files/`` in the kernel's working folder, the
    notebook's own folder, and each cell carries only a small loader that adds one
    ``<script>`` for the whole page and draws its plots when it has loaded; nothing is
    fetched from the network. Returns the template's ``plotly`` entry.
    """
    base = Path.cwd() if folder is None else Path(folder)
    relative = f"{NOTEBOOK_FOLDER}/{PLOTLY_FILE}"
    target = base / relative
    code = plotly_js().encode("utf-8")
    try:
        if not target.is_file() or target.stat().st_size != len(code):
            target.parent.mkdir(parents=True, exist_ok=True)
            from simreport.output import write_atomic

            write_atomic(target, code)
    except OSError:
        pass  # a read-only folder: the loader finds no script and the cell says so
    return {"packed": None, "inline": None, "src": None, "shared": relative}


def notebook_picture(picture: dict | list) -> dict | list:
    """A picture at 8 bits (254 colour levels over its own range) for a notebook cell: half the
    bytes of the 16-bit form, which the HTML and PDF reports keep; the colours are the same to
    the eye and hover values are within (range / 254) of the recorded ones."""
    if not isinstance(picture, dict) or picture.get("encoding") != "uint16-base64":
        return picture
    import base64

    import numpy as np

    codes = np.frombuffer(base64.b64decode(picture["data"]), dtype="<u2")
    top = picture["missing"] - 1
    small = np.where(codes == picture["missing"], 255,
                     np.rint(codes.astype(np.float64) * 254 / top)).astype(np.uint8)
    return {**picture, "encoding": "uint8-base64", "missing": 255, "scale": picture["scale"] * top / 254,
            "data": base64.b64encode(small.tobytes()).decode("ascii")}


def picture_data(data: dict) -> dict:
    """What a notebook cell's plots read from the results: the heatmap and cluster pictures
    (of each model, for a comparison), under the same keys as in the full JSON, at 8 bits."""
    def pictures(doc: dict) -> dict:
        out: dict = {}
        if doc.get("heatmap"):
            out["heatmap"] = {"values": notebook_picture(doc["heatmap"]["values"])}
        if doc.get("clusters"):
            out["clusters"] = {"mean": notebook_picture(doc["clusters"]["mean"])}
        return out

    kept = pictures(data)
    if data.get("results"):
        kept["results"] = [pictures(r) for r in data["results"]]
    return kept


def scope_css(css: str, scope: str = ".simreport") -> str:
    """Rules made to apply inside ``scope`` only (a notebook page has its own styles):
    every selector gets the scope in front unless it starts with it; ``@media`` blocks
    are scoped inside."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    out, pos = [], 0
    while pos < len(css):
        brace = css.find("{", pos)
        if brace < 0:
            break
        head = css[pos:brace].strip()
        depth, end = 1, brace + 1
        while depth and end < len(css):
            depth += {"{": 1, "}": -1}.get(css[end], 0)
            end += 1
        body = css[brace + 1:end - 1]
        if head.startswith("@media"):
            out.append(f"{head} {{\n{scope_css(body, scope)}}}\n")
        elif head.startswith("@"):
            out.append(f"{head} {{{body}}}\n")
        else:
            selectors = []
            for sel in head.split(","):
                sel = re.sub(r"^(html|body)\b", "", sel.strip()).strip()
                selectors.append(sel if sel.startswith(scope) else f"{scope} {sel}".strip())
            out.append(f"{', '.join(selectors)} {{{body}}}\n")
        pos = end
    return "".join(out)


def scope_ids(html: str, prefix: str) -> str:
    """Element ids made unique on a page that shows several reports (a notebook): each id not
    already starting with ``prefix`` gets it, and every ``href="#id"`` follows."""
    ids = {m for m in re.findall(r'\sid="([^"]+)"', html) if not m.startswith(prefix)}

    def fix_id(match: re.Match) -> str:
        value = match.group(2)
        return f'{match.group(1)}"{prefix}-{value}"' if value in ids else match.group(0)

    def fix_href(match: re.Match) -> str:
        value = match.group(1)
        return f'href="#{prefix}-{value}"' if value in ids else match.group(0)

    html = re.sub(r'(\sid=)"([^"]+)"', fix_id, html)
    return re.sub(r'href="#([^"]+)"', fix_href, html)


def render_html(result: ReportDocument, templates: str | Path | None = None, fragment: bool = False,
                plotlyjs: str = "inline", prepared: Prepared | None = None) -> str:
    """The HTML report as text. ``fragment`` gives a <div> for notebooks (no <html> shell):
    its styles scoped to it, its ids unique on the page, plotly.js shared between cells
    (see :func:`notebook_plotly`).

    ``plotlyjs``: "inline" (default; works offline; plotly.js packed, see :func:`plotly_js_packed`),
    "directory" (expects plotly-cartesian.min.js beside the report: see :func:`plotly_js`), or "cdn"
    (loads it from the plotly CDN).
    ``prepared``: the document's JSON and shared template data when other formats of the
    same run use them too (see :class:`~simreport.render.documents.Prepared`).
    """
    if plotlyjs not in PLOTLYJS_MODES:
        raise ValueError(f"unknown plotly.js mode {plotlyjs!r}; use one of {', '.join(PLOTLYJS_MODES)}")
    env = make_environment(templates)
    prepared = prepared or Prepared(result)
    template, context = prepared.template_and_context("html")
    if fragment:
        context["plotly"] = notebook_plotly()
        sheets = ["css/report.css"] + (["css/compare.css"] if result.ID_PREFIX == "SC" else [])
        context["fragment_css"] = scope_css("\n".join(env.get_template(s).render() for s in sheets))
    else:
        context["plotly"] = ({"packed": plotly_js_packed(), "inline": None, "shared": None} if plotlyjs == "inline"
                             else {"packed": None, "inline": None, "shared": None,
                                   "src": PLOTLY_FILE if plotlyjs == "directory" else plotly_cdn_url()})
    context["fragment"] = fragment
    if fragment:  # a notebook cell: only the pictures its plots read (the page is not the JSON's home)
        from markupsafe import Markup

        text = json.dumps(picture_data(json.loads(prepared.json_bytes)), ensure_ascii=False, allow_nan=False)
        for char, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("'", "\\u0027")):
            text = text.replace(char, escaped)
        context["results_json"] = Markup(text)
    else:
        context["results_json"] = prepared.script_json()
    # element ids: fixed for documents; unique per result in notebooks, where several share a page
    fingerprint = hashlib.sha256(prepared.json_bytes).hexdigest()
    context["dom_prefix"] = "simreport" if not fragment else f"simreport-{fingerprint[:12]}"
    html = render_template(env, template, report=context)
    return scope_ids(html, context["dom_prefix"]) if fragment else html
