"""A tamper matrix for ``simreport verify``: every check is the one that fails for some tampered PDF.

Each row of TAMPERED changes one real report in one way and names the checks that must
fail (all others must pass), so no check of verify is dead: a check that always passed
would fail the row that needs it. A new check of verify needs a key in CHECKS and at
least one row; ``test_every_check_fails_for_some_tampered_document`` fails until it has both.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from pypdf import PageObject, PdfReader, PdfWriter

from conftest import planted_embeddings, run_cli
from simreport.results import report_id_of
from simreport.verify import verify_report

RESULTS = "simreport-results.json"
FINGERPRINT = "input-fingerprint.json"

# short key -> a phrase that names exactly one check of verify
CHECKS = {
    "metadata": "report ID in the PDF metadata",
    "page1": "report ID printed on page 1",
    "readable": "attached results follow the simreport schema",
    "appended": "nothing was appended after simreport wrote",
    "attachments": "no attachments besides simreport's own",
    "fingerprint": "attached input fingerprint",
    "labels": "attached labels are the ones",
    "pagecount": "page count matches",
    "rendering": "what its attached results render to",  # byte for byte, or else page by page
    "input": "SHA-256 of",
    "recompute": "re-running the test on",
}
# checks that verify reports only when they fail (there is nothing to say when they hold)
ONLY_ON_FAILURE = {"attachments", "pagecount"}


def check_key(name: str) -> str:
    keys = [key for key, phrase in CHECKS.items() if phrase in name]
    assert len(keys) == 1, f"verify check {name!r} matches {keys or 'no key'} in CHECKS: give it a key and a row"
    return keys[0]


@dataclass
class Base:
    pdf: Path
    input: Path
    folder: Path


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Base:
    """A real report (PDF with the results and the input fingerprint attached) and its input.

    tools/mutation.py sets SIMREPORT_TEST_CACHE so that its many runs render the report once.
    """
    cache = os.environ.get("SIMREPORT_TEST_CACHE")
    folder = Path(cache) / "tamper" if cache else tmp_path_factory.mktemp("tamper")
    if not (folder / "r.pdf").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        x, _ = planted_embeddings(n=100, d=8)
        np.save(folder / "emb.npy", x)
        proc = run_cli("run", str(folder / "emb.npy"), "-o", str(folder / "r"), "--format", "pdf", "--attach-data",
                       "--quiet", cwd=folder)
        assert proc.returncode == 0, proc.stderr
    return Base(folder / "r.pdf", folder / "emb.npy", folder)


def comparison_of(base: Base) -> Base:
    """A comparison report (two embedding files of the same records: base's input, then a second
    one) beside base's report, written once; its ``input`` is the second file."""
    folder = base.folder
    if not (folder / "c.pdf").is_file():
        x = np.load(base.input)
        np.save(folder / "second.npy", x[:, ::-1] + 0.1)
        proc = run_cli("compare", str(base.input), str(folder / "second.npy"), "-o", str(folder / "c"), "--format",
                       "pdf", "--name", "first", "--name", "second", cwd=folder)
        assert proc.returncode == 0, proc.stderr
    return Base(folder / "c.pdf", folder / "second.npy", folder)


@pytest.fixture(scope="module")
def comparison(base) -> Base:
    return comparison_of(base)


def rebuild(source: Path, target: Path, metadata: dict | None = None, attachments: dict | None = None,
            drop: tuple[str, ...] = ()) -> Path:
    """The same pages (page-1 text untouched), with metadata entries and attachments replaced."""
    reader = PdfReader(source)
    writer = PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    info = {k: v for k, v in reader.metadata.items()}
    for key, value in (metadata or {}).items():
        if value is None:
            info.pop(key, None)
        else:
            info[key] = value
    writer.add_metadata(info)
    files = {name: contents[0] for name, contents in reader.attachments.items()}
    files.update(attachments or {})
    for name, data in files.items():
        if name not in drop:
            writer.add_attachment(name, data)
    with open(target, "wb") as handle:
        writer.write(handle)
    return target


def results_of(pdf: Path) -> bytes:
    return PdfReader(pdf).attachments[RESULTS][0]


