"""What the API accepts, made into validated embeddings: an array, a file, a DataFrame, or
texts and a model (embedded first). Used by :func:`simreport.run_test` and the comparison."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from simreport.errors import InputError
from simreport.inputs import Embeddings, from_array, load_embeddings, require_column
from simreport.models import EmbeddingSettings


def _from_frame(frame, vector_column: str | None, label_column: str | None) -> Embeddings:
    from simreport.inputs import check_labels, table_to_matrix

    matrix = table_to_matrix(frame, Path("DataFrame"), vector_column, label_column, from_text=False)
    data = from_array(matrix, source="DataFrame")
    if label_column is not None:
        data.labels = check_labels([str(v) for v in frame[label_column].tolist()], data.n, "DataFrame labels")
        data.label_source = f"column {label_column}"
    return data


def _text_column(frame, text_column: str | None, vector_column: str | None) -> str | None:
    """The DataFrame's text column: as named, else the only column holding strings only."""
    if text_column is not None:
        require_column(frame, text_column, "DataFrame", "text_column")
        return text_column
    found = _string_columns(frame, vector_column)
    return found[0] if len(found) == 1 else None


def _string_columns(frame, vector_column: str | None) -> list:
    return [c for c in frame.columns if c != vector_column and len(frame) and frame[c].dtype.kind in "OSU"
            and all(isinstance(v, str) for v in frame[c].tolist())]


def label_column_of(frame, label_column: str | None, text_column: str | None, vector_column: str | None) -> str | None:
    """The rule for a DataFrame's labels: ``label_column`` when given; else ``text_column``;
    else the one column whose values are all strings; with no such column, row numbers.
    Two or more string columns and no choice made is an error that names them (a guess could
    label every record with the wrong column)."""
    if label_column is not None:
        if label_column not in frame.columns:
            raise InputError(f"DataFrame: no column named {label_column!r} (columns: "
                             f"{', '.join(map(str, frame.columns))}); fix label_column.")
        return label_column
    if text_column is not None:
        return text_column
    found = _string_columns(frame, vector_column)
    if len(found) > 1:
        raise InputError(f"DataFrame: {len(found)} columns hold text ({', '.join(map(repr, found))}), so the "
                         f"labels are ambiguous; name one with label_column={found[0]!r} (labels come from "
                         "label_column, else the only text column, else row numbers).")
    return found[0] if found else None


def prepare_data(embeddings: object = None, *, texts: list[str] | None = None, model: object = None,
                 labels: list[str] | None = None, vector_column: str | None = None, label_column: str | None = None,
                 text_column: str | None = None, batch_size: int = EmbeddingSettings.batch_size,
                 normalize: bool = EmbeddingSettings.normalize, max_length: int | None = None,
                 cache: str | Path | None = None, device: str = "cpu",
                 embed_progress=None):
    """Validated :class:`Embeddings` from what :func:`run_test` accepts, and the
    :class:`~simreport.models.Embedded` record when a model embedded texts (else None)."""
    is_frame = type(embeddings).__name__ == "DataFrame"
    column = _text_column(embeddings, text_column, vector_column) if is_frame else None
    if text_column is not None and not is_frame:
        raise InputError("text_column names a column of a DataFrame; pass texts=[...] for a list of texts.")
    embedded = None
    if model is not None:
        from simreport import models

        if texts is None and is_frame:
            if column is None:
                raise InputError("DataFrame: no single column of texts to embed; name it with text_column.")
            texts, source, label_source = embeddings[column].tolist(), "DataFrame", f"column {column} (texts)"
        elif texts is not None and embeddings is None:
            source, label_source = "texts", "texts"
        else:
            raise InputError("give either embeddings or texts with a model, not both (a model embeds texts).")
        settings = models.EmbeddingSettings(batch_size=batch_size, normalize=normalize, max_length=max_length)
        embedded = models.embed_texts(texts, model, settings, cache=cache, device=device, text_source=source,
                                      progress=embed_progress)
        data = models.embeddings_from_texts(embedded, list(texts), source, label_source)
    elif embeddings is None:
        raise InputError("no embeddings: give an array, a file or a DataFrame, or texts with a model.")
    elif isinstance(embeddings, Embeddings):
        data = embeddings
    elif isinstance(embeddings, (str, Path)):
        data = load_embeddings(embeddings, vector_column=vector_column, label_column=label_column)
    elif is_frame:
        data = _from_frame(embeddings, vector_column, label_column_of(embeddings, label_column, text_column,
                                                                      vector_column))
    else:
        data = from_array(np.asarray(embeddings) if not isinstance(embeddings, np.ndarray) else embeddings)
    given = "given"
    if texts is not None and embedded is None and labels is None:
        labels, given = list(texts), "texts"
    if labels is not None:
        if len(labels) != data.n:
            raise InputError(f"{len(labels)} labels for {data.n} embedding rows; give one label per row.")
        data.labels = [str(v) for v in labels]
        data.label_source = given
    return data, embedded
