"""Check a simreport PDF against the evidence inside it (``simreport verify``).

The PDF carries the results JSON as an attached file. Its SHA-256 gives the report ID,
which is also printed on every page and stored in the PDF's metadata; an attachment
that was changed after rendering no longer matches. When the input file is given, its
SHA-256 is compared with the one the results record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from simreport.errors import InputError, VerifyError
from simreport.inputs import file_sha256
from simreport.render.pdf import RESULTS_ATTACHMENT
from simreport.results import Result, document_from_dict, report_id_of


@dataclass
class Verification:
    """What the report claims and which checks passed."""

    claims: list[tuple[str, str]] = field(default_factory=list)
    checks: list[tuple[str, bool, str]] = field(default_factory=list)  # (name, passed, detail)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(ok for _, ok, _ in self.checks)


def read_attachments(path: Path) -> tuple[dict[str, bytes], dict[str, str], str]:
    """(attachments by name, document info, text of page 1) of a PDF."""
    import subprocess

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        attachments = {name: contents[0] for name, contents in reader.attachments.items() if contents}
        info = {str(k).lstrip("/"): str(v) for k, v in (reader.metadata or {}).items()}
    except FileNotFoundError:
        raise VerifyError(f"{path}: file not found; give the path of a simreport PDF.", file=str(path)) from None
    except (PdfReadError, OSError, ValueError) as exc:
        raise VerifyError(f"{path}: not a readable PDF ({exc}); give a PDF written by simreport.",
                          file=str(path)) from None
    try:
        first_page = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(path), "-"], capture_output=True,
                                    text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        first_page = reader.pages[0].extract_text().replace("\x00", "") if reader.pages else ""
    return attachments, info, first_page


def verify_report(pdf: Path, input_file: Path | None = None) -> Verification:
    """Extract the results from a report PDF and check them (and the input, when given)."""
    attachments, info, first_page = read_attachments(pdf)
    outcome = Verification()
    if RESULTS_ATTACHMENT not in attachments:
        raise VerifyError(f"{pdf}: no {RESULTS_ATTACHMENT} attached; this PDF was not written by simreport "
                         "(or its attachment was removed).", file=str(pdf))
    raw = attachments[RESULTS_ATTACHMENT]
    try:
        document = document_from_dict(json.loads(raw.decode("utf-8")))
        problem = None
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError, TypeError, KeyError) as exc:
        document, problem = None, str(exc)
    computed_id = report_id_of(raw, document.ID_PREFIX if document is not None else "SR")
    stated_id = info.get("simreportreportid", "")
    outcome.checks.append(("report ID in the PDF metadata matches the attached results", computed_id == stated_id,
                           f"attachment gives {computed_id}, metadata says {stated_id or '(none)'}"))
    compact_page = "".join(first_page.split())
    outcome.checks.append(("report ID printed on page 1 matches the attached results",
                           computed_id in compact_page, f"looked for {computed_id} on page 1"))
    if document is None:
        outcome.checks.append(("attached results are readable simreport JSON", False, problem))
        return outcome
    outcome.checks.append(("attached results are readable simreport JSON", True,
                           f"schema {document.schema_version}"))
    outcome.claims = _claims(document, computed_id)
    if "input-fingerprint.json" in attachments:
        try:
            fingerprint = json.loads(attachments["input-fingerprint.json"])
            same = all(fingerprint.get(key) == document.input.get(key) for key in ("path", "n"))
            if isinstance(document, Result):
                same = same and fingerprint.get("array_sha256") == document.input["array_sha256"]
        except (json.JSONDecodeError, AttributeError):
            same = False
        outcome.checks.append(("attached input fingerprint agrees with the results", same, "input-fingerprint.json"))
    if input_file is not None:
        if not input_file.is_file():
            raise InputError(f"{input_file}: input file not found; give the embedding file the report was made from.",
                             file=str(input_file))
        actual = file_sha256(input_file)
        recorded = _input_hashes(document)
        outcome.checks.append((f"SHA-256 of {input_file.name} matches the report", actual in recorded,
                               f"file {actual}, report {' / '.join(h or '(none)' for h in recorded)}"))
    return outcome


def _input_hashes(document) -> list[str | None]:
    """The input-file SHA-256 values a document records (one per model for a comparison)."""
    if isinstance(document, Result):
        return [document.input.get("sha256")]
    return [Result.from_dict(r).input.get("sha256") for r in document.results]


def _claims(document, report_id: str) -> list[tuple[str, str]]:
    """What the document states, for the reader of ``simreport verify``."""
    counts = document.summary["counts"]
    outcome = f"{document.status} ({counts['pass']} passed, {counts['warn']} warnings, {counts['fail']} failed)"
    findings = [(f"Finding {f.id}", f"{f.status}: {f.message}") for f in document.findings]
    if not isinstance(document, Result):
        return [("Report ID", report_id), ("Title", document.title),
                ("Models", " vs ".join(document.names)),
                ("Input", f"{document.input['path']}: {document.input['n']:,} records"),
                ("Created", document.created), ("Tool", f"{document.tool['name']} {document.tool['version']}"),
                ("Outcome", outcome)] + findings
    result = document
    info_block = result.report or {}
    return [
        ("Report ID", report_id),
        ("Title", result.parameters.get("title", "")),
        ("Model", " ".join(v for v in (info_block.get("model"), info_block.get("model_version")) if v)
         or "not stated"),
        ("Dataset", info_block.get("dataset") or "not stated"),
        ("Input", f"{result.input['path']}: {result.input['n']:,} records x {result.input['dim']} dimensions"),
        ("Input SHA-256", result.input.get("sha256") or "(in-memory array)"),
        ("Array SHA-256", result.input["array_sha256"]),
        ("Created", result.created),
        ("Tool", f"{result.tool['name']} {result.tool['version']}"),
        ("Outcome", outcome),
    ] + findings
