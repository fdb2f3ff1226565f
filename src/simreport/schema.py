"""The JSON Schema (draft 2020-12) of simreport's documents, and validation against it.

``render`` and ``verify`` read JSON that may have been edited by hand (or by a forger);
they validate it first and name the key path of the first violation, instead of failing
later with a KeyError deep inside the templates.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources


class SchemaViolation(ValueError):
    """A document that does not follow the schema; the message names the key path."""


@lru_cache(maxsize=1)
def document_schema() -> dict:
    """The schema shipped in the package (``simreport/schemas/documents.schema.json``)."""
    return json.loads(schema_text())


def schema_text() -> str:
    """The schema as shipped, for ``simreport schema``."""
    return resources.files("simreport").joinpath("schemas/documents.schema.json").read_text(encoding="utf-8")


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def parse_json(text: str | bytes) -> object:
    """JSON as the standard defines it: NaN and Infinity are refused (ValueError)."""
    return json.loads(text, parse_constant=_reject_constant)


def key_path(parts) -> str:
    """``stats.histogram.counts[3]`` from a jsonschema path."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def validate_document(data: object, source: str) -> None:
    """Raise :class:`SchemaViolation` naming ``source`` and the key path of the first violation."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    validator = Draft202012Validator(document_schema())
    error = best_match(validator.iter_errors(data))
    if error is None:
        return
    while error.context:  # descend into if/then/oneOf to the specific failure
        error = best_match(error.context)
    message = error.message if len(error.message) < 160 else error.message[:157] + "..."
    raise SchemaViolation(f"{source}: {key_path(error.absolute_path)}: {message}; the file does not follow the "
                          "simreport document schema (print it with 'simreport schema')")
