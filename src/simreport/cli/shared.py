"""What every command shares: the test options, the configuration they build, error
handling with exit codes, progress bars and writing the report files.

Command modules import from here (and only from here) what they have in common.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from simreport.config import ConfigError, check_values, effective_config, find_config, read_config_file, thresholds_of
from simreport.cosine_test import TestOptions, cosine_similarity_test
from simreport.errors import SimreportError
from simreport.inputs import Embeddings
from simreport.output import write_all
from simreport.results import ReportDocument, Result

FORMATS = ("json", "html", "pdf")


class UsageProblem(click.UsageError):
    """Bad option values: exit 2 with one line."""


# error class -> exit code (the nearest class in the error's MRO decides); anything else is 1
EXIT_CODES: dict[type[BaseException], int] = {
    SimreportError: 2, click.UsageError: 2, ValueError: 2, FileNotFoundError: 2, KeyboardInterrupt: 130,
}


def exit_code(exc: BaseException) -> int:
    """The exit code for an error, by its class: 2 for bad input or usage, 130 for Ctrl-C, else 1."""
    for cls in type(exc).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return 1


def guard(fn: Callable) -> Callable:
    """Map errors to exit codes and one-line messages."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except KeyboardInterrupt as exc:
            click.echo("simreport: interrupted; no report was written.", err=True)
            sys.exit(exit_code(exc))
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            code = exit_code(exc)
            if code == 1:
                if os.environ.get("SIMREPORT_DEBUG"):
                    raise
                click.echo(f"simreport: unexpected failure: {type(exc).__name__}: {exc} "
                           "(set SIMREPORT_DEBUG=1 for the traceback)", err=True)
            else:
                message = exc.format_message() if isinstance(exc, click.UsageError) else str(exc)
                click.echo(f"simreport: error: {message}", err=True)
            sys.exit(code)

    return wrapper


def parse_formats(text: str) -> list[str]:
    """``--format json,html`` as a list; UsageProblem for anything else."""
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


def test_options(fn: Callable) -> Callable:
    """The options shared by run, demo, compare and config; unset flags fall back to the configuration."""
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
            value = parse_formats(value)
        elif name == "color_range":
            value = "auto" if value.strip().lower() == "auto" else list(_color_range(value))
        try:
            checked = check_values({section: {key: value}}, "flag")[section][key]
        except ConfigError as exc:
            raise UsageProblem(f"--{name.replace('_', '-')} {typed}: {exc.reason}") from None
        flags.setdefault(section, {})[key] = checked
    if kw.get("thresholds"):
        try:
            flags["thresholds"] = check_values({"thresholds": _thresholds(kw["thresholds"])}, "flag")["thresholds"]
        except ConfigError as exc:
            raise UsageProblem(f"--threshold: {exc.detail}") from None
    return flags


def configure(kw: dict) -> tuple[dict, TestOptions]:
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


def stage(name: str) -> None:
    """Note the wall-clock time a stage ended, when SIMREPORT_STAGE_LOG names a file
    (benchmarks/bench_everyday.py reads it to break a run down into stages)."""
    log = os.environ.get("SIMREPORT_STAGE_LOG")
    if log:
        import time

        with open(log, "a", encoding="utf-8") as stream:
            stream.write(f"{name} {time.time():.6f}\n")


def write_documents(document: ReportDocument, prefix: Path, render: dict,
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
            files[path] = document.to_json().encode("utf-8")
        elif fmt == "html":
            from simreport.render.html import PLOTLY_FILE, plotly_js, render_html

            mode = render.get("plotlyjs", "inline")
            files[path] = render_html(document, templates, plotlyjs=mode).encode("utf-8")
            if mode == "directory":
                files[path.parent / PLOTLY_FILE] = plotly_js().encode("utf-8")
        else:
            from simreport.render.pdf import render_pdf

            files[path] = render_pdf(document, templates, render.get("pdf_variant", "pdf/a-3b"), attachments)
        stage(fmt)
    write_all(files)
    stage("written")
    return list(files)


def data_attachments(data: Embeddings, document: ReportDocument) -> dict[str, bytes]:
    """--attach-data: the labels and the input's fingerprints, for the PDF."""
    fingerprint = {key: document.input.get(key) for key in ("path", "sha256", "array_sha256", "n", "dim", "dtype")}
    return {"labels.txt": ("\n".join(label.replace("\n", " ") for label in data.labels) + "\n").encode("utf-8"),
            "input-fingerprint.json": (json.dumps(fingerprint, indent=1) + "\n").encode("utf-8")}


def written(paths: list[Path], quiet: bool) -> None:
    """Say which files were written (unless quiet)."""
    if not quiet:
        for path in paths:
            click.echo(f"wrote {path}")


def console():
    """The rich console for progress and notes: stderr, no highlighting."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


@contextmanager
def progress_bar(what: str, unit: str, total: int, show: bool = True,
                 on=None) -> Iterator[Callable[[int], None] | None]:
    """A transient bar on stderr ('WHAT [bar] k/total UNIT time left'); yields the callback
    that advances it by k, or None when ``show`` is false (no bar at all)."""
    if not show:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(), TextColumn(unit), TimeRemainingColumn(),
                  console=on or console(), transient=True) as bar:
        task = bar.add_task(unit, total=total)
        yield lambda k: bar.advance(task, k)


def run_with_progress(data: Embeddings, options: TestOptions, quiet: bool) -> Result:
    """The test, with the up-front time estimate for long runs and a progress bar (unless quiet)."""
    from simreport.engine import estimate_seconds, total_tiles

    estimate = estimate_seconds(data.n, data.dim)
    out = console()
    if not quiet and estimate > 60:
        out.print(f"{data.n:,} records x {data.dim} dimensions: about {estimate / 60:.0f} minutes "
                  "of computing (estimate).")
    show = not (quiet or estimate < 2)
    total = total_tiles(data.n, options.engine_settings()) if show else 0
    with progress_bar("all pairs", "tiles", total, show, out) as advance:
        return cosine_similarity_test(data, options, progress=advance)
