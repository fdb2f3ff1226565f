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
from simreport.cli_models import cache_path, embed_file, model_options, pop_model_options
from simreport.config import ConfigError, check_values, effective_config, find_config, read_config_file, thresholds_of
from simreport.cosine_test import TestOptions, cosine_similarity_test
from simreport.inputs import Embeddings, InputError, load_embeddings
from simreport.models import attach
from simreport.output import OutputError, write_all
from simreport.results import ReportDocument, Result, load_document

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


def _stage(name: str) -> None:
    """Note the wall-clock time a stage ended, when SIMREPORT_STAGE_LOG names a file
    (benchmarks/bench_everyday.py reads it to break a run down into stages)."""
    log = os.environ.get("SIMREPORT_STAGE_LOG")
    if log:
        import time

        with open(log, "a", encoding="utf-8") as stream:
            stream.write(f"{name} {time.time():.6f}\n")


def _render(result: ReportDocument, prefix: Path, render: dict,
            attachments: dict[str, bytes] | None = None) -> list[Path]:
    """Render every requested format in memory, then write them all at once.

    ``render`` is the configuration's [render] section (formats, templates, pdf_variant,
    plotlyjs); ``attachments`` are extra files for the PDF.
    """
    templates = render.get("templates")
    files: dict[Path, bytes] = {}
    for fmt in render["formats"]:
        path = prefix.with_name(prefix.name + f".{fmt}")
        if fmt == "json":
            files[path] = result.to_json().encode("utf-8")
        elif fmt == "html":
            from simreport.render.html import PLOTLY_FILE, plotly_js, render_html

            mode = render.get("plotlyjs", "inline")
            files[path] = render_html(result, templates, plotlyjs=mode).encode("utf-8")
            if mode == "directory":
                files[path.parent / PLOTLY_FILE] = plotly_js().encode("utf-8")
        else:
            from simreport.render.pdf import render_pdf

            files[path] = render_pdf(result, templates, render.get("pdf_variant", "pdf/a-3b"), attachments)
        _stage(fmt)
    write_all(files)
    _stage("written")
    return list(files)


def _data_attachments(data: Embeddings, result: Result) -> dict[str, bytes]:
    """--attach-data: the labels and the input's fingerprints, for the PDF."""
    import json

    fingerprint = {key: result.input.get(key) for key in ("path", "sha256", "array_sha256", "n", "dim", "dtype")}
    return {"labels.txt": ("\n".join(label.replace("\n", " ") for label in data.labels) + "\n").encode("utf-8"),
            "input-fingerprint.json": (json.dumps(fingerprint, indent=1) + "\n").encode("utf-8")}


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


# command-line flag -> (configuration section, key)
FLAG_KEYS = {
    "title": ("report", "title"), "model_name": ("report", "model"),
    "model_version": ("report", "model_version"), "dataset": ("report", "dataset"),
    "owner": ("report", "owner"), "validator": ("report", "validator"),
    "near_duplicate_threshold": ("test", "near_duplicate_threshold"),
    "opposed_threshold": ("test", "opposed_threshold"), "display_cap": ("test", "display_cap"),
    "heatmap_order": ("test", "heatmap_order"), "seed": ("test", "seed"),
    "color_scale": ("render", "color_scale"), "color_range": ("render", "color_range"),
    "templates": ("render", "templates"), "formats": ("render", "formats"),
    "pdf_variant": ("render", "pdf_variant"), "plotlyjs": ("render", "plotlyjs"),
    "attach_data": ("render", "attach_data"),
    "tile_size": ("engine", "tile_size"), "runner": ("engine", "runner"), "workers": ("engine", "workers"),
    "scheduler": ("engine", "scheduler"),
}


