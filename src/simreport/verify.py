"""Check a simreport PDF against the evidence inside it (``simreport verify``).

What is checked, and what each check establishes:

* the results JSON attached to the PDF follows the shipped schema, and its SHA-256 gives
  the report ID printed on page 1 and stored in the metadata;
* nothing was appended after the document was written (no incremental update, except
  the one revision that holds a signature), and the PDF is exactly what the attached
  results render to with this simreport (same page count, same pages, byte for byte);
* the other attachments (labels, input fingerprint) agree with the results, no other file is
  attached, and none is attached twice under one name (verify reads the first; a viewer may
  show another);
* a signature, when there is one: cryptographically intact, covering the whole file,
  its signer and signing time, and whether the signer chains to a trusted certificate;
* with INPUT: the input file's SHA-256, and the whole test re-run on INPUT with the
  parameters recorded in the results, every statistic, count, pair and finding compared;
* a comparison of two embedding files, given both (A then B, as compare took them): each
  file's SHA-256 against its own side, and the comparison re-run (both models' tests, the
  agreement pass, the comparison's findings and outcome), compared by the same function;
* texts embedded by a model, given the file of texts: the texts embedded again with the
  recorded model (found on this machine, its fingerprint checked; never downloaded) and the
  test re-run. New vectors that are not bit for bit the report's are compared with the
  report's own (the run's embeddings cache) within :data:`EMBEDDING_TOLERANCE`, or, without
  them, the numbers are compared within what that tolerance allows, and the notes say which.

Without a signature, anybody with simreport can write a PDF that passes every check;
without INPUT, nothing ties the numbers to any data. :attr:`Verification.notes` says so.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from simreport.errors import InputError
from simreport.render.pdf import RESULTS_ATTACHMENT
from simreport.results import COMPARISON_KIND, Comparison, Result, checked_document, report_id_of

EOF_MARKER = re.compile(rb"%%EOF[ \t]*(\r\n|\r|\n)?")
# the order in which simreport attaches files after the results (cli._data_attachments)
ATTACHMENT_ORDER = ("labels.txt", "input-fingerprint.json")
# results keys compared after a recomputation (of the model block, MODEL_KEYS); the rest (tool,
# environment, created, timings, configuration, extra) describe the run, not the data
RECOMPUTED_KEYS = ("input", "model", "parameters", "stats", "near_duplicates", "most_similar", "opposed",
                   "nearest_neighbour", "identical_rows", "findings", "summary", "heatmap", "overview", "clusters",
                   "report")
# a comparison's keys compared after a recomputation (each model's result as above)
COMPARISON_KEYS = ("title", "names", "input", "results", "agreement", "parameters", "findings", "summary", "report")
IGNORED_PARAMETERS = ("runner", "workers", "scheduler", "tile_size", "device", "precision")
DEFAULT_SET_FILE = "simreport-default.toml"
PICTURE_KEYS = ("heatmap", "overview", "clusters")
# what must agree in the model block of a re-embedded run (not where the model lay, nor the device or libraries)
MODEL_KEYS = ("kind", "fingerprint", "dim", "texts", "texts_sha256", "settings")
# re-embedded vectors that are not bit for bit the report's must be within this of them, per component
EMBEDDING_TOLERANCE = 1e-5
IGNORED_PATHS = ("stats.engine",)  # which engine and device ran the pass, not what it found


@dataclass
class Verification:
    """What the report claims, which checks passed, and what could not be established."""

    claims: list[tuple[str, str]] = field(default_factory=list)
    checks: list[tuple[str, bool, str]] = field(default_factory=list)  # (name, passed, detail)
    notes: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(ok for _, ok, _ in self.checks)

    def check(self, name: str, ok: bool, detail: str) -> bool:
        self.checks.append((name, bool(ok), detail))
        return bool(ok)


@dataclass
class PdfEvidence:
    """What verify reads from the PDF file (once, from one read of its bytes)."""

    data: bytes
    attachments: dict[str, bytes]
    attachment_names: list[str]  # every embedded file's name, in the file's order (a name twice: twice)
    info: dict[str, str]
    first_page: str
    pages: int
    revisions: list[int]  # byte offsets just after each %%EOF marker
    variant: str


def read_pdf(path: Path) -> PdfEvidence:
    """Read a PDF's bytes, attachments, metadata, page-1 text and revision ends."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: file not found; give the path of a simreport PDF.") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder; give the path of a simreport PDF.") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file ({exc.strerror or exc}).") from None
    if not data.startswith(b"%PDF-"):
        raise InputError(f"{path}: not a PDF (no %PDF header); give a PDF written by simreport.")
    try:
        reader = PdfReader(io.BytesIO(data))
        embedded = reader.attachments
        attachments = {name: contents[0] for name, contents in embedded.items() if contents}
        names = [name for name, contents in embedded.items() for _ in contents]  # a name twice: listed twice
        info = {str(k).lstrip("/"): str(v) for k, v in (reader.metadata or {}).items()}
        pages = len(reader.pages)
        first_page = _page_text(data, reader)
        variant = _variant(reader)
    except (PdfReadError, OSError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError) as exc:
        raise InputError(f"{path}: not a readable PDF ({str(exc)[:120]}); give a PDF written by simreport.") from None
    revisions = [m.end() for m in EOF_MARKER.finditer(data)]
    return PdfEvidence(data, attachments, names, info, first_page, pages, revisions, variant)


def _page_text(data: bytes, reader) -> str:
    import subprocess

    try:
        return subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-", "-"], input=data, capture_output=True,
                              check=True, timeout=60).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.SubprocessError):
        return reader.pages[0].extract_text().replace("\x00", "") if reader.pages else ""


