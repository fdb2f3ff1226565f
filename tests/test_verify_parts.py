"""verify's parts on hand-made evidence (no rendering, milliseconds): the comparison of recorded and
recomputed results, the revision and attachment checks, where labels come from, the PDF variant,
the claims and the refusals of unreadable files. The tamper matrix (tests/test_verify_tamper.py)
checks the same code on real, tampered PDFs."""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np
import pytest

import simreport
from simreport.errors import InputError
from simreport.pictures import encode_picture
from simreport.verify import (
    DEFAULT_SET_FILE,
    EOF_MARKER,
    IGNORED_PARAMETERS,
    RECOMPUTED_KEYS,
    PdfEvidence,
    Verification,
    _attachments,
    _claims,
    _label_source,
    _revisions,
    _short,
    _variant,
    compare_results,
    page_fingerprints,
    read_pdf,
    verify_report,
)

# ----------------------------------------------------------------------------- recorded against recomputed


def test_equal_results_have_no_differences():
    doc = {"stats": {"mean": 0.25, "n": 10, "items": [1, 2]}, "findings": [{"id": "x", "status": "pass"}]}
    assert compare_results(doc, json.loads(json.dumps(doc))) == []
    assert RECOMPUTED_KEYS[0] == "input" and "summary" in RECOMPUTED_KEYS and "report" in RECOMPUTED_KEYS


@pytest.mark.parametrize("recorded,fresh,expected", [
    (0.5, 0.6, ["stats.v: report 0.5, recomputed 0.6"]),
    (0.5, 0.5 * (1 + 9e-7), []),  # floats agree to 1e-6 relative
    (0.5, 0.5 * (1 + 2e-6), ["stats.v: report 0.5, recomputed 0.500001"]),
    (0.0, 5e-10, []),  # and to 1e-9 absolute near zero
    (0.0, 2e-9, ["stats.v: report 0.0, recomputed 2e-09"]),
    (1, 1.0, []),  # an int and the same float agree
    (True, 1.0, ["stats.v: report true, recomputed 1.0"]),  # a flag is not a number
    (1.0, True, ["stats.v: report 1.0, recomputed true"]),
    (True, 1, ["stats.v: report true, recomputed 1"]),  # equal in Python, not the same type
    (3, 4, ["stats.v: report 3, recomputed 4"]),
    ("a", "a", []),
    (None, None, []),
    ("a", None, ['stats.v: report "a", recomputed null']),
    ([1, 2], [1, 2, 3], ["stats.v: the report lists 2 entries, the recomputation 3"]),
    ([1, 2], [1, 5], ["stats.v[1]: report 2, recomputed 5"]),
    ({"a": 1}, {"a": 1, "b": 2}, ["stats.v.b: missing in the report"]),
    ({"a": 1, "b": 2}, {"a": 1}, ["stats.v.b: not recomputed"]),
    ({"a": 1}, [1], ['stats.v: report {"a": 1}, recomputed [1]']),
    ("x" * 70, "y", ['stats.v: report "' + "x" * 56 + '..., recomputed "y"']),
])
def test_each_difference_is_named_with_both_values(recorded, fresh, expected):
    assert compare_results({"stats": {"v": recorded}}, {"stats": {"v": fresh}}) == expected


def test_short_values_are_cut_at_60_characters():
    assert _short("x" * 58) == '"' + "x" * 58 + '"'  # 60 characters with the quotes
    assert _short("x" * 59) == '"' + "x" * 56 + "..."
    assert _short({"é": 1}) == '{"é": 1}'


def test_what_describes_the_run_is_not_compared():
    params = {name: k for k, name in enumerate(IGNORED_PARAMETERS)}
    assert set(IGNORED_PARAMETERS) == {"runner", "workers", "scheduler", "tile_size", "device", "precision"}
    recorded = {"input": {"path": "/a/e.npy", "n": 3}, "parameters": {**params, "seed": 1},
                "stats": {"engine": {"device": "cuda"}, "mean": 0.1}, "tool": "x", "created": "then",
                "environment": {"python": "3.11"}}
    fresh = {"input": {"path": "/b/e.npy", "n": 3}, "parameters": {"seed": 1}, "stats": {"engine": {}, "mean": 0.1},
             "tool": "y", "created": "now"}
    assert compare_results(recorded, fresh) == []
    fresh["parameters"]["seed"] = 2
    assert compare_results(recorded, fresh) == ["parameters.seed: report 1, recomputed 2"]


def test_the_threshold_set_is_compared_only_when_it_is_the_shipped_one():
    mine = {"parameters": {"threshold_set": {"file": "bank.toml", "id": "a"}}}
    other = {"parameters": {"threshold_set": {"file": "bank.toml", "id": "b"}}}
    assert compare_results(mine, other) == []  # a writer's own set: its limits are compared one by one instead
    shipped = {"parameters": {"threshold_set": {"file": DEFAULT_SET_FILE, "overrides": {}}}}
    changed = {"parameters": {"threshold_set": {"file": DEFAULT_SET_FILE, "overrides": {"x": 1}}}}
    assert compare_results(shipped, changed) == ["parameters.threshold_set.overrides.x: missing in the report"]
    assert DEFAULT_SET_FILE == "simreport-default.toml"