def _test_options(fn):
    """The options shared by run, demo and config; unset flags fall back to the configuration."""
    options = [
        click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
                     help="Configuration file (default: ./simreport.toml when present)."),
        click.option("--title", default=None, help="Report title."),
        click.option("--model-name", default=None, help="Model name for the cover."),
        click.option("--model-version", default=None, help="Model version for the cover."),
        click.option("--dataset", default=None, help="Dataset name for the cover."),
        click.option("--owner", default=None, help="Model owner for the cover."),
        click.option("--validator", default=None, help="Validator for the cover."),
        click.option("--near-duplicate-threshold", type=float, default=None,
                     help="Pairs at or above this similarity are near-duplicates [0.95]."),
        click.option("--opposed-threshold", type=float, default=None,
                     help="Pairs at or below this similarity are strongly opposed [-0.5]."),
        click.option("--threshold", "thresholds", multiple=True, metavar="ID.LEVEL=VALUE",
                     help="Change a finding's limit, e.g. mean_similarity.warn=0.4 (repeatable)."),
        click.option("--display-cap", type=int, default=None, help="Most records the heatmap shows [300]."),
        click.option("--heatmap-order", type=click.Choice(["cluster", "input"]), default=None,
                     help="Order of heatmap rows [cluster]."),
        click.option("--seed", type=int, default=None, help="Seed for the heatmap sample and k-means [0]."),
        click.option("--color-scale", default=None, help="A plotly named colour scale [RdBu_r]."),
        click.option("--color-range", default=None, help="LOW,HIGH or auto [-1,1]."),
        click.option("--tile-size", type=int, default=None, help="Rows per tile [2048]."),
        click.option("--engine", "runner", type=click.Choice(["threads", "loop", "dask"]), default=None,
                     help="Where tiles run: local threads, one loop, or dask.distributed [threads]."),
        click.option("--workers", type=int, default=None,
                     help="Threads (or local dask workers) for the tile pass [2]."),
        click.option("--scheduler", default=None, metavar="ADDRESS",
                     help="Dask scheduler address (with --engine dask); default: a local cluster."),
        click.option("--templates", default=None,
                     help="Directory of templates searched before the shipped ones."),
        click.option("--format", "formats", default=None, help="Comma-separated outputs: json, html, pdf [all]."),
        click.option("--pdf-variant", default=None,
                     help="pdf/a-3b (default), pdf/a-2b, pdf/a-3u, pdf/ua-1 or none."),
        click.option("--plotlyjs", default=None, help="inline (default), directory or cdn."),
        click.option("--attach-data/--no-attach-data", default=None,
                     help="Also attach the labels and the input's fingerprints to the PDF."),
        click.option("--quiet", is_flag=True, help="No progress bar or messages."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _flag_values(kw: dict) -> dict:
    """The flags the user typed, as a checked partial configuration (errors name the flag)."""
    flags: dict[str, dict] = {}
    for name, (section, key) in FLAG_KEYS.items():
        value = kw.get(name)
        if value is None:
            continue
        typed = value
        if name == "formats":
            value = _formats(value)
        elif name == "color_range":
            value = "auto" if value.strip().lower() == "auto" else list(_color_range(value))
        try:
            checked = check_values({section: {key: value}}, "flag")[section][key]
        except ConfigError as exc:
            reason = str(exc).split(f"= {value!r} ", 1)[-1]
            raise UsageProblem(f"--{name.replace('_', '-')} {typed}: {reason}") from None
        flags.setdefault(section, {})[key] = checked
    if kw.get("thresholds"):
        try:
            flags["thresholds"] = check_values({"thresholds": _thresholds(kw["thresholds"])}, "flag")["thresholds"]
        except ConfigError as exc:
            raise UsageProblem(f"--threshold: {str(exc).removeprefix('flag: ')}") from None
    return flags


def _configure(kw: dict) -> tuple[dict, TestOptions]:
    """Effective configuration (defaults < file < flags) and the test options it gives."""
    path = find_config(kw.get("config_file"))
    file_values = read_config_file(path) if path is not None else {}
    config = effective_config(file_values, _flag_values(kw))
    config["sources"] = {"config_file": str(path) if path is not None else None}
    return config, options_from_config(config)


def _recorded(config: dict) -> dict:
    """The configuration as recorded in the results: everything but the list of output
    formats, which decides which files are written, not what they say (so the JSON of a
    json-only run equals that of a full run)."""
    recorded = {section: dict(keys) for section, keys in config.items()}
    recorded["render"].pop("formats", None)
    return recorded


def options_from_config(config: dict) -> TestOptions:
    """TestOptions from an effective configuration."""
    report, test, render, engine = config["report"], config["test"], config["render"], config["engine"]
    color_range = render["color_range"]
    options = TestOptions(
        title=report["title"], near_duplicate_threshold=test["near_duplicate_threshold"],
        opposed_threshold=test["opposed_threshold"], thresholds=thresholds_of(config),
        display_cap=test["display_cap"], heatmap_order=test["heatmap_order"], seed=test["seed"],
        color_scale=render["color_scale"], color_range=None if color_range == "auto" else tuple(color_range),
        tile_size=engine["tile_size"], runner=engine["runner"], workers=engine["workers"],
        scheduler=engine["scheduler"],
        report={key: report[key] for key in ("model", "model_version", "dataset", "owner", "validator")},
        configuration=_recorded(config))
    options.check()
    return options


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
@model_options()
@_test_options
@_guard
def run(input_path: Path, prefix: Path | None, labels_file: Path | None, label_column: str | None,
        vector_column: str | None, key: str | None, **kw) -> None:
    """Run the test on an embedding file (or on texts embedded with --model) and write the report."""
    _stage("start")
    embedding = pop_model_options(kw)
    config, options = _configure(kw)
    if labels_file is not None and label_column is not None:
        raise UsageProblem("give either --labels or --label-column, not both")
    prefix = prefix or Path("reports") / input_path.stem
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
    _stage("loaded")
    result = _progress_run(data, options, kw["quiet"])
    _stage("tested")
    if embedded is not None:
        attach(result, embedded)
    extra = _data_attachments(data, result) if config["render"]["attach_data"] else None
    _written(_render(result, prefix, config["render"], extra), kw["quiet"])


DEMO_TITLE = "Cosine similarity test: demo (all-MiniLM-L6-v2 on 296 short texts)"
DEMO_REPORT = {"model": "all-MiniLM-L6-v2 (sentence-transformers)", "dataset": "simreport demo texts (296 records)"}


@main.command()
@click.option("-o", "--output", "prefix", type=click.Path(path_type=Path), default=Path("reports/demo"),
              show_default=True, help="Output prefix.")
@_test_options
@_guard
def demo(prefix: Path, **kw) -> None:
    """Write the demo report from the embedded demo data."""
    from simreport.demo import load_demo

    config, options = _configure(kw)
    if options.title == "Cosine similarity test":
        options.title = config["report"]["title"] = DEMO_TITLE
    for key, value in DEMO_REPORT.items():
        if not options.report.get(key):
            options.report[key] = config["report"][key] = value
    data = load_demo()
    result = _progress_run(data, options, kw["quiet"])
    extra = _data_attachments(data, result) if config["render"]["attach_data"] else None
    _written(_render(result, prefix, config["render"], extra), kw["quiet"])


@main.command()
@click.argument("results_path", metavar="RESULTS.json", type=click.Path(path_type=Path))
@click.option("-o", "--output", "prefix", type=click.Path(path_type=Path), default=None,
              help="Output prefix (default: beside the JSON, same stem).")
@click.option("--format", "formats", default="html,pdf", show_default=True, help="html, pdf and/or json.")
@click.option("--templates", default=None, help="Directory of templates searched before the shipped ones.")
@click.option("--pdf-variant", default=None, help="pdf/a-3b (default), pdf/a-2b, pdf/a-3u, pdf/ua-1 or none.")
@click.option("--plotlyjs", default=None, help="inline (default), directory or cdn.")
@click.option("--quiet", is_flag=True, help="No messages.")
@_guard
def render(results_path: Path, prefix: Path | None, formats: str, templates: str | None, pdf_variant: str | None,
           plotlyjs: str | None, quiet: bool) -> None:
    """Re-render a saved results (or comparison) JSON without recomputing."""
    import json

    chosen = _formats(formats)
    try:
        result = load_document(results_path)
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
    recorded = (getattr(result, "configuration", None) or {}).get("render", {})
    flags = {key: value for key, value in (("templates", templates), ("pdf_variant", pdf_variant),
                                           ("plotlyjs", plotlyjs)) if value is not None}
    try:
        settings = check_values({"render": {**flags, "formats": chosen}}, "command line")["render"]
    except ConfigError as exc:
        raise UsageProblem(str(exc).replace("command line: ", "option ", 1)) from None
    render_settings = {"templates": None, "pdf_variant": "pdf/a-3b", "plotlyjs": "inline",
                       **{k: recorded[k] for k in ("pdf_variant", "plotlyjs") if k in recorded}, **settings}
    _written(_render(result, prefix, render_settings), quiet)


@main.command("config")
@click.option("--show", is_flag=True, help="Print the effective configuration as TOML.")
@_test_options
@_guard
def config_command(show: bool, **kw) -> None:
    """Show the configuration a run would use (defaults < simreport.toml or --config < flags)."""
    from simreport.config import to_toml

    config, _ = _configure(kw)
    source = config.pop("sources")["config_file"]
    if not show:
        raise UsageProblem("use 'simreport config --show' to print the effective configuration")
    click.echo(f"# effective configuration; file: {source or 'none (defaults and flags only)'}")
    click.echo(to_toml(config), nl=False)


@main.command()
@click.argument("pdf_path", metavar="REPORT.pdf", type=click.Path(path_type=Path))
@click.argument("input_path", metavar="[INPUT]", required=False, type=click.Path(path_type=Path))
@_guard
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


from simreport.cli_compare import compare_command  # noqa: E402  (built from the helpers above)

main.add_command(compare_command())


if __name__ == "__main__":
    main()