def _variant(reader) -> str:
    """The PDF variant WeasyPrint was asked for, from the XMP metadata (pdf/a-3b, ..., none)."""
    try:
        root = reader.trailer["/Root"]
        xmp = root["/Metadata"].get_object().get_data().decode("utf-8", "replace") if "/Metadata" in root else ""
    except (KeyError, AttributeError, ValueError):
        xmp = ""
    part = re.search(r"pdfaid:part[^0-9]{0,3}(\d)", xmp)
    level = re.search(r"pdfaid:conformance[^A-Za-z]{0,3}([A-Za-z])", xmp)
    if part and level:
        return f"pdf/a-{part.group(1)}{level.group(1).lower()}"
    if re.search(r"pdfuaid:part", xmp):
        return "pdf/ua-1"
    return "none"


def verify_report(pdf: Path, input_file: Path | Sequence[Path] | None = None, *, trust: list[Path] | None = None,
                  templates: Path | None = None, labels_file: Path | None = None, key: str | None = None,
                  vector_column: str | None = None, label_column: str | None = None,
                  text_column: str | None = None, models: Sequence[str] | None = None,
                  embeddings: Sequence[Path] | None = None) -> Verification:
    """Check a report PDF: its own consistency, its signature (if any) and, given the input
    file(s), the recomputed results. ``input_file``: one path (a single run's input, or either
    input of a comparison, whose hash alone is then checked) or both inputs of a comparison of
    two embedding files, in the order ``compare`` was given them.

    Texts embedded by a model are embedded again with the recorded model (``models``: where it
    lies when not where the report says; ``text_column`` when the report does not say which
    column held the texts; ``embeddings``: the run's embeddings cache, used when re-embedding is
    not bit for bit). See the module's description."""
    inputs = _input_list(input_file)
    evidence = read_pdf(pdf)
    outcome = Verification()
    if RESULTS_ATTACHMENT not in evidence.attachments:
        raise InputError(f"{pdf}: no {RESULTS_ATTACHMENT} attached; this PDF was not written by simreport "
                         "(or its attachment was removed).")
    raw = evidence.attachments[RESULTS_ATTACHMENT]
    document, problem = _document(raw)
    computed_id = report_id_of(raw, document.ID_PREFIX if document is not None else "SR")
    stated_id = evidence.info.get("simreportreportid", "")
    outcome.check("report ID in the PDF metadata matches the attached results", computed_id == stated_id,
                  f"attachment gives {computed_id}, metadata says {stated_id or '(none)'}")
    outcome.check("report ID printed on page 1 matches the attached results",
                  computed_id in "".join(evidence.first_page.split()), f"looked for {computed_id} on page 1")
    if not outcome.check("attached results follow the simreport schema", document is not None,
                         problem or f"schema {document.schema_version}"):
        return outcome
    outcome.claims = _claims(document, computed_id)
    _check_input_count(document, inputs)
    signed_end = _signatures(evidence, outcome, trust or [])
    _revisions(evidence, outcome, signed_end)
    _attachments(evidence, document, outcome)
    if outcome.passed:
        _rendering(evidence, document, outcome, templates, signed_end)
    else:
        outcome.notes.append("The PDF was not compared with a fresh rendering of its results: earlier checks "
                             "failed already.")
    if inputs:
        _input_checks(document, evidence, inputs, outcome, labels_file=labels_file, key=key,
                      vector_column=vector_column, label_column=label_column, text_column=text_column,
                      models=list(models or ()), embeddings=list(embeddings or ()), pdf=pdf)
    else:
        outcome.notes.append("Without INPUT, verify cannot establish that these numbers were computed from any "
                             "particular data, only that the PDF, its pages and its attached results agree with "
                             "each other. Give the input file to re-run the test and compare every number.")
    return outcome


def _document(raw: bytes):
    """(document, None) or (None, why it is not a valid simreport document)."""
    from simreport.schema import SchemaViolation, parse_json

    try:
        data = parse_json(raw.decode("utf-8"))
        return checked_document(data, RESULTS_ATTACHMENT), None
    except SchemaViolation as exc:
        return None, str(exc).removeprefix(f"{RESULTS_ATTACHMENT}: ").split("; the file does not follow")[0]
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError, TypeError, KeyError, RecursionError) as exc:
        return None, f"not readable simreport JSON ({str(exc)[:120]})"


def _signatures(evidence: PdfEvidence, outcome: Verification, trust: list[Path]) -> int | None:
    """Signature checks; the byte offset where the signed revision began (None if unsigned)."""
    from simreport.signing import SigningUnavailable, check_signatures

    try:
        found = check_signatures(evidence.data, trust)
    except SigningUnavailable as exc:
        if b"/ByteRange" in evidence.data:
            outcome.check("signature checked", False, str(exc))
        else:
            outcome.notes.append(_UNSIGNED)
        return None
    if not found:
        outcome.notes.append(_UNSIGNED)
        if trust:
            outcome.check("signed by a signer that chains to --trust", False, "the PDF carries no signature")
        return None
    if len(found) > 1:
        outcome.check("one signature, by simreport --sign", False, f"{len(found)} signatures")
    sig = found[-1]
    outcome.claims += [("Signed by", sig.signer), ("Signer certificate issued by", sig.issuer),
                       ("Signing time (signer's clock)", sig.signing_time)]
    outcome.check("signature is cryptographically intact and valid", sig.intact and sig.valid, sig.detail)
    outcome.check("signature covers the whole file", sig.whole_file, sig.coverage)
    if sig.self_signed:
        outcome.claims.append(("Signer certificate", "self-signed (identity not vouched for by anyone)"))
    if trust:
        outcome.check("signer chains to a certificate given with --trust", sig.trusted,
                      "trusted" if sig.trusted else f"not trusted: {sig.trust_detail}")
    else:
        outcome.notes.append("The signer's identity is not anchored: give --trust CA.pem (your institution's "
                             "certificate authority) to check who signed." +
                             (" The signer's certificate is self-signed." if sig.self_signed else ""))
    return sig.signed_from