def edited_results(b: Base) -> bytes:
    data = json.loads(results_of(b.pdf))
    data["summary"]["status"] = "pass"  # someone edits the evidence
    return json.dumps(data, indent=1).encode()


# ----------------------------------------------------------------------------- the matrix


@dataclass
class Tamper:
    name: str
    make: Callable[[Base, Path], tuple[Path, Path | list[Path] | None]]  # -> (pdf, input file(s) or None)
    fails: set[str] = field(default_factory=set)


def _metadata_id(value: str | None):
    return lambda b, out: (rebuild(b.pdf, out, metadata={"/simreportreportid": value}), None)


def _results(new: Callable[[Base], bytes], restamp: bool):
    """Replace the attached results; with ``restamp`` the metadata ID is made to match the new bytes."""

    def make(b: Base, out: Path):
        raw = new(b)
        meta = {"/simreportreportid": report_id_of(raw)} if restamp else None
        return rebuild(b.pdf, out, metadata=meta, attachments={RESULTS: raw}), None

    return make


def _fingerprint(new: Callable[[dict], bytes]):
    def make(b: Base, out: Path):
        data = json.loads(PdfReader(b.pdf).attachments[FINGERPRINT][0])
        return rebuild(b.pdf, out, attachments={FINGERPRINT: new(data)}), None

    return make


def _appended(b: Base, out: Path):
    out.write_bytes(b.pdf.read_bytes() + b"\n% a line added after the end\n")
    return out, None


def _incremental_update(b: Base, out: Path):
    """A second revision appended the way a PDF editor saves: the first revision is untouched."""
    writer = PdfWriter(b.pdf, incremental=True)
    writer.add_metadata({"/Subject": "approved"})
    with open(out, "wb") as handle:
        writer.write(handle)
    return out, None


def _pages(change: Callable[[list], list]):
    """The same document (metadata, attachments) with its list of pages changed."""

    def make(b: Base, out: Path):
        reader = PdfReader(b.pdf)
        writer = PdfWriter()
        for page in change(list(reader.pages)):
            writer.add_page(page)
        writer.add_metadata({k: v for k, v in reader.metadata.items()})
        for name, contents in reader.attachments.items():
            writer.add_attachment(name, contents[0])
        with open(out, "wb") as handle:
            writer.write(handle)
        return out, None

    return make


def _blank_in_front(pages: list) -> list:
    """A blank page put in front: the ID is still on page 2, but not on page 1."""
    box = pages[0].mediabox
    return [PageObject.create_blank_page(width=float(box.width), height=float(box.height)), *pages]


_blank_first_page = _pages(_blank_in_front)


def _overlay_first_page(b: Base, out: Path):
    """Page 2 drawn over page 1 (an overlay): page 1 still carries the report ID."""
    writer = PdfWriter(clone_from=b.pdf)
    writer.pages[0].merge_page(writer.pages[1])
    with open(out, "wb") as handle:
        writer.write(handle)
    return out, None


def _forged_and_rerendered(b: Base, out: Path):
    """The results edited and re-rendered with simreport itself: a PDF consistent in itself."""
    data = json.loads(results_of(b.pdf))
    data["stats"]["mean"] = data["stats"]["mean"] + 0.05
    edited = out.with_name("edited.json")
    edited.write_text(json.dumps(data))
    proc = run_cli("render", str(edited), "-o", str(out.with_suffix("")), "--format", "pdf", cwd=out.parent)
    assert proc.returncode == 0, proc.stderr
    return out, b.input


def _forged_comparison(b: Base, out: Path):
    """A comparison's JSON edited so that both models pass, re-rendered with simreport render:
    consistent in itself, caught only by re-running the comparison on its two inputs (written once)."""
    c = comparison_of(b)
    out = b.folder / "forged-comparison.pdf"
    if out.is_file():
        return out, [b.input, c.input]
    data = json.loads(results_of(c.pdf))
    assert data["summary"]["status"] == "fail"
    for k, result in enumerate(data["results"]):
        result["summary"]["status"] = "pass"
        data["summary"]["models"][k] = "pass"
    data["summary"]["status"] = "pass"
    edited = out.with_name("edited-comparison.json")
    edited.write_text(json.dumps(data))
    proc = run_cli("render", str(edited), "-o", str(out.with_suffix("")), "--format", "pdf", cwd=out.parent)
    assert proc.returncode == 0, proc.stderr
    return out, [b.input, c.input]


