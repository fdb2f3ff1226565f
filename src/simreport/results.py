"""The documents every report is rendered from, and their JSON form.

A :class:`Result` (one run of the test) and a :class:`Comparison` (two models on the same
records) hold plain JSON-able data only, so ``from_json(to_json())`` gives back the same
object and HTML/PDF can be re-rendered without recomputing. Nothing here renders.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from simreport.findings import (
    CHECKS,
    COMPARE_CHECKS,
    Finding,
    comparison_summary,
    evaluate,
    evaluate_comparison,
    merge_thresholds,
    misjudged,
    summary_of,
)
from simreport.output import write_atomic
from simreport.version import __version__

SCHEMA_VERSION = "1.0"
COMPARISON_KIND = "simreport-comparison"


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
    if not epoch:
        return datetime.now(tz=UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        moment = datetime.fromtimestamp(int(epoch), tz=UTC)
        if moment.year < 1970 or moment.year > 9999:
            raise ValueError
    except (ValueError, OverflowError, OSError):
        raise ValueError(f"SOURCE_DATE_EPOCH={epoch!r} is not a whole number of seconds since 1970 "
                         "(the environment variable for reproducible output); fix or unset it") from None
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


# How documents become HTML and PDF: filled in by simreport.render (importing simreport does
# that), so this data layer imports no renderer. name -> callable(document, **options).
RENDERERS: dict[str, Callable[..., Any]] = {}


def _renderer(name: str) -> Callable[..., Any]:
    try:
        return RENDERERS[name]
    except KeyError:
        raise RuntimeError(f"no {name} renderer registered; import simreport.render first") from None


# A finding's fields that carry its judgement, and those that word it (see ReportDocument._underived).
JUDGED_FIELDS = ("status", "value", "threshold", "warn_threshold", "worse", "margin", "at_limit", "count",
                 "warn_count", "subject", "unit")
WORDED_FIELDS = ("title", "message", "evidence", "note")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class ReportDocument:
    """What a single-run Result and a two-model Comparison share: their JSON form, the
    fingerprint and report ID derived from it, and rendering to HTML and PDF.

    Subclasses are dataclasses with ``findings_data`` and ``summary`` fields and set
    ``ID_PREFIX``, ``NOUN`` (how messages name the file), ``OPTIONAL`` (fields a file
    may lack) and ``CHECKS`` (the checks they judge), and say how their findings are derived
    from their own numbers (:meth:`derived_findings`). Which template and context builder
    draw each type is the render layer's table (:data:`simreport.render.DOCUMENTS`).
    """

    ID_PREFIX: ClassVar[str]
    NOUN: ClassVar[str]
    OPTIONAL: ClassVar[frozenset[str]]
    CHECKS: ClassVar[dict]  # the checks this kind of document judges (their limits are in parameters.thresholds)

    @property
    def findings(self) -> list[Finding]:
        """The findings as :class:`Finding` objects."""
        return [Finding(**f) for f in self.findings_data]

    @property
    def status(self) -> str:
        """Worst finding status: pass, warn or fail."""
        return self.summary["status"]

    def disagreement(self) -> str | None:
        """What in this document contradicts its own numbers, or None: limits that are not the
        shipped set's with the recorded overrides, findings that are not the ones its statistics and
        recorded limits give (:meth:`derived_findings`; one whose status its own value and limits
        do not give is named so), an outcome its findings do not give. A finding judged by a rule
        that is not a threshold (an undefined correlation, never a pass) is judged by that rule."""
        findings = self.findings
        problem = self._unshipped_limits() or self._underived(findings)
        given = self.summary_from(findings)
        if problem is None and self.summary != given:
            wrong = [f"{key} {self.summary.get(key)!r} where its findings give {given.get(key)!r}"
                     for key in sorted(set(given) | set(self.summary)) if self.summary.get(key) != given.get(key)]
            problem = "its outcome says " + ", ".join(wrong)
        return problem

    def summary_from(self, findings: list[Finding]) -> dict:
        """The summary these findings give (a single run's: :func:`~simreport.findings.summary_of`)."""
        return summary_of(findings)

    def derived_findings(self) -> list[Finding]:
        """The findings this document's own statistics and recorded limits give (how the test
        judged them when it wrote the file)."""
        raise NotImplementedError

    def _unshipped_limits(self) -> str | None:
        """When the limits came from the threshold set shipped with this simreport (its SHA-256
        recorded), whether the recorded limits are that set's with the recorded overrides on top;
        None when they are, or when the set is not at hand (a set file of the writer's)."""
        from simreport.threshold_set import default_set

        recorded = self.parameters.get("threshold_set") or {}
        shipped = default_set()
        if recorded.get("sha256") != shipped.sha256:
            return None
        try:
            given = merge_thresholds(recorded.get("overrides") or {}, self.CHECKS,
                                     base=shipped.numbers(list(self.CHECKS)))
        except (ValueError, TypeError, AttributeError) as exc:
            return f"its recorded threshold overrides are not valid ({exc})"
        limits = self.parameters.get("thresholds") or {}
        for check_id, levels in given.items():
            for level, value in levels.items():
                said = (limits.get(check_id) or {}).get(level)
                if said != value:
                    return (f"its limit {check_id}.{level} is {_short(said)}, where the shipped threshold set "
                            f"({shipped.name} {shipped.version}) with the overrides it records gives {_short(value)}")
        extra = sorted(set(limits) - set(given))
        return f"it records limits for unknown checks {', '.join(extra)}" if extra else None

    def _underived(self, findings: list[Finding]) -> str | None:
        """Where the findings differ from :meth:`derived_findings`, or None. The wording of the
        texts is compared only in a file written by this version of simreport (another version
        may word them otherwise); the judgement is compared in every file."""
        try:
            derived = self.derived_findings()
        except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError) as exc:
            return f"its findings cannot be derived again from its statistics and limits ({type(exc).__name__}: {exc})"
        ids, derived_ids = [f.id for f in findings], [f.id for f in derived]
        if ids != derived_ids:
            return f"its findings are {', '.join(ids)}, where its statistics give {', '.join(derived_ids)}"
        same_version = (self.tool or {}).get("version") == __version__
        for said, given in zip(findings, derived, strict=True):
            for name in JUDGED_FIELDS + (WORDED_FIELDS if same_version else ()):
                if getattr(said, name) != getattr(given, name):  # named by its own numbers when they disagree
                    return misjudged(said) or (f"finding {said.id} has {name} {_short(getattr(said, name))}, where "
                                               f"its statistics and limits give {_short(getattr(given, name))}")
        return None

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
    def check_kind(cls, kind: object) -> None:
        """Raise ValueError when a JSON's ``kind`` is not this document type's."""
        raise NotImplementedError

    @classmethod
    def from_dict(cls, data: dict):
        """The document from its JSON data; ValueError names what is missing or unsupported."""
        cls.check_kind(data.get("kind"))
        version = str(data.get("schema_version", ""))
        if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
            raise ValueError(f"{cls.NOUN} schema version {version or '(missing)'} is not supported "
                             f"(this simreport reads {SCHEMA_VERSION})")
        data = dict(data)
        data["findings_data"] = data.pop("findings")
        known = {f.name for f in fields(cls)}
        missing = sorted(known - set(data) - cls.OPTIONAL)
        if missing:
            raise ValueError(f"{cls.NOUN} file lacks {', '.join(missing)}")
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def from_json(cls, text: str):
        return cls.from_dict(json.loads(text))

    def to_html(self, path: str | Path | None = None, **options) -> str:
        """Render the HTML report; write it to ``path`` when given. Returns the HTML."""
        html = _renderer("html")(self, **options)
        if path is not None:
            write_atomic(Path(path), html.encode("utf-8"))
        return html

    def to_pdf(self, path: str | Path, **options) -> None:
        """Render the PDF report to ``path``."""
        write_atomic(Path(path), _renderer("pdf")(self, **options))

    def metrics(self) -> dict[str, float]:
        """Every scalar statistic and finding as one flat dict of numbers (see
        :func:`simreport.frames.result_metrics`); a comparison adds ``a.``/``b.`` per model."""
        from simreport.frames import metrics_of

        return metrics_of(self.to_dict())

    def findings_frame(self):
        """The findings as a pandas DataFrame (one row per check)."""
        from simreport.frames import findings_frame

        return findings_frame(self.to_dict())

    def pairs_frame(self, which: str | None = None):
        """The listed pairs as a pandas DataFrame (``which``: one list only)."""
        from simreport.frames import pairs_frame

        return pairs_frame(self.to_dict(), which)

    def threshold_frame(self):
        """Pairs and records at or above each similarity threshold, as a pandas DataFrame."""
        from simreport.frames import threshold_frame

        return threshold_frame(self.to_dict())

    def log_to_mlflow(self, run_id: str | None = None, **options) -> str:
        """Log metrics, parameters, tags and the JSON/HTML/PDF to MLflow; returns the run ID
        (see :func:`simreport.integrations.mlflow.log_to_mlflow`)."""
        from simreport.integrations.mlflow import log_to_mlflow

        return log_to_mlflow(self, run_id, **options)

    def _repr_html_(self) -> str:
        return _renderer("html")(self, fragment=True)


