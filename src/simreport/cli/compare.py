"""``simreport compare``: two models (or two embedding files) on the same records, one report."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from simreport.cli.embedding import cache_path, embed_file, model_options, pop_model_options
from simreport.cli.outcome import EXIT_CODES_HELP
from simreport.cli.shared import (
    UsageProblem,
    configure,
    console,
    data_attachments,
    guard,
    input_options,
    outcome_options,
    output_prefix,
    parse_thresholds,
    progress_bar,
    test_options,
    warm_up,
    write_and_finish,
)
from simreport.compare import CompareOptions
from simreport.findings import split_thresholds

COMPARE_TITLE = "Model comparison: cosine similarity test"


def _same_model(first: str, second: str) -> bool:
    """True when two model names lead to the same files (same fingerprint)."""
    from simreport.models import as_encoder

    return first == second or as_encoder(first).fingerprint == as_encoder(second).fingerprint


@click.command("compare", short_help="Compare two models on the same records in one report.",
               epilog=EXIT_CODES_HELP)
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT [INPUT2]", type=click.Path(path_type=Path))
@input_options("Output prefix (default reports/<input stem>-comparison or reports/<A>-vs-<B>).", several=True)
@click.option("--name", "names", multiple=True, metavar="NAME",
              help="What to call the two models in the report (give it twice, in order).")
@click.option("--neighbours", type=int, default=CompareOptions.neighbours, show_default=True,
              help="Nearest neighbours per record whose overlap is measured.")
@click.option("--listed-pairs", type=int, default=CompareOptions.listed_pairs, show_default=True,
              help="Most near-duplicate pairs listed for each model that the other does not share.")
@model_options(multiple=True)
@test_options
@outcome_options
@guard
def compare(inputs: tuple[Path, ...], prefix: Path | None, labels_file: Path | None, label_column: str | None,
            vector_column: str | None, key: str | None, names: tuple[str, ...], neighbours: int,
            listed_pairs: int, **kw) -> None:
    """Compare two models on the same records: give one file of texts and --model twice, or two
    embedding files with the same rows in the same order."""
    from simreport.compare import CompareOptions, attach_embedded
    from simreport.inputs import load_embeddings

    embedding = pop_model_options(kw)
    kw["thresholds"], compare_limits = split_thresholds(parse_thresholds(kw.get("thresholds") or ()))
    config, options = configure(kw)
    if options.title == "Cosine similarity test":
        options.title = COMPARE_TITLE
    if names and len(names) != 2:
        raise UsageProblem("give --name twice (one name per model) or not at all")
    if labels_file is not None and label_column is not None:
        raise UsageProblem("give either --labels or --label-column, not both")
    quiet = kw["quiet"]
    warm = warm_up(config["render"], "compare.html.j2")  # before the inputs are read (see cli.run)
    models = embedding["model"] or ()
    embedded = [None, None]
    if models:
        if len(models) != 2:
            raise UsageProblem(f"give --model exactly twice (got {len(models)})")
        if len(inputs) != 1:
            raise UsageProblem("with --model give one file of texts; both models embed the same texts")
        if vector_column is not None or key is not None:
            raise UsageProblem("--model embeds texts; --vector-column and --key are for embedding files")
        source = inputs[0]
        prefix = output_prefix(prefix, Path("reports") / f"{source.stem}-comparison")
        data_a, embedded[0] = embed_file(source, models[0], embedding, cache_path(prefix, embedding, "a"),
                                         quiet, label="A", labels_file=labels_file, label_column=label_column)
        if _same_model(models[0], models[1]):  # the same model twice: embed once
            data_b, embedded[1] = replace(data_a, labels=list(data_a.labels)), embedded[0]
        else:
            data_b, embedded[1] = embed_file(source, models[1], embedding, cache_path(prefix, embedding, "b"),
                                             quiet, label="B", labels_file=labels_file, label_column=label_column)
    else:
        if embedding["text_column"] is not None:
            raise UsageProblem("--text-column names texts to embed; give the two models with --model")
        if len(inputs) != 2:
            raise UsageProblem("give two embedding files with the same rows in the same order, or one file "
                                   "of texts with --model twice")
        data_a, data_b = (load_embeddings(path, key=key, vector_column=vector_column, label_column=label_column,
                                          labels_file=labels_file) for path in inputs)
        prefix = output_prefix(prefix, Path("reports") / f"{inputs[0].stem}-vs-{inputs[1].stem}")
    compare_options = CompareOptions(neighbours=neighbours, listed_pairs=listed_pairs, thresholds=compare_limits)
    comparison = _run(data_a, data_b, options, compare_options, list(names) or None,
                      [e.block if e is not None else None for e in embedded], quiet)
    attach_embedded(comparison, embedded)
    extra = data_attachments(data_a, comparison) if config["render"]["attach_data"] else None
    write_and_finish(comparison, prefix, config, kw, extra, warm)



def _run(data_a, data_b, options, compare_options, names, blocks, quiet: bool):
    from simreport.compare import compare_embeddings, comparison_tiles
    from simreport.engine import estimate_seconds

    show = not (quiet or 3 * estimate_seconds(data_a.n, max(data_a.dim, data_b.dim)) < 2)
    total = comparison_tiles(data_a.n, options) if show else 0
    with progress_bar("comparing", "tiles", total, show, console()) as advance:
        return compare_embeddings(data_a, data_b, options, compare_options, names=names, models=blocks,
                                  progress=advance)
