"""What every command shares: the test options, the configuration they build, error
handling with exit codes, progress bars and writing the report files.

Command modules import from here (and only from here) what they have in common.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from simreport.config import (
    FORMATS,
    SCHEMA,
    ConfigError,
    check_option,
    check_values,
    effective_config,
    find_config,
    read_config_file,
)
from simreport.cosine_test import TestOptions, cosine_similarity_test
from simreport.errors import SimreportError
from simreport.inputs import Embeddings, labels_text
from simreport.output import terminate_as_interrupt, write_all
from simreport.render.environment import TemplateProblem, check_templates
from simreport.results import ReportDocument, Result
from simreport.stages import stage


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
            with terminate_as_interrupt():
                return fn(*args, **kwargs)
        except KeyboardInterrupt as exc:
            signum = getattr(exc, "signum", signal.SIGINT)
            if getattr(exc, "written", False):
                click.echo(f"simreport: interrupted ({signal.Signals(signum).name}) after the report was written.",
                           err=True)
            else:
                click.echo("simreport: interrupted; no report was written.", err=True)
            sys.exit(128 + int(signum))
        except Exception as exc:  # the last line of defence
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


def parse_thresholds(items: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """``--threshold ID.LEVEL=VALUE`` flags as {id: {level: value}}; UsageProblem when malformed."""
    out: dict[str, dict[str, float]] = {}
    for item in items:
        try:
            name, value = item.split("=", 1)
            check_id, level = name.strip().rsplit(".", 1)
            out.setdefault(check_id, {})[level] = float(value)
        except ValueError:
            raise UsageProblem(f"--threshold expects ID.LEVEL=VALUE (levels warn, fail, margin, warn_count, "
                               f"defect_similarity), got {item!r}") from None
    return out


def _color_range(text: str) -> tuple[float, float] | None:
    if text.strip().lower() == "auto":
        return None
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise UsageProblem(f"--color-range expects LOW,HIGH (e.g. -1,1) or auto, got {text!r}") from None
    return lo, hi


# the order flags appear in --help (flags of settings not named here follow, in schema order)
HELP_ORDER = ("report.title", "report.model", "report.model_version", "report.dataset", "report.owner",
              "report.validator", "test.near_duplicate_threshold", "test.opposed_threshold", "thresholds",
              "test.display_cap", "test.heatmap_order", "test.seed", "render.color_scale", "render.color_range",
              "engine.tile_size", "engine.runner", "engine.workers", "engine.scheduler", "render.templates",
              "render.formats", "render.pdf_variant", "render.plotlyjs", "render.attach_data")


def _help_order() -> list[str]:
    """Every setting that has a flag ("section.key"), and "thresholds", in --help order."""
    flagged = [f"{section}.{key}" for section, keys in SCHEMA.items() for key, opt in keys.items() if opt.flag]
    return [name for name in HELP_ORDER if name in flagged or name == "thresholds"] + \
        [name for name in flagged if name not in HELP_ORDER]


# click parameter name -> (configuration section, key)
FLAG_KEYS: dict[str, tuple[str, str]] = {
    (SCHEMA[section][key].dest or key): (section, key)
    for section, key in (name.split(".") for name in _help_order() if name != "thresholds")
}


def setting_option(section: str, key: str, **overrides) -> Callable:
    """The click option of one setting, as the schema defines it (value None when not typed)."""
    opt = SCHEMA[section][key]
    kind = click.Choice(list(opt.choices)) if opt.choice_flag else opt.flag_type
    names = [opt.flag, *opt.aliases] if opt.dest is None else [opt.flag, *opt.aliases, opt.dest]
    settings = {"type": kind, "help": opt.help_text(), "metavar": opt.metavar, **overrides}
    return click.option(*names, default=None, **{k: v for k, v in settings.items() if v is not None})


THRESHOLD_OPTION = click.option("--threshold", "thresholds", multiple=True, metavar="ID.LEVEL=VALUE",
                                help="Change a limit of the threshold set, e.g. mean_similarity.warn=0.4 (repeatable).")


def stacked(options: list[Callable]) -> Callable:
    """One decorator that applies click options in the order listed (as --help shows them)."""

    def decorate(fn: Callable) -> Callable:
        for option in reversed(options):
            fn = option(fn)
        return fn

    return decorate


def test_options(fn: Callable) -> Callable:
    """The options shared by run, demo, compare and config; unset flags fall back to the configuration."""
    options = [click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
                            help="Configuration file (default: ./simreport.toml when present).")]
    options += [THRESHOLD_OPTION if name == "thresholds" else setting_option(*name.split("."))
                for name in _help_order()]
    options.append(SIGN_OPTION)
    options.append(click.option("--quiet", is_flag=True, help="No progress bar or messages (the outcome line stays)."))
    return stacked(options)(fn)


def input_options(output_help: str, several: bool = False) -> Callable:
    """-o and how to read embedding files and labels (run reads one file, compare ``several``)."""
    return stacked([
        click.option("-o", "--output", "prefix", type=click.Path(path_type=Path), default=None, help=output_help),
        click.option("--labels", "labels_file", type=click.Path(path_type=Path), default=None,
                     help="Text file with one label per line."),
        click.option("--label-column", default=None, help="Table column holding the labels."),
        click.option("--vector-column", default=None,
                     help="Table column holding the vectors" + (" (embedding files)." if several else ".")),
        click.option("--key", default=None,
                     help="Array name inside .npz files." if several else "Array name inside an .npz file."),
    ])


def outcome_options(fn: Callable) -> Callable:
    """Options of the commands that write a report: how the outcome is told."""
    options = [
        click.option("--summary-json", is_flag=True,
                     help="Print the outcome line as one JSON object (status, counts, report ID, files, findings)."),
        click.option("--mlflow", "mlflow_run", is_flag=False, flag_value="", default=None, metavar="[RUN_ID]",
                     help="Also log metrics, parameters, finding tags and the written files to MLflow: to "
                          "RUN_ID (--mlflow=RUN_ID), else a new run. Needs simreport[mlflow]."),
    ]
    return stacked(options)(fn)


def write_and_finish(document: ReportDocument, prefix: Path, config: dict, kw: dict,
                     attachments: dict[str, bytes] | None = None, warm=None) -> None:
    """Write every requested format (:func:`write_documents`), then :func:`finish`: the outcome
    line names the report ID of the JSON bytes just written, serialised once for both."""
    from simreport.render.documents import Prepared

    prepared = Prepared(document)
    paths = write_documents(document, prefix, config["render"], attachments, warm, signer=kw["signer"],
                            prepared=prepared)
    finish(document, paths, config, kw, report_id=prepared.report_id)


def finish(document: ReportDocument, paths: list[Path], config: dict, kw: dict, report_id: str) -> None:
    """After every file is written: log to MLflow when asked, print the one-line outcome on
    stdout, and exit 4 when the outcome reaches --fail-on. ``report_id``: the ID of the JSON as
    written."""
    from simreport.cli import outcome

    data = outcome.summary(document, paths, config["ci"]["fail_on"], report_id)
    run, failure = kw.get("mlflow_run"), None
    if run is not None:
        from simreport.integrations.mlflow import log_to_mlflow

        try:
            data["mlflow_run_id"] = log_to_mlflow(document, run or None,
                                                  files=[p for p in paths if p.suffix in (".json", ".html", ".pdf")])
        except ImportError as exc:
            failure = str(exc)
        except Exception as exc:
            failure = f"logging to MLflow failed: {type(exc).__name__}: {str(exc).splitlines()[0]}"
    click.echo(outcome.as_json(data) if kw.get("summary_json") else outcome.line(data))
    if failure:
        click.echo(f"simreport: error: {failure} (the reports were written)", err=True)
        sys.exit(1)
    if data["gated"]:
        sys.exit(outcome.EXIT_GATED)


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
            checked = check_option(section, key, value, "flag")
        except ConfigError as exc:
            raise UsageProblem(f"--{name.replace('_', '-')} {typed}: {exc.reason}") from None
        flags.setdefault(section, {})[key] = checked
    if kw.get("thresholds"):  # the flags as typed, or already parsed (compare takes its own out first)
        if not isinstance(kw["thresholds"], dict):
            for item in kw["thresholds"]:
                try:
                    check_values({"thresholds": parse_thresholds((item,))}, "flag")
                except ConfigError as exc:
                    raise UsageProblem(f"--threshold {item}: {exc.detail}") from None
        table = kw["thresholds"] if isinstance(kw["thresholds"], dict) else parse_thresholds(kw["thresholds"])
        try:
            flags["thresholds"] = check_values({"thresholds": table}, "flag")["thresholds"]
        except ConfigError as exc:
            raise UsageProblem(f"--threshold: {exc.detail}") from None
    return flags


def configure(kw: dict) -> tuple[dict, TestOptions]:
    """Effective configuration (defaults < file < flags) and the test options it gives."""
    path = find_config(kw.get("config_file"))
    if path is not None and kw.get("config_file") is None:
        # a file the user did not name decides what runs: say so, every time
        click.echo(f"simreport: using configuration {path} (found in the current folder)", err=True)
    file_values = read_config_file(path) if path is not None else {}
    config = effective_config(file_values, _flag_values(kw))
    config["sources"] = {"config_file": str(path) if path is not None else None}
    source = str(path) if path is not None else "command line"
    try:
        options = TestOptions.from_config(config)
    except ConfigError:
        raise
    except ValueError as exc:
        raise ConfigError(f"{source}: {exc}", file=source) from None
    check_before_computing(config, source)
    kw["signer"] = load_signer(kw.pop("sign_cert", None), config["render"]["formats"])
    return config, options


def check_before_computing(config: dict, source: str = "command line") -> None:
    """What can be checked before the long computation: templates compile, the timestamp
    variable is a number, the dask scheduler answers."""
    from simreport.results import created_timestamp

    created_timestamp()  # SOURCE_DATE_EPOCH
    templates = config["render"]["templates"]
    if set(config["render"]["formats"]) & {"html", "pdf"}:
        if templates is not None and not Path(templates).is_dir():
            raise TemplateProblem(f"{templates}: templates directory not found; fix --templates or "
                                  f"render.templates ({source})")
        check_templates(templates)
    engine = config["engine"]
    if engine["runner"] == "dask" and engine["scheduler"]:
        from simreport.dask_runner import check_scheduler

        check_scheduler(engine["scheduler"])


def output_prefix(prefix: Path | None, default: Path) -> Path:
    """The -o prefix, refused when it cannot name files (empty, '.', a trailing '..')."""
    if prefix is None:
        return default
    if prefix.name in ("", ".", ".."):
        raise UsageProblem(f"-o {str(prefix) if str(prefix) != '.' else repr(str(prefix))}: not an output prefix "
                           "(the file names are PREFIX.json, PREFIX.html, PREFIX.pdf); give one such as reports/run")
    return prefix


SIGN_OPTION = click.option("--sign", "sign_cert", type=click.Path(path_type=Path), default=None, metavar="CERT.p12",
                           help="Sign the PDF with this PKCS#12 certificate (PAdES); passphrase from "
                                "SIMREPORT_SIGN_PASSPHRASE or a prompt.")


def load_signer(certificate: Path | None, formats: list[str]):
    """The signer for --sign CERT.p12 (None without it); the passphrase comes from
    SIMREPORT_SIGN_PASSPHRASE or a prompt, never from a flag. Decided before computing."""
    if certificate is None:
        return None
    from simreport.signing import (
        PASSPHRASE_VARIABLE,
        SigningError,
        SigningUnavailable,
        load_signer,
        p12_needs_passphrase,
        passphrase_from_environment,
    )

    if "pdf" not in formats:
        raise UsageProblem("--sign signs the PDF report; add pdf to --format")
    try:
        passphrase = passphrase_from_environment()
        if passphrase is None and p12_needs_passphrase(certificate):
            try:
                typed = click.prompt(f"Passphrase for {certificate}", hide_input=True, err=True, default="",
                                     show_default=False)
            except (click.Abort, EOFError):
                typed = ""
            if not typed:
                raise UsageProblem(f"--sign {certificate}: the certificate file needs a passphrase; set "
                                   f"{PASSPHRASE_VARIABLE} or type it at the prompt")
            passphrase = typed.encode("utf-8")
        return load_signer(certificate, passphrase)
    except (SigningError, SigningUnavailable) as exc:
        raise UsageProblem(f"--sign: {exc}") from None


SEPARATE_PDF_PROCESS = False  # set by cli.entry: the program owns its process, so the PDF may render in a fork


def warm_up(render: dict, template: str = "report.html.j2"):
    """When a PDF is asked for, start readying WeasyPrint beside the test (see render.pdf.warm_up);
    returns the renderer to pass to :func:`write_documents`, or None."""
    if "pdf" not in render["formats"]:
        return None
    from simreport.render.pdf import warm_up as warm_up_pdf

    return warm_up_pdf(render.get("templates"), template, separate_process=SEPARATE_PDF_PROCESS)


def write_documents(document: ReportDocument, prefix: Path, render: dict,
                    attachments: dict[str, bytes] | None = None, warm=None, signer=None,
                    prepared=None) -> list[Path]:
    """Render every requested format in memory, then write them all at once.

    ``render`` is the configuration's [render] section (formats, templates, pdf_variant,
    plotlyjs); ``attachments`` are extra files for the PDF; ``warm``: the PDF renderer from
    :func:`warm_up` (it gets the PDF's work first, so a forked one renders while this
    process writes the other formats); ``prepared``: the document's
    :class:`~simreport.render.documents.Prepared` when the caller made it (else made here).
    """
    from simreport.render.documents import Prepared

    templates = render.get("templates")
    files: dict[Path, bytes] = {}
    if prepared is None:
        prepared = Prepared(document)  # the JSON serialised once, the shared template data built once
    if "pdf" in render["formats"]:
        if warm is None:
            from simreport.render.pdf import PdfRenderer

            warm = PdfRenderer(ready_beside=False)
        warm.submit(document, templates, render.get("pdf_variant", "pdf/a-3b"), attachments, prepared)
    try:
        _render_formats(document, prepared, prefix, render, files, warm, signer)
    except BaseException:
        if warm is not None:
            warm.close()  # a forked renderer's child is stopped, not left to finish a PDF nobody takes
        raise
    write_all(files)
    stage("written")
    return list(files)


def _render_formats(document: ReportDocument, prepared, prefix: Path, render: dict, files: dict[Path, bytes],
                    warm, signer) -> None:
    """Each requested format into ``files`` (path -> bytes), in the order asked for."""
    templates = render.get("templates")
    for fmt in render["formats"]:
        path = prefix.with_name(prefix.name + f".{fmt}")
        if fmt == "json":
            files[path] = prepared.json_bytes
        elif fmt == "html":
            from simreport.render.html import PLOTLY_FILE, plotly_js, render_html

            mode = render.get("plotlyjs", "inline")
            files[path] = render_html(document, templates, plotlyjs=mode, prepared=prepared).encode("utf-8")
            if mode == "directory":
                files[path.parent / PLOTLY_FILE] = plotly_js().encode("utf-8")
        else:
            files[path] = warm.result()
            if signer is not None:
                from simreport.signing import sign_pdf

                files[path] = sign_pdf(files[path], signer)
        stage(fmt)


def data_attachments(data: Embeddings, document: ReportDocument) -> dict[str, bytes]:
    """--attach-data: the labels and the input's fingerprints, for the PDF."""
    fingerprint = {key: document.input.get(key) for key in ("path", "sha256", "array_sha256", "n", "dim", "dtype")}
    return {"labels.txt": labels_text(data.labels).encode("utf-8"),
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
        result = cosine_similarity_test(data, options, progress=advance)
    note = (result.stats.get("engine") or {}).get("note")
    if note and not quiet:  # what the engine had to change, e.g. no bfloat16 here, so it ran exact
        out.print(f"note: {note}.", markup=False)
    return result