def test_without_labels_the_label_fields_are_not_compared():
    recorded = {"input": {"n": 2, "labels_sha256": "aa"},
                "most_similar": [{"i": 0, "label_i": "a", "label_j": "b"}],
                "heatmap": {"labels": ["a"], "values": [1]}, "clusters": {"examples": ["a"]}}
    fresh = {"input": {"n": 2, "labels_sha256": "bb"},
             "most_similar": [{"i": 0, "label_i": "0", "label_j": "1"}],
             "heatmap": {"labels": ["0"], "values": [1]}, "clusters": {"examples": ["0"]}}
    assert compare_results(recorded, fresh, labels=False) == []
    assert compare_results(recorded, fresh) == [
        'input.labels_sha256: report "aa", recomputed "bb"',
        'most_similar[0].label_i: report "a", recomputed "0"',
        'most_similar[0].label_j: report "b", recomputed "1"',
        'heatmap.labels[0]: report "a", recomputed "0"',
        'clusters.examples[0]: report "a", recomputed "0"',
    ]


def test_pictures_agree_to_1e3_per_cell():
    base = np.array([[1.0, 0.2, 0.3], [0.2, 1.0, 0.4], [0.3, 0.4, 1.0]])
    near = base.copy()
    near[0, 2] = near[2, 0] = 0.3009
    far = base.copy()
    far[1, 2] = far[2, 1] = 0.45
    pic = encode_picture(base)
    assert compare_results({"heatmap": {"cells": pic}}, {"heatmap": {"cells": encode_picture(near)}}) == []
    assert compare_results({"heatmap": {"cells": pic}}, {"heatmap": {"cells": encode_picture(far)}}) == [
        "heatmap.cells: cell [1, 2] is 0.4000 in the report, 0.4500 recomputed"]
    assert compare_results({"heatmap": {"cells": pic}}, {"heatmap": {"cells": encode_picture(base[:2, :2])}}) == [
        "heatmap.cells: report shape [3, 3], recomputed [2, 2]"]
    broken = {**pic, "data": pic["data"][:-4]}
    assert compare_results({"heatmap": {"cells": broken}}, {"heatmap": {"cells": pic}}) == [
        "heatmap.cells: the picture cannot be decoded"]
    # a picture's plain numbers (outside a picture) agree to 1.1e-3 too; elsewhere they must not
    assert compare_results({"overview": {"lo": 0.5}}, {"overview": {"lo": 0.501}}) == []
    assert compare_results({"stats": {"lo": 0.5}}, {"stats": {"lo": 0.501}}) == [
        "stats.lo: report 0.5, recomputed 0.501"]
    # empty cells (NaN) agree with empty cells, and a filled cell differs from an empty one
    holes = base.copy()
    holes[0, 1] = holes[1, 0] = np.nan
    assert compare_results({"clusters": {"m": encode_picture(holes)}}, {"clusters": {"m": encode_picture(holes)}}) == []
    assert len(compare_results({"clusters": {"m": encode_picture(holes)}}, {"clusters": {"m": pic}})) == 1


def test_at_most_about_50_differences_are_collected():
    recorded = {"stats": {f"v{k}": k for k in range(60)}, "findings": [1]}
    fresh = {"stats": {f"v{k}": k + 1 for k in range(60)}, "findings": [2]}
    out = compare_results(recorded, fresh)
    assert len(out) == 60 and out[0] == "stats.v0: report 0, recomputed 1"  # a key is finished, then it stops
    few = compare_results({"stats": {"a": 1}, "findings": [1]}, {"stats": {"a": 2}, "findings": [2]})
    assert few == ["stats.a: report 1, recomputed 2", "findings[0]: report 1, recomputed 2"]


# ----------------------------------------------------------------------------- the file's own evidence


def evidence(data: bytes = b"%PDF-1.7 body %%EOF\n", attachments: dict | None = None) -> PdfEvidence:
    attachments = attachments or {}
    return PdfEvidence(data, attachments, list(attachments), {}, "", 1,
                       [m.end() for m in EOF_MARKER.finditer(data)], "none")


def test_revision_ends_are_found_after_each_eof_marker():
    data = b"%PDF a %%EOF\r\nb %%EOF \nc %%EOF"
    assert [m.end() for m in EOF_MARKER.finditer(data)] == [14, 23, len(data)]


@pytest.mark.parametrize("data,signed_from,ok,detail", [
    (b"%PDF x %%EOF\n", None, True, "1 revision(s), nothing after the end"),
    (b"%PDF x %%EOF\n  \n", None, True, "1 revision(s), nothing after the end"),  # whitespace is nothing
    (b"%PDF x %%EOF\ngarbage", None, False, "1 revision(s), 7 bytes after the last %%EOF"),
    (b"%PDF x %%EOF\nupdate %%EOF\n", None, False, "2 revision(s), nothing after the end"),
    (b"no marker at all", None, False, "0 revision(s), 16 bytes after the last %%EOF"),
    (b"%PDF x %%EOF\nsig %%EOF\n", 13, True,
     "2 revision(s), nothing after the end; the second revision holds the signature"),
    (b"%PDF x %%EOF\nsig %%EOF\n", 5, False,  # the signature does not begin where the document ends
     "2 revision(s), nothing after the end; the second revision holds the signature"),
    (b"%PDF x %%EOF\nsig %%EOF\nmore %%EOF\n", 13, False,
     "3 revision(s), nothing after the end; the second revision holds the signature"),
    (b"%PDF x %%EOF\n", 13, False, "1 revision(s), nothing after the end; the second revision holds the signature"),
])
def test_nothing_may_be_appended_after_the_document(data, signed_from, ok, detail):
    outcome = Verification()
    _revisions(evidence(data), outcome, signed_from)
    assert outcome.checks == [
        ("nothing was appended after simreport wrote the document (no incremental update)", ok, detail)]


