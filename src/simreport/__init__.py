"""simreport: the cosine-similarity test for embedding models, as a validation report."""

from __future__ import annotations

__version__ = "0.1.0"

from simreport.api import run_test  # noqa: E402
from simreport.results import Result, load_result  # noqa: E402

__all__ = ["Result", "__version__", "load_result", "run_test"]
