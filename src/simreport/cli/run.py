"""``simreport run`` (an embedding file, or texts and a model) and ``simreport demo``."""

from __future__ import annotations

from pathlib import Path

import click

from simreport.cli.embedding import cache_path, embed_file, model_options, pop_model_options
from simreport.cli.outcome import EXIT_CODES_HELP
from simreport.cli.shared import (
    UsageProblem,
    configure,
    data_attachments,
    guard,
    input_options,
    outcome_options,
    output_prefix,
    run_with_progress,
    stage,
    test_options,
    warm_up,
    write_and_finish,
)
from simreport.inputs import load_embeddings


@click.command(short_help="Test embeddings (or texts with --model); write the report.", epilog=EXIT_CODES_HELP)
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@input_options("Output prefix (default reports/<input stem>).")
@model_options()
@test_options
@outcome_options
@guard
def run(input_path: Path, prefix: Path | None, labels_file: Path | None, label_column: str | None,
        vector_column: str | None, key: str | None, **kw) -> None:
    """Run the test on an embedding file (or on texts embedded with --model) and write the report.

    INPUT is .npy, .npz, .parquet or .csv (a vector column or numeric columns), or, with --model,
    a table of texts (--text-column) or a .txt file (one text a line). Prints one line: the
    outcome, pass/warn/fail counts, report ID and files written."""
    stage("start")
    embedding = pop_model_options(kw)
    config, options = configure(kw)
    if labels_file is not None and label_column is not None:
        raise UsageProblem("give either --labels or --label-column, not both")
    prefix = output_prefix(prefix, Path("reports") / input_path.stem)
    warm = warm_up(config["render"])  # before the input is read: a forked PDF renderer starts small
    embedded = None
    if embedding["model"] is not None:
        if vector_column is not None or key is not None:
            raise UsageProblem("--model embeds texts; --vector-column and --key are for embedding files")
        data, embedded = embed_file(input_path, embedding["model"], embedding, cache_path(prefix, embedding),
                                    kw["quiet"], labels_file=labels_file, label_column=label_column)
    elif embedding["text_column"] is not None:
        raise UsageProblem("--text-column names texts to embed; give the model with --model")
    else:
        data = load_embeddings(input_path, key=key, vector_column=vector_column, label_column=label_column,
                               labels_file=labels_file)
    stage("loaded")
    result = run_with_progress(data, options, kw["quiet"])
    stage("tested")
    if embedded is not None:
        result.attach_model(embedded.block, embedded.seconds)
    extra = data_attachments(data, result) if config["render"]["attach_data"] else None
    write_and_finish(result, prefix, config, kw, extra, warm)


DEMO_TITLE = "Cosine similarity test: demo (all-MiniLM-L6-v2 on 296 short texts)"
DEMO_REPORT = {"model": "all-MiniLM-L6-v2 (sentence-transformers)", "dataset": "simreport demo texts (296 records)",
               "intended_use": "demonstration only: semantic search over short customer-service texts",
               "data_source": "texts written for simreport (demo_texts.csv, shipped with the package)",
               "data_period": "not applicable (written for the demo)"}


@click.command(short_help="Write the demo report from the shipped demo data.", epilog=EXIT_CODES_HELP)
@click.option("-o", "--output", "prefix", type=click.Path(path_type=Path), default=Path("reports/demo"),
              show_default=True, help="Output prefix.")
@test_options
@outcome_options
@guard
def demo(prefix: Path, **kw) -> None:
    """Write the demo report from the embedded demo data."""
    from simreport.demo import load_demo

    prefix = output_prefix(prefix, Path("reports/demo"))
    config, options = configure(kw)
    if options.title == "Cosine similarity test":
        options.title = config["report"]["title"] = DEMO_TITLE
    for key, value in DEMO_REPORT.items():
        if not options.report.get(key):
            options.report[key] = config["report"][key] = value
    warm = warm_up(config["render"])
    data = load_demo()
    result = run_with_progress(data, options, kw["quiet"])
    extra = data_attachments(data, result) if config["render"]["attach_data"] else None
    write_and_finish(result, prefix, config, kw, extra, warm)