class Doc:
    def __init__(self, input_: dict):
        self.input = input_


def test_the_attachments_agree_with_the_results():
    labels = b"a\nb\n"
    digest = hashlib.sha256(labels).hexdigest()
    fingerprint = {"path": "e.npy", "sha256": "ab", "array_sha256": "cd", "n": 2, "dim": 3, "dtype": "float32"}
    result = simreport.run_test(np.eye(3, dtype=np.float32))
    result.input.update(fingerprint, labels_sha256=digest)
    outcome = Verification()
    _attachments(evidence(attachments={"simreport-results.json": b"{}", "labels.txt": labels,
                                       "input-fingerprint.json": json.dumps(fingerprint).encode()}), result, outcome)
    assert outcome.checks == [
        ("attached input fingerprint agrees with the results", True, "input-fingerprint.json"),
        ("attached labels are the ones the results were computed with", True,
         f"labels.txt {digest[:16]}..., results {digest[:16]}...")]
    outcome = Verification()
    _attachments(evidence(attachments={"labels.txt": b"a\nc\n", "notes.txt": b"", "x.js": b"",
                                       "input-fingerprint.json": json.dumps({**fingerprint, "n": 5}).encode()}),
                 result, outcome)
    wrong = hashlib.sha256(b"a\nc\n").hexdigest()
    assert outcome.checks == [
        ("no attachments besides simreport's own", False, "notes.txt, x.js"),
        ("attached input fingerprint agrees with the results", False, "input-fingerprint.json"),
        ("attached labels are the ones the results were computed with", False,
         f"labels.txt {wrong[:16]}..., results {digest[:16]}...")]
    for bad in (b"not json", b"[1, 2]", b"\xff\xfe"):
        outcome = Verification()
        _attachments(evidence(attachments={"input-fingerprint.json": bad}), result, outcome)
        assert outcome.checks == [("attached input fingerprint agrees with the results", False,
                                   "input-fingerprint.json")]
    partial = Verification()  # a fingerprint of fewer keys is compared on the keys either side has
    _attachments(evidence(attachments={"input-fingerprint.json": json.dumps({"n": 2}).encode()}), Doc({"n": 2}),
                 partial)
    assert partial.checks[0][1] is True
    for fingerprint_keys, input_keys in (({"n": 2}, {"n": 2, "sha256": "ab"}), ({"n": 2, "sha256": "ab"}, {"n": 2})):
        one_sided = Verification()  # a key on one side only is a difference, not a key to skip
        _attachments(evidence(attachments={"input-fingerprint.json": json.dumps(fingerprint_keys).encode()}),
                     Doc(input_keys), one_sided)
        assert one_sided.checks[0][1] is False
    del result.input["labels_sha256"]
    outcome = Verification()
    _attachments(evidence(attachments={"labels.txt": labels}), result, outcome)
    assert outcome.checks == [] and outcome.notes == [
        "labels.txt is attached but the results record no labels hash (written by an older simreport): the labels "
        "are not checked."]


def test_an_attached_document_that_breaks_the_schema_is_named_by_its_key():
    from simreport.verify import _document

    result = simreport.run_test(np.eye(3, dtype=np.float32))
    document, why = _document(result.to_json().encode())
    assert type(document) is type(result) and document.stats == result.stats and why is None
    data = json.loads(result.to_json())
    data["stats"]["mean"] = "high"
    assert _document(json.dumps(data).encode()) == (None, "stats.mean: 'high' is not of type 'number'")
    assert _document(b'{"a":') == (None, "not readable simreport JSON (Expecting value: line 1 column 6 (char 5))")


def test_where_the_labels_of_a_recomputation_come_from():
    ev = evidence(attachments={"labels.txt": b"oneX\r\ntwo \n"})
    plain = evidence()
    doc = Doc({"labels": "file names.txt"})
    assert _label_source(doc, ev, {"labels_file": "l.txt"}) == (None, "l.txt", None, None)
    assert _label_source(doc, ev, {"label_column": "c"}) == ("c", None, None, None)
    assert _label_source(Doc({"labels": "column name"}), plain, {}) == ("name", None, None, None)
    assert _label_source(doc, ev, {}) == (None, None, ["oneX", "two "], None)  # only a line's \r goes
    assert _label_source(doc, evidence(attachments={"labels.txt": b"one\ntwo"}), {}) == (None, None, ["one", "two"],
                                                                                        None)
    assert _label_source(doc, plain, {}) == (None, None, None, "The labels came from names.txt, which is neither "
                                             "attached nor given with --labels: labels were left out of the "
                                             "comparison.")
    assert _label_source(Doc({}), plain, {}) == (None, None, None, None)  # the index
    assert _label_source(Doc({"labels": "given"}), plain, {}) == (None, None, None, None)


