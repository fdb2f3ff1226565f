"""The PDF report: the same templates in print form, laid out by WeasyPrint.

WeasyPrint gets a URL fetcher that refuses everything except inline ``data:`` URLs
and files inside the template directories, so rendering never touches the network.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from simreport.render import make_environment, shipped_templates
from simreport.render.context import build_context
from simreport.results import Result


class RefusedURL(RuntimeError):
    """Raised when a document asks for a resource from outside the package."""


def local_fetcher(allowed_dirs: list[Path]):
    """A WeasyPrint URL fetcher allowing only data: URLs and files under ``allowed_dirs``."""
    from weasyprint.urls import URLFetcher

    roots = [d.resolve() for d in allowed_dirs]

    class LocalOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):  # noqa: D401 - WeasyPrint API
            parsed = urlparse(url)
            if parsed.scheme == "data":
                return super().fetch(url, headers)
            if parsed.scheme == "file":
                path = Path(unquote(parsed.path)).resolve()
                if any(path.is_relative_to(root) for root in roots) and path.is_file():
                    return super().fetch(url, headers)
            raise RefusedURL(f"simreport does not fetch {url[:80]!r} while rendering")

    return LocalOnlyFetcher()


def render_pdf(result: Result, templates: str | Path | None = None) -> bytes:
    """The PDF report as bytes."""
    import weasyprint

    env = make_environment(templates)
    context = build_context(result, "pdf")
    context["fragment"] = False
    context["dom_prefix"] = "simreport"
    html = env.get_template("report.html.j2").render(report=context)
    allowed = [shipped_templates()] + ([Path(templates)] if templates else [])
    document = weasyprint.HTML(string=html, base_url=str(shipped_templates()) + "/",
                               url_fetcher=local_fetcher(allowed))
    return document.write_pdf()
