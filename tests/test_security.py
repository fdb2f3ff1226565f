"""Issue 10: evidence that cannot be forged quietly. Each defect of the security review
is reproduced here (it failed before the fix), then the guarantee that replaces it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import planted_embeddings, run_cli
from security_helpers import cli_inproc, error_line, files_under

N, D = 100, 8


@pytest.fixture(scope="module")
def emb(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sec")
    x, _ = planted_embeddings(n=N, d=D)
    np.save(folder / "emb.npy", x)
    return folder / "emb.npy"


# --- 2. templates cannot run code; an automatically found configuration is named ---------------

ESCAPE = '{{ cycler.__init__.__globals__.os.system("touch PWNED") }}\n'


def test_config_in_cwd_cannot_run_code_through_a_template(emb, tmp_path):
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "report.html.j2").write_text("{% extends 'base.html.j2' %}\n"
                                                     "{% block cover %}\n" + ESCAPE + "{% endblock %}\n")
    (tmp_path / "simreport.toml").write_text('[render]\ntemplates = "tpl"\n')
    proc = run_cli("run", str(emb), "-o", "out/r", "--format", "json,html", "--quiet", cwd=tmp_path)
    assert not (tmp_path / "PWNED").exists()
    line = error_line(proc)
    assert "report.html.j2" in line and "line 3" in line and "unsafe" in line, line
    assert "simreport: using configuration simreport.toml (found in the current folder)" in proc.stderr
    assert not (tmp_path / "out").exists() or files_under(tmp_path / "out") == []


def test_sandbox_escape_in_render_too(emb, tmp_path):
    proc = cli_inproc("run", emb, "-o", tmp_path / "r", "--format", "json", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "report.html.j2").write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    proc = cli_inproc("render", tmp_path / "r.json", "--templates", tmp_path / "t", "-o", tmp_path / "x",
                      "--format", "html", cwd=tmp_path)
    line = error_line(proc)
    assert "report.html.j2" in line and "line 1" in line
    assert not (tmp_path / "x.html").exists()


def test_found_config_is_named_on_stderr(emb, tmp_path):
    (tmp_path / "simreport.toml").write_text('[report]\ntitle = "Found"\n')
    proc = cli_inproc("run", emb, "-o", tmp_path / "r", "--format", "json", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "simreport: using configuration simreport.toml (found in the current folder)" in proc.stderr
    explicit = cli_inproc("run", emb, "-o", tmp_path / "r", "--format", "json", "--quiet",
                          "--config", tmp_path / "simreport.toml", cwd=tmp_path)
    assert explicit.returncode == 0 and "using configuration" not in explicit.stderr


@pytest.mark.parametrize("body,line_no", [
    ("ok\n{% if %}\n", 2),
    ("{{ report.title }}\n\n{{ report.no_such_key }}\n", 3),
    ("{% include 'missing.html.j2' %}\n", 1),
])
def test_template_errors_name_file_and_line(emb, tmp_path, body, line_no):
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "report.html.j2").write_text(body)
    proc = cli_inproc("run", emb, "-o", tmp_path / "r", "--format", "json,html", "--templates", tmp_path / "t",
                      "--quiet", cwd=tmp_path)
    line = error_line(proc)
    assert "report.html.j2" in line and f"line {line_no}" in line, line
    assert files_under(tmp_path) == ["t/report.html.j2"]


# --- 4. outputs are all-or-nothing across files ----------------------------------------------------


def _old_outputs(folder: Path) -> dict[str, bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    old = {"r.json": b"old json\n", "r.html": b"old html\n", "r.pdf": b"old pdf\n"}
    for name, data in old.items():
        (folder / name).write_bytes(data)
    return old


def test_a_folder_in_the_way_changes_nothing(emb, tmp_path):
    out = tmp_path / "out"
    (out / "r.html").mkdir(parents=True)
    (out / "r.json").write_bytes(b"old json\n")
    proc = cli_inproc("run", emb, "-o", out / "r", "--format", "json,html", "--quiet", cwd=tmp_path)
    line = error_line(proc)
    assert "r.html" in line and "folder" in line
    assert (out / "r.json").read_bytes() == b"old json\n"
    assert files_under(out) == ["r.json"]


@pytest.mark.parametrize("fail_at", [1, 2, 3])
def test_failed_rename_restores_every_file(tmp_path, monkeypatch, fail_at):
    from simreport import output

    old = _old_outputs(tmp_path)
    real, calls = output._rename, []

    def flaky(source, target):
        calls.append(target)
        if len(calls) == fail_at:
            raise OSError(5, "Input/output error")
        real(source, target)

    monkeypatch.setattr(output, "_rename", flaky)
    with pytest.raises(output.OutputError, match="Input/output error"):
        output.write_all({tmp_path / name: b"new" for name in old} | {tmp_path / "new.txt": b"x"})
    assert {p: (tmp_path / p).read_bytes() for p in files_under(tmp_path)} == old


@pytest.mark.parametrize("signum", ["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("moment", ["staging", "between renames", "after the last rename"])
def test_a_signal_while_writing_restores_every_file(tmp_path, monkeypatch, signum, moment):
    import os
    import signal

    from simreport import output

    old = _old_outputs(tmp_path)
    sig = getattr(signal, signum)
    hook = "_stage" if moment == "staging" else "_rename"
    real, calls = getattr(output, hook), []

    def poke(*args):
        value = real(*args)
        calls.append(args)
        if (moment == "staging" and len(calls) == 2) or (moment == "between renames" and len(calls) == 1) \
                or (moment == "after the last rename" and len(calls) == 3):
            os.kill(os.getpid(), sig)
        return value

    monkeypatch.setattr(output, hook, poke)
    with pytest.raises(output.Interrupted) as caught:
        output.write_all({tmp_path / name: b"new" for name in old})
    assert caught.value.signum == sig and not caught.value.written
    assert {p: (tmp_path / p).read_bytes() for p in files_under(tmp_path)} == old
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL or callable(signal.getsignal(signal.SIGTERM))


def test_sigint_between_renames_from_the_cli_writes_nothing(emb, tmp_path, monkeypatch):
    import os
    import signal

    from simreport import output

    out = tmp_path / "out"
    old = _old_outputs(out)
    real = output._rename

    def poke(source, target):
        real(source, target)
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(output, "_rename", poke)
    proc = cli_inproc("run", emb, "-o", out / "r", "--format", "json,html", "--quiet", cwd=tmp_path)
    assert proc.returncode == 130 and "no report was written" in proc.stderr, proc.stderr
    assert {p: (out / p).read_bytes() for p in files_under(out)} == old


def test_sigterm_during_staging_leaves_no_temporary_file(emb, tmp_path, monkeypatch):
    import os
    import signal

    from simreport import output

    real = output._stage

    def poke(path, data):
        staged = real(path, data)
        os.kill(os.getpid(), signal.SIGTERM)
        return staged

    monkeypatch.setattr(output, "_stage", poke)
    proc = cli_inproc("run", emb, "-o", tmp_path / "out" / "r", "--format", "json,html,pdf", "--quiet",
                      cwd=tmp_path)
    assert proc.returncode == 143 and "no report was written" in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists()


def test_data_is_fsynced_before_the_rename(tmp_path, monkeypatch):
    import os

    from simreport import output

    events = []
    real_fsync, real_rename = os.fsync, output._rename
    monkeypatch.setattr(output.os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(output, "_rename", lambda s, t: (events.append("rename"), real_rename(s, t))[1])
    output.write_all({tmp_path / "a": b"1", tmp_path / "b": b"2"})
    assert events[:4] == ["fsync", "fsync", "rename", "rename"]


def test_a_full_disk_is_exit_2_naming_the_file(emb, tmp_path, monkeypatch):
    import errno

    from simreport import output

    def full(handle, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(output, "_write_bytes", full)
    proc = cli_inproc("run", emb, "-o", tmp_path / "r", "--format", "json", "--quiet", cwd=tmp_path)
    line = error_line(proc)
    assert "r.json" in line and "No space left on device" in line
    assert files_under(tmp_path) == []


# --- 3. a European CSV is read right (or refused), never misread -------------------------------------


def _european(path: Path, x: np.ndarray, sep: str = ";") -> None:
    lines = [sep.join(["name"] + [f"c{k}" for k in range(x.shape[1])])]
    for r, row in enumerate(x):
        lines.append(sep.join([f"item {r}"] + [f"{v:.9g}".replace(".", ",") for v in row]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("sep", [";", "\t"])
def test_semicolon_csv_with_decimal_commas_is_read_right(tmp_path, sep):
    from simreport.inputs import load_embeddings

    x, _ = planted_embeddings(n=N, d=D)
    _european(tmp_path / "eu.csv", x, sep)
    data = load_embeddings(tmp_path / "eu.csv", label_column="name")
    assert (data.n, data.dim) == (N, D)
    np.testing.assert_allclose(data.matrix, x, rtol=1e-6)
    assert data.labels[3] == "item 3"


def test_semicolon_csv_from_the_command_line(tmp_path):
    x, _ = planted_embeddings(n=N, d=D)
    _european(tmp_path / "eu.csv", x)
    proc = cli_inproc("run", "eu.csv", "--label-column", "name", "-o", "r", "--format", "json", "--quiet",
                      cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads((tmp_path / "r.json").read_text())
    assert (result["input"]["n"], result["input"]["dim"]) == (N, D)


def test_a_csv_whose_fields_cannot_be_told_apart_is_refused(tmp_path):
    (tmp_path / "mixed.csv").write_text("a;b;c\n1;2;3\n4,5,6,7\n1;2\n", encoding="utf-8")
    proc = cli_inproc("run", "mixed.csv", "-o", "r", "--quiet", cwd=tmp_path)
    line = error_line(proc)
    assert "mixed.csv" in line and "delimiter" in line
    assert files_under(tmp_path) == ["mixed.csv"]


def test_a_single_column_of_texts_may_hold_semicolons(tmp_path):
    from simreport.inputs import read_frame

    (tmp_path / "texts.csv").write_text("text\nfirst; with a semicolon\nsecond\n\"third, quoted\"\n")
    frame = read_frame(tmp_path / "texts.csv", text_columns=("text",))
    assert frame["text"].tolist() == ["first; with a semicolon", "second", "third, quoted"]


# --- 5. the file is hashed from the very bytes that are parsed ---------------------------------------


@pytest.mark.parametrize("suffix", [".npy", ".npz", ".csv", ".parquet"])
def test_a_file_swapped_after_reading_does_not_get_its_hash_recorded(tmp_path, monkeypatch, suffix):
    import hashlib

    import pandas as pd

    from simreport import inputs

    x, _ = planted_embeddings(n=N, d=D)
    path = tmp_path / f"e{suffix}"
    if suffix == ".npy":
        np.save(path, x)
    elif suffix == ".npz":
        np.savez(path, e=x)
    elif suffix == ".csv":
        pd.DataFrame(x).to_csv(path, index=False, float_format="%.9g")
    else:
        pd.DataFrame({"v": list(x)}).to_parquet(path)
    original = hashlib.sha256(path.read_bytes()).hexdigest()
    real = inputs.check_embeddings

    def swap_then_check(values, source):
        path.write_bytes(b"swapped in by someone else")
        return real(values, source)

    monkeypatch.setattr(inputs, "check_embeddings", swap_then_check)
    data = inputs.load_embeddings(path)
    assert data.file_sha256 == original
    np.testing.assert_allclose(data.matrix, x, rtol=1e-6)


# --- 6. memory bombs are refused up front, exit 2 -----------------------------------------------------


def _npy_claiming(shape: tuple[int, ...], dtype: str = "<f4") -> bytes:
    import io

    stream = io.BytesIO()
    np.lib.format.write_array_header_1_0(stream, {"descr": dtype, "fortran_order": False, "shape": shape})
    return stream.getvalue() + b"\0" * 64


def test_npy_header_claiming_terabytes_is_refused(tmp_path):
    (tmp_path / "bomb.npy").write_bytes(_npy_claiming((10**7, 10**6)))
    proc = cli_inproc("run", "bomb.npy", "-o", "r", cwd=tmp_path)
    line = error_line(proc)
    assert "bomb.npy" in line and "10000000 x 1000000" in line and "memory" in line and "TB" in line
    assert files_under(tmp_path) == ["bomb.npy"]


def test_npz_member_claiming_terabytes_is_refused(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "bomb.npz", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("emb.npy", _npy_claiming((10**7, 10**6), "<f8"))
    proc = cli_inproc("run", "bomb.npz", "-o", "r", cwd=tmp_path)
    line = error_line(proc)
    assert "bomb.npz" in line and "'emb'" in line and "memory" in line
    assert files_under(tmp_path) == ["bomb.npz"]


def test_a_truncated_npy_is_refused(tmp_path):
    (tmp_path / "short.npy").write_bytes(_npy_claiming((100, 8)))
    line = error_line(cli_inproc("run", "short.npy", "-o", "r", cwd=tmp_path))
    assert "short.npy" in line and "truncated" in line


# --- 7. every user-facing failure is exit 2, one line naming the flag/key/file, before the computation --


@pytest.mark.parametrize("args,needles", [
    (["--threshold", "mean_similarity.warn=nan"], ["--threshold", "mean_similarity.warn", "finite"]),
    (["--threshold", "mean_similarity.fail=inf"], ["--threshold", "finite"]),
    (["--near-duplicate-threshold", "nan"], ["--near-duplicate-threshold", "finite"]),
    (["--opposed-threshold", "-inf"], ["--opposed-threshold", "finite"]),
    (["--color-range", "-inf,inf"], ["--color-range", "finite"]),
    (["--color-range", "nan,1"], ["--color-range", "finite"]),
    (["-o", ""], ["-o", "output prefix"]),
    (["-o", "."], ["-o", "output prefix"]),
])
def test_bad_flag_values_are_refused_naming_the_flag(emb, tmp_path, args, needles):
    proc = cli_inproc("run", emb, "--format", "json", *(["-o", "r"] if "-o" not in args else []), *args,
                      cwd=tmp_path)
    line = error_line(proc)
    for needle in needles:
        assert needle in line, line
    assert files_under(tmp_path) == []


@pytest.mark.parametrize("toml,needles", [
    ("[thresholds]\nmean_similarity = { warn = nan }\n", ["thresholds.mean_similarity", "finite"]),
    ("[test]\nnear_duplicate_threshold = nan\n", ["test.near_duplicate_threshold", "finite"]),
    ("[render]\ncolor_range = [-inf, inf]\n", ["render.color_range", "finite"]),
    ("[render]\ncolor_range = [false, true]\n", ["render.color_range"]),
    ("[test]\nseed = true\n", ["test.seed"]),
])
def test_bad_config_values_are_refused_naming_the_key(emb, tmp_path, toml, needles):
    (tmp_path / "c.toml").write_text(toml)
    line = error_line(cli_inproc("run", emb, "-o", "r", "--config", "c.toml", cwd=tmp_path))
    for needle in needles + ["c.toml"]:
        assert needle in line, line
    assert files_under(tmp_path) == ["c.toml"]


def test_config_that_is_a_folder_or_not_utf8_is_named(emb, tmp_path):
    (tmp_path / "conf").mkdir()
    line = error_line(cli_inproc("run", emb, "-o", "r", "--config", "conf", cwd=tmp_path))
    assert "conf" in line and "folder" in line
    (tmp_path / "bad.toml").write_bytes(b'[report]\ntitle = "\xff\xfe"\n')
    line = error_line(cli_inproc("run", emb, "-o", "r", "--config", "bad.toml", cwd=tmp_path))
    assert "bad.toml" in line and "UTF-8" in line
    (tmp_path / "simreport.toml").write_bytes(b'\xff')
    line = error_line(cli_inproc("run", emb, "-o", "r", cwd=tmp_path))
    assert "simreport.toml" in line and "UTF-8" in line


def test_bad_source_date_epoch_is_named_before_the_computation(emb, tmp_path, monkeypatch):
    from simreport.cli import shared

    monkeypatch.setattr(shared, "cosine_similarity_test", lambda *a, **k: pytest.fail("computed"))
    line = error_line(cli_inproc("run", emb, "-o", "r", cwd=tmp_path, SOURCE_DATE_EPOCH="abc"))
    assert "SOURCE_DATE_EPOCH" in line and "'abc'" in line


def test_unreachable_dask_scheduler_is_refused_quickly(emb, tmp_path):
    import socket
    import time

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    start = time.monotonic()
    line = error_line(cli_inproc("run", emb, "-o", "r", "--engine", "dask", "--scheduler",
                                 f"tcp://127.0.0.1:{port}", cwd=tmp_path))
    assert time.monotonic() - start < 15
    assert "--scheduler" in line and f"127.0.0.1:{port}" in line
    assert files_under(tmp_path) == []


def test_float64_values_that_underflow_in_float32_are_named(tmp_path):
    x = np.ones((5, 4))
    x[2] = 1e-50
    np.save(tmp_path / "tiny.npy", x)
    line = error_line(cli_inproc("run", "tiny.npy", "-o", "r", cwd=tmp_path))
    assert "underflow" in line and "row 2" in line and "float32" in line
    x[2] = 1e300
    np.save(tmp_path / "huge.npy", x)
    line = error_line(cli_inproc("run", "huge.npy", "-o", "r", cwd=tmp_path))
    assert "overflow" in line and "row 2" in line and "float32" in line


@pytest.mark.parametrize("kind", ["npy", "parquet-column", "parquet-vectors", "csv-column"])
def test_bool_values_are_refused_in_every_format(tmp_path, kind):
    import pandas as pd

    flags = np.random.default_rng(0).random((12, 4)) > 0.5
    flags[:, 0] = True
    if kind == "npy":
        np.save(tmp_path / "b.npy", flags)
        name = "b.npy"
    elif kind == "parquet-column":
        frame = pd.DataFrame(np.random.default_rng(1).random((12, 3)), columns=["a", "b", "c"])
        frame["flag"] = flags[:, 0]
        frame.to_parquet(tmp_path / "b.parquet")
        name = "b.parquet"
    elif kind == "parquet-vectors":
        pd.DataFrame({"v": list(flags)}).to_parquet(tmp_path / "b.parquet")
        name = "b.parquet"
    else:
        frame = pd.DataFrame(np.random.default_rng(1).random((12, 3)), columns=["a", "b", "c"])
        frame["flag"] = flags[:, 0]
        frame.to_csv(tmp_path / "b.csv", index=False)
        name = "b.csv"
    line = error_line(cli_inproc("run", name, "-o", "r", cwd=tmp_path))
    assert name in line and "bool" in line, line


# --- 8. render and verify validate their JSON against the shipped schema; render never overwrites -----


@pytest.fixture(scope="module")
def results_json(emb, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("results")
    proc = cli_inproc("run", emb, "-o", folder / "r", "--format", "json", "--quiet", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    return folder / "r.json"


def _edited(data: dict, edit: str) -> dict:
    data = json.loads(json.dumps(data))
    if edit == "status":
        data["summary"]["status"] = "bogus"
    elif edit == "mean":
        data["stats"]["mean"] = None
    elif edit == "histogram":
        data["stats"]["histogram"]["counts"] = []
    elif edit == "n":
        data["input"]["n"] = "40"
    elif edit == "counts":
        del data["summary"]["counts"]
    elif edit == "finding":
        data["findings"][1]["value"] = "high"
    return data


@pytest.mark.parametrize("edit,path", [("status", "summary.status"), ("mean", "stats.mean"),
                                       ("histogram", "stats.histogram.counts"), ("n", "input.n"),
                                       ("counts", "summary"), ("finding", "findings[1].value")])
def test_render_names_the_key_path_of_a_hand_edited_json(results_json, tmp_path, edit, path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_edited(json.loads(results_json.read_text()), edit)))
    proc = cli_inproc("render", bad, "-o", tmp_path / "x", "--format", "html", cwd=tmp_path)
    line = error_line(proc)
    assert "bad.json" in line and f"{path}:" in line, line
    assert files_under(tmp_path) == ["bad.json"]


@pytest.fixture(scope="module")
def warned(tmp_path_factory) -> dict:
    """A run with a warning: one record is another's negation (a strongly opposed pair)."""
    import simreport

    x = np.random.default_rng(3).standard_normal((60, 8)).astype(np.float32)
    x[7] = -x[2]
    data = simreport.run_test(x).to_dict()
    assert data["summary"]["status"] != "pass"
    return data


