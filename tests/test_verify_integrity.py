"""Issue 10, defects 1 and the signed reports: verify recomputes, sees appended revisions,
missing pages, overlays and swapped attachments, and validates PAdES signatures."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from pypdf import PdfReader, PdfWriter

from conftest import planted_embeddings
from security_helpers import cli_inproc, error_line, forge_pass, make_ca_and_signer

N, D = 100, 8
RENDERED_SAME = re.compile(r"PASS  (the PDF is exactly|every page is) what its attached results render to")


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """One report (JSON + PDF with labels attached) from an embedding file with a labels file."""
    folder = tmp_path_factory.mktemp("verify")
    x, _ = planted_embeddings(n=N, d=D)
    np.save(folder / "e.npy", x)
    (folder / "names.txt").write_text("".join(f"record {k}\n" for k in range(N)), encoding="utf-8")
    proc = cli_inproc("run", "e.npy", "--labels", "names.txt", "-o", "r", "--format", "json,pdf", "--attach-data",
                      "--quiet", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    return folder


def verify(folder: Path, *args: object, code: int):
    proc = cli_inproc("verify", *args, cwd=folder)
    assert proc.returncode == code, (proc.returncode, proc.stdout[-3000:], proc.stderr)
    assert "Traceback" not in proc.stderr
    return proc


def test_an_untouched_report_passes_with_and_without_input(made):
    with_input = verify(made, "r.pdf", "e.npy", code=0)
    assert "PASS  re-running the test on e.npy" in with_input.stdout
    assert RENDERED_SAME.search(with_input.stdout), with_input.stdout
    alone = verify(made, "r.pdf", code=0)
    assert "Without INPUT, verify cannot establish" in alone.stdout
    assert "not signed" in alone.stdout


def test_a_forged_and_re_rendered_report_fails_against_its_input(made, tmp_path):
    data = json.loads((made / "r.json").read_text())
    forge_pass(data)  # statistics moved, findings and outcome derived again: a file that agrees with itself
    (tmp_path / "forged.json").write_text(json.dumps(data))
    shutil.copy(made / "e.npy", tmp_path / "e.npy")
    proc = cli_inproc("render", "forged.json", "-o", "forged", "--format", "pdf", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert verify(tmp_path, "forged.pdf", code=0)  # consistent in itself: only the input can tell
    proc = verify(tmp_path, "forged.pdf", "e.npy", code=3)
    assert "FAIL  re-running the test on e.npy" in proc.stdout
    assert "summary.status: report \"pass\", recomputed \"fail\"" in proc.stdout
    assert "verification failed for forged.pdf" in proc.stderr


def test_a_different_input_fails(made, tmp_path):
    x, _ = planted_embeddings(n=N, d=D, seed=8)
    np.save(tmp_path / "other.npy", x)
    shutil.copy(made / "r.pdf", tmp_path / "r.pdf")
    proc = verify(tmp_path, "r.pdf", "other.npy", "--labels", made / "names.txt", code=3)
    assert "FAIL  SHA-256 of other.npy" in proc.stdout and "stats.mean" in proc.stdout


def _overlay(source: Path, target: Path, text: str = "OUTCOME: PASS") -> None:
    import weasyprint

    stamp = PdfReader(io.BytesIO(weasyprint.HTML(string=f"<p style='font-size:40pt'>{text}</p>").write_pdf()))
    reader = PdfReader(source)
    writer = PdfWriter(clone_from=reader)
    writer.pages[0].merge_page(stamp.pages[0])
    with open(target, "wb") as handle:
        writer.write(handle)


def _drop_last_page(source: Path, target: Path) -> None:
    writer = PdfWriter(clone_from=PdfReader(source))
    writer.remove_page(len(writer.pages) - 1)
    with open(target, "wb") as handle:
        writer.write(handle)


def _append_update(source: Path, target: Path) -> None:
    writer = PdfWriter(source, incremental=True)
    writer.add_metadata({"/Subject": "edited after writing"})
    with open(target, "wb") as handle:
        writer.write(handle)


def _swap_attachment(name: str, data: bytes):
    def swap(source: Path, target: Path) -> None:
        reader = PdfReader(source)
        writer = PdfWriter(clone_from=reader)
        for attached in writer.attachment_list:
            if attached.name == name:
                attached.content = data
        with open(target, "wb") as handle:
            writer.write(handle)
    return swap


TAMPERING = {
    "overlay on page 1": (_overlay, "page 1 differs"),
    "page removed": (_drop_last_page, "page count"),
    "incremental update": (_append_update, "appended"),
    "labels.txt edited": (_swap_attachment("labels.txt", "".join(f"forged {k}\n" for k in range(N)).encode()),
                          "labels"),
    "fingerprint edited": (_swap_attachment("input-fingerprint.json", b'{"n": 5}'), "fingerprint"),
    "bytes appended": (lambda s, t: t.write_bytes(s.read_bytes() + b"\n% note\n"), "appended"),
}


@pytest.mark.parametrize("how", list(TAMPERING))
def test_a_tampered_report_fails_verify(made, tmp_path, how):
    tamper, needle = TAMPERING[how]
    tamper(made / "r.pdf", tmp_path / "t.pdf")
    proc = verify(tmp_path, "t.pdf", code=3)
    failed = [line for line in proc.stdout.splitlines() if line.startswith("FAIL")]
    assert failed and any(needle in line for line in failed), proc.stdout


# --- signed reports -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pki")
    paths = make_ca_and_signer(folder)
    paths["self"] = make_ca_and_signer(folder / "..", passphrase=None, self_signed=True,
                                       name="Somebody Self-Signed")["p12"]
    return paths


@pytest.fixture(scope="module")
def signed(made, pki) -> Path:
    proc = cli_inproc("run", "e.npy", "--labels", "names.txt", "-o", "signed", "--format", "pdf", "--attach-data",
                      "--sign", pki["p12"], "--quiet", cwd=made, SIMREPORT_SIGN_PASSPHRASE="correct horse")
    assert proc.returncode == 0, proc.stderr
    return made / "signed.pdf"


def test_a_signed_report_verifies_with_signer_time_and_trust(made, signed, pki):
    proc = verify(made, signed, "e.npy", "--trust", pki["ca"], code=0)
    assert "Validation Team, Example Bank" in proc.stdout and "Signing time" in proc.stdout
    assert "PASS  signature is cryptographically intact and valid" in proc.stdout
    assert "PASS  signature covers the whole file" in proc.stdout
    assert "PASS  signer chains to a certificate given with --trust" in proc.stdout
    assert RENDERED_SAME.search(proc.stdout), proc.stdout
    untrusted = verify(made, signed, code=0)
    assert "identity is not anchored" in untrusted.stdout


def test_signing_keeps_pdfa_3b(signed):
    reader = PdfReader(signed)
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert "pdfaid:part" in xmp and ">3<" in xmp.replace(" ", "") or 'pdfaid:part="3"' in xmp
    assert "/OutputIntents" in root
    assert "simreport-results.json" in reader.attachments


def test_a_self_signed_signer_is_reported_as_such(made, pki, tmp_path):
    proc = cli_inproc("render", made / "r.json", "-o", tmp_path / "s", "--format", "pdf", "--sign", pki["self"],
                      cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr  # an unencrypted certificate file needs no passphrase
    out = verify(tmp_path, "s.pdf", code=0).stdout
    assert "self-signed" in out
    failed = verify(tmp_path, "s.pdf", "--trust", pki["ca"], code=3).stdout
    assert "FAIL  signer chains to a certificate given with --trust" in failed


@pytest.mark.parametrize("how", ["overlay on page 1", "page removed", "incremental update", "labels.txt edited",
                                 "bytes appended"])
def test_an_altered_signed_report_fails_verify(made, signed, pki, tmp_path, how):
    tamper, _ = TAMPERING[how]
    tamper(signed, tmp_path / "t.pdf")
    proc = verify(tmp_path, "t.pdf", "--trust", pki["ca"], code=3)
    assert "FAIL" in proc.stdout


def test_passphrase_comes_from_the_environment_or_a_prompt_never_a_flag(made, pki, tmp_path):
    wrong = cli_inproc("render", made / "r.json", "-o", tmp_path / "w", "--format", "pdf", "--sign", pki["p12"],
                       cwd=tmp_path, SIMREPORT_SIGN_PASSPHRASE="wrong")
    assert "passphrase" in error_line(wrong) and not (tmp_path / "w.pdf").exists()
    prompted = cli_inproc("render", made / "r.json", "-o", tmp_path / "p", "--format", "pdf", "--sign", pki["p12"],
                          cwd=tmp_path, input="correct horse\n", SIMREPORT_SIGN_PASSPHRASE=None)
    assert prompted.returncode == 0, prompted.stderr
    none = cli_inproc("render", made / "r.json", "-o", tmp_path / "n", "--format", "pdf", "--sign", pki["p12"],
                      cwd=tmp_path, input="\n", SIMREPORT_SIGN_PASSPHRASE=None)
    assert none.returncode == 2 and "Passphrase for" in none.stderr
    assert "SIMREPORT_SIGN_PASSPHRASE" in none.stderr.strip().splitlines()[-1]
    flag = cli_inproc("render", made / "r.json", "--sign", pki["p12"], "--passphrase", "x", cwd=tmp_path)
    assert flag.returncode == 2 and "no such option" in flag.stderr.lower()
    json_only = cli_inproc("render", made / "r.json", "-o", tmp_path / "j", "--format", "json", "--sign", pki["p12"],
                           cwd=tmp_path)
    assert "--format" in error_line(json_only)
