"""The PDF report: the same templates in print form, laid out by WeasyPrint.

WeasyPrint gets a URL fetcher that refuses everything except inline ``data:`` URLs
and files inside the template directories, so rendering never touches the network.
"""

from __future__ import annotations

import contextlib
import gc
import os
import select
import signal
import sys
import threading
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path
from urllib.parse import unquote, urlparse

from simreport.config import PDF_VARIANTS, colorscale, default
from simreport.render.documents import Prepared
from simreport.render.environment import compile_template, make_environment, render_template, shipped_templates
from simreport.results import ReportDocument
from simreport.stages import stage


class RefusedURL(RuntimeError):
    """Raised when a document asks for a resource from outside the package."""


def import_weasyprint():
    """WeasyPrint, imported without ctypes' library search on Linux; returns the module.

    WeasyPrint opens Pango, HarfBuzz and fontconfig by trying several names each. For every
    name that is not a file the dynamic loader opens itself, cffi asks
    ``ctypes.util.find_library``, which on Linux runs ldconfig, gcc and ld in subprocesses
    (about 50 of them: 0.16 of the 0.36 s the import takes here; Kozea/WeasyPrint#1125). Each
    list also holds the loader's own name (``libpango-1.0.so.0``), the file the search would
    have led to, so with the search answered "not found" WeasyPrint opens the same libraries.
    Where that fails (a library that only the search finds), the import runs again with the
    search, and the advice WeasyPrint prints on the failed try is not shown. Both the search
    and standard output are the process's, so this is done only by a process's one thread (the
    forked PDF process, a command's render); otherwise WeasyPrint is imported as it is.
    """
    if "weasyprint" in sys.modules or not sys.platform.startswith("linux") or not one_thread():
        import weasyprint

        return weasyprint
    import ctypes.util
    import io

    search = ctypes.util.find_library
    ctypes.util.find_library = _find_nothing
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # WeasyPrint prints its advice before it fails
            import weasyprint
    except OSError:
        ctypes.util.find_library = search
        import weasyprint
    finally:
        ctypes.util.find_library = search
    return weasyprint


def _find_nothing(name: str) -> None:
    """ctypes.util.find_library while :func:`import_weasyprint` sets the search aside."""
    return None


def one_thread() -> bool:
    """Whether this process runs one thread only (nothing else can print, import or search)."""
    return threading.active_count() == 1


def local_fetcher(allowed_dirs: list[Path]):
    """A WeasyPrint URL fetcher allowing only data: URLs and files under ``allowed_dirs``."""
    import_weasyprint()
    from weasyprint.urls import URLFetcher

    roots = [d.resolve() for d in allowed_dirs]

    class LocalOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):  # the WeasyPrint API
            parsed = urlparse(url)
            if parsed.scheme == "data":
                return super().fetch(url, headers)
            if parsed.scheme == "file":
                path = Path(unquote(parsed.path)).resolve()
                if any(path.is_relative_to(root) for root in roots) and path.is_file():
                    return super().fetch(url, headers)
            raise RefusedURL(f"simreport does not fetch {url[:80]!r} while rendering")

    return LocalOnlyFetcher()