def _reads_better(data: dict, edit: str) -> dict:
    """The results edited to read better than their numbers, schema-valid every time."""
    data = json.loads(json.dumps(data))
    summary = data["summary"]
    if edit in ("finding", "finding and outcome"):
        finding = next(f for f in data["findings"] if f["status"] not in ("pass", "na"))
        summary["counts"][finding["status"]] -= 1
        summary["counts"]["pass"] += 1
        finding["status"], finding["at_limit"] = "pass", None
        if edit == "finding and outcome":
            summary["status"] = max((f["status"] for f in data["findings"] if f["status"] != "na"),
                                    key=["pass", "warn", "fail"].index)
    elif edit == "outcome":
        summary["status"] = "pass"
    elif edit == "counts":
        summary["counts"]["pass"] += summary["counts"]["warn"] + summary["counts"]["fail"]
        summary["counts"]["warn"] = summary["counts"]["fail"] = 0
    elif edit in ("not assessed", "dropped", "message", "value and status"):
        # each with the outcome its (edited) findings give: the file agrees with its own findings
        index, finding = next((k, f) for k, f in enumerate(data["findings"]) if f["status"] not in ("pass", "na"))
        if edit == "not assessed":
            finding.update(status="na", at_limit=None, note="not assessed")
        elif edit == "dropped":
            del data["findings"][index]
        elif edit == "message":
            finding["message"] = finding["evidence"] + ": pass."
        else:  # a forger who moves the value and the status together, but not the statistics
            finding.update(value=0.0, status="pass", at_limit=None, count=0 if finding["count"] is not None else None)
        _outcome_of_findings(data)
    elif edit in ("limits", "limits and findings"):  # the recorded limits loosened (and what follows derived)
        failing = next(f["id"] for f in data["findings"] if f["status"] not in ("pass", "na"))
        data["parameters"]["thresholds"][failing].update(warn=0.9, fail=0.95, warn_count=10**6)
        if edit == "limits and findings":
            from security_helpers import rederive

            rederive(data)
            assert data["summary"]["status"] == "pass"
    return data