_UNSIGNED = ("The PDF is not signed: anybody with simreport can write a PDF that passes these checks; only a "
             "signature (simreport run --sign) ties the document to a signer.")


def _revisions(evidence: PdfEvidence, outcome: Verification, signed_from: int | None) -> None:
    data, ends = evidence.data, evidence.revisions
    trailing = data[ends[-1]:].strip() if ends else data
    expected = 1 if signed_from is None else 2
    if signed_from is not None and len(ends) >= 1 and ends[0] != signed_from:
        expected = len(ends) + 1  # the signature does not start right after the document: fail below
    ok = len(ends) == expected and not trailing
    detail = (f"{len(ends)} revision(s), " + ("nothing after the end" if not trailing
                                               else f"{len(trailing)} bytes after the last %%EOF"))
    if signed_from is not None:
        detail += "; the second revision holds the signature"
    outcome.check("nothing was appended after simreport wrote the document (no incremental update)", ok, detail)


def _attachments(evidence: PdfEvidence, document, outcome: Verification) -> None:
    attachments = evidence.attachments
    unknown = [name for name in attachments if name not in (RESULTS_ATTACHMENT, *ATTACHMENT_ORDER)]
    if unknown:
        outcome.check("no attachments besides simreport's own", False, ", ".join(unknown))
    names = evidence.attachment_names
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:  # only the first of each was read: a viewer may show another
        outcome.check("every attachment is embedded once", False,
                      "; ".join(f"{name} {names.count(name)} times (the first was checked)" for name in repeated))
    if "input-fingerprint.json" in attachments:
        try:
            fingerprint = json.loads(attachments["input-fingerprint.json"])
            keys = ("path", "sha256", "array_sha256", "n", "dim", "dtype")
            same = isinstance(fingerprint, dict) and all(fingerprint.get(k) == document.input.get(k) for k in keys
                                                         if k in fingerprint or k in document.input)
        except (json.JSONDecodeError, UnicodeDecodeError):
            same = False
        outcome.check("attached input fingerprint agrees with the results", same, "input-fingerprint.json")
    if "labels.txt" in attachments:
        recorded = document.input.get("labels_sha256") if isinstance(document, Result) else None
        if recorded is None:
            outcome.notes.append("labels.txt is attached but the results record no labels hash (written by an "
                                 "older simreport): the labels are not checked.")
        else:
            import hashlib

            actual = hashlib.sha256(attachments["labels.txt"]).hexdigest()
            outcome.check("attached labels are the ones the results were computed with", actual == recorded,
                          f"labels.txt {actual[:16]}..., results {recorded[:16]}...")


def _rendering(evidence: PdfEvidence, document, outcome: Verification, templates: Path | None,
               signed_from: int | None) -> None:
    """Compare the PDF (before any signature) with a fresh rendering of its attached results."""
    from simreport import __version__

    written_by = document.tool.get("version")
    recorded_templates = ((getattr(document, "configuration", None) or {}).get("render") or {}).get("templates")
    if written_by != __version__:
        outcome.notes.append(f"The pages were not compared with a fresh rendering: the PDF was written by "
                             f"simreport {written_by} and this is {__version__}.")
        return
    if recorded_templates and templates is None:
        outcome.notes.append(f"The pages were not compared with a fresh rendering: the report was rendered with "
                             f"the templates in {recorded_templates}; give them with --templates.")
        return
    from simreport.render.pdf import render_pdf

    extra = {name: evidence.attachments[name] for name in ATTACHMENT_ORDER if name in evidence.attachments}
    fresh = render_pdf(document, templates, evidence.variant, extra or None)
    original = evidence.data[:signed_from] if signed_from is not None else evidence.data
    if original == fresh:
        outcome.check("the PDF is exactly what its attached results render to (same pages, byte for byte)", True,
                      f"{evidence.pages} pages, {evidence.variant}")
        return
    mine, theirs = page_fingerprints(original), page_fingerprints(fresh)
    if len(mine) != len(theirs):
        outcome.check("page count matches what simreport wrote", False,
                      f"the PDF has {len(mine)} pages; its attached results render to {len(theirs)}")
        return
    outcome.check("page count matches what simreport wrote", True, f"{len(mine)} pages")
    page = next((k for k, (x, y) in enumerate(zip(mine, theirs, strict=True), start=1) if x != y), None)
    if page is None:
        outcome.check("every page is what its attached results render to (content, drawings and images)", True,
                      f"{len(mine)} pages; the file differs from a fresh rendering outside the pages")
        outcome.notes.append("The pages were compared as content streams and images; fonts and document-level "
                             "metadata were not.")
        return
    outcome.check("every page is what its attached results render to (content, drawings and images)", False,
                  f"page {page} differs from a fresh rendering of the attached results (an overlay or an edit; "
                  "fonts or a WeasyPrint version other than the writer's change the rendering too)")


