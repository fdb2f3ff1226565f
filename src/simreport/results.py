"""The results object every document is rendered from, and its JSON form.

A :class:`Result` holds plain JSON-able data only, so ``from_json(to_json())`` gives
back the same object and HTML/PDF can be re-rendered without recomputing.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from simreport.findings import Finding

SCHEMA_VERSION = "1.0"
OPTIONAL_FIELDS = {"overview", "clusters", "report", "configuration", "model", "timings", "extra",
                   "schema_version"}


def report_id_of(results_json: bytes, prefix: str = "SR") -> str:
    """Prefix ('SR' for a run, 'SC' for a comparison) and the first 16 hex digits of the
    SHA-256 of the JSON bytes, in groups of 4."""
    digest = hashlib.sha256(results_json).hexdigest()[:16].upper()
    return f"{prefix}-" + "-".join(digest[k:k + 4] for k in range(0, 16, 4))


def _flat(value: object) -> bool:
    """A number, string, bool or null, or an array of those."""
    if isinstance(value, list):
        return not any(isinstance(v, (dict, list)) for v in value)
    return not isinstance(value, dict)


def json_text(value: object, indent: int = 1, depth: int = 0) -> str:
    """JSON text of plain data, readable and compact: an object or array spreads over lines
    (``indent`` spaces per level) unless everything in it is flat (see :func:`_flat`), and
    flat parts are written by the C encoder in one piece (no per-number Python work)."""
    if isinstance(value, dict):
        if not value:
            return "{}"
        if all(_flat(v) for v in value.values()) and len(value) <= 12:
            return json.dumps(value, ensure_ascii=False, allow_nan=False)
        pad = "\n" + " " * (indent * (depth + 1))
        items = [json.dumps(str(k), ensure_ascii=False) + ": " + json_text(v, indent, depth + 1)
                 for k, v in value.items()]
        return "{" + pad + ("," + pad).join(items) + "\n" + " " * (indent * depth) + "}"
    if isinstance(value, list) and value and not _flat(value):
        pad = "\n" + " " * (indent * (depth + 1))
        items = [json_text(v, indent, depth + 1) for v in value]
        return "[" + pad + ("," + pad).join(items) + "\n" + " " * (indent * depth) + "]"
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def created_timestamp() -> str:
    """UTC ISO-8601 'now', or SOURCE_DATE_EPOCH when set (reproducible output)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = (datetime.fromtimestamp(int(epoch), tz=UTC) if epoch
              else datetime.now(tz=UTC).replace(microsecond=0))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def reproducible() -> bool:
    """True when SOURCE_DATE_EPOCH asks for byte-identical output."""
    return bool(os.environ.get("SOURCE_DATE_EPOCH"))