class Stream:
    def __init__(self, data: bytes):
        self.data = data

    def get_object(self):
        return self

    def get_data(self) -> bytes:
        return self.data


class Reader:
    def __init__(self, xmp: bytes | None):
        self.trailer = {"/Root": {"/Metadata": Stream(xmp)} if xmp is not None else {}}


@pytest.mark.parametrize("xmp,variant", [
    (b'<x pdfaid:part="3" pdfaid:conformance="B"/>', "pdf/a-3b"),
    (b"<pdfaid:part>2</pdfaid:part><pdfaid:conformance>U</pdfaid:conformance>", "pdf/a-2u"),
    (b'<x pdfaid:part="3"/>', "none"),  # a part without a level says nothing
    (b'<x pdfuaid:part="1"/>', "pdf/ua-1"),
    (b"<x/>", "none"),
    (None, "none"),
])
def test_the_pdf_variant_comes_from_the_xmp_metadata(xmp, variant):
    assert _variant(Reader(xmp)) == variant


def test_the_variant_of_a_reader_without_a_root_is_none():
    class Bare:
        trailer: dict = {}

    assert _variant(Bare()) == "none"


def test_the_claims_of_a_report():
    x = np.random.default_rng(1).standard_normal((20, 4)).astype(np.float32)
    result = simreport.run_test(x, report={"model": "m", "model_version": "v2", "dataset": "d"})
    claims = dict(_claims(result, "SR-X"))
    counts = result.summary["counts"]
    assert list(claims)[:10] == ["Report ID", "Title", "Model", "Dataset", "Input", "Input SHA-256", "Array SHA-256",
                                 "Created", "Tool", "Outcome"]
    assert (claims["Report ID"], claims["Title"], claims["Model"], claims["Dataset"]) == (
        "SR-X", "Cosine similarity test", "m v2", "d")
    assert claims["Input"] == "array: 20 records x 4 dimensions"
    assert claims["Input SHA-256"] == "(in-memory array)" and claims["Array SHA-256"] == result.input["array_sha256"]
    assert claims["Tool"] == f"simreport {simreport.__version__}" and claims["Created"] == result.created
    assert claims["Outcome"] == (f"{result.status} ({counts['pass']} passed, {counts['warn']} warnings, "
                                 f"{counts['fail']} failed)")
    assert [(k, v) for k, v in _claims(result, "SR-X")[10:]] == [
        (f"Finding {f.id}", f"{f.status}: {f.message}") for f in result.findings]
    bare = dict(_claims(simreport.run_test(x), "SR-Y"))
    assert (bare["Model"], bare["Dataset"]) == ("not stated", "not stated")


def test_a_verification_with_no_checks_has_not_passed():
    v = Verification()
    assert v.passed is False
    assert v.check("a", 1, "d") is True and v.passed is True and v.checks == [("a", True, "d")]
    assert v.check("b", 0, "e") is False and v.passed is False


# ----------------------------------------------------------------------------- files that are no report


def test_files_that_are_no_readable_pdf_are_refused(tmp_path):
    with pytest.raises(InputError) as err:
        read_pdf(tmp_path / "gone.pdf")
    assert str(err.value) == f"{tmp_path / 'gone.pdf'}: file not found; give the path of a simreport PDF."
    with pytest.raises(InputError) as err:
        read_pdf(tmp_path)
    assert str(err.value) == f"{tmp_path}: is a folder; give the path of a simreport PDF."
    (tmp_path / "a.pdf").write_bytes(b"hello")
    for error, reason in ((PermissionError(13, "Permission denied"), "Permission denied"), (OSError("odd"), "odd")):
        def fail(self, error=error):
            raise error

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(type(tmp_path), "read_bytes", fail)
            with pytest.raises(InputError) as err:
                read_pdf(tmp_path / "a.pdf")
        assert str(err.value) == f"{tmp_path / 'a.pdf'}: cannot read the file ({reason})."
    with pytest.raises(InputError) as err:
        read_pdf(tmp_path / "a.pdf")
    assert str(err.value) == f"{tmp_path / 'a.pdf'}: not a PDF (no %PDF header); give a PDF written by simreport."
    (tmp_path / "b.pdf").write_bytes(b"%PDF-1.7\nnothing else")
    with pytest.raises(InputError) as err:
        read_pdf(tmp_path / "b.pdf")
    assert str(err.value).startswith(f"{tmp_path / 'b.pdf'}: not a readable PDF (")
    assert str(err.value).endswith("); give a PDF written by simreport.")


def blank_pdf(path, attachments: dict | None = None, metadata: dict | None = None):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    for name, data in (attachments or {}).items():
        writer.add_attachment(name, data)
    if metadata:
        writer.add_metadata(metadata)
    with open(path, "wb") as handle:
        writer.write(handle)
    return path


def test_a_pdf_without_results_is_not_simreports(tmp_path):
    path = blank_pdf(tmp_path / "plain.pdf", {"other.txt": b"x"}, {"/Title": "t"})
    ev = read_pdf(path)
    assert (ev.pages, ev.attachment_names, ev.info["Title"], ev.variant) == (1, ["other.txt"], "t", "none")
    assert ev.data == path.read_bytes() and ev.revisions == [m.end() for m in EOF_MARKER.finditer(ev.data)]
    with pytest.raises(InputError) as err:
        verify_report(path)
    assert str(err.value) == (f"{path}: no simreport-results.json attached; this PDF was not written by simreport "
                              "(or its attachment was removed).")


