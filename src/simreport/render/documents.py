"""Which template and which context builder draw each kind of document.

A new kind of document adds one row to :data:`DOCUMENTS`; the HTML and PDF renderers
look it up here and know nothing else about it.
"""

from __future__ import annotations

from collections.abc import Callable

from simreport.render.compare_context import build_compare_context
from simreport.render.context import build_context
from simreport.results import Comparison, ReportDocument, Result

# document type -> (entry template, context builder(document, medium) -> plain data)
DOCUMENTS: dict[type, tuple[str, Callable[..., dict]]] = {
    Result: ("report.html.j2", build_context),
    Comparison: ("compare.html.j2", build_compare_context),
}


def template_and_context(document: ReportDocument, medium: str) -> tuple[str, dict]:
    """The entry template of ``document`` and the plain data it receives for ``medium`` (html, pdf)."""
    template, build = DOCUMENTS[type(document)]
    return template, build(document, medium)
