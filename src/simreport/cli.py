"""Command line: ``simreport run | demo | render``. Thin: parse, call the flow, map errors.

Exit codes: 0 success, 2 bad input or usage (one line on stderr), 1 unexpected failure,
130 interrupted. Outputs are written all-or-nothing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from simreport import __version__
from simreport.cosine_test import TestOptions, cosine_similarity_test
from simreport.inputs import Embeddings, InputError, load_embeddings
from simreport.output import OutputError, write_all
from simreport.results import Result, load_result

FORMATS = ("json", "html", "pdf")


class UsageProblem(click.UsageError):
    """Bad option values: exit 2 with one line."""


def _formats(text: str) -> list[str]:
    chosen = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise UsageProblem(f"--format takes a comma-separated list of {', '.join(FORMATS)}; got {text!r}")
    return chosen


def _thresholds(items: tuple[str, ...]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for item in items:
        try:
            name, value = item.split("=", 1)
            check_id, level = name.strip().rsplit(".", 1)
            out.setdefault(check_id, {})[level] = float(value)
        except ValueError:
            raise UsageProblem(f"--threshold expects ID.warn=VALUE or ID.fail=VALUE, got {item!r}") from None
    return out


def _color_range(text: str) -> tuple[float, float] | None:
    if text.strip().lower() == "auto":
        return None
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise UsageProblem(f"--color-range expects LOW,HIGH (e.g. -1,1) or auto, got {text!r}") from None
    return lo, hi


def _render(result: Result, prefix: Path, formats: list[str], templates: Path | None) -> list[Path]:
    """Render every requested format in memory, then write them all at once."""
    files: dict[Path, bytes] = {}
    for fmt in formats:
        path = prefix.with_name(prefix.name + f".{fmt}")
        if fmt == "json":
            files[path] = result.to_json().encode("utf-8")
        elif fmt == "html":
            from simreport.render.html import render_html

            files[path] = render_html(result, templates).encode("utf-8")
        else:
            from simreport.render.pdf import render_pdf

            files[path] = render_pdf(result, templates)
    write_all(files)
    return list(files)


def _console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _progress_run(data: Embeddings, options: TestOptions, quiet: bool) -> Result:
    from simreport.engine import estimate_seconds, total_tiles

    estimate = estimate_seconds(data.n, data.dim)
    console = _console()
    if not quiet and estimate > 60:
        console.print(f"{data.n:,} records x {data.dim} dimensions: about {estimate / 60:.0f} minutes "
                      "of computing (estimate).")
    if quiet or estimate < 2:
        return cosine_similarity_test(data, options)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    tiles = total_tiles(data.n, options.engine_settings())
    with Progress(TextColumn("all pairs"), BarColumn(), MofNCompleteColumn(), TextColumn("tiles"),
                  TimeRemainingColumn(), console=console, transient=True) as bar:
        task = bar.add_task("tiles", total=tiles)
        return cosine_similarity_test(data, options, progress=lambda k: bar.advance(task, k))


def _written(paths: list[Path], quiet: bool) -> None:
    if not quiet:
        for path in paths:
            click.echo(f"wrote {path}")


def _guard(fn):
    """Map errors to exit codes and one-line messages."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (InputError, UsageProblem) as exc:
            click.echo(f"simreport: error: {exc.format_message() if isinstance(exc, click.UsageError) else exc}",
                       err=True)
            sys.exit(2)
        except (ValueError, FileNotFoundError, OutputError) as exc:
            click.echo(f"simreport: error: {exc}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("simreport: interrupted; no report was written.", err=True)
            sys.exit(130)
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            if os.environ.get("SIMREPORT_DEBUG"):
                raise
            click.echo(f"simreport: unexpected failure: {type(exc).__name__}: {exc} "
                       "(set SIMREPORT_DEBUG=1 for the traceback)", err=True)
            sys.exit(1)

    return wrapper


def _test_options(fn):
    options = [
        click.option("--title", default="Cosine similarity test", show_default=True, help="Report title."),
        click.option("--near-duplicate-threshold", type=float, default=0.95, show_default=True,
                     help="Pairs at or above this similarity are near-duplicates."),
        click.option("--opposed-threshold", type=float, default=-0.5, show_default=True,
                     help="Pairs at or below this similarity are strongly opposed."),
        click.option("--threshold", "thresholds", multiple=True, metavar="ID.LEVEL=VALUE",
                     help="Change a finding's limit, e.g. mean_similarity.warn=0.4 (repeatable)."),
        click.option("--display-cap", type=int, default=300, show_default=True,
                     help="Most records the heatmap shows."),
        click.option("--heatmap-order", type=click.Choice(["cluster", "input"]), default="cluster",
                     show_default=True, help="Order of heatmap rows."),
        click.option("--seed", type=int, default=0, show_default=True, help="Seed for the heatmap sample."),
        click.option("--color-scale", default="RdBu_r", show_default=True, help="A plotly named colour scale."),
        click.option("--color-range", default="-1,1", show_default=True, help="LOW,HIGH or auto."),
        click.option("--tile-size", type=int, default=2048, show_default=True, help="Rows per tile."),
        click.option("--engine", "runner", type=click.Choice(["threads", "loop", "dask"]), default="threads",
                     show_default=True, help="Where tiles run: local threads, one loop, or dask.distributed."),
        click.option("--workers", type=int, default=2, show_default=True,
                     help="Threads (or local dask workers) for the tile pass."),
        click.option("--scheduler", default=None, metavar="ADDRESS",
                     help="Dask scheduler address (with --engine dask); default: a local cluster."),
        click.option("--templates", type=click.Path(path_type=Path), default=None,
                     help="Directory of templates searched before the shipped ones."),
        click.option("--format", "formats", default="json,html,pdf", show_default=True,
                     help="Comma-separated outputs: json, html, pdf."),
        click.option("--quiet", is_flag=True, help="No progress bar or messages."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _options_from(kw: dict) -> TestOptions:
    return TestOptions(
        title=kw["title"], near_duplicate_threshold=kw["near_duplicate_threshold"],
        opposed_threshold=kw["opposed_threshold"], thresholds=_thresholds(kw["thresholds"]),
        display_cap=kw["display_cap"], heatmap_order=kw["heatmap_order"], seed=kw["seed"],
        color_scale=kw["color_scale"], color_range=_color_range(kw["color_range"]),
        tile_size=kw["tile_size"], runner=kw["runner"], workers=kw["workers"], scheduler=kw["scheduler"])


def _check_scale(name: str) -> None:
    from simreport.render.figures import colorscale

    colorscale(name)


_NO_ARGS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


class _Group(click.Group):
    """A group whose usage errors are one line on stderr (exit 2), like every other error."""

    @staticmethod
    def _one_line(exc: click.UsageError) -> None:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        click.echo(f"simreport: error: {exc.format_message()}{hint}", err=True)
        sys.exit(2)

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except _NO_ARGS_HELP:
            raise
        except click.UsageError as exc:
            self._one_line(exc)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except _NO_ARGS_HELP:
            raise
        except click.UsageError as exc:
            self._one_line(exc)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="simreport")
def main() -> None:
    """simreport: the cosine-similarity test for embedding models, as a validation report."""


@main.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("-o", "--output", "prefix", type=click.Path(path_type=Path), default=None,
              help="Output prefix (default reports/<input stem>).")
@click.option("--labels", "labels_file", type=click.Path(path_type=Path), default=None,
              help="Text file with one label per line.")
@click.option("--label-column", default=None, help="Table column holding the labels.")
@click.option("--vector-column", default=None, help="Table column holding the vectors.")
@click.option("--key", default=None, help="Array name inside an .npz file.")
@_test_options
@_guard
def run(input_path: Path, prefix: Path | None, labels_file: Path | None, label_column: str | None,
        vector_column: str | None, key: str | None, **kw) -> None:
    """Run the test on an embedding file and write the report."""
    formats = _formats(kw["formats"])
    options = _options_from(kw)
    options.check()
    _check_scale(options.color_scale)
    if labels_file is not None and label_column is not None:
        raise UsageProblem("give either --labels or --label-column, not both")
    data = load_embeddings(input_path, key=key, vector_column=vector_column, label_column=label_column,
                           labels_file=labels_file)
    result = _progress_run(data, options, kw["quiet"])
    prefix = prefix or Path("reports") / input_path.stem
    _written(_render(result, prefix, formats, kw["templates"]), kw["quiet"])


@main.command()
@click.option("-o", "--output", "prefix", type=click.Path(path_type=Path), default=Path("reports/demo"),
              show_default=True, help="Output prefix.")
@_test_options
@_guard
def demo(prefix: Path, **kw) -> None:
    """Write the demo report from the embedded demo data."""
    from simreport.demo import load_demo

    formats = _formats(kw["formats"])
    options = _options_from(kw)
    if options.title == "Cosine similarity test":
        options.title = "Cosine similarity test: demo (all-MiniLM-L6-v2 on 296 short texts)"
    options.check()
    _check_scale(options.color_scale)
    result = _progress_run(load_demo(), options, kw["quiet"])
    _written(_render(result, prefix, formats, kw["templates"]), kw["quiet"])


@main.command()
@click.argument("results_path", metavar="RESULTS.json", type=click.Path(path_type=Path))
@click.option("-o", "--output", "prefix", type=click.Path(path_type=Path), default=None,
              help="Output prefix (default: beside the JSON, same stem).")
@click.option("--format", "formats", default="html,pdf", show_default=True, help="html, pdf and/or json.")
@click.option("--templates", type=click.Path(path_type=Path), default=None,
              help="Directory of templates searched before the shipped ones.")
@click.option("--quiet", is_flag=True, help="No messages.")
@_guard
def render(results_path: Path, prefix: Path | None, formats: str, templates: Path | None, quiet: bool) -> None:
    """Re-render a saved results JSON without recomputing."""
    import json

    chosen = _formats(formats)
    try:
        result = load_result(results_path)
    except json.JSONDecodeError as exc:
        raise InputError(f"{results_path}: not valid JSON ({exc.msg} at line {exc.lineno}); "
                         "give a results file written by simreport.") from None
    except UnicodeDecodeError:
        raise InputError(f"{results_path}: not a text (UTF-8 JSON) file; "
                         "give a results file written by simreport.") from None
    except (KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{results_path}: not a simreport results file ({exc}).") from None
    except ValueError as exc:
        raise InputError(f"{results_path}: {exc}; give a results file written by simreport.") from None
    prefix = prefix or results_path.with_suffix("")
    _written(_render(result, prefix, chosen, templates), quiet)


if __name__ == "__main__":
    main()