class Stopwatch:
    """Wall time of a run (reported as None in reproducible mode)."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

        self.laps: dict[str, float] = {}
        self._last = self.start

    def lap(self, name: str) -> None:
        """Record the time since the previous lap under ``name``."""
        now = time.perf_counter()
        self.laps[name] = round(now - self._last, 3)
        self._last = now

    def seconds(self) -> float | None:
        return None if reproducible() else round(time.perf_counter() - self.start, 3)

    def timings(self) -> dict[str, float] | None:
        return None if reproducible() else dict(self.laps)


class ReportDocument:
    """What a single-run Result and a two-model Comparison share: their JSON form, the
    fingerprint and report ID derived from it, and rendering to HTML and PDF.

    Subclasses are dataclasses with ``findings_data`` and ``summary`` fields and set
    ``TEMPLATE`` (the entry template), ``ID_PREFIX`` and :meth:`render_context`.
    """

    TEMPLATE: ClassVar[str]
    ID_PREFIX: ClassVar[str]

    @property
    def findings(self) -> list[Finding]:
        """The findings as :class:`Finding` objects."""
        return [Finding(**f) for f in self.findings_data]

    @property
    def status(self) -> str:
        """Worst finding status: pass, warn or fail."""
        return self.summary["status"]

    def to_dict(self) -> dict:
        """The document's data as a dict in JSON order (the field values themselves, not copies:
        every field already holds plain JSON data)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["findings"] = data.pop("findings_data")
        head = {key: data.pop(key) for key in ("schema_version", "kind") if key in data}
        return {**head, **data}

    def to_json(self, indent: int | None = 1) -> str:
        """The document's data as JSON text (stable key order, UTF-8 safe).

        ``indent=1`` (the file form): objects one key per line, and objects or arrays that
        hold only numbers, strings and arrays of those on one line. ``indent=None``: one line.
        """
        if indent is None:
            return json.dumps(self.to_dict(), ensure_ascii=False, allow_nan=False) + "\n"
        return json_text(self.to_dict(), indent) + "\n"

    def json_bytes(self) -> bytes:
        """``to_json()`` as UTF-8 bytes: what is written, hashed for the report ID and attached."""
        return self.to_json().encode("utf-8")

    def fingerprint(self) -> str:
        """SHA-256 of the JSON as written (``to_json()``)."""
        return hashlib.sha256(self.json_bytes()).hexdigest()

    def report_id(self) -> str:
        """The report ID printed on the documents: derived from the JSON's hash."""
        return report_id_of(self.json_bytes(), self.ID_PREFIX)

    @classmethod
    def from_json(cls, text: str):
        return cls.from_dict(json.loads(text))

    def render_context(self, medium: str) -> dict:
        """The plain data the templates receive (see :mod:`simreport.render.context`)."""
        raise NotImplementedError

    def to_html(self, path: str | Path | None = None, **options) -> str:
        """Render the HTML report; write it to ``path`` when given. Returns the HTML."""
        from simreport.render.html import render_html

        html = render_html(self, **options)
        if path is not None:
            from simreport.output import write_atomic

            write_atomic(Path(path), html.encode("utf-8"))
        return html

    def to_pdf(self, path: str | Path, **options) -> None:
        """Render the PDF report to ``path``."""
        from simreport.output import write_atomic
        from simreport.render.pdf import render_pdf

        write_atomic(Path(path), render_pdf(self, **options))

    def _repr_html_(self) -> str:
        from simreport.render.html import render_html

        return render_html(self, fragment=True)


@dataclass
class Result(ReportDocument):
    """One run of the cosine-similarity test: numbers, findings, heatmap and provenance."""

    TEMPLATE: ClassVar[str] = "report.html.j2"
    ID_PREFIX: ClassVar[str] = "SR"

    tool: dict
    environment: dict
    input: dict
    parameters: dict
    stats: dict
    near_duplicates: dict
    most_similar: list
    opposed: dict
    nearest_neighbour: dict
    identical_rows: dict
    findings_data: list
    summary: dict
    heatmap: dict
    created: str
    duration_seconds: float | None
    overview: dict | None = None
    clusters: dict | None = None
    report: dict | None = None
    configuration: dict | None = None
    model: dict | None = None  # the embedding model, its fingerprint and settings (texts embedded by a model)
    timings: dict | None = None
    schema_version: str = SCHEMA_VERSION
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict) -> Result:
        if data.get("kind") not in (None, "simreport-result"):
            raise ValueError(f"this is a {data.get('kind')} file, not the results of a single run")
        version = str(data.get("schema_version", ""))
        if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
            raise ValueError(f"results schema version {version or '(missing)'} is not supported "
                             f"(this simreport reads {SCHEMA_VERSION})")
        data = dict(data)
        data["findings_data"] = data.pop("findings")
        known = {f.name for f in fields(cls)}
        missing = sorted(known - set(data) - OPTIONAL_FIELDS)
        if missing:
            raise ValueError(f"results file lacks {', '.join(missing)}")
        return cls(**{k: v for k, v in data.items() if k in known})

    def render_context(self, medium: str) -> dict:
        from simreport.render.context import build_context

        return build_context(self, medium)


COMPARISON_KIND = "simreport-comparison"


def document_from_dict(data: object) -> ReportDocument:
    """A single run's Result or a Comparison, by the JSON's ``kind``."""
    if not isinstance(data, dict):
        raise ValueError("the JSON is not a simreport results object")
    if data.get("kind") == COMPARISON_KIND:
        from simreport.compare import Comparison

        return Comparison.from_dict(data)
    return Result.from_dict(data)


def load_document(path: str | Path) -> ReportDocument:
    """Read a JSON written by simreport: a single run's results or a comparison."""
    path = Path(path)
    try:
        return document_from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: results file not found") from None


def load_result(path: str | Path) -> Result:
    """Read a results JSON file written by simreport."""
    path = Path(path)
    try:
        return Result.from_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: results file not found") from None