def _comparison_inputs_swapped(b: Base, out: Path):
    c = comparison_of(b)
    return c.pdf, [c.input, b.input]


def _same_numbers(b: Base, out: Path):
    """The same array written in Fortran order: other bytes (so another SHA-256), the same numbers."""
    other = out.with_suffix(".npy")
    np.save(other, np.asfortranarray(np.load(b.input)))
    assert other.read_bytes() != b.input.read_bytes()
    return b.pdf, other


def _other_input(b: Base, out: Path):
    other = out.with_suffix(".npy")
    np.save(other, np.load(b.input)[::-1])
    return b.pdf, other


TAMPERED = [
    Tamper("metadata ID replaced", _metadata_id("SR-0000-0000-0000-0000"), {"metadata"}),
    Tamper("metadata ID removed", _metadata_id(None), {"metadata"}),
    Tamper("results edited, metadata ID left", _results(edited_results, False),
           {"metadata", "page1"}),
    Tamper("results edited, metadata ID restamped", _results(edited_results, True), {"page1"}),
    Tamper("blank page put in front of page 1", _blank_first_page, {"page1"}),
    Tamper("results not JSON, restamped", _results(lambda b: b"not json at all", True), {"page1", "readable"}),
    Tamper("results JSON of no known schema, restamped",
           _results(lambda b: json.dumps({"schema_version": "0.1", "kind": "unknown"}).encode(), True),
           {"page1", "readable"}),
    Tamper("fingerprint of other rows", _fingerprint(lambda d: json.dumps({**d, "n": d["n"] + 1}).encode()),
           {"fingerprint"}),
    Tamper("fingerprint of another array",
           _fingerprint(lambda d: json.dumps({**d, "array_sha256": "0" * 64}).encode()), {"fingerprint"}),
    Tamper("fingerprint of another path", _fingerprint(lambda d: json.dumps({**d, "path": "x.npy"}).encode()),
           {"fingerprint"}),
    Tamper("fingerprint not JSON", _fingerprint(lambda d: b"{"), {"fingerprint"}),
    Tamper("fingerprint not an object", _fingerprint(lambda d: b"[1, 2]"), {"fingerprint"}),
    Tamper("checked against another input file", _other_input, {"input", "recompute"}),
    Tamper("checked against the same numbers in another file", _same_numbers, {"input", "recompute"}),
    Tamper("bytes appended after the end", _appended, {"appended"}),
    Tamper("incremental update (a second revision)", _incremental_update, {"appended"}),
    Tamper("an attachment added", lambda b, out: (rebuild(b.pdf, out, attachments={"notes.txt": b"ok"}), None),
           {"attachments"}),
    Tamper("labels edited", lambda b, out: (rebuild(b.pdf, out, attachments={"labels.txt": b"a\nb\n"}), None),
           {"labels"}),
    Tamper("last page removed", _pages(lambda pages: pages[:-1]), {"pagecount"}),
    Tamper("overlay drawn on page 1", _overlay_first_page, {"rendering"}),
    Tamper("results edited and re-rendered, checked against the input", _forged_and_rerendered, {"recompute"}),
    Tamper("comparison edited and re-rendered, checked against both inputs", _forged_comparison, {"recompute"}),
    Tamper("comparison checked against its inputs in the other order", _comparison_inputs_swapped,
           {"input", "recompute"}),
]


def failing(pdf: Path, input_file: Path | list[Path] | None) -> tuple[set[str], list]:
    outcome = verify_report(pdf, input_file)
    failed = {check_key(name) for name, ok, _ in outcome.checks if not ok}
    assert outcome.passed == (not failed)
    return failed, outcome.checks