def page_fingerprints(pdf: bytes) -> list[str]:
    """One SHA-256 per page over its content stream and, recursively, the streams of the
    form XObjects and images it draws (by resource name)."""
    import hashlib

    from pypdf import PdfReader

    def feed(digest, resources, seen: set, depth: int) -> None:
        if depth > 8 or resources is None:
            return
        xobjects = resources.get_object().get("/XObject") if hasattr(resources, "get_object") else None
        if xobjects is None:
            return
        xobjects = xobjects.get_object()
        for name in sorted(xobjects):
            ref = xobjects.raw_get(name)
            ident = getattr(ref, "idnum", None)
            if ident is not None and ident in seen:
                continue
            seen.add(ident)
            stream = xobjects[name].get_object()
            digest.update(str(name).encode())
            digest.update(stream.get_data())
            feed(digest, stream.get("/Resources"), seen, depth + 1)

    out = []
    try:
        for page in PdfReader(io.BytesIO(pdf)).pages:
            digest = hashlib.sha256()
            contents = page.get_contents()
            digest.update(contents.get_data() if contents is not None else b"")
            feed(digest, page.get("/Resources"), set(), 0)
            out.append(digest.hexdigest())
    except Exception as exc:
        out.append(f"unreadable: {exc}")
    return out


def _input_list(given: Path | Sequence[Path] | None) -> list[Path]:
    if given is None:
        return []
    if isinstance(given, (str, Path)):
        return [Path(given)]
    return [Path(p) for p in given]


def _input_checks(document, evidence: PdfEvidence, inputs: list[Path], outcome: Verification, **read) -> None:
    for input_file in inputs:
        if not input_file.is_file():
            raise InputError(f"{input_file}: input file not found; give the embedding file the report was made from.")
    if isinstance(document, Comparison):
        _comparison_checks(document, evidence, inputs, outcome, read)
        return
    input_file = inputs[0]
    recorded = _input_hashes(document)
    if document.model is not None:
        side = _reembed(document, evidence, input_file, read, outcome, 0, {})
        data, label_note = side.data, side.label_note
        what = f"{input_file.name} (its texts embedded again by {side.model_name})"
    else:
        data, label_note = _read_side(document, evidence, input_file, read)
        side, what = None, input_file.name
    outcome.check(f"SHA-256 of {input_file.name} matches the report", data.file_sha256 in recorded,
                  f"file {data.file_sha256}, report {' / '.join(h or '(none)' for h in recorded)}")
    if side is not None and side.check is not None:
        outcome.check(*side.check)
    if label_note:
        outcome.notes.append(label_note)
    fresh = _recompute(document, data)
    if side is not None:
        fresh.attach_model(side.block, 0.0)
    tolerance = side.tolerance if side is not None else None
    _record_differences(outcome, compare_results(document.to_dict(), fresh.to_dict(), labels=not label_note,
                                                 tolerance=tolerance),
                        f"re-running the test on {what} gives every statistic, count, pair and finding "
                        "of the report", tolerance)


def evidence_name(inputs: list[Path]) -> str:
    return " ".join(str(p) for p in inputs)


def _check_input_count(document, inputs: list[Path]) -> None:
    """Before any long check: one INPUT for a single run; one or two for a comparison (one file of
    texts when its models embedded them)."""
    if not inputs:
        return
    if isinstance(document, Result) and len(inputs) != 1:
        raise InputError(f"{evidence_name(inputs)}: a single run's report is checked against one INPUT, the file it "
                         "was made from; two inputs are for a comparison report.")
    if isinstance(document, Comparison):
        embedded = any(r.get("model") is not None for r in document.results)
        if embedded and len(inputs) != 1:
            raise InputError(f"{evidence_name(inputs)}: this comparison embedded one file of texts with two models; "
                             "give that one file.")
        if len(inputs) > 2:
            raise InputError(f"{evidence_name(inputs)}: a comparison is checked against its two inputs (A then B, as "
                             f"they were given to compare); got {len(inputs)}.")


def _read_side(result: Result, evidence: PdfEvidence, input_file: Path, read: dict):
    """One embedding file read as the run read it (labels as recorded); (embeddings, note on labels or None)."""
    from simreport.inputs import check_labels, load_embeddings

    label_column, labels_file, attached, label_note = _label_source(result, evidence, read)
    data = load_embeddings(input_file, key=read.get("key"), vector_column=read.get("vector_column"),
                           label_column=label_column, labels_file=labels_file)
    if attached is not None:
        data.labels = check_labels(attached, data.n, "labels.txt attached to the PDF")
    if attached is not None or labels_file is not None or label_note:
        data.label_source = result.input.get("labels", data.label_source)
    return data, label_note


def _record_differences(outcome: Verification, differences: list[str], name: str,
                        tolerance: float | None = None) -> None:
    """The recomputation check: passes when the recomputed document differs in nothing. The
    differences are kept in the file's order, except that an outcome that differs
    (``summary.status``, a comparison's and each model's) comes first: it is what a reader acts on."""
    differences = sorted(differences, key=lambda line: ".summary.status:" not in "." + line)
    outcome.differences = differences
    shown = "; ".join(differences[:3]) + (f"; ... ({len(differences)} differences)" if len(differences) > 3 else "")
    agree = ("all agree (floats to 1e-6 relative, pictures to 1e-3)" if tolerance is None else
             f"all agree (floats to {tolerance:.1e} absolute, as re-embedded vectors allow; pictures to 1e-3)")
    outcome.check(name, not differences, shown or agree)


