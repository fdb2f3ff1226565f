"""Signed reports: a PAdES signature on the PDF (pyHanko), and checking it.

Signing appends one incremental revision to the PDF that WeasyPrint wrote, so the
document itself (PDF/A-3b, its attachments, its bytes) stays exactly as written and a
verifier can still compare it with a fresh rendering. The signature is invisible (no
widget on the pages) and covers the whole file. Needs the optional extra
``simreport[sign]`` (pyHanko).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

PASSPHRASE_VARIABLE = "SIMREPORT_SIGN_PASSPHRASE"
FIELD_NAME = "simreport-signature"


class SigningUnavailable(RuntimeError):
    """pyHanko is not installed."""


class SigningError(ValueError):
    """The certificate file cannot be used to sign (the message names the file and the fix)."""


def _off_the_event_loop(function, *args):
    """Run ``function`` here, or in a worker thread when this thread already runs an asyncio
    event loop (a notebook, a browser driver): pyHanko's blocking calls start their own loop."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


def _need_pyhanko() -> None:
    try:
        import pyhanko  # noqa: F401
        import pyhanko_certvalidator  # noqa: F401
    except ImportError:
        raise SigningUnavailable("signing needs the optional extra: pip install 'simreport[sign]'") from None


def p12_needs_passphrase(path: Path) -> bool:
    """True when the PKCS#12 file is encrypted (it cannot be opened without a passphrase)."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    data = _read_p12(path)
    try:
        pkcs12.load_key_and_certificates(data, None)
        return False
    except ValueError:
        return True
    except TypeError:
        return True


def _read_p12(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise SigningError(f"{path}: certificate file not found; give --sign the path of a PKCS#12 (.p12) file") \
            from None
    except IsADirectoryError:
        raise SigningError(f"{path}: is a folder; give --sign the path of a PKCS#12 (.p12) file") from None
    except OSError as exc:
        raise SigningError(f"{path}: cannot read the certificate file ({exc.strerror or exc})") from None


def load_signer(path: Path, passphrase: bytes | None):
    """A pyHanko signer from a PKCS#12 file (key, certificate and chain)."""
    _need_pyhanko()
    from cryptography.hazmat.primitives.serialization import pkcs12
    from pyhanko.sign import signers

    data = _read_p12(path)
    try:
        key, cert, chain = pkcs12.load_key_and_certificates(data, passphrase)
    except ValueError as exc:
        text = str(exc).lower()
        if "password" in text or "mac" in text or "decrypt" in text:
            raise SigningError(f"{path}: wrong passphrase for the certificate file (set {PASSPHRASE_VARIABLE} "
                               "or type it at the prompt)") from None
        raise SigningError(f"{path}: not a PKCS#12 (.p12) file with a key and certificate ({exc})") from None
    except TypeError:
        raise SigningError(f"{path}: the certificate file is protected by a passphrase; set "
                           f"{PASSPHRASE_VARIABLE} or type it at the prompt") from None
    if key is None or cert is None:
        raise SigningError(f"{path}: the PKCS#12 file holds no private key and certificate; export both")
    try:
        signer = signers.SimpleSigner.load_pkcs12(str(path), passphrase=passphrase)
    except Exception as exc:
        raise SigningError(f"{path}: pyHanko cannot use this certificate file ({exc})") from None
    if signer is None:
        raise SigningError(f"{path}: pyHanko cannot use this certificate file")
    return signer


def sign_pdf(pdf: bytes, signer, reason: str = "simreport validation report") -> bytes:
    """The PDF with an invisible PAdES baseline signature appended as an incremental update."""
    return _off_the_event_loop(_sign_pdf, pdf, signer, reason)