def _outcome_of_findings(data: dict) -> None:
    from simreport.findings import Finding, summary_of

    data["summary"] = summary_of([Finding(**f) for f in data["findings"]])


@pytest.mark.parametrize("edit,needle", [("outcome", "its outcome says status 'pass'"),
                                         ("counts", "its outcome says counts"),
                                         ("finding", "says pass, but its value"),
                                         ("finding and outcome", "says pass, but its value"),
                                         ("not assessed", "has status 'na', where its statistics and limits give "
                                                          "'fail'"),
                                         ("dropped", "its findings are mean_similarity, similarity_spread, "
                                                     "near_duplicate_share, neighbour_crowding"),
                                         ("message", "has message "),
                                         ("value and status", "has status 'pass', where its statistics and limits give "
                                                              "'fail'"),
                                         ("limits", "where the shipped threshold set"),
                                         ("limits and findings", "where the shipped threshold set")])
def test_render_refuses_results_edited_to_read_better_than_their_numbers(warned, tmp_path, edit, needle):
    """The schema holds every value's form, not their agreement: a finding whose status its own
    value and limits do not give, findings that are not the ones the file's statistics and
    recorded limits give (one marked not assessed, one left out, its text or value changed, the
    limits changed under it), or an outcome its findings do not give, is refused (exit 2, one
    line, nothing written), so an edited file never renders as a pass."""
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_reads_better(warned, edit)))
    line = error_line(cli_inproc("render", bad, "-o", tmp_path / "x", "--format", "html,pdf", cwd=tmp_path))
    assert "bad.json" in line and needle in line and "changed after it was written" in line, line
    assert files_under(tmp_path) == ["bad.json"]