def _comparison_checks(document: Comparison, evidence: PdfEvidence, inputs: list[Path], outcome: Verification,
                       read: dict) -> None:
    """A comparison: both inputs (in compare's order) re-run and compared; one input: its hash only."""
    sides = [Result.from_dict(r) for r in document.results]
    recorded = _input_hashes(document)
    if any(side.model is not None for side in sides):
        _embedded_comparison_checks(document, sides, evidence, inputs[0], outcome, read)
        return
    if len(inputs) == 1:
        from simreport.inputs import file_sha256

        actual = file_sha256(inputs[0])
        outcome.check(f"SHA-256 of {inputs[0].name} matches the report", actual in recorded,
                      f"file {actual}, report {' / '.join(h or '(none)' for h in recorded)}")
        outcome.notes.append(f"The numbers were not recomputed (give both inputs ({document.input.get('path')}, in "
                             "that order) to re-run the comparison); only the input file's hash was checked.")
        return
    data, notes = [], []
    for k, (side, input_file) in enumerate(zip(sides, inputs, strict=True)):
        one, label_note = _read_side(side, evidence, input_file, read)
        data.append(one)
        if label_note and label_note not in notes:
            notes.append(label_note)
        other = [h for j, h in enumerate(recorded) if j != k]
        hint = ("; it is the other input: give the inputs in the order compare was given them"
                if one.file_sha256 in other and one.file_sha256 != recorded[k] else "")
        outcome.check(f"SHA-256 of {input_file.name} matches the report's input of {document.names[k]}",
                      one.file_sha256 == recorded[k], f"file {one.file_sha256}, report {recorded[k] or '(none)'}{hint}")
    outcome.notes += notes
    fresh = _recompare(document, data[0], data[1])
    _record_differences(outcome, compare_results(document.to_dict(), fresh.to_dict(), labels=not notes),
                        f"re-running the test on {inputs[0].name} and {inputs[1].name} gives every statistic, count, "
                        "pair and finding of both models and their agreement")


def _embedded_comparison_checks(document: Comparison, sides: list[Result], evidence: PdfEvidence, input_file: Path,
                                outcome: Verification, read: dict) -> None:
    """A comparison of two models on one file of texts: both embed the texts again, then the comparison is re-run."""
    done: dict = {}
    again = [_reembed(side, evidence, input_file, read, outcome, k, done, document.names[k])
             for k, side in enumerate(sides)]
    recorded = _input_hashes(document)
    digest = again[0].data.file_sha256
    outcome.check(f"SHA-256 of {input_file.name} matches the report", digest in recorded and len(set(recorded)) == 1,
                  f"file {digest}, report {' / '.join(h or '(none)' for h in recorded)}")
    for side in again:
        if side.check is not None:
            outcome.check(*side.check)
    notes = [s.label_note for s in again if s.label_note]
    outcome.notes += list(dict.fromkeys(notes))
    fresh = _recompare(document, again[0].data, again[1].data, [s.block for s in again])
    tolerances = [s.tolerance for s in again if s.tolerance is not None]
    tolerance = max(tolerances) if tolerances else None
    _record_differences(outcome, compare_results(document.to_dict(), fresh.to_dict(), labels=not notes,
                                                 tolerance=tolerance),
                        f"re-running the test on {input_file.name} (its texts embedded again by both models) gives "
                        "every statistic, count, pair and finding of both models and their agreement", tolerance)


@dataclass
class Reembedded:
    """One side's texts embedded again: the embeddings the test is re-run on, and how they compare."""

    data: object  # simreport.inputs.Embeddings
    block: dict  # the fresh model block
    model_name: str
    label_note: str | None
    tolerance: float | None  # None: the numbers are compared as for any report
    check: tuple[str, bool, str] | None = None  # how the new vectors compare with the report's, when known


def _reembed(result: Result, evidence: PdfEvidence, input_file: Path, read: dict, outcome: Verification, slot: int,
             done: dict, side_name: str | None = None) -> Reembedded:
    """Embed the texts of ``input_file`` again with the model the result records (found where the
    report says, or given with --model) and set how the re-run is to be compared: on the same
    vectors bit for bit, on the report's own vectors (the run's embeddings cache, within
    :data:`EMBEDDING_TOLERANCE`), or on the re-embedded vectors within what that tolerance implies."""
    import numpy as np

    from simreport import models

    block = result.model or {}
    given = read.get("models") or []
    encoder = _recorded_model(block, given[slot] if len(given) > slot else (given[0] if len(given) == 1 else None))
    texts, frame, digest = _recorded_texts(result, input_file, read)
    recorded = block.get("settings") or {}
    settings = models.EmbeddingSettings(batch_size=int(recorded.get("batch_size") or 32),
                                        normalize=bool(recorded.get("normalize", True)),
                                        max_length=recorded.get("max_length"))
    key = (encoder.fingerprint, settings, models.texts_sha256(texts))
    if key not in done:
        done[key] = models.embed_texts(texts, encoder, settings, text_source=str(input_file))
    embedded = done[key]
    source = result.input.get("labels", "")
    data = models.embeddings_from_texts(embedded, texts, input_file.name, source, digest)
    label_note = _relabel(data, result, evidence, read, frame, input_file)
    side = f" ({side_name})" if side_name else ""
    name = f"re-embedding the texts of {input_file.name} with {encoder.name}{side} gives the report's vectors"
    out = Reembedded(data, embedded.block, encoder.name, label_note, None)
    recorded_array = result.input.get("array_sha256")
    if data.array_sha256 == recorded_array:
        out.check = (name, True, f"bit for bit (array SHA-256 {recorded_array[:16]}...)")
        return out
    original = _original_vectors(result, read)
    if original is not None:
        same_shape = original.matrix.shape == data.matrix.shape
        largest = float(np.max(np.abs(original.matrix - data.matrix))) if same_shape else float("inf")
        out.check = (name, same_shape and largest <= EMBEDDING_TOLERANCE,
                     f"not bit for bit on this machine; largest difference from the report's own vectors "
                     f"({original.source}) {largest:.1e} per component, tolerance {EMBEDDING_TOLERANCE:g}")
        outcome.notes.append(f"The texts embedded again on this machine are not bit for bit the report's vectors; "
                             f"they were compared with the report's own vectors ({original.source}, whose SHA-256 is "
                             f"the recorded one) within {EMBEDDING_TOLERANCE:g} per component, and the test was re-run "
                             "on those vectors, every number compared as for any report.")
        data.matrix, data.array_sha256 = original.matrix, original.array_sha256
        return out
    tolerance = 2.0 * math.sqrt(data.dim) * EMBEDDING_TOLERANCE
    out.tolerance = tolerance
    cache = block.get("cache")
    outcome.notes.append(
        f"The texts embedded again on this machine are not bit for bit the report's vectors (another CPU or other "
        f"library versions than {_libraries(block)}), and the report's own vectors were not at hand "
        f"({'the embeddings cache ' + cache + ' beside the PDF, or ' if cache else ''}--embeddings FILE). The test "
        f"was re-run on the new vectors: similarities and statistics are compared within {tolerance:.1e} absolute "
        f"(what vectors within {EMBEDDING_TOLERANCE:g} per component allow: 2 x sqrt({data.dim}) x "
        f"{EMBEDDING_TOLERANCE:g}), the vectors' SHA-256 not at all, counts, pairs and findings exactly (a pair that "
        "close to a threshold can make an honest report differ; give the embeddings cache then).")
    return out


