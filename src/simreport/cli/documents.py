"""Commands on documents already written: ``simreport render`` (re-render a saved JSON)
and ``simreport verify`` (check a PDF against the results attached to it)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from simreport.cli.shared import (
    SIGN_OPTION,
    UsageProblem,
    guard,
    load_signer,
    output_prefix,
    parse_formats,
    setting_option,
    write_documents,
    written,
)
from simreport.config import ConfigError, check_values, default
from simreport.errors import InputError
from simreport.results import load_document


@click.command(short_help="Re-render a saved results JSON as HTML and PDF.")
@click.argument("results_path", metavar="RESULTS.json", type=click.Path(path_type=Path))
@click.option("-o", "--output", "prefix", type=click.Path(path_type=Path), default=None,
              help="Output prefix (default: beside the JSON, same stem).")
@click.option("--format", "formats", default="html,pdf", show_default=True, help="html, pdf and/or json.")
@setting_option("render", "templates")
@setting_option("render", "pdf_variant")
@setting_option("render", "plotlyjs")
@SIGN_OPTION
@click.option("--quiet", is_flag=True, help="No messages.")
@guard
def render(results_path: Path, prefix: Path | None, formats: str, templates: str | None, pdf_variant: str | None,
           plotlyjs: str | None, sign_cert: Path | None, quiet: bool) -> None:
    """Re-render a saved results (or comparison) JSON without recomputing (never over its input)."""
    import json

    from simreport.render.environment import check_templates
    from simreport.schema import SchemaViolation

    chosen = parse_formats(formats)
    prefix = output_prefix(prefix, results_path.with_suffix(""))
    if results_path.is_dir():
        raise InputError(f"{results_path}: is a folder; give a results JSON written by simreport.",
                         file=str(results_path))
    try:
        result = load_document(results_path)
    except SchemaViolation as exc:
        raise InputError(str(exc), file=str(results_path)) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{results_path}: not valid JSON ({exc.msg} at line {exc.lineno}); "
                         "give a results file written by simreport.", file=str(results_path)) from None
    except UnicodeDecodeError:
        raise InputError(f"{results_path}: not a text (UTF-8 JSON) file; "
                         "give a results file written by simreport.", file=str(results_path)) from None
    except (KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{results_path}: not a simreport results file ({exc}).",
                         file=str(results_path)) from None
    except ValueError as exc:
        raise InputError(f"{results_path}: {exc}; give a results file written by simreport.") from None
    except OSError as exc:
        raise InputError(f"{results_path}: cannot read the results file ({exc.strerror or exc}).") from None
    except RecursionError:
        raise InputError(f"{results_path}: the JSON is nested too deeply to be a simreport results file.") from None
    for fmt in chosen:
        target = prefix.with_name(prefix.name + f".{fmt}")
        if target.exists() and target.resolve() == results_path.resolve():
            raise UsageProblem(f"{target}: this is the results file being rendered; render never overwrites its "
                               "input; give another output prefix with -o")
    check_templates(templates)
    recorded = (getattr(result, "configuration", None) or {}).get("render", {})
    flags = {key: value for key, value in (("templates", templates), ("pdf_variant", pdf_variant),
                                           ("plotlyjs", plotlyjs)) if value is not None}
    try:
        settings = check_values({"render": {**flags, "formats": chosen}}, "command line")["render"]
    except ConfigError as exc:
        raise UsageProblem(f"option {exc.detail}") from None
    render_settings = {**{key: default("render", key) for key in ("templates", "pdf_variant", "plotlyjs")},
                       **{k: recorded[k] for k in ("pdf_variant", "plotlyjs") if k in recorded}, **settings}
    signer = load_signer(sign_cert, render_settings["formats"])
    written(write_documents(result, prefix, render_settings, signer=signer), quiet)


@click.command(short_help="Check a report PDF against its attachment and input(s).")
@click.argument("pdf_path", metavar="REPORT.pdf", type=click.Path(path_type=Path))
@click.argument("inputs", metavar="[INPUT [INPUT2]]", nargs=-1, type=click.Path(path_type=Path))
@click.option("--trust", "trust", multiple=True, type=click.Path(path_type=Path), metavar="CA.pem",
              help="Certificate (PEM or DER) that a signer must chain to (repeatable).")
@click.option("--templates", type=click.Path(path_type=Path), default=None,
              help="The templates the report was rendered with, when they were not the shipped ones.")
@click.option("--labels", "labels_file", type=click.Path(path_type=Path), default=None,
              help="Labels file the report was made with (when it is not attached to the PDF).")
@click.option("--label-column", default=None, help="Table column holding the labels (default: as recorded).")
@click.option("--vector-column", default=None, help="Table column holding the vectors.")
@click.option("--key", default=None, help="Array name inside an .npz file.")
@click.option("--model", "models", multiple=True, metavar="PATH|PACKAGE|HUB-ID",
              help="Where the model that embedded the texts lies, when not where the report says (twice for a "
                   "comparison, in order). Its fingerprint must be the recorded one. Never downloaded.")
@click.option("--text-column", default=None, metavar="COLUMN",
              help="Column holding the embedded texts (default: as recorded, or the column whose texts match).")
@click.option("--embeddings", "embeddings", multiple=True, type=click.Path(path_type=Path), metavar="FILE",
              help="The run's embeddings cache (PREFIX.embeddings.npy; found beside the PDF by default), used when "
                   "texts embedded again are not bit for bit the report's vectors.")
@guard
def verify(pdf_path: Path, inputs: tuple[Path, ...], trust: tuple[Path, ...], templates: Path | None,
           labels_file: Path | None, label_column: str | None, vector_column: str | None, key: str | None,
           models: tuple[str, ...], text_column: str | None, embeddings: tuple[Path, ...]) -> None:
    """Check a report PDF: its attached results, its pages, its signature and, given INPUT,
    the whole test re-run on INPUT with the recorded parameters.

    A comparison of two embedding files is re-run from both, given in the order compare was
    given them: simreport verify COMPARISON.pdf A B (one of them alone: its hash only).
    Texts embedded by a model are embedded again with that model (it must be on this machine).

    Exit 0 when every check passes, 3 when one fails, 2 when the PDF or an input cannot be read.
    """
    from simreport.signing import SigningError
    from simreport.verify import verify_report

    if len(inputs) > 2:
        raise UsageProblem(f"give at most two inputs (a comparison's A and B); got {len(inputs)}")
    for certificate in trust:
        if not certificate.is_file():
            raise UsageProblem(f"--trust {certificate}: certificate file not found")
    try:
        outcome = verify_report(pdf_path, list(inputs), trust=list(trust), templates=templates,
                                labels_file=labels_file, key=key, vector_column=vector_column,
                                label_column=label_column, text_column=text_column, models=list(models),
                                embeddings=list(embeddings))
    except SigningError as exc:
        raise UsageProblem(f"--trust: {exc}") from None
    width = max((len(name) for name, _ in outcome.claims), default=0)
    for name, value in outcome.claims:
        click.echo(f"{name.ljust(width)}  {value}")
    click.echo("")
    for name, ok, detail in outcome.checks:
        click.echo(f"{'PASS' if ok else 'FAIL'}  {name} ({detail})")
    if outcome.differences:
        click.echo("")
        click.echo("First differences between the report and the recomputation:")
        for line in outcome.differences[:8]:
            click.echo(f"  {line}")
    if outcome.notes:
        click.echo("")
        click.echo("Not established:")
        for note in outcome.notes:
            click.echo(f"  - {note}")
    if not outcome.passed:
        first = next(f"{name} ({detail})" for name, ok, detail in outcome.checks if not ok)
        click.echo(f"simreport: verification failed for {pdf_path}: {first}", err=True)
        sys.exit(3)


@click.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of results and comparison JSON.

    The schema is draft 2020-12; render and verify check every document against it first.
    """
    from simreport.schema import schema_text

    click.echo(schema_text(), nl=False)