def test_the_untouched_report_passes_every_check(base):
    failed, checks = failing(base.pdf, base.input)
    assert failed == set()
    assert {check_key(name) for name, _, _ in checks} == set(CHECKS) - ONLY_ON_FAILURE


def test_an_unchanged_rewrite_passes_page_by_page(base, tmp_path):
    """pypdf rewriting the same pages is not tampering: the rows above fail for their change alone."""
    failed, checks = failing(rebuild(base.pdf, tmp_path / "same.pdf"), base.input)
    assert failed == set()
    assert {check_key(name) for name, _, _ in checks} == set(CHECKS) - {"attachments"}


@pytest.mark.parametrize("tamper", TAMPERED, ids=[t.name for t in TAMPERED])
def test_tampered_report_fails_exactly_the_expected_checks(base, tamper, tmp_path):
    pdf, input_file = tamper.make(base, tmp_path / "tampered.pdf")
    failed, checks = failing(pdf, input_file)
    assert failed == tamper.fails, checks


def test_every_check_fails_for_some_tampered_document(base):
    _, checks = failing(base.pdf, base.input)
    covered = set().union(*(t.fails for t in TAMPERED))
    dead = ({check_key(name) for name, _, _ in checks} | set(CHECKS)) - covered
    assert not dead, f"no tampered document makes these checks fail: {dead}"
    # and a check is "the one that matters" somewhere: some row fails it alone
    alone = {next(iter(t.fails)) for t in TAMPERED if len(t.fails) == 1}
    # unreadable results cannot keep page 1's ID (it is their hash); another input file always also
    # gives another recomputed input.sha256, so the re-run fails beside the SHA-256 check
    assert alone >= set(CHECKS) - {"readable", "input"}


def test_a_missing_metadata_id_is_reported_as_none(base, tmp_path):
    pdf, _ = _metadata_id(None)(base, tmp_path / "t.pdf")
    name, ok, detail = verify_report(pdf).checks[0]
    assert not ok and detail.endswith(", metadata says (none)")


def test_what_the_report_claims(base):
    outcome = verify_report(base.pdf)
    raw = results_of(base.pdf)
    data = json.loads(raw)
    claims = dict(outcome.claims)
    report_id = report_id_of(raw)
    assert [k for k, _ in outcome.claims][:10] == ["Report ID", "Title", "Model", "Dataset", "Input", "Input SHA-256",
                                                   "Array SHA-256", "Created", "Tool", "Outcome"]
    assert claims["Report ID"] == report_id and report_id.startswith("SR-")
    assert claims["Title"] == data["parameters"]["title"]
    assert claims["Model"] == "not stated" and claims["Dataset"] == "not stated"
    assert claims["Input"] == f"{data['input']['path']}: 100 records x 8 dimensions"
    assert claims["Input SHA-256"] == data["input"]["sha256"]
    assert claims["Array SHA-256"] == data["input"]["array_sha256"]
    assert claims["Created"] == data["created"]
    assert claims["Tool"] == f"simreport {data['tool']['version']}"
    counts = data["summary"]["counts"]
    assert claims["Outcome"] == (f"{data['summary']['status']} ({counts['pass']} passed, {counts['warn']} warnings, "
                                 f"{counts['fail']} failed)")
    findings = outcome.claims[10:]
    assert [k for k, _ in findings] == [f"Finding {f['id']}" for f in data["findings"]]
    assert [v for _, v in findings] == [f"{f['status']}: {f['message']}" for f in data["findings"]]
    assert [name for name, _, _ in outcome.checks] == [
        "report ID in the PDF metadata matches the attached results",
        "report ID printed on page 1 matches the attached results",
        "attached results follow the simreport schema",
        "nothing was appended after simreport wrote the document (no incremental update)",
        "attached input fingerprint agrees with the results",
        "attached labels are the ones the results were computed with",
        "the PDF is exactly what its attached results render to (same pages, byte for byte)"]
    details = [detail for _, _, detail in outcome.checks]
    assert details[0] == f"attachment gives {report_id}, metadata says {report_id}"
    assert details[1] == f"looked for {report_id} on page 1"
    assert details[2] == f"schema {data['schema_version']}" and details[4] == FINGERPRINT