def test_results_that_are_no_simreport_document_stop_after_the_id_checks(tmp_path):
    from simreport.results import report_id_of

    raw = b'{"schema_version": "9"}'
    rid = report_id_of(raw, "SR")
    path = blank_pdf(tmp_path / "r.pdf", {"simreport-results.json": raw}, {"/simreportreportid": rid})
    outcome = verify_report(path)
    names = [(name, ok) for name, ok, _ in outcome.checks]
    assert names == [("report ID in the PDF metadata matches the attached results", True),
                     ("report ID printed on page 1 matches the attached results", False),
                     ("attached results follow the simreport schema", False)]
    assert outcome.checks[0][2] == f"attachment gives {rid}, metadata says {rid}"
    assert outcome.checks[1][2] == f"looked for {rid} on page 1"
    assert outcome.claims == [] and not outcome.passed
    garbage = blank_pdf(tmp_path / "g.pdf", {"simreport-results.json": b"\xff not json"})
    outcome = verify_report(garbage)
    assert outcome.checks[0][2].endswith("metadata says (none)")
    assert outcome.checks[2][1] is False and outcome.checks[2][2].startswith("not readable simreport JSON (")


def test_page_fingerprints_follow_the_content_of_each_page(tmp_path):
    one = blank_pdf(tmp_path / "1.pdf").read_bytes()
    fps = page_fingerprints(one)
    assert fps == [hashlib.sha256(b"").hexdigest()]  # a blank page: no content stream, no images
    assert page_fingerprints(b"%PDF-1.7 broken")[0].startswith("unreadable: ")


# ----------------------------------------------------------------------------- signatures (check_signatures faked)


UNSIGNED = ("The PDF is not signed: anybody with simreport can write a PDF that passes these checks; only a signature "
            "(simreport run --sign) ties the document to a signer.")


def signature(**kw):
    from types import SimpleNamespace

    base = dict(signer="CN=Model Risk", issuer="CN=Bank CA", signing_time="2026-11-27T10:00:00Z", intact=True,
                valid=True, detail="intact", whole_file=True, coverage="the whole file", self_signed=False,
                trusted=True, trust_detail="", signed_from=1234)
    return SimpleNamespace(**{**base, **kw})


def run_signatures(monkeypatch, found, trust=(), data=b"%PDF-1.7 x %%EOF\n"):
    from simreport import signing
    from simreport.verify import _signatures

    def check(data_, trust_):
        if isinstance(found, Exception):
            raise found
        return found

    monkeypatch.setattr(signing, "check_signatures", check)
    outcome = Verification(claims=[("Report ID", "SR-1")])
    return _signatures(evidence(data), outcome, list(trust)), outcome


def test_an_unsigned_report_says_so(monkeypatch):
    end, outcome = run_signatures(monkeypatch, [])
    assert (end, outcome.checks, outcome.notes) == (None, [], [UNSIGNED])
    end, outcome = run_signatures(monkeypatch, [], trust=["ca.pem"])
    assert outcome.checks == [("signed by a signer that chains to --trust", False, "the PDF carries no signature")]
    assert outcome.notes == [UNSIGNED]


def test_without_the_signing_extra_a_signed_pdf_fails_and_an_unsigned_one_is_noted(monkeypatch):
    from simreport.signing import SigningUnavailable

    missing = SigningUnavailable("pyHanko is not installed")
    end, outcome = run_signatures(monkeypatch, missing, data=b"%PDF-1.7 /ByteRange [0 1 2 3] %%EOF\n")
    assert (end, outcome.checks, outcome.notes) == (None, [("signature checked", False, "pyHanko is not installed")],
                                                     [])
    end, outcome = run_signatures(monkeypatch, missing)
    assert (end, outcome.checks, outcome.notes) == (None, [], [UNSIGNED])


def test_a_signature_is_checked_and_its_signer_claimed(monkeypatch):
    end, outcome = run_signatures(monkeypatch, [signature()], trust=["ca.pem"])
    assert end == 1234
    assert outcome.claims == [("Report ID", "SR-1"), ("Signed by", "CN=Model Risk"),
                              ("Signer certificate issued by", "CN=Bank CA"),
                              ("Signing time (signer's clock)", "2026-11-27T10:00:00Z")]
    assert outcome.checks == [("signature is cryptographically intact and valid", True, "intact"),
                              ("signature covers the whole file", True, "the whole file"),
                              ("signer chains to a certificate given with --trust", True, "trusted")]
    assert outcome.notes == []


def test_a_bad_signature_fails_each_of_its_checks(monkeypatch):
    sig = signature(valid=False, detail="digest mismatch", whole_file=False, coverage="bytes 0-99 of 200",
                    self_signed=True, trusted=False, trust_detail="no chain to ca.pem")
    end, outcome = run_signatures(monkeypatch, [signature(signer="first"), sig], trust=["ca.pem"])
    assert outcome.checks == [("one signature, by simreport --sign", False, "2 signatures"),
                              ("signature is cryptographically intact and valid", False, "digest mismatch"),
                              ("signature covers the whole file", False, "bytes 0-99 of 200"),
                              ("signer chains to a certificate given with --trust", False,
                               "not trusted: no chain to ca.pem")]
    assert outcome.claims[1] == ("Signed by", "CN=Model Risk")  # the last signature's
    assert outcome.claims[-1] == ("Signer certificate", "self-signed (identity not vouched for by anyone)")
    _, intact_only = run_signatures(monkeypatch, [signature(intact=False)])
    assert intact_only.checks[0] == ("signature is cryptographically intact and valid", False, "intact")


