"""Rendering: a document (results or comparison) in, an HTML or PDF report out.

:mod:`.documents` maps each document type to its template and context builder;
:mod:`.html` and :mod:`.pdf` render; :mod:`.environment` finds the templates. Importing
this package registers the two renderers with :mod:`simreport.results`, so that
``result.to_html()`` and ``result.to_pdf()`` work without the data layer importing them.
"""

from __future__ import annotations

from simreport import results
from simreport.render.environment import make_environment, shipped_templates
from simreport.render.html import render_html
from simreport.render.pdf import render_pdf

results.RENDERERS.update(html=render_html, pdf=render_pdf)

__all__ = ["make_environment", "render_html", "render_pdf", "shipped_templates"]