class PdfRenderer:
    """Renders the PDF of a run once WeasyPrint is ready: made by :func:`warm_up` before the
    test runs, used once the results exist. This one readies WeasyPrint on a side thread of
    this process (see :class:`ForkedPdfRenderer` for the separate process)."""

    def __init__(self, templates: str | Path | None = None, template: str = "report.html.j2",
                 ready_beside: bool = True) -> None:
        self._done = threading.Event()
        if not ready_beside:  # nothing to overlap: render when asked
            self._done.set()
            return

        def work() -> None:
            try:
                _ready_weasyprint(templates, template, wanted=threading.main_thread().is_alive)
            except Exception:  # the real render reports any problem
                pass
            finally:
                self._done.set()

        # Not a daemon: the interpreter waits for it before it exits. A daemon thread still inside
        # Pango or fontconfig while the process exits (a run that stops at once on bad input) made
        # the C++ runtime abort ("terminate called without an active exception", exit -6): 1 of 224
        # runs of tests/test_cli.py's bad inputs once WeasyPrint's import got faster, none in 700 since.
        # The thread stops after its current step once the main thread is gone.
        threading.Thread(target=work, name="simreport-warm-pdf", daemon=False).start()

    def submit(self, document: ReportDocument, templates: str | Path | None, pdf_variant: str,
               attachments: dict[str, bytes] | None, prepared: Prepared) -> None:
        """Hand over the work; :meth:`result` returns the PDF (here: rendered in ``result``)."""
        self._job = (document, templates, pdf_variant, attachments, prepared)

    def close(self) -> None:
        """Give up the PDF (nothing to stop on a side thread)."""

    def result(self) -> bytes:
        """The PDF bytes of the submitted document (errors are raised as render_pdf raises them)."""
        self._done.wait()  # WeasyPrint and the templates are not shared while the side thread readies them
        return self._render_here()

    def _render_here(self) -> bytes:
        document, templates, pdf_variant, attachments, prepared = self._job
        return render_pdf(document, templates, pdf_variant, attachments, prepared=prepared)


class ForkedPdfRenderer(PdfRenderer):
    """Renders the PDF in a child process forked before the test runs (Linux, the command
    line only): the child imports WeasyPrint and readies it (:func:`_ready_weasyprint`) while
    this process computes, then renders the report while this process writes the JSON and the
    HTML. On two cores this takes WeasyPrint's start (about 0.5 s) off the path of the run
    and overlaps the PDF with the other formats (``benchmarks/bench_everyday.py``).

    The child gets the document pickled through a pipe and sends back the PDF bytes, raw:
    this process unpickles nothing from the child. When the child fails in any way (an
    error in a template, a refused URL, the child killed), the PDF is rendered again in
    this process, so an error is reported exactly as without the child, and nothing of the
    child's is trusted but a finished PDF.
    """

    def __init__(self, templates: str | Path | None, template: str) -> None:
        job_read, self._job_write = os.pipe()
        self._result_read, result_write = os.pipe()
        try:
            self._pid = os.fork()
        except OSError:
            for fd in (job_read, self._job_write, self._result_read, result_write):
                os.close(fd)
            raise
        if self._pid == 0:  # the child: never returns
            os.close(self._job_write)
            os.close(self._result_read)
            _pdf_child(job_read, result_write, templates, template)
        os.close(job_read)
        os.close(result_write)
        self._sender: threading.Thread | None = None

    def submit(self, document: ReportDocument, templates: str | Path | None, pdf_variant: str,
               attachments: dict[str, bytes] | None, prepared: Prepared) -> None:
        import pickle

        super().submit(document, templates, pdf_variant, attachments, prepared)  # kept: result() may render here
        job = pickle.dumps((document, prepared.json_bytes, templates, pdf_variant, attachments),
                           protocol=pickle.HIGHEST_PROTOCOL)

        def send() -> None:  # a side thread: the child may still be readying WeasyPrint
            try:
                with open(self._job_write, "wb", closefd=True) as pipe:
                    pipe.write(job)
            except OSError:  # the child is gone: result() renders here
                pass

        self._sender = threading.Thread(target=send, name="simreport-pdf-job", daemon=True)
        self._sender.start()

    def result(self) -> bytes:
        pid, self._pid = self._pid, 0  # from here on the pipe and the child are this method's
        if self._sender is not None:
            self._sender.join()
        with open(self._result_read, "rb", closefd=True) as pipe:
            answer = pipe.read()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        if answer[:1] == _RENDERED:  # the PDF's bytes follow; anything else: the child failed or died
            return answer[1:]
        return self._render_here()

    def close(self) -> None:
        """Stop the child if its PDF is not wanted after all (the run failed after the test)."""
        if self._pid:
            with contextlib.suppress(OSError):
                os.kill(self._pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._pid, 0)
            self._pid = 0
            if self._sender is None:  # not submitted: this end is still ours (the sender closes it)
                os.close(self._job_write)
            os.close(self._result_read)