def _libraries(block: dict) -> str:
    libraries = block.get("libraries") or {}
    return ", ".join(f"{k} {v}" for k, v in libraries.items()) or "the recorded ones"


def _recorded_spec(source: str) -> str | None:
    """How to name again the model a model block's ``source`` describes (package, folder or hub id)."""
    found = re.fullmatch(r"package (\S+) \S+ \((.*)\)", source)
    if found:
        return found.group(1)
    if source.startswith("directory "):
        return source.removeprefix("directory ")
    found = re.fullmatch(r"Hugging Face cache (\S+) \(revision (\S+)\)", source)
    if found:
        return f"{found.group(1)}@{found.group(2)}"
    return None


def _recorded_model(block: dict, given: str | None):
    """The model a report records, loaded from this machine (fingerprint checked), or ModelError."""
    from simreport.errors import ModelError
    from simreport.models import as_encoder

    name, fingerprint, source = block.get("name"), block.get("fingerprint"), str(block.get("source") or "")
    what = f"model {name} (fingerprint {str(fingerprint)[:16]}..., {source})"
    if block.get("kind") != "sentence-transformers" or not fingerprint or source.endswith("model object"):
        raise ModelError(f"the texts were embedded by {name}{f' ({source})' if source else ''}, which existed only "
                         "in the Python session "
                         "that ran the test; verify cannot load it again, so the numbers cannot be recomputed from "
                         "the texts (verify without INPUT checks the PDF alone).")
    spec = given or _recorded_spec(source)
    if spec is None:
        raise ModelError(f"the texts were embedded by {what}; the report does not say where such a model is found: "
                         "give its folder with --model.")
    try:
        encoder = as_encoder(spec)
    except ModelError as exc:
        why = str(exc).rstrip(".")
        raise ModelError(f"the texts were embedded by {what}, which is not available on this machine ({why}); "
                         "verify needs that very model to embed the texts again: install it, or give its folder "
                         "with --model.") from None
    if encoder.fingerprint != fingerprint:
        raise ModelError(f"the texts were embedded by {what}; the model found here ({spec}) has fingerprint "
                         f"{encoder.fingerprint[:16]}..., so it is another model (or version) and the model that made "
                         "the report is not available here: give its folder with --model.")
    return encoder


def _recorded_texts(result: Result, input_file: Path, read: dict):
    """(texts, table or None, SHA-256 of the file) from the column the report embedded."""
    from simreport import models
    from simreport.inputs import file_sha256

    column = read.get("text_column")
    found = re.fullmatch(r"column (.+) \(the embedded texts\)", str(result.input.get("labels") or ""))
    if column is None and found:
        column = found.group(1)
    before = file_sha256(input_file)
    if column is None and input_file.suffix.lower() in (".csv", ".parquet"):
        column = _column_of_texts(input_file, (result.model or {}).get("texts_sha256"))
    texts, frame = models.read_texts(input_file, column)
    if file_sha256(input_file) != before:
        raise InputError(f"{input_file}: the file changed while it was read; verify again when it is complete.")
    return texts, frame, before


def _column_of_texts(input_file: Path, texts_hash: str | None) -> str:
    """The table column whose texts hash to the recorded texts SHA-256."""
    from simreport.inputs import read_frame
    from simreport.models import texts_sha256

    frame = read_frame(input_file)
    for column in frame.columns:
        values = frame[column].tolist()
        if all(isinstance(v, str) for v in values) and texts_sha256(values) == texts_hash:
            return str(column)
    raise InputError(f"{input_file}: no column holds the texts the report embedded (texts SHA-256 "
                     f"{str(texts_hash)[:16]}...); name the column with --text-column.", file=str(input_file))