def _sign_pdf(pdf: bytes, signer, reason: str) -> bytes:
    _need_pyhanko()
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    meta = signers.PdfSignatureMetadata(field_name=FIELD_NAME, reason=reason,
                                        subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256")
    out = io.BytesIO()
    signers.PdfSigner(meta, signer=signer, new_field_spec=fields.SigFieldSpec(FIELD_NAME)).sign_pdf(
        writer, output=out)
    return out.getvalue()


@dataclass
class SignatureCheck:
    """What verify reports about one signature."""

    signer: str
    issuer: str
    signing_time: str
    intact: bool
    valid: bool
    whole_file: bool
    coverage: str
    trusted: bool
    trust_detail: str
    self_signed: bool
    signed_from: int  # byte offset where the signed revision starts (end of the unsigned document)
    detail: str


def check_signatures(pdf: bytes, trust: list[Path]) -> list[SignatureCheck]:
    """Validate every signature of a PDF; ``trust`` are PEM/DER certificates to anchor identity."""
    return _off_the_event_loop(_check_signatures, pdf, trust)


def _check_signatures(pdf: bytes, trust: list[Path]) -> list[SignatureCheck]:
    _need_pyhanko()
    import logging

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.general import SigningError as HankoSigningError
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko_certvalidator import ValidationContext

    roots = [_load_certificate(path) for path in trust]
    for name in ("pyhanko", "pyhanko_certvalidator"):  # failures are reported by verify, not logged
        logging.getLogger(name).setLevel(logging.CRITICAL)
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    found = []
    for embedded in reader.embedded_signatures:
        cert = embedded.signer_cert
        self_signed = cert.subject == cert.issuer
        context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
        try:
            status = validate_pdf_signature(embedded, context,
                                            key_usage_settings=KeyUsageConstraints(key_usage=set()))
            intact, valid, trusted = status.intact, status.valid, bool(roots) and status.trusted
            coverage = status.coverage.name if status.coverage is not None else "UNKNOWN"
            when = status.signer_reported_dt
            trust_detail = "" if trusted else _why_untrusted(status)
            detail = "intact, valid" if intact and valid else (status.summary() if hasattr(status, "summary")
                                                              else "invalid")
        except (HankoSigningError, ValueError, KeyError, TypeError) as exc:
            intact = valid = trusted = False
            coverage, when, trust_detail, detail = "UNKNOWN", None, str(exc), f"cannot be validated ({exc})"
        byte_range = [int(v) for v in embedded.sig_object["/ByteRange"]]
        whole = coverage == "ENTIRE_FILE" and byte_range[2] + byte_range[3] == len(pdf)
        found.append(SignatureCheck(
            signer=cert.subject.human_friendly, issuer=cert.issuer.human_friendly,
            signing_time=when.strftime("%Y-%m-%d %H:%M:%S %Z").strip() if when else "not stated",
            intact=intact, valid=valid, whole_file=whole,
            coverage=f"{coverage.lower().replace('_', ' ')}; byte range ends at {byte_range[2] + byte_range[3]} of "
                     f"{len(pdf)} bytes",
            trusted=trusted, trust_detail=trust_detail, self_signed=self_signed,
            signed_from=_revision_start(pdf, byte_range),
            detail=detail))
    return found


def _revision_start(pdf: bytes, byte_range: list[int]) -> int:
    """Where the revision holding this signature begins: just after the previous %%EOF."""
    end = pdf.rfind(b"%%EOF", 0, byte_range[1])
    if end < 0:
        return 0
    end += len(b"%%EOF")
    while end < len(pdf) and pdf[end:end + 1] in (b"\r", b"\n"):
        end += 1
    return end


def _why_untrusted(status) -> str:
    errors = getattr(status, "validation_path", None)
    if errors is None:
        return "no path to a certificate given with --trust"
    return "the certificate chain does not end at a certificate given with --trust"


def _load_certificate(path: Path):
    from asn1crypto import pem, x509

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SigningError(f"{path}: cannot read the --trust certificate ({exc.strerror or exc})") from None
    try:
        if pem.detect(data):
            _, _, data = pem.unarmor(data)
        return x509.Certificate.load(data)
    except (ValueError, TypeError) as exc:
        raise SigningError(f"{path}: not a PEM or DER certificate ({exc}); give --trust a CA certificate") from None


def passphrase_from_environment() -> bytes | None:
    """The passphrase from SIMREPORT_SIGN_PASSPHRASE, or None."""
    value = os.environ.get(PASSPHRASE_VARIABLE)
    return value.encode("utf-8") if value else None
