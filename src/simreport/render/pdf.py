"""The PDF report: the same templates in print form, laid out by WeasyPrint.

WeasyPrint gets a URL fetcher that refuses everything except inline ``data:`` URLs
and files inside the template directories, so rendering never touches the network.
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path
from urllib.parse import unquote, urlparse

from simreport.config import PDF_VARIANTS
from simreport.render.documents import Prepared
from simreport.render.environment import make_environment, render_template, shipped_templates
from simreport.results import ReportDocument


class RefusedURL(RuntimeError):
    """Raised when a document asks for a resource from outside the package."""


def local_fetcher(allowed_dirs: list[Path]):
    """A WeasyPrint URL fetcher allowing only data: URLs and files under ``allowed_dirs``."""
    from weasyprint.urls import URLFetcher

    roots = [d.resolve() for d in allowed_dirs]

    class LocalOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):  # the WeasyPrint API
            parsed = urlparse(url)
            if parsed.scheme == "data":
                return super().fetch(url, headers)
            if parsed.scheme == "file":
                path = Path(unquote(parsed.path)).resolve()
                if any(path.is_relative_to(root) for root in roots) and path.is_file():
                    return super().fetch(url, headers)
            raise RefusedURL(f"simreport does not fetch {url[:80]!r} while rendering")

    return LocalOnlyFetcher()


def warm_up(templates: str | Path | None = None, template: str = "report.html.j2") -> threading.Event:
    """Start getting the PDF renderer ready on a side thread: import WeasyPrint, let it load
    its fonts and default stylesheets (a one-line document), compile the templates.

    The command line calls this before the test runs, so this work overlaps the tile pass
    (which releases the GIL); wait for the returned event before rendering. Failures are
    ignored here: the real render reports them.
    """
    done = threading.Event()

    def work() -> None:
        try:
            import weasyprint

            make_environment(templates).get_template(template)
            weasyprint.HTML(string="<p>simreport</p>").render()
        except Exception:  # the real render reports any problem
            pass
        finally:
            done.set()

    threading.Thread(target=work, name="simreport-warm-pdf", daemon=True).start()
    return done


RESULTS_ATTACHMENT = "simreport-results.json"


def render_pdf(result: ReportDocument, templates: str | Path | None = None, pdf_variant: str = "pdf/a-3b",
               attachments: dict[str, bytes] | None = None, prepared: Prepared | None = None) -> bytes:
    """The PDF report as bytes.

    The results JSON is always embedded as ``simreport-results.json`` (its SHA-256 gives
    the report ID printed on every page); ``attachments`` adds more files (name -> bytes).
    ``pdf_variant`` is a WeasyPrint variant (PDF/A-3b by default) or "none".
    """
    import hashlib

    import weasyprint

    if pdf_variant not in PDF_VARIANTS:
        raise ValueError(f"unknown PDF variant {pdf_variant!r}; use one of {', '.join(PDF_VARIANTS)}")
    env = make_environment(templates)
    prepared = prepared or Prepared(result)
    template, context = prepared.template_and_context("pdf")
    context["fragment"] = False
    context["dom_prefix"] = "simreport"
    html = render_template(env, template, report=context)
    allowed = [shipped_templates()] + ([Path(templates)] if templates else [])
    fetcher = local_fetcher(allowed)
    results_json = prepared.json_bytes
    files = {RESULTS_ATTACHMENT: (results_json, "The data this report was rendered from (simreport JSON)")}
    for name, data in (attachments or {}).items():
        files[name] = (data, f"Supplied with the report: {name}")
    moment = _created(result.created)
    embedded = [weasyprint.Attachment(string=data, name=name, description=description, relationship="Data",
                                      created=moment, modified=moment, url_fetcher=fetcher)
                for name, (data, description) in files.items()]
    identifier = hashlib.sha256(results_json).hexdigest()[:32].encode("ascii")
    options = {"attachments": embedded, "custom_metadata": True, "pdf_identifier": identifier}
    if pdf_variant != "none":
        options["pdf_variant"] = pdf_variant
    with gc_paused():
        document = weasyprint.HTML(string=html, base_url=str(shipped_templates()) + "/", url_fetcher=fetcher)
        return document.write_pdf(**options)


@contextmanager
def gc_paused():
    """Pause Python's cyclic garbage collector: WeasyPrint builds many short-lived objects
    and the collector's passes over them cost about a sixth of a render; what it would
    have freed is collected when the render ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _created(stamp: str):
    from datetime import datetime

    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