def _relabel(data, result: Result, evidence: PdfEvidence, read: dict, frame, input_file: Path) -> str | None:
    """The labels the run used when they were not the texts; a note when they cannot be had."""
    from simreport.inputs import check_labels, read_labels_file, require_column

    source = str(result.input.get("labels") or "")
    if source.endswith("(the embedded texts)") and read.get("labels_file") is None and read.get("label_column") is None:
        return None
    label_column, labels_file, attached, note = _label_source(result, evidence, read)
    if labels_file is not None:
        data.labels = check_labels(read_labels_file(labels_file), data.n, str(labels_file))
    elif attached is not None:
        data.labels = check_labels(attached, data.n, "labels.txt attached to the PDF")
    elif label_column is not None:
        if frame is None:
            raise InputError(f"{input_file}: a file of texts has no columns; the labels came from {source}.")
        require_column(frame, label_column, input_file, "--label-column")
        data.labels = check_labels(["" if v is None or v != v else str(v) for v in frame[label_column].tolist()],
                                   data.n, f"{input_file} column {label_column!r}")
    data.label_source = source
    return note


def _original_vectors(result: Result, read: dict):
    """The report's own vectors (embeddings whose array SHA-256 is the recorded one): a file given
    with --embeddings, or the run's embeddings cache beside the PDF; None when neither is at hand."""
    from simreport.inputs import load_embeddings

    recorded = result.input.get("array_sha256")
    cache = (result.model or {}).get("cache")
    beside = [read["pdf"].parent / cache] if cache and read.get("pdf") is not None else []
    for path in [*read.get("embeddings", []), *beside]:
        if path in beside and not path.is_file():
            continue
        try:
            found = load_embeddings(path)
        except InputError:
            if path in beside:
                continue
            raise
        if found.array_sha256 == recorded:
            found.source = path.name
            return found
    return None


def _label_source(document: Result, evidence: PdfEvidence, read: dict):
    """(label column, labels file, labels attached to the PDF, note when the labels cannot be had)."""
    source = document.input.get("labels", "index")
    if read.get("labels_file") is not None:
        return None, read["labels_file"], None, None
    if read.get("label_column") is not None:
        return read["label_column"], None, None, None
    if source.startswith("column "):
        return source.removeprefix("column "), None, None, None
    if source.startswith("file "):
        if "labels.txt" in evidence.attachments:
            lines = evidence.attachments["labels.txt"].decode("utf-8", "replace").split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            return None, None, [line.rstrip("\r") for line in lines], None
        return None, None, None, (f"The labels came from {source.removeprefix('file ')}, which is neither attached "
                                  "nor given with --labels: labels were left out of the comparison.")
    return None, None, None, None


def _test_options(result: Result, report: dict | None = None):
    """The test options a result records (the report block ``report`` when given, else its own)."""
    from simreport.cosine_test import TestOptions

    p = result.parameters
    color_range = p.get("color_range", [-1.0, 1.0])
    recorded_set = p.get("threshold_set") or {}
    if recorded_set and recorded_set.get("file") == DEFAULT_SET_FILE:
        thresholds = recorded_set.get("overrides") or {}  # the shipped set, and the changes the run made
    else:
        thresholds = p["thresholds"]  # every limit as recorded (a set file of the writer's is not at hand)
    extra = {key: p[key] for key in ("labels_are_texts",) if key in p}
    block = result.report if report is None else report
    return TestOptions(
        title=p.get("title", "Cosine similarity test"), near_duplicate_threshold=p["near_duplicate_threshold"],
        opposed_threshold=p["opposed_threshold"], ladder=tuple(p.get("ladder", TestOptions.ladder)),
        top_k=p.get("top_k", TestOptions.top_k), lowest_k=p.get("lowest_k", TestOptions.lowest_k),
        display_cap=p.get("display_cap", TestOptions.display_cap),
        heatmap_order=p.get("heatmap_order", TestOptions.heatmap_order), seed=p.get("seed", 0),
        thresholds=thresholds, color_scale=p.get("color_scale", TestOptions.color_scale),
        color_range=None if color_range == "auto" else tuple(color_range),
        tile_size=p.get("tile_size", TestOptions.tile_size),
        report={k: v for k, v in (block or {}).items() if k != "title"},
        configuration=result.configuration, **extra)


def _recompute(document: Result, data) -> Result:
    from simreport.cosine_test import cosine_similarity_test

    return cosine_similarity_test(data, _test_options(document))


def _recompare(document: Comparison, data_a, data_b, blocks: list | None = None) -> Comparison:
    """The comparison re-run on the two inputs with the options, limits and names it records."""
    from simreport.compare import CompareOptions, compare_embeddings

    p = document.parameters
    recorded_set = p.get("threshold_set") or {}
    if recorded_set and recorded_set.get("file") == DEFAULT_SET_FILE:
        limits = recorded_set.get("overrides") or {}
    else:
        limits = p["thresholds"]
    first = Result.from_dict(document.results[0])
    options = _test_options(first, document.report)
    compare = CompareOptions(neighbours=p["neighbours"], listed_pairs=p["listed_pairs"],
                             listed_records=p.get("listed_records", CompareOptions.listed_records), thresholds=limits)
    blocks = blocks or [r.get("model") for r in document.results]
    return compare_embeddings(data_a, data_b, options, compare, names=list(document.names), models=blocks,
                              title=document.title)