@dataclass
class Result(ReportDocument):
    """One run of the cosine-similarity test: numbers, findings, heatmap and provenance."""

    ID_PREFIX: ClassVar[str] = "SR"
    CHECKS: ClassVar[dict] = CHECKS
    NOUN: ClassVar[str] = "results"
    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"overview", "clusters", "report", "configuration", "model",
                                                    "timings", "extra", "schema_version", "duplicate_texts"})

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
    duplicate_texts: dict | None = None  # repeated texts (None when the texts are unknown)
    report: dict | None = None
    configuration: dict | None = None
    model: dict | None = None  # the embedding model, its fingerprint and settings (texts embedded by a model)
    timings: dict | None = None
    schema_version: str = SCHEMA_VERSION
    extra: dict = field(default_factory=dict)

    @classmethod
    def check_kind(cls, kind: object) -> None:
        if kind not in (None, "simreport-result"):
            raise ValueError(f"this is a {kind} file, not the results of a single run")

    def derived_findings(self) -> list[Finding]:
        """The findings :func:`~simreport.findings.evaluate` gives from this run's statistics and
        the limits it recorded (``parameters.thresholds``)."""
        stats = self.stats
        return evaluate({"n": self.input["n"], "pairs": stats["pairs"], "mean": stats["mean"], "std": stats["std"],
                         "near_duplicates": self.near_duplicates, "nearest_neighbour": self.nearest_neighbour,
                         "opposed": self.opposed, "identical_rows": self.identical_rows,
                         "duplicate_texts": self.duplicate_texts}, self.parameters["thresholds"])

    def attach_model(self, block: dict, seconds: float) -> None:
        """Record the model that embedded the texts (its block) and the embedding time."""
        self.model = block
        if isinstance(self.report, dict) and not self.report.get("model"):
            self.report["model"] = block["name"]  # the cover names the model under test
        if reproducible():
            return
        seconds = round(seconds, 3)
        if self.timings is not None:
            self.timings = {"embed": seconds, **self.timings}
        if self.duration_seconds is not None:
            self.duration_seconds = round(self.duration_seconds + seconds, 3)