def test_a_run_without_a_title_claims_an_empty_one(base):
    from simreport.results import document_from_dict
    from simreport.verify import _claims

    data = json.loads(results_of(base.pdf))
    del data["parameters"]["title"]
    assert dict(_claims(document_from_dict(data), "SR-1"))["Title"] == ""


def test_the_model_and_dataset_claims_come_from_the_cover(base, tmp_path):
    folder = tmp_path
    proc = run_cli("run", str(base.input), "-o", str(folder / "named"), "--format", "pdf", "--quiet",
                   "--model-name", "Encoder", "--model-version", "3.2", "--dataset", "Complaints", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    claims = dict(verify_report(folder / "named.pdf").claims)
    assert (claims["Model"], claims["Dataset"]) == ("Encoder 3.2", "Complaints")
    assert all("fingerprint" not in name for name, _, _ in verify_report(folder / "named.pdf").checks)


def test_unreadable_results_claim_nothing(base, tmp_path):
    pdf = rebuild(base.pdf, tmp_path / "t.pdf", attachments={RESULTS: b"\xff\xfe"})
    outcome = verify_report(pdf)
    assert outcome.claims == [] and not outcome.passed
    assert outcome.checks[-1][0] == "attached results follow the simreport schema" and outcome.checks[-1][2]
    from simreport.verify import Verification

    assert not Verification().passed and Verification().claims == [] and Verification().checks == []
    assert Verification(checks=[("a", True, "")]).passed
    assert not Verification(checks=[("a", True, ""), ("b", False, "")]).passed


def test_a_comparison_report_is_recomputed_from_both_inputs(comparison, base):
    outcome = verify_report(comparison.pdf, [base.input, comparison.input])
    assert outcome.passed and outcome.differences == [], outcome.checks
    names = [name for name, _, _ in outcome.checks]
    assert names[-3:] == ["SHA-256 of emb.npy matches the report's input of first",
                          "SHA-256 of second.npy matches the report's input of second",
                          "re-running the test on emb.npy and second.npy gives every statistic, count, pair and "
                          "finding of both models and their agreement"]
    assert not any("not recomputed" in note for note in outcome.notes)


def test_a_forged_comparison_names_its_first_differences(base, tmp_path):
    from security_helpers import cli_inproc

    pdf, inputs = _forged_comparison(base, tmp_path / "forged.pdf")
    proc = cli_inproc("verify", pdf, *inputs, cwd=tmp_path)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    listed = proc.stdout.split("First differences between the report and the recomputation:\n")[1].split("\n\n")[0]
    # the verdicts of both models and of the comparison, and nothing else (nothing else was edited)
    assert listed.splitlines() == ['  results[0].summary.status: report "pass", recomputed "fail"',
                                   '  results[1].summary.status: report "pass", recomputed "fail"',
                                   '  summary.status: report "pass", recomputed "fail"',
                                   '  summary.models[0]: report "pass", recomputed "fail"',
                                   '  summary.models[1]: report "pass", recomputed "fail"'], listed
    assert proc.stderr.startswith(f"simreport: verification failed for {pdf}: re-running the test on emb.npy and "
                                  "second.npy gives")


def test_verify_takes_one_input_for_a_run_and_two_for_a_comparison(base, comparison, tmp_path):
    from security_helpers import cli_inproc, error_line

    line = error_line(cli_inproc("verify", base.pdf, base.input, base.input, cwd=tmp_path))
    assert "a single run's report is checked against one INPUT" in line and "two inputs are for a comparison" in line
    line = error_line(cli_inproc("verify", comparison.pdf, base.input, base.input, base.input, cwd=tmp_path))
    assert "give at most two inputs (a comparison's A and B); got 3" in line


def test_a_comparison_checked_against_one_input_says_it_was_not_recomputed(comparison, base, tmp_path):
    raw = results_of(comparison.pdf)
    data = json.loads(raw)
    for input_file in (base.input, comparison.input):
        outcome = verify_report(comparison.pdf, input_file)
        assert outcome.passed, outcome.checks
        assert outcome.checks[-1][0] == f"SHA-256 of {input_file.name} matches the report"
        assert ("The numbers were not recomputed (give both inputs (emb.npy / second.npy, in that order) to re-run "
                "the comparison); only the input file's hash was checked.") in outcome.notes
    claims = dict(outcome.claims)
    assert claims["Report ID"] == report_id_of(raw, "SC")
    assert claims["Models"] == "first vs second"
    assert claims["Input"] == f"{data['input']['path']}: 100 records"
    assert claims["Title"] == data["title"] and claims["Created"] == data["created"]
    assert claims["Tool"] == f"simreport {data['tool']['version']}"
    assert claims["Outcome"].startswith(f"{data['summary']['status']} (")
    assert [k for k, _ in outcome.claims][7:] == [f"Finding {f['id']}" for f in data["findings"]]
    other = tmp_path / "other.npy"
    np.save(other, np.load(base.input)[::-1])
    failed, _ = failing(comparison.pdf, other)
    assert failed == {"input"}
    tampered = rebuild(comparison.pdf, tmp_path / "c.pdf", metadata={"/simreportreportid": "SC-0"})
    assert failing(tampered, None)[0] == {"metadata"}
    restamped = json.loads(raw)
    restamped["title"] = "edited"
    body = json.dumps(restamped).encode()
    tampered = rebuild(comparison.pdf, tmp_path / "d.pdf", attachments={RESULTS: body},
                       metadata={"/simreportreportid": report_id_of(body, "SC")})
    assert failing(tampered, None)[0] == {"page1"}


def test_page_one_is_read_with_pdftotext_or_else_pypdf(base, tmp_path, monkeypatch):
    import subprocess

    calls = []
    real_run = subprocess.run

    def spy(args, **kwargs):
        calls.append(list(args))
        return real_run(args, **kwargs)

    monkeypatch.setattr(subprocess, "run", spy)
    assert failing(base.pdf, None)[0] == set()
    assert calls == [["pdftotext", "-f", "1", "-l", "1", "-", "-"]]  # the bytes verify read, on stdin

    def missing(args, **kwargs):
        raise FileNotFoundError("pdftotext")

    monkeypatch.setattr(subprocess, "run", missing)  # no poppler-utils: pypdf reads page 1
    assert failing(base.pdf, None)[0] == set()
    import pypdf

    plain = pypdf.PageObject.extract_text

    def with_nuls(self, *args, **kwargs):  # pypdf may separate WeasyPrint's letters with NULs
        return "\x00".join(plain(self, *args, **kwargs))

    monkeypatch.setattr(pypdf.PageObject, "extract_text", with_nuls)
    assert failing(base.pdf, None)[0] == set()
    restamped = TAMPERED[[t.name for t in TAMPERED].index("results edited, metadata ID restamped")]
    assert failing(restamped.make(base, tmp_path / "r.pdf")[0], None)[0] == {"page1"}
    assert failing(_blank_first_page(base, tmp_path / "b.pdf")[0], None)[0] == {"page1"}


def test_results_removed_is_an_error_not_a_pass(base, tmp_path):
    from simreport.errors import InputError

    pdf = rebuild(base.pdf, tmp_path / "bare.pdf", drop=(RESULTS,))
    with pytest.raises(InputError, match=RESULTS):
        verify_report(pdf)
    with pytest.raises(InputError, match="not found"):
        verify_report(base.pdf, base.folder / "missing.npy")


def test_a_re_saved_report_is_compared_page_by_page_and_says_what_was_not(base, tmp_path):
    """The same pages, metadata and attachments written again by another PDF library: not the same
    bytes, so the pages are compared one by one, and the note says what that leaves out."""
    pdf = rebuild(base.pdf, tmp_path / "resaved.pdf")
    outcome = verify_report(pdf)
    rendering = [(name, ok, detail) for name, ok, detail in outcome.checks if "render to" in name]
    assert rendering == [("every page is what its attached results render to (content, drawings and images)", True,
                          f"{len(PdfReader(pdf).pages)} pages; the file differs from a fresh rendering outside the "
                          "pages")]
    assert ("The pages were compared as content streams and images; fonts and document-level metadata were not."
            in outcome.notes)