def test_a_comparison_edited_to_read_better_is_refused(tmp_path):
    """The comparison's outcome is the worst of its findings and of each model's own outcome;
    an edit of either, or of a model's own findings, is refused naming it."""
    from simreport.compare import compare_embeddings
    from simreport.cosine_test import TestOptions
    from simreport.findings import Finding, comparison_summary
    from simreport.inputs import from_array
    from simreport.results import checked_document
    from simreport.schema import SchemaViolation

    x = np.random.default_rng(5).standard_normal((40, 8)).astype(np.float32)
    x[9] = -x[4]  # model A has a strongly opposed pair: its own outcome is not a pass
    y = (x + 0.2 * np.random.default_rng(6).standard_normal(x.shape)).astype(np.float32)
    data = compare_embeddings(from_array(x), from_array(y), TestOptions(), names=["A", "B"]).to_dict()
    assert checked_document(json.loads(json.dumps(data)), "c.json").summary == data["summary"]
    assert data["summary"]["models"][0] != "pass"
    outcome = json.loads(json.dumps(data))
    outcome["summary"]["status"] = outcome["summary"]["own_status"] = "pass"
    models = json.loads(json.dumps(data))
    models["summary"]["models"][0] = "pass"
    inner = json.loads(json.dumps(data))
    inner["results"][0] = _reads_better(inner["results"][0], "finding and outcome")
    own = json.loads(json.dumps(data))  # one of the comparison's own findings marked not informative
    own["findings"][0].update(status="na", at_limit=None, note="not informative")
    own["summary"] = comparison_summary([Finding(**f) for f in own["findings"]], own["summary"]["models"])
    for edited, needle in ((outcome, "its outcome says"), (models, "says models ['pass'"), (inner, "A: finding"),
                           (own, f"finding {data['findings'][0]['id']} has status 'na', where its statistics")):
        with pytest.raises(SchemaViolation, match="changed after it was written") as caught:
            checked_document(edited, "c.json")
        assert needle in str(caught.value), str(caught.value)