def test_without_trust_the_signers_identity_is_not_anchored(monkeypatch):
    anchor = ("The signer's identity is not anchored: give --trust CA.pem (your institution's certificate authority) "
              "to check who signed.")
    _, outcome = run_signatures(monkeypatch, [signature()])
    assert [name for name, _, _ in outcome.checks] == ["signature is cryptographically intact and valid",
                                                       "signature covers the whole file"]
    assert outcome.notes == [anchor]
    _, outcome = run_signatures(monkeypatch, [signature(self_signed=True)])
    assert outcome.notes == [anchor + " The signer's certificate is self-signed."]


# ----------------------------------------------------------------------------- page fingerprints of drawn forms


def pdf_with_forms(chain: list[bytes], extra: bytes = b"0 0 m S", shared: bool = False) -> bytes:
    """One page drawing a chain of nested form XObjects (chain[0] outermost) and, when ``shared``,
    the outermost one again under a second name before a third, separate form ``extra``."""
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject, NumberObject

    writer = PdfWriter()
    page = writer.add_blank_page(100, 100)

    def form(data: bytes, resources: DictionaryObject | None = None):
        stream = DecodedStreamObject()
        stream.set_data(data)
        stream.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Form"),
                       NameObject("/BBox"): ArrayObject([NumberObject(v) for v in (0, 0, 100, 100)])})
        if resources is not None:
            stream[NameObject("/Resources")] = resources
        return writer._add_object(stream)

    ref = None
    for data in reversed(chain):
        inner = None if ref is None else DictionaryObject({NameObject("/XObject"): DictionaryObject(
            {NameObject("/In"): ref})})
        ref = form(data, inner)
    xobjects = {NameObject("/A"): ref}
    if shared:
        xobjects[NameObject("/B")] = ref
        xobjects[NameObject("/C")] = form(extra)
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/XObject"): DictionaryObject(xobjects)})
    contents = DecodedStreamObject()
    contents.set_data(b"/A Do")
    page[NameObject("/Contents")] = writer._add_object(contents)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_page_fingerprints_reach_every_drawn_form_down_to_eight_levels():
    base = [b"q %d Q" % k for k in range(9)]  # nine levels: depths 0 to 8 are read
    same = page_fingerprints(pdf_with_forms(base))
    assert same == page_fingerprints(pdf_with_forms(base)) and len(same) == 1
    for level in (0, 1, 8):
        changed = base.copy()
        changed[level] = b"q 99 Q"
        assert page_fingerprints(pdf_with_forms(changed)) != same, level
    deeper = base + [b"q 9 Q"]
    assert page_fingerprints(pdf_with_forms(deeper)) == page_fingerprints(pdf_with_forms(base + [b"q 10 Q"]))


def test_a_form_drawn_twice_is_read_once_and_the_next_one_still_counts():
    one = page_fingerprints(pdf_with_forms([b"q 1 Q"], extra=b"0 0 m S", shared=True))
    other = page_fingerprints(pdf_with_forms([b"q 1 Q"], extra=b"1 1 m S", shared=True))
    assert one != other


def test_a_report_of_texts_embedded_by_a_model_that_cannot_be_loaded_again_is_refused(tmp_path):
    """verify embeds the texts again with the recorded model; a model known only by name (no fingerprint,
    no folder) cannot be, and nothing passes (test_verify_tamper runs the real model)."""
    from simreport.errors import ModelError
    from simreport.verify import _input_checks

    result = simreport.run_test(np.eye(3, dtype=np.float32))
    result.model = {"name": "some-model"}
    data = tmp_path / "texts.csv"
    data.write_bytes(b"text\na\nb\nc\n")
    outcome = Verification()
    with pytest.raises(ModelError) as err:
        _input_checks(result, evidence(), [data], outcome)
    assert str(err.value) == ("the texts were embedded by some-model, which existed only in the Python session that "
                              "ran the test; verify cannot load it again, so the numbers cannot be recomputed from "
                              "the texts (verify without INPUT checks the PDF alone).")
    assert outcome.checks == [] and outcome.notes == []
    with pytest.raises(InputError) as err:
        _input_checks(result, evidence(), [tmp_path / "gone.csv"], Verification())
    assert str(err.value) == (f"{tmp_path / 'gone.csv'}: input file not found; give the embedding file the report "
                              "was made from.")


