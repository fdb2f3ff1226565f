"""Command line: ``simreport run | demo | compare | render | verify | config``.

Each command lives in its own module and takes what the commands share (options,
configuration, error handling, writing files) from :mod:`simreport.cli.shared`.

Exit codes: 0 success, 2 bad input or usage (one line on stderr), 1 unexpected failure,
3 a report that fails ``verify``, 4 the outcome reached ``--fail-on`` (every file written),
130 interrupted. Outputs are written all-or-nothing.
"""

from __future__ import annotations

import os
import sys
import threading

import click

from simreport.cli.compare import compare
from simreport.cli.config import config_command
from simreport.cli.documents import render, schema_command, verify
from simreport.cli.run import demo, run
from simreport.version import __version__

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


for command in (run, demo, render, config_command, verify, compare, schema_command):
    main.add_command(command)


def entry() -> None:
    """The ``simreport`` program (console script and ``python -m simreport``): run the command,
    then leave without the interpreter's teardown once the output is flushed and no other
    thread runs. Freeing every numba, WeasyPrint and numpy object one by one took 0.4 s of
    a 3.5 s run (``benchmarks/bench_everyday.py``, stage "write+exit") and nothing of it is
    needed: files are closed and synced before the outcome line is printed. ``main`` itself
    (for callers in Python) keeps the normal exit.
    """
    from simreport.cli import shared

    shared.SEPARATE_PDF_PROCESS = True
    try:
        main()
        code: object = 0
    except SystemExit as done:
        code = done.code
    if code is None:
        code = 0
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if not isinstance(code, int) or others:
        raise SystemExit(code)
    try:
        import logging

        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # a closed pipe, say: leave the normal way, which reports it
        raise SystemExit(code) from None
    os._exit(code)


__all__ = ["entry", "main"]