def test_limits_changed_in_the_open_render_and_a_writers_own_set_is_not_checked(warned, tmp_path):
    """Limits that differ from the shipped set are fine when the file says why: the overrides it
    records (as --threshold writes them), or a threshold set of the writer's (another SHA-256: the
    set is not at hand, its limits are printed in the report)."""
    from security_helpers import rederive

    failing = next(f["id"] for f in warned["findings"] if f["status"] not in ("pass", "na"))
    loosened = {"warn": 0.92, "fail": 0.94, "warn_count": 10**6}
    disclosed = json.loads(json.dumps(warned))
    disclosed["parameters"]["threshold_set"]["overrides"] = {failing: loosened}
    disclosed["parameters"]["thresholds"][failing].update(loosened)
    rederive(disclosed)
    own_set = json.loads(json.dumps(disclosed))
    own_set["parameters"]["threshold_set"].update(overrides={}, file="bank-set.toml", sha256="0" * 64)
    for name, data in (("disclosed", disclosed), ("own set", own_set)):
        (tmp_path / f"{name}.json").write_text(json.dumps(data))
        proc = cli_inproc("render", tmp_path / f"{name}.json", "-o", tmp_path / name, "--format", "html",
                          cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        page = (tmp_path / f"{name}.html").read_text(encoding="utf-8")
        assert "warn above 92%, fail above 94%" in page, name  # the loosened limits, printed


def test_a_file_of_another_version_may_word_its_findings_otherwise_but_not_judge_them_otherwise(warned):
    """Another version of simreport may word a finding otherwise: its texts are compared only in a
    file this version wrote. Its judgement (status, value, limits, counts) is compared in every file."""
    from simreport.results import checked_document
    from simreport.schema import SchemaViolation

    older = json.loads(json.dumps(warned))
    older["tool"]["version"] = "0.0.9"
    for finding in older["findings"]:
        finding["message"] = "Worded by an older version: " + finding["message"]
    assert checked_document(json.loads(json.dumps(older)), "old.json").summary == warned["summary"]
    with pytest.raises(SchemaViolation, match="changed after it was written"):
        checked_document(json.loads(json.dumps(warned | {"findings": older["findings"]})), "new.json")
    older = _reads_better(older, "not assessed")
    with pytest.raises(SchemaViolation, match="has status 'na', where its statistics and limits give 'fail'"):
        checked_document(older, "old.json")


def test_render_never_overwrites_its_input(results_json, tmp_path):
    copy = tmp_path / "r.json"
    data = json.loads(results_json.read_text())
    data["extra"] = {"reviewer note": "kept"}
    copy.write_text(json.dumps(data))
    before = copy.read_bytes()
    line = error_line(cli_inproc("render", copy, "--format", "json", cwd=tmp_path))
    assert "r.json" in line and "overwrite" in line and "-o" in line
    assert copy.read_bytes() == before


def test_schema_command_prints_the_shipped_schema(tmp_path):
    proc = cli_inproc("schema", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    schema = json.loads(proc.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(schema)


def test_written_documents_follow_the_schema(results_json):
    from simreport.schema import validate_document

    validate_document(json.loads(results_json.read_text()), "r.json")
