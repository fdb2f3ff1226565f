"""Which template and which context builder draw each kind of document.

A new kind of document adds one row to :data:`DOCUMENTS`; the HTML and PDF renderers
look it up here and know nothing else about it.
"""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import Markup

from simreport.render.compare_context import build_compare_context
from simreport.render.context import build_context
from simreport.results import Comparison, ReportDocument, Result, report_id_of

# document type -> (entry template, context builder(document, medium, report_id, shared) -> plain data)
DOCUMENTS: dict[type, tuple[str, Callable[..., dict]]] = {
    Result: ("report.html.j2", build_context),
    Comparison: ("compare.html.j2", build_compare_context),
}


def template_and_context(document: ReportDocument, medium: str, report_id: str | None = None,
                         shared: dict | None = None) -> tuple[str, dict]:
    """The entry template of ``document`` and the plain data it receives for ``medium`` (html, pdf).

    ``report_id``: the ID of the JSON already serialised (not serialised again when given);
    ``shared``: a dict the builder fills with what every medium shows alike on the first call
    and reuses on the next (see :class:`Prepared`).
    """
    template, build = DOCUMENTS[type(document)]
    return template, build(document, medium, report_id, shared)


class Prepared:
    """One document made ready for rendering, shared by every format written in one run.

    The JSON is serialised once (``json_bytes``: the .json file, the bytes hashed for the
    report ID, the copy embedded in the HTML and the PDF's attachment); the template data
    both media show alike is built once, on the first :meth:`context`.
    """

    def __init__(self, document: ReportDocument, json_bytes: bytes | None = None) -> None:
        self.document = document
        self.json_bytes = document.json_bytes() if json_bytes is None else json_bytes
        self.report_id = report_id_of(self.json_bytes, document.ID_PREFIX)
        self._shared: dict = {}

    def template_and_context(self, medium: str) -> tuple[str, dict]:
        """The entry template and the template data for ``medium`` ("html" or "pdf"): a new dict each call."""
        return template_and_context(self.document, medium, self.report_id, self._shared)

    def script_json(self) -> Markup:
        """The JSON bytes as the text of a <script type="application/json"> element: the
        same characters, with <, >, & and ' written as JSON escapes (they only occur inside
        strings), so the page holds exactly the data of the .json file."""
        text = self.json_bytes.decode("utf-8")
        for char, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("'", "\\u0027")):
            text = text.replace(char, escaped)
        return Markup(text)
