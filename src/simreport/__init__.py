"""simreport: the cosine-similarity test for embedding models, as a validation report."""

from __future__ import annotations

from simreport import render as _render  # noqa: F401  (registers the HTML and PDF renderers)
from simreport.api import run_test
from simreport.errors import ConfigError, InputError, ModelError, OutputError, SimreportError, VerifyError
from simreport.results import Comparison, Result, load_document, load_result
from simreport.version import __version__

__all__ = ["Comparison", "ConfigError", "InputError", "ModelError", "OutputError", "Result", "SimreportError",
           "VerifyError", "__version__", "load_document", "load_result", "run_test"]