def _pdf_child(job_read: int, result_write: int, templates: str | Path | None, template: str) -> None:
    """The forked PDF renderer's life: ready WeasyPrint, wait for the job, answer, exit."""
    import pickle

    answer = b""  # the parent reads an empty answer as a failure
    try:
        stage("pdf:forked")
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # an interrupt is the parent's to handle; it then closes the pipe
        null = os.open(os.devnull, os.O_WRONLY)  # the caller's output pipes close when the parent exits, not later
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.close(null)
        gc.disable()  # a short life: nothing to collect that exit does not free
        try:
            _ready_weasyprint(templates, template, lambda: bool(select.select([job_read], [], [], 0)[0]))
            from simreport.render import context  # noqa: F401  (the builders the job needs, before it arrives)
        except Exception:  # the parent renders again and reports it
            pass
        with open(job_read, "rb", closefd=True) as pipe:
            job = pipe.read()
        stage("pdf:job")
        if job:  # empty: the parent stopped (bad input, an interrupt) before it had a PDF to render
            document, json_bytes, templates, pdf_variant, attachments = pickle.loads(job)
            answer = _RENDERED + render_pdf(document, templates, pdf_variant, attachments,
                                            prepared=Prepared(document, json_bytes))
            stage("pdf:rendered")
    except BaseException:  # anything at all: the parent renders again and reports it
        answer = b""
    try:
        with open(result_write, "wb", closefd=True) as pipe:
            pipe.write(answer)
    finally:
        os._exit(0)


_RENDERED = b"\x01"  # the first byte of the child's answer when the PDF's bytes follow


# What a report's PDF meets first, in one small page: the fonts and faces of the print styles, a
# table, a page-margin counter, an inline PNG and SVG, and writing the PDF (pydyf, font subsetting).
# Meeting them here, while the test runs, takes 0.04-0.09 s off the report's first rendering and adds
# 0.02-0.06 s to readying (python benchmarks/bench_pdf.py --first, bench_everyday's n = 500 report).
_WARM_UP_HTML = (
    '<style>@page { size: A4; @bottom-center { content: "Page " counter(page) " of " counter(pages); '
    'font-family: "DejaVu Sans"; } } body { font-family: "DejaVu Sans", Arial, sans-serif; } '
    'code { font-family: "DejaVu Sans Mono", monospace; } td { overflow-wrap: anywhere; }</style>'
    '<h1>simreport</h1><p>simreport <b>bold</b> <i>italic</i> <code>code</code></p>'
    '<table><thead><tr><th>Check</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>'
    '<img alt="" src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP0yl/KwMDA'
    'xMDAwMDAAAAQNwFitWkhXQAAAABJRU5ErkJggg==">'
    '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10"><rect width="5" height="5" fill="#4a6fa5"/>'
    '<text x="6" y="8" font-size="6">0.5</text></svg>')


def _ready_weasyprint(templates: str | Path | None, template: str, job_waiting=None,
                      wanted=lambda: True, alone: bool | None = None) -> None:
    """Import WeasyPrint; compile the template and every template it names, and load plotly's
    colour scales, as the report's first rendering would (0.06 s of it, python
    benchmarks/bench_pdf.py --first); and lay out and write a small page that uses what a report
    uses (fonts, faces, a table, images, page counters) unless ``job_waiting()`` says the report
    is already there to render: the page saves its first rendering less than the page itself
    costs. ``wanted()`` false stops it between these steps (nobody will render). plotly is
    loaded only by a process's one thread (``alone``; by default, whether the process has one
    thread: the forked PDF process): two threads importing one package's modules at once can
    deadlock in its package import, as scipy's did (see clusters.import_scipy_here)."""
    weasyprint = import_weasyprint()
    stage("pdf:imported")
    if not wanted():
        return
    compile_template(make_environment(templates), template)
    if one_thread() if alone is None else alone:
        colorscale(default("render", "color_scale"))  # plotly's colour scales (the heatmaps'), imported on first use
    stage("pdf:readied")
    if wanted() and (job_waiting is None or not job_waiting()):
        weasyprint.HTML(string=_WARM_UP_HTML).write_pdf()
        stage("pdf:warm-up")


