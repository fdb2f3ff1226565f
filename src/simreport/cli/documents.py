"""Commands on documents already written: ``simreport render`` (re-render a saved JSON)
and ``simreport verify`` (check a PDF against the results attached to it)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from simreport.cli.shared import UsageProblem, guard, parse_formats, setting_option, write_documents, written
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
@click.option("--quiet", is_flag=True, help="No messages.")
@guard
def render(results_path: Path, prefix: Path | None, formats: str, templates: str | None, pdf_variant: str | None,
           plotlyjs: str | None, quiet: bool) -> None:
    """Re-render a saved results (or comparison) JSON without recomputing."""
    import json

    chosen = parse_formats(formats)
    try:
        result = load_document(results_path)
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
    prefix = prefix or results_path.with_suffix("")
    recorded = (getattr(result, "configuration", None) or {}).get("render", {})
    flags = {key: value for key, value in (("templates", templates), ("pdf_variant", pdf_variant),
                                           ("plotlyjs", plotlyjs)) if value is not None}
    try:
        settings = check_values({"render": {**flags, "formats": chosen}}, "command line")["render"]
    except ConfigError as exc:
        raise UsageProblem(f"option {exc.detail}") from None
    render_settings = {**{key: default("render", key) for key in ("templates", "pdf_variant", "plotlyjs")},
                       **{k: recorded[k] for k in ("pdf_variant", "plotlyjs") if k in recorded}, **settings}
    written(write_documents(result, prefix, render_settings), quiet)


@click.command(short_help="Check a report PDF against its attachment and input.")
@click.argument("pdf_path", metavar="REPORT.pdf", type=click.Path(path_type=Path))
@click.argument("input_path", metavar="[INPUT]", required=False, type=click.Path(path_type=Path))
@guard
def verify(pdf_path: Path, input_path: Path | None) -> None:
    """Check a report PDF against its attached results (and the input file, when given).

    Exit 0 when every check passes, 3 when one fails, 2 when the PDF cannot be read.
    """
    from simreport.verify import verify_report

    outcome = verify_report(pdf_path, input_path)
    width = max((len(name) for name, _ in outcome.claims), default=0)
    for name, value in outcome.claims:
        click.echo(f"{name.ljust(width)}  {value}")
    click.echo("")
    for name, ok, detail in outcome.checks:
        click.echo(f"{'PASS' if ok else 'FAIL'}  {name} ({detail})")
    if not outcome.passed:
        click.echo(f"simreport: verification failed for {pdf_path}", err=True)
        sys.exit(3)