def test_a_recomputation_without_the_labels_file_leaves_labels_out_and_says_so(tmp_path):
    from simreport.cosine_test import TestOptions, cosine_similarity_test
    from simreport.inputs import load_embeddings
    from simreport.verify import _input_checks

    x = np.random.default_rng(3).standard_normal((30, 5)).astype(np.float32)
    np.save(tmp_path / "e.npy", x)
    (tmp_path / "names.txt").write_text("".join(f"record {k}\n" for k in range(30)), "utf-8")
    result = cosine_similarity_test(load_embeddings(tmp_path / "e.npy", labels_file=tmp_path / "names.txt"),
                                    TestOptions())
    assert result.input["labels"] == "file names.txt"
    outcome = Verification()
    _input_checks(result, evidence(), [tmp_path / "e.npy"], outcome)
    assert [(name, ok) for name, ok, _ in outcome.checks] == [
        ("SHA-256 of e.npy matches the report", True),
        ("re-running the test on e.npy gives every statistic, count, pair and finding of the report", True)]
    sha = hashlib.sha256((tmp_path / "e.npy").read_bytes()).hexdigest()
    assert outcome.checks[0][2] == f"file {sha}, report {sha}"
    assert outcome.checks[1][2] == "all agree (floats to 1e-6 relative, pictures to 1e-3)"
    assert outcome.notes == ["The labels came from names.txt, which is neither attached nor given with --labels: "
                             "labels were left out of the comparison."]
    np.save(tmp_path / "other.npy", x[::-1].copy())  # other numbers: many differences, the first three shown
    other = Verification()
    _input_checks(result, evidence(), [tmp_path / "other.npy"], other)
    assert [ok for _, ok, _ in other.checks] == [False, False] and len(other.differences) > 3
    assert other.checks[1][2] == "; ".join(other.differences[:3]) + f"; ... ({len(other.differences)} differences)"
    given = Verification()  # given with --labels (under any file name), they are compared too
    (tmp_path / "copy.txt").write_bytes((tmp_path / "names.txt").read_bytes())
    _input_checks(result, evidence(), [tmp_path / "e.npy"], given, labels_file=tmp_path / "copy.txt")
    assert [ok for _, ok, _ in given.checks] == [True, True] and given.notes == []


def test_a_recomputation_keeps_the_runs_choice_that_labels_are_texts(tmp_path):
    from simreport.cosine_test import TestOptions, cosine_similarity_test
    from simreport.inputs import load_embeddings
    from simreport.verify import _input_checks

    x = np.random.default_rng(4).standard_normal((12, 3)).astype(np.float32)
    np.save(tmp_path / "e.npy", x)
    (tmp_path / "names.txt").write_text("".join(f"text {k % 6}\n" for k in range(12)), "utf-8")  # repeated texts
    data = load_embeddings(tmp_path / "e.npy", labels_file=tmp_path / "names.txt")
    result = cosine_similarity_test(data, TestOptions(labels_are_texts=True))
    assert result.parameters["labels_are_texts"] is True
    assert {f.id: f.status for f in result.findings}["duplicate_texts"] != "na"  # judged as texts
    outcome = Verification()
    _input_checks(result, evidence(), [tmp_path / "e.npy"], outcome, labels_file=tmp_path / "names.txt")
    assert [ok for _, ok, _ in outcome.checks] == [True, True], outcome.checks


@pytest.mark.parametrize("key", ["input", "parameters", "stats", "near_duplicates", "most_similar", "opposed",
                                 "nearest_neighbour", "identical_rows", "findings", "summary", "heatmap", "overview",
                                 "clusters", "report"])
def test_every_recomputed_section_is_compared(key):
    assert compare_results({key: {"x": 1}}, {key: {"x": 2}}) == [f"{key}.x: report 1, recomputed 2"]
    assert compare_results({"created": 1, "tool": 1, "environment": 1, "timings": 1},
                           {"created": 2, "tool": 2, "environment": 2, "timings": 2}) == []


@pytest.mark.parametrize("key", ["title", "names", "agreement", "findings", "summary", "report"])
def test_every_section_of_a_comparison_is_compared(key):
    kind = {"kind": "simreport-comparison", "results": []}
    assert compare_results({**kind, key: {"x": 1}}, {**kind, key: {"x": 2}}) == [f"{key}.x: report 1, recomputed 2"]
    assert compare_results({**kind, key: {"x": 1}}, {**kind, key: {"x": 1}}) == []


def test_what_a_rendering_that_differs_is_reported_as(monkeypatch):
    """The details a reviewer reads when the pages are not what the attached results render to."""
    import weasyprint

    import simreport.render.pdf as pdf_render
    from simreport.verify import _rendering

    one, other, two = (weasyprint.HTML(string=html).write_pdf() for html in (
        "<p>one</p>", "<p>other</p>", "<p>one</p><p style='break-before: page'>two</p>"))
    result = simreport.run_test(np.eye(3, dtype=np.float32))
    count = "page count matches what simreport wrote"
    pages = "every page is what its attached results render to (content, drawings and images)"
    for fresh, expected in (
            (two, [(count, False, "the PDF has 1 pages; its attached results render to 2")]),
            (other, [(count, True, "1 pages"), (pages, False, "page 1 differs from a fresh rendering of the attached "
                     "results (an overlay or an edit; fonts or a WeasyPrint version other than the writer's change "
                     "the rendering too)")])):
        monkeypatch.setattr(pdf_render, "render_pdf", lambda *args, fresh=fresh, **kwargs: fresh)
        outcome = Verification()
        _rendering(evidence(data=one), result, outcome, None, None)
        assert outcome.checks == expected