def warm_up(templates: str | Path | None = None, template: str = "report.html.j2",
            separate_process: bool = False) -> PdfRenderer:
    """Start getting the PDF renderer ready beside the test: on a side thread (the tile pass
    releases the GIL), or, with ``separate_process`` on a platform that forks and while no
    other thread runs, in a forked child (:class:`ForkedPdfRenderer`). The command line
    calls this before the test runs; failures here are ignored: the real render reports them.
    """
    if separate_process and hasattr(os, "fork") and sys.platform.startswith("linux") \
            and one_thread():
        try:
            return ForkedPdfRenderer(templates, template)
        except OSError:  # no process or pipe to be had (a process limit, say): ready it here instead
            pass
    return PdfRenderer(templates, template)


RESULTS_ATTACHMENT = "simreport-results.json"


def render_pdf(result: ReportDocument, templates: str | Path | None = None, pdf_variant: str = "pdf/a-3b",
               attachments: dict[str, bytes] | None = None, prepared: Prepared | None = None) -> bytes:
    """The PDF report as bytes.

    The results JSON is always embedded as ``simreport-results.json`` (its SHA-256 gives
    the report ID printed on every page); ``attachments`` adds more files (name -> bytes).
    ``pdf_variant`` is a WeasyPrint variant (PDF/A-3b by default) or "none".
    """
    import hashlib

    weasyprint = import_weasyprint()
    if pdf_variant not in PDF_VARIANTS:
        raise ValueError(f"unknown PDF variant {pdf_variant!r}; use one of {', '.join(PDF_VARIANTS)}")
    prepared = prepared or Prepared(result)
    html = print_html(prepared, templates)
    allowed = [shipped_templates()] + ([Path(templates)] if templates else [])
    fetcher = local_fetcher(allowed)
    results_json = prepared.json_bytes
    files = {RESULTS_ATTACHMENT: (results_json, "The data this report was rendered from (simreport JSON)")}
    for name, data in (attachments or {}).items():
        files[name] = (data, f"Supplied with the report: {name}")
    moment = _created(result.created)
    embedded = [weasyprint.Attachment(string=data, name=name, description=description, relationship="Data",
                                      created=moment, modified=moment, url_fetcher=fetcher)
                for name, (data, description) in files.items()]
    identifier = hashlib.sha256(results_json).hexdigest()[:32].encode("ascii")
    options = {"attachments": embedded, "custom_metadata": True, "pdf_identifier": identifier}
    if pdf_variant != "none":
        options["pdf_variant"] = pdf_variant
    with gc_paused():
        document = weasyprint.HTML(string=html, base_url=str(shipped_templates()) + "/", url_fetcher=fetcher)
        return document.write_pdf(**options)


def print_html(prepared: Prepared, templates: str | Path | None = None) -> str:
    """The HTML a document's PDF is laid out from (the print medium, a whole page)."""
    template, context = prepared.template_and_context("pdf")
    context["fragment"] = False
    context["dom_prefix"] = "simreport"
    return render_template(make_environment(templates), template, report=context)


@contextmanager
def gc_paused():
    """Pause Python's cyclic garbage collector: WeasyPrint builds many short-lived objects
    and the collector's passes over them cost about a sixth of a render; what it would
    have freed is collected when the render ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _created(stamp: str):
    from datetime import datetime

    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