# Versions that recorded a comparison none of whose own checks could be assessed with own_status
# "pass" (0.1.2 on: "na"). Their files are read as written, not taken for edited ones.
WROTE_PASS_FOR_NOTHING_JUDGED = frozenset({"0.1.0", "0.1.1"})


@dataclass
class Comparison(ReportDocument):
    """Two models on the same records: both results, their agreement and the comparison's findings."""

    ID_PREFIX: ClassVar[str] = "SC"
    CHECKS: ClassVar[dict] = COMPARE_CHECKS
    NOUN: ClassVar[str] = "comparison"
    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"timings", "kind", "schema_version", "report"})

    tool: dict
    environment: dict
    title: str
    names: list[str]
    input: dict
    results: list[dict]  # the two models' full results (Result.to_dict()); the second's heatmap in the first's order
    agreement: dict
    parameters: dict
    findings_data: list
    summary: dict
    created: str
    duration_seconds: float | None
    timings: dict | None = None
    report: dict | None = None  # cover fields, sign-off and actions (as a single run's report block)
    kind: str = COMPARISON_KIND
    schema_version: str = SCHEMA_VERSION

    @property
    def a(self) -> Result:
        """The first model's result."""
        return Result.from_dict(self.results[0])

    def disagreement(self) -> str | None:
        """As for a single run, for each model's results and then for the comparison's outcome
        (its own findings' counts and the worst of theirs and the models' outcomes)."""
        for name, result in zip(self.names, (self.a, self.b), strict=True):
            problem = result.disagreement()
            if problem is not None:
                return f"{name}: {problem}"
        return super().disagreement()

    def summary_from(self, findings: list[Finding]) -> dict:
        given = comparison_summary(findings, [self.a.status, self.b.status])
        if given["own_status"] == "na" and (self.tool or {}).get("version") in WROTE_PASS_FOR_NOTHING_JUDGED:
            given["own_status"] = "pass"  # how those versions recorded it; the findings themselves say "na"
        return given

    def derived_findings(self) -> list[Finding]:
        """The comparison's findings :func:`~simreport.findings.evaluate_comparison` gives from the
        two models' results, the agreement and the limits it recorded."""
        return evaluate_comparison(self.results[0], self.results[1], list(self.names), self.agreement,
                                   self.parameters["thresholds"])

    @property
    def b(self) -> Result:
        """The second model's result (its heatmap drawn in the first model's record order)."""
        return Result.from_dict(self.results[1])

    @property
    def correlation(self) -> float | None:
        return self.agreement["correlation"]["pearson"]

    @classmethod
    def check_kind(cls, kind: object) -> None:
        if kind != COMPARISON_KIND:
            raise ValueError("not a simreport comparison (the results of a single run are read with load_result)")


