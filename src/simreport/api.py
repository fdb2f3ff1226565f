"""The Python API: one call from embeddings (array, file or DataFrame) to a Result."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from simreport.cosine_test import TestOptions, cosine_similarity_test
from simreport.inputs import Embeddings, InputError, from_array, load_embeddings
from simreport.results import Result


def _from_frame(frame, vector_column: str | None, label_column: str | None) -> Embeddings:
    from simreport.inputs import check_labels, table_to_matrix

    matrix = table_to_matrix(frame, Path("DataFrame"), vector_column, label_column, from_text=False)
    data = from_array(matrix, source="DataFrame")
    if label_column is not None:
        data.labels = check_labels([str(v) for v in frame[label_column].tolist()], data.n, "DataFrame labels")
        data.label_source = f"column {label_column}"
    return data


def run_test(embeddings: object, *, labels: list[str] | None = None, vector_column: str | None = None,
             label_column: str | None = None, progress=None, **options) -> Result:
    """Run the cosine-similarity test and return the :class:`Result`.

    ``embeddings``: an (n, d) array, a path to a .npy/.npz/.parquet/.csv file, or a
    pandas DataFrame (a column of vectors, or numeric columns). ``options`` are the
    fields of :class:`~simreport.cosine_test.TestOptions` (title, thresholds, ...).
    """
    if isinstance(embeddings, Embeddings):
        data = embeddings
    elif isinstance(embeddings, (str, Path)):
        data = load_embeddings(embeddings, vector_column=vector_column, label_column=label_column)
    elif type(embeddings).__name__ == "DataFrame":
        data = _from_frame(embeddings, vector_column, label_column)
    else:
        data = from_array(np.asarray(embeddings) if not isinstance(embeddings, np.ndarray) else embeddings)
    if labels is not None:
        if len(labels) != data.n:
            raise InputError(f"{len(labels)} labels for {data.n} embedding rows; give one label per row.")
        data.labels = [str(v) for v in labels]
        data.label_source = "given"
    return cosine_similarity_test(data, TestOptions(**options), progress)
