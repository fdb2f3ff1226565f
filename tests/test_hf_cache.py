"""Models from the local Hugging Face cache: a hub id resolves offline to its cached snapshot
(HF_HOME and HF_HUB_CACHE honoured), never a download; the fingerprint covers the same files
whatever the folder's path or layout; the results list each file's SHA-256."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

import simreport
from conftest import run_cli
from model_texts import MODEL, SENTENCES, write_csv
from simreport import models

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def fake_hub_cache(hub: Path, repo_id: str, source: Path, commit: str = COMMIT, ref: bool = True) -> Path:
    """The layout huggingface_hub writes: blobs named by hash, a snapshot of symbolic links
    into them, and refs/main holding the snapshot's commit."""
    repo = hub / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / commit
    for path in sorted(source.rglob("*")):
        if not path.is_file():
            continue
        blob = repo / "blobs" / hashlib.sha256(path.read_bytes()).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        if not blob.exists():
            blob.symlink_to(path) if path.stat().st_size > 1_000_000 else shutil.copy(path, blob)
        link = snapshot / path.relative_to(source)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(Path("../" * (len(path.relative_to(source).parts) + 1), "blobs", blob.name))
    if ref:
        (repo / "refs").mkdir(parents=True, exist_ok=True)
        (repo / "refs" / "main").write_text(commit)
    return snapshot


@pytest.fixture
def packaged() -> Path:
    return models.resolve_model(MODEL).path


def test_hub_id_resolves_to_the_cached_snapshot_under_hf_home(tmp_path, monkeypatch, packaged):
    for variable in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    snapshot = fake_hub_cache(tmp_path / "hf" / "hub", "acme/mini-lm", packaged)
    location = models.resolve_model("acme/mini-lm")
    assert location.path == snapshot and location.name == "acme/mini-lm"
    assert "Hugging Face cache acme/mini-lm" in location.source and COMMIT in location.source
    # HF_HUB_CACHE wins over HF_HOME, as in huggingface_hub
    other = fake_hub_cache(tmp_path / "elsewhere", "acme/mini-lm", packaged, commit="f" * 40)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "elsewhere"))
    assert models.resolve_model("acme/mini-lm").path == other
    assert models.resolve_model(f"acme/mini-lm@{'f' * 40}").path == other


def test_fingerprint_is_the_same_for_the_cache_a_copy_and_the_package(tmp_path, monkeypatch, packaged):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    snapshot = fake_hub_cache(tmp_path / "hub", "acme/mini-lm", packaged)
    copy = tmp_path / "some" / "other place" / "renamed-model"
    shutil.copytree(packaged, copy, symlinks=False, ignore=shutil.ignore_patterns("model.safetensors"))
    (copy / "model.safetensors").symlink_to(packaged / "model.safetensors")
    (copy / "__pycache__").mkdir()
    (copy / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"compiled, path-dependent")
    (copy / ".cache" / "huggingface").mkdir(parents=True)
    (copy / ".cache" / "huggingface" / "download.lock").write_text("lock")
    digests = {str(p): models.fingerprint_directory(p) for p in (packaged, snapshot, copy)}
    assert len({d for d, _ in digests.values()}) == 1
    listed = digests[str(snapshot)][1]
    assert [f["file"] for f in listed] == [f["file"] for f in digests[str(packaged)][1]]
    weights = next(f for f in listed if f["file"] == "model.safetensors")
    assert weights["sha256"] == hashlib.sha256((packaged / "model.safetensors").read_bytes()).hexdigest()
    assert "1_Pooling/config.json" in {f["file"] for f in listed}


def test_several_snapshots_without_a_ref_and_uncached_ids_are_refused(tmp_path, monkeypatch, packaged):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    fake_hub_cache(tmp_path / "hub", "acme/two", packaged, commit="a" * 40, ref=False)
    assert models.resolve_model("acme/two").path.name == "a" * 40  # the only snapshot
    fake_hub_cache(tmp_path / "hub", "acme/two", packaged, commit="b" * 40, ref=False)
    with pytest.raises(models.ModelError, match="2 snapshots .* name one as acme/two@COMMIT"):
        models.resolve_model("acme/two")
    assert models.resolve_model("acme/two@" + "b" * 40).path.name == "b" * 40
    uncached = r"not in the local Hugging Face cache \(.*hub; HF_HOME.*never downloads"
    with pytest.raises(models.ModelError, match=uncached):
        models.resolve_model("acme/not-cached")


def test_texts_embedded_by_a_cached_hub_model_list_each_files_sha256(tmp_path, monkeypatch, packaged):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    fake_hub_cache(tmp_path / "hub", "acme/mini-lm", packaged)
    result = simreport.run_test(texts=SENTENCES[:12], model="acme/mini-lm")
    block = result.model
    assert block["name"] == "acme/mini-lm" and "Hugging Face cache" in block["source"]
    assert block["fingerprint"] == models.fingerprint_directory(packaged)[0]
    assert all(len(f["sha256"]) == 64 for f in block["files"])
    assert {f["file"]: f["sha256"] for f in block["files"]} == {
        f["file"]: f["sha256"] for f in models.fingerprint_directory(packaged)[1]}
    # the CLI takes the hub id too, with no network (HF_HUB_OFFLINE is set before loading)
    write_csv(tmp_path / "texts.csv", SENTENCES[:12])
    proc = run_cli("run", str(tmp_path / "texts.csv"), "--text-column", "text", "--model", "acme/mini-lm",
                   "--format", "json", "-o", str(tmp_path / "out"))  # HF_HUB_CACHE inherited from the test
    assert proc.returncode == 0, proc.stderr
    written = simreport.load_result(tmp_path / "out.json")
    assert written.model["fingerprint"] == block["fingerprint"] and written.model["files"] == block["files"]