def document_from_dict(data: object) -> ReportDocument:
    """A single run's Result or a Comparison, by the JSON's ``kind``."""
    if not isinstance(data, dict):
        raise ValueError("the JSON is not a simreport results object")
    if data.get("kind") == COMPARISON_KIND:
        return Comparison.from_dict(data)
    return Result.from_dict(data)


def checked_document(data: object, source: str) -> ReportDocument:
    """The document of JSON data read from a file: checked against the shipped JSON Schema
    (:class:`~simreport.schema.SchemaViolation` names the key path of the first violation),
    then against what a schema cannot say: every judged finding has the status its own value
    and limits give, and the outcome is the one the findings give (a file edited to read
    better than its numbers is refused, with a SchemaViolation naming what disagrees)."""
    from simreport.schema import SchemaViolation, validate_document

    validate_document(data, source)
    document = document_from_dict(data)
    problem = document.disagreement()
    if problem is not None:
        raise SchemaViolation(f"{source}: {problem}; simreport writes both from the same numbers, so the "
                              "file was changed after it was written")
    return document


def load_document(path: str | Path) -> ReportDocument:
    """Read a JSON written by simreport (a single run's results or a comparison), checked by
    :func:`checked_document`."""
    from simreport.schema import parse_json

    path = Path(path)
    try:
        data = parse_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: results file not found") from None
    return checked_document(data, str(path))


def load_result(path: str | Path) -> Result:
    """Read a results JSON file written by simreport."""
    path = Path(path)
    try:
        return Result.from_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: results file not found") from None