def test_pages_are_not_compared_when_the_rendering_cannot_be_repeated():
    from simreport.verify import _rendering

    result = simreport.run_test(np.eye(3, dtype=np.float32))
    result.tool = {**result.tool, "version": "0.0.1"}
    outcome = Verification()
    _rendering(evidence(), result, outcome, None, None)
    assert (outcome.checks, outcome.notes) == ([], [
        f"The pages were not compared with a fresh rendering: the PDF was written by simreport 0.0.1 and this is "
        f"{simreport.__version__}."])
    result.tool = {**result.tool, "version": simreport.__version__}
    result.configuration = {"render": {"templates": "/bank/templates"}}
    outcome = Verification()
    _rendering(evidence(), result, outcome, None, None)
    assert (outcome.checks, outcome.notes) == ([], [
        "The pages were not compared with a fresh rendering: the report was rendered with the templates in "
        "/bank/templates; give them with --templates."])


def test_how_many_inputs_a_report_is_checked_against():
    from pathlib import Path

    from simreport.results import Comparison
    from simreport.verify import _check_input_count

    a, b, c = Path("a.npy"), Path("b.npy"), Path("c.npy")
    single = simreport.run_test(np.eye(3, dtype=np.float32))
    _check_input_count(single, [])
    _check_input_count(single, [a])
    with pytest.raises(InputError) as err:
        _check_input_count(single, [a, b])
    assert str(err.value) == ("a.npy b.npy: a single run's report is checked against one INPUT, the file it was made "
                              "from; two inputs are for a comparison report.")
    comparison = Comparison.__new__(Comparison)
    comparison.results = [{"model": None}, {"model": None}]
    _check_input_count(comparison, [a, b])
    with pytest.raises(InputError) as err:
        _check_input_count(comparison, [a, b, c])
    assert str(err.value) == ("a.npy b.npy c.npy: a comparison is checked against its two inputs (A then B, as they "
                              "were given to compare); got 3.")
    comparison.results = [{"model": None}, {"model": {"name": "m"}}]  # texts embedded by the models
    _check_input_count(comparison, [a])
    with pytest.raises(InputError) as err:
        _check_input_count(comparison, [a, b])
    assert str(err.value) == ("a.npy b.npy: this comparison embedded one file of texts with two models; give that "
                              "one file.")


def test_results_without_a_colour_range_are_recomputed_with_the_full_one():
    from simreport.verify import _test_options

    result = simreport.run_test(np.eye(3, dtype=np.float32), color_range=(-0.5, 0.5))
    assert _test_options(result).color_range == (-0.5, 0.5)
    del result.parameters["color_range"]  # results written before the colour range was recorded
    assert _test_options(result).color_range == (-1.0, 1.0)


def test_a_result_is_recomputed_with_the_limits_and_seed_it_records():
    from simreport.cosine_test import TestOptions
    from simreport.verify import _test_options

    result = simreport.run_test(np.eye(3, dtype=np.float32), seed=5, thresholds={"mean_similarity": {"warn": 0.4}})
    assert _test_options(result).seed == 5
    assert _test_options(result).thresholds == result.parameters["threshold_set"]["overrides"]
    result.parameters["threshold_set"] = {"file": "bank-limits.toml", "sha256": "ab" * 32}  # a set file of the writer's
    assert _test_options(result).thresholds == result.parameters["thresholds"]  # every limit as recorded
    del result.parameters["seed"]  # results written before the seed was recorded
    assert _test_options(result).seed == TestOptions().seed == 0


def test_a_comparison_is_recomputed_with_its_own_list_lengths():
    """Neighbours and both list lengths come from the comparison's parameters, not the defaults."""
    from simreport.compare import compare_models
    from simreport.prepare import prepare_data
    from simreport.verify import _recompare, compare_results

    rng = np.random.default_rng(8)
    a = rng.standard_normal((60, 6)).astype(np.float32)
    b = a + 0.4 * rng.standard_normal((60, 6)).astype(np.float32)
    comparison = compare_models(a, b, neighbours=3, listed_pairs=4, listed_records=3)
    recorded = json.loads(comparison.to_json())
    assert (recorded["parameters"]["neighbours"], recorded["parameters"]["listed_pairs"],
            recorded["parameters"]["listed_records"]) == (3, 4, 3)
    fresh = _recompare(comparison, prepare_data(a)[0], prepare_data(b)[0])
    assert compare_results(recorded, json.loads(fresh.to_json())) == []
    defaults = compare_models(a, b)
    assert compare_results(recorded, json.loads(defaults.to_json())) != []  # the lengths do show


# The shipped templates as of the version that last changed a PDF's pages. verify compares a PDF's
# pages with a fresh rendering only when the PDF was written by its own version, so a template change
# that changes any page must come with a new version: else an honest PDF written before the change
# would be reported as edited.
TEMPLATES_OF_VERSION = ("0.1.2", "935d271285c5d91a0b78b19f39c63823348ebbb472f9139bc411398cf0fb67a7")


def test_a_template_change_is_recorded_with_the_version():
    from simreport.render.environment import shipped_templates
    from simreport.version import __version__

    root = shipped_templates()
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    version, recorded = TEMPLATES_OF_VERSION
    assert (version, digest.hexdigest()) == (__version__, recorded), (
        "the shipped templates (or the version) changed: if any PDF's pages change, give simreport a new version "
        "(pyproject.toml and simreport/version.py), then record it and the new digest in TEMPLATES_OF_VERSION")
