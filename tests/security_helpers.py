"""Helpers shared by the security tests and the hostile-input suite."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace


def cli_inproc(*args: object, cwd: Path, input: str | None = None, **extra_env: str | None):
    """Run the command line through click's test runner in this process (fast); an exception
    escaping the CLI shows up as "Traceback" in stderr, as it would in a subprocess."""
    from click.testing import CliRunner

    from simreport.cli import main

    try:
        runner = CliRunner(mix_stderr=False)  # click < 8.2
    except TypeError:
        runner = CliRunner()
    env = {"SIMREPORT_DEBUG": None, "SOURCE_DATE_EPOCH": None, **extra_env}
    before = os.getcwd()
    os.chdir(cwd)
    try:
        result = runner.invoke(main, [str(a) for a in args], env=env, catch_exceptions=True, input=input)
    finally:
        os.chdir(before)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        stderr += "Traceback (in process): " + "".join(traceback.format_exception(result.exception))
    return SimpleNamespace(returncode=result.exit_code, stdout=result.stdout, stderr=stderr)


def error_line(proc, code: int = 2) -> str:
    """The one stderr line of a failed command (asserting the exit code and no traceback)."""
    assert proc.returncode == code, (proc.returncode, proc.stdout[-2000:], proc.stderr[-3000:])
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.strip().splitlines() if not line.startswith("simreport: using ")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def files_under(folder: Path) -> list[str]:
    """Every file below ``folder`` (relative paths, sorted), hidden temporaries included."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def make_ca_and_signer(folder: Path, passphrase: bytes | None = b"correct horse", self_signed: bool = False,
                       name: str = "Validation Team, Example Bank") -> dict[str, Path]:
    """A throwaway certificate authority and a signer issued by it (or a self-signed signer),
    made with ``cryptography``: {"ca": CA.pem, "p12": signer.p12, "signer_pem": signer.pem}."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    later = now + datetime.timedelta(days=30)

    def subject(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Bank (test)")])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (x509.CertificateBuilder().subject_name(subject("Example Bank Test CA"))
               .issuer_name(subject("Example Bank Test CA")).public_key(ca_key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(later)
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                            crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
               .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    issuer_name, issuer_key = (subject(name), key) if self_signed else (ca_cert.subject, ca_key)
    cert = (x509.CertificateBuilder().subject_name(subject(name)).issuer_name(issuer_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(later)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(issuer_key, hashes.SHA256()))
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    chain = None if self_signed else [ca_cert]
    paths = {"ca": folder / "ca.pem", "p12": folder / ("self.p12" if self_signed else "signer.p12"),
             "signer_pem": folder / "signer.pem"}
    paths["ca"].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths["signer_pem"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["p12"].write_bytes(pkcs12.serialize_key_and_certificates(b"signer", key, cert, chain, encryption))
    return paths


def forge_pass(document: dict) -> None:
    """Edit a results (or comparison) dict so that every judged check passes and the file agrees
    with itself, as a forger who knows how simreport judges would: the statistics each warning or
    failing check is judged from are moved to harmless values, then the findings and the outcome
    are derived again from them (a comparison: each model's results first). The limits are left
    as recorded: loosened limits that the recorded threshold set does not give are refused."""
    comparison = document.get("kind") == "simreport-comparison"
    for result in document["results"] if comparison else ():
        forge_pass(result)
    for f in document["findings"]:
        if f["status"] in ("warn", "fail"):
            _HARMLESS[f["id"]](document)
    rederive(document)
    assert document["summary"]["status"] == "pass", document["summary"]


def _no_near_duplicates(d: dict) -> None:
    d["nearest_neighbour"]["items_above_threshold"] = d["near_duplicates"]["pairs"] = 0
    split = d["near_duplicates"].get("split") or {}
    if split.get("computed"):
        split.update(distinct_text_items=0, distinct_text_pairs=0, same_text_pairs=0)


def _no_opposed(d: dict) -> None:
    d["opposed"].update(pairs=0, items=0)
    if d["opposed"].get("defects"):
        d["opposed"]["defects"].update(pairs=0, items=0)


def _same_neighbours(d: dict) -> None:
    d["agreement"]["correlation"]["pearson"] = 0.99
    d["agreement"]["neighbours"].update(mean_overlap=0.99, same_nearest_share=0.99)


_HARMLESS = {  # check id -> the edit of the statistics it is judged from that makes it pass
    "mean_similarity": lambda d: d["stats"].update(mean=0.05),
    "similarity_spread": lambda d: d["stats"].update(std=0.2),
    "near_duplicate_share": _no_near_duplicates,
    "opposed_pairs": _no_opposed,
    "neighbour_crowding": lambda d: d["nearest_neighbour"]["quantiles"].update(p50=0.3),
    "identical_rows": lambda d: d["identical_rows"].update(rows=0, groups=0, distinct_text_rows=0),
    "duplicate_texts": lambda d: d["duplicate_texts"].update(rows=0, groups=0),
    "crowding_gap": lambda d: [r["nearest_neighbour"]["quantiles"].update(p50=0.3) for r in d["results"]],
    "near_duplicate_gap": lambda d: [_no_near_duplicates(r) for r in d["results"]],
    "spread_ratio": lambda d: [r["stats"].update(std=0.2) for r in d["results"]],
    "similarity_agreement": _same_neighbours,
    "neighbour_agreement": _same_neighbours,
}


def rederive(document: dict) -> None:
    """The findings and outcome of a results (or comparison) dict derived again from its own
    statistics and limits, as simreport derives them: what a forger who edited a number does next
    so that the file agrees with itself."""
    from simreport.findings import comparison_summary, evaluate_comparison, summary_of
    from simreport.results import Result

    if document.get("kind") == "simreport-comparison":
        judged = evaluate_comparison(*document["results"], document["names"], document["agreement"],
                                     document["parameters"]["thresholds"])
        document["summary"] = comparison_summary(judged, [r["summary"]["status"] for r in document["results"]])
    else:
        judged = Result.from_dict(document).derived_findings()
        document["summary"] = summary_of(judged)
    document["findings"] = [f.to_dict() for f in judged]