def compare_results(recorded: dict, fresh: dict, labels: bool = True, tolerance: float | None = None) -> list[str]:
    """Every difference between a recorded and a recomputed results (or comparison) dict, as
    'key.path: recorded X, recomputed Y' (floats within 1e-6 relative, picture values within 1e-3,
    agree). A comparison is compared key by key, each model's result as a single run's.

    ``tolerance``: only for texts embedded again into vectors that are not bit for bit the
    report's: floats then agree within that much absolute, and the vectors' SHA-256 is not compared."""
    out: list[str] = []
    tol = _Tolerance(tolerance)
    if recorded.get("kind") != fresh.get("kind"):
        return [f"kind: report {_short(recorded.get('kind'))}, recomputed {_short(fresh.get('kind'))}"]
    if fresh.get("kind") != COMPARISON_KIND:
        _result_differences(recorded, fresh, labels, "", out, tol)
        return out
    for key in COMPARISON_KEYS:
        a, b = recorded.get(key), fresh.get(key)
        if key == "results":
            if not (isinstance(a, list) and isinstance(b, list) and len(a) == len(b)):
                out.append(f"results: the report holds {_short(a)[:20]}, the recomputation {len(b or [])} results")
                continue
            for k, (x, y) in enumerate(zip(a, b, strict=True)):
                _result_differences(x, y, labels, f"results[{k}].", out, tol)
            continue
        if key == "input":
            a, b = _without(a, "path"), _without(b, "path")
        if key == "parameters":
            a, b = _parameters(a, b)
        _diff(a, b, key, out, False, labels, tol)
        if len(out) >= 50:
            break
    return out


@dataclass(frozen=True)
class _Tolerance:
    similarity: float | None = None  # absolute, for re-embedded vectors; None: as for any report

    def absolute(self, picture: bool) -> float:
        floor = 1.1e-3 if picture else 1e-9
        return floor if self.similarity is None else max(floor, self.similarity)


def _without(block, *keys: str) -> dict:
    return {k: v for k, v in (block or {}).items() if k not in keys} if isinstance(block, dict) else block


def _parameters(a, b) -> tuple:
    """Recorded and recomputed parameters without the ones that say how the pass ran, not what it found."""
    a, b = _without(a, *IGNORED_PARAMETERS), _without(b, *IGNORED_PARAMETERS)
    if isinstance(a, dict) and isinstance(b, dict) and (a.get("threshold_set") or {}).get("file") != DEFAULT_SET_FILE:
        a.pop("threshold_set", None)  # a set file of the writer's: its limits are compared one by one
        b.pop("threshold_set", None)
    return a, b


def _result_differences(recorded: dict, fresh: dict, labels: bool, prefix: str, out: list[str],
                        tol: _Tolerance) -> None:
    for key in RECOMPUTED_KEYS:
        a, b = recorded.get(key), fresh.get(key)
        if key == "input":
            a, b = _without(a, "path"), _without(b, "path")
            if not labels:
                a, b = _without(a, "labels_sha256"), _without(b, "labels_sha256")
            if tol.similarity is not None:
                a, b = _without(a, "array_sha256"), _without(b, "array_sha256")
        if key == "model" and isinstance(a, dict) and isinstance(b, dict):
            a, b = ({k: v for k, v in block.items() if k in MODEL_KEYS} for block in (a, b))
        if key == "parameters":
            a, b = _parameters(a, b)
        _diff(a, b, prefix + key, out, key in PICTURE_KEYS, labels, tol)
        if len(out) >= 50:
            break


def _diff(a, b, path: str, out: list[str], picture: bool, labels: bool, tol: _Tolerance = _Tolerance()) -> None:
    if path.rpartition("].")[2] in IGNORED_PATHS:
        return
    if not labels and (path.endswith((".label", ".label_a", ".label_b", ".label_i", ".label_j"))
                       or re.search(r"(heatmap\.labels|examples)", path)):
        return
    if picture and (_is_picture(a) or _is_picture(b)):
        _diff_picture(a, b, path, out, tol)
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if k not in a or k not in b:
                out.append(f"{path}.{k}: {'missing in the report' if k not in a else 'not recomputed'}")
            else:
                _diff(a[k], b[k], f"{path}.{k}", out, picture, labels, tol)
        return
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: the report lists {len(a)} entries, the recomputation {len(b)}")
            return
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            _diff(x, y, f"{path}[{k}]", out, picture, labels, tol)
        return
    if isinstance(a, float) or isinstance(b, float):
        if (isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool)
                and not isinstance(b, bool)
                and math.isclose(a, b, rel_tol=1e-6, abs_tol=tol.absolute(picture))):
            return
    elif a == b and type(a) is type(b):
        return
    out.append(f"{path}: report {_short(a)}, recomputed {_short(b)}")


def _is_picture(value) -> bool:
    return isinstance(value, dict) and "encoding" in value and "data" in value


def _diff_picture(a, b, path: str, out: list[str], tol: _Tolerance) -> None:
    """Pictures (heatmap cells, cluster means) agree when every cell is within 1e-3."""
    import numpy as np

    from simreport.pictures import decode_picture

    try:
        x, y = decode_picture(a), decode_picture(b)
    except (ValueError, TypeError, KeyError):
        out.append(f"{path}: the picture cannot be decoded")
        return
    if x.shape != y.shape:
        out.append(f"{path}: report shape {list(x.shape)}, recomputed {list(y.shape)}")
    elif not np.allclose(x, y, rtol=0.0, atol=tol.absolute(True), equal_nan=True):
        cell = np.unravel_index(int(np.nanargmax(np.abs(np.nan_to_num(x - y, nan=9.0)))), x.shape)
        out.append(f"{path}: cell {list(map(int, cell))} is {x[cell]:.4f} in the report, {y[cell]:.4f} recomputed")


def _short(value) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


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

