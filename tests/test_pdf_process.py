"""The PDF rendered in a forked child by the ``simreport`` program (render.pdf.ForkedPdfRenderer).

The program (``python -m simreport``, the console script) forks a child that readies
WeasyPrint while the test runs and renders the PDF while the parent writes the JSON and
the HTML. These tests hold it to three promises: the child's PDF is the PDF the parent
would have rendered; a child that fails in any way costs nothing but time (the parent
renders again, and reports an error exactly as without the child); a child whose parent
stops before it has a PDF to render goes away.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import simreport
from conftest import planted_embeddings
from simreport.render import pdf as pdf_render
from simreport.render.documents import Prepared

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the forked renderer is Linux only")

# the program, with render_pdf replaced by one that refuses to run in the parent process (and,
# with FAIL_IN_CHILD, fails in the child): the PDF of a successful run then comes from the child
PROGRAM = textwrap.dedent("""
    import os, sys
    import simreport.render.pdf as pdf

    parent, real = os.getpid(), pdf.render_pdf

    def guarded(*args, **kwargs):
        if os.getpid() == parent and os.environ.get("REFUSE_IN_PARENT"):
            raise RuntimeError("the parent rendered the PDF")
        if os.getpid() != parent and os.environ.get("FAIL_IN_CHILD"):
            raise RuntimeError("the child broke")
        if os.getpid() != parent and os.environ.get("DIE_IN_CHILD"):
            os._exit(9)
        return real(*args, **kwargs)

    pdf.render_pdf = guarded
    sys.argv = ["simreport", *sys.argv[1:]]
    from simreport.cli import entry

    entry()
""")


@pytest.fixture(scope="module")
def embeddings(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fork")
    x, _ = planted_embeddings(n=120, d=16)
    np.save(folder / "e.npy", x)
    return folder / "e.npy"


def program(*args, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("SIMREPORT_DEBUG",)}
    environment.update(SOURCE_DATE_EPOCH="1700000000", **env)
    return subprocess.run([sys.executable, "-c", PROGRAM, *map(str, args)], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=300, check=False)


def in_process_pdf(json_path: Path) -> bytes:
    document = simreport.load_document(json_path)
    return pdf_render.render_pdf(document, prepared=Prepared(document, json_path.read_bytes()))


def test_the_child_renders_the_pdf_the_parent_would_have(embeddings, tmp_path):
    done = program("run", embeddings, "-o", tmp_path / "r", "--format", "json,html,pdf", "--quiet", cwd=tmp_path,
                   REFUSE_IN_PARENT="1")
    assert done.returncode == 0, done.stderr
    assert in_process_pdf(tmp_path / "r.json") == (tmp_path / "r.pdf").read_bytes()


def test_the_stage_log_follows_both_processes_in_order(embeddings, tmp_path):
    """What benchmarks/bench_everyday.py reads: the parent's stages and the PDF process's, each once."""
    log = tmp_path / "stages.txt"
    done = program("run", embeddings, "-o", tmp_path / "r", "--format", "json,html,pdf", "--quiet", cwd=tmp_path,
                   REFUSE_IN_PARENT="1", SIMREPORT_STAGE_LOG=str(log))
    assert done.returncode == 0, done.stderr
    lines = [line.split() for line in log.read_text(encoding="utf-8").splitlines()]
    assert all(len(fields) == 3 for fields in lines), lines
    names = [fields[0] for fields in lines]
    at = {name: float(when) for name, when, _ in lines}
    child = ["pdf:forked", "pdf:imported", "pdf:readied", "pdf:job", "pdf:rendered"]
    parent = ["start", "loaded", "tested", "json", "html", "pdf", "written"]
    assert sorted(names) == sorted(set(names)) and set(child + parent) <= set(names), names
    for steps in (child, parent):
        assert [at[s] for s in steps] == sorted(at[s] for s in steps), steps
    assert at["tested"] <= at["pdf:job"] <= at["pdf:rendered"] <= at["pdf"]  # the job waits for the results
    quiet = program("run", embeddings, "-o", tmp_path / "q", "--format", "pdf", "--quiet", cwd=tmp_path)
    assert quiet.returncode == 0 and sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["q.pdf", "r.html", "r.json", "r.pdf", "stages.txt"])
    # a log that cannot be written (here a folder) is skipped; the run and its PDF process go on
    unwritable = program("run", embeddings, "-o", tmp_path / "u", "--format", "json,pdf", "--quiet", cwd=tmp_path,
                         REFUSE_IN_PARENT="1", SIMREPORT_STAGE_LOG=str(tmp_path))
    assert unwritable.returncode == 0 and unwritable.stderr == "", unwritable.stderr
    assert in_process_pdf(tmp_path / "u.json") == (tmp_path / "u.pdf").read_bytes()


@pytest.mark.parametrize("failure", ["FAIL_IN_CHILD", "DIE_IN_CHILD"])
def test_a_failing_child_costs_only_time(embeddings, tmp_path, failure):
    done = program("run", embeddings, "-o", tmp_path / "r", "--format", "json,pdf", "--quiet", cwd=tmp_path,
                   **{failure: "1"})
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert in_process_pdf(tmp_path / "r.json") == (tmp_path / "r.pdf").read_bytes()


def test_an_error_in_the_render_is_reported_as_without_the_child(embeddings, tmp_path):
    """A template that fails while rendering (not while compiling): the child fails, the parent
    renders again and reports it; the same line and exit code as ``python -m simreport.cli``
    (no child), and nothing written."""
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "report.html.j2").write_text("{{ report.title.no_such_thing.deeper }}\n", encoding="utf-8")
    outcomes = []
    for launcher in ([sys.executable, "-c", PROGRAM], [sys.executable, "-m", "simreport.cli"]):
        out = tmp_path / launcher[-1].strip()[:6].replace(".", "_")
        out.mkdir()
        done = subprocess.run([*launcher, "run", str(embeddings), "-o", str(out / "r"), "--format", "json,pdf",
                               "--templates", str(templates), "--quiet"], cwd=tmp_path, capture_output=True,
                              text=True, timeout=300, check=False)
        outcomes.append((done.returncode, done.stderr))
        assert list(out.iterdir()) == []
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] != 0 and "report.html.j2" in outcomes[0][1], outcomes


def forked(tmp_path: Path) -> tuple[pdf_render.ForkedPdfRenderer, simreport.Result, Prepared]:
    result = simreport.run_test(planted_embeddings(n=100, d=8)[0])
    return pdf_render.ForkedPdfRenderer(None, "report.html.j2"), result, Prepared(result)


def gone(pid: int, within: float = 60.0) -> bool:
    end = time.monotonic() + within
    while time.monotonic() < end:
        finished, _ = os.waitpid(pid, os.WNOHANG)
        if finished:
            return True
        time.sleep(0.05)
    return False


def test_a_killed_child_is_replaced_by_a_render_here(tmp_path):
    renderer, result, prepared = forked(tmp_path)
    os.kill(renderer._pid, signal.SIGKILL)
    assert gone(renderer._pid)
    renderer.submit(result, None, "pdf/a-3b", None, prepared)
    assert renderer.result() == pdf_render.render_pdf(result, prepared=prepared)


def test_the_child_leaves_when_the_parent_stops_before_the_pdf(tmp_path):
    renderer, _, _ = forked(tmp_path)
    os.close(renderer._job_write)  # what the parent's exit does after bad input or an interrupt
    assert gone(renderer._pid)
    os.close(renderer._result_read)


@pytest.mark.parametrize("submitted", [False, True])
def test_a_child_whose_pdf_is_given_up_is_stopped(tmp_path, submitted):
    renderer, result, prepared = forked(tmp_path)
    pid = renderer._pid
    if submitted:
        renderer.submit(result, None, "pdf/a-3b", None, prepared)
    renderer.close()
    with pytest.raises(ProcessLookupError):  # killed and reaped
        os.kill(pid, 0)
    renderer.close()  # a second time: nothing left to do


def test_the_child_does_not_hold_the_callers_output(tmp_path):
    """Its stdout and stderr are /dev/null, so a pipe from the program closes when the program ends."""
    renderer, _, _ = forked(tmp_path)
    try:
        end = time.monotonic() + 60
        while time.monotonic() < end:
            outputs = [os.readlink(f"/proc/{renderer._pid}/fd/{fd}") for fd in (1, 2)]
            if outputs == [os.devnull, os.devnull]:
                break
            time.sleep(0.05)
        assert outputs == [os.devnull, os.devnull]
    finally:
        renderer.close()


def test_the_program_starts_the_child_only_for_a_pdf(embeddings, tmp_path, monkeypatch):
    """Without a PDF, or called as a library (main, not entry), nothing is forked."""
    from simreport.cli import shared

    assert shared.warm_up({"formats": ["json", "html"], "templates": None}) is None
    monkeypatch.setattr(shared, "SEPARATE_PDF_PROCESS", False)
    renderer = shared.warm_up({"formats": ["pdf"], "templates": None})
    assert type(renderer) is pdf_render.PdfRenderer


def test_without_a_process_to_fork_the_pdf_is_readied_here(monkeypatch):
    opened, closed = [], []
    real_pipe, real_close = os.pipe, os.close

    def pipe():
        ends = real_pipe()
        opened.extend(ends)
        return ends

    def close(fd):
        closed.append(fd)
        real_close(fd)

    def no_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "pipe", pipe)
    monkeypatch.setattr(os, "close", close)
    monkeypatch.setattr(os, "fork", no_fork)
    monkeypatch.setattr(pdf_render.threading, "active_count", lambda: 1)  # as in the program (pytest runs threads)
    renderer = pdf_render.warm_up(separate_process=True)
    assert type(renderer) is pdf_render.PdfRenderer
    assert len(opened) == 4 and set(opened) <= set(closed)  # the pipes are closed again


def test_a_run_that_fails_after_the_test_gives_the_pdf_up(tmp_path, monkeypatch):
    import simreport.render.html
    from simreport.cli import shared

    closed = []

    class Watched(pdf_render.PdfRenderer):
        def close(self) -> None:
            closed.append(True)

    def boom(*args, **kwargs):
        raise RuntimeError("the HTML writer broke")

    monkeypatch.setattr(simreport.render.html, "render_html", boom)
    result = simreport.run_test(planted_embeddings(n=100, d=8)[0])
    with pytest.raises(RuntimeError, match="HTML writer broke"):
        shared.write_documents(result, tmp_path / "r", {"formats": ["json", "html", "pdf"], "templates": None},
                               warm=Watched(ready_beside=False))
    assert closed == [True] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("waiting", [False, True])
def test_the_warm_up_page_is_laid_out_only_while_no_report_waits(monkeypatch, waiting):
    """The child lays out its small warm-up page only while the report has not arrived: once it
    has, the page would cost more than it saves the report's first rendering."""
    import weasyprint

    laid_out = []
    real = weasyprint.HTML

    def counting(*args, **kwargs):
        laid_out.append(kwargs.get("string", ""))
        return real(*args, **kwargs)

    monkeypatch.setattr(weasyprint, "HTML", counting)
    pdf_render._ready_weasyprint(None, "report.html.j2", lambda: waiting)
    assert laid_out == ([] if waiting else [pdf_render._WARM_UP_HTML])


# WeasyPrint imported as the child imports it (render.pdf.import_weasyprint): without ctypes' library
# search, which runs ldconfig, gcc and ld in subprocesses for every name WeasyPrint tries
IMPORT_PROBE = textwrap.dedent("""
    import ctypes.util, json, sys
    real, searched = ctypes.util.find_library, []

    def counting(name):
        searched.append(name)
        return real(name)

    ctypes.util.find_library = counting
    if sys.argv[1] == "simreport":
        from simreport.render.pdf import import_weasyprint
        weasyprint = import_weasyprint()
    else:
        import weasyprint
    from weasyprint.text import ffi
    libraries = sorted({line.split()[-1] for line in open("/proc/self/maps")
                        if any(k in line for k in ("gobject", "pango", "harfbuzz", "fontconfig"))})
    print(json.dumps({"searched": searched, "libraries": libraries,
                      "subset": ffi.harfbuzz_subset is not None, "restored": ctypes.util.find_library is counting}))
""")


def _probe_import(how: str, tmp_path: Path) -> dict:
    import json

    script = tmp_path / "probe.py"
    script.write_text(IMPORT_PROBE, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script), how], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_weasyprint_is_imported_without_a_library_search_and_opens_the_same_libraries(tmp_path):
    plain, ours = _probe_import("plain", tmp_path), _probe_import("simreport", tmp_path)
    assert plain["searched"], "a plain import searches (the cost this avoids)"
    assert ours["searched"] == []
    assert ours["libraries"] == plain["libraries"] and len(ours["libraries"]) >= 5
    assert ours["subset"] == plain["subset"]
    assert ours["restored"]  # the search is put back as it was


def test_weasyprint_is_imported_with_the_search_where_only_the_search_finds_a_library(tmp_path):
    """Where the loader cannot open WeasyPrint's libraries by name alone, the import runs again
    with the search, and WeasyPrint's advice printed on the failed try is not shown."""
    script = tmp_path / "fallback.py"
    script.write_text(textwrap.dedent("""
        import cffi, ctypes.util
        real, refused = cffi.FFI.dlopen, []

        def dlopen(self, name, flags=0):
            if ctypes.util.find_library.__name__ == "_find_nothing":
                refused.append(name)
                raise OSError(f"cannot load library {name!r} (refused by the test)")
            return real(self, name, flags)

        cffi.FFI.dlopen = dlopen
        from simreport.render.pdf import import_weasyprint
        weasyprint = import_weasyprint()
        weasyprint.HTML(string="<p>ok</p>").write_pdf()
        assert refused and ctypes.util.find_library.__qualname__ == "find_library", refused
    """), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""


def test_compile_template_compiles_what_a_template_names():
    import jinja2

    from simreport.render.environment import compile_template

    env = jinja2.Environment(loader=jinja2.DictLoader({
        "page.j2": '{% extends "base.j2" %}{% block body %}{% include "part.j2" %}{% include name %}{% endblock %}',
        "base.j2": '{% import "macros.j2" as m %}{% block body %}{% endblock %}',
        "part.j2": "part", "macros.j2": "{% macro x() %}x{% endmacro %}", "dynamic.j2": "d", "other.j2": "o"}))
    compile_template(env, "page.j2")
    assert {key[1] for key in env.cache} == {"page.j2", "base.j2", "part.j2", "macros.j2"}


READIED_PROBE = textwrap.dedent("""
    import json, sys
    import simreport
    from simreport.render import pdf
    from simreport.render.documents import Prepared
    from simreport.render.environment import make_environment

    pdf._ready_weasyprint(None, "report.html.j2", lambda: True)
    env = make_environment(None)
    readied, modules = {key[1] for key in env.cache}, set(sys.modules)
    pdf.print_html(Prepared(simreport.load_document(sys.argv[1])))
    print(json.dumps({"compiled_later": sorted({key[1] for key in env.cache} - readied),
                      "imported_later": sorted(set(sys.modules) - modules), "readied": len(readied)}))
""")


def test_the_readied_child_leaves_no_template_to_compile_and_no_colour_scale_to_import(embeddings, tmp_path):
    """What the PDF child readies while the test runs is what its first report would otherwise
    compile and import (0.06 s of the report's first rendering)."""
    import json

    results = tmp_path / "r.json"
    results.write_bytes(simreport.run_test(embeddings).json_bytes())
    script = tmp_path / "probe.py"
    script.write_text(READIED_PROBE, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script), str(results)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["readied"] >= 10 and found["compiled_later"] == []
    assert not [m for m in found["imported_later"] if m.split(".")[0] in ("plotly", "_plotly_utils", "narwhals")]


def test_threads_importing_weasyprint_at_once_leave_the_search_as_it_was(tmp_path):
    script = tmp_path / "threads.py"
    script.write_text(textwrap.dedent("""
        import ctypes.util, threading
        real = ctypes.util.find_library
        from simreport.render.pdf import import_weasyprint
        start = threading.Barrier(8)

        def importing():
            start.wait()
            import_weasyprint()

        threads = [threading.Thread(target=importing) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        import weasyprint  # noqa: F401
        assert ctypes.util.find_library is real, ctypes.util.find_library
        assert real("c")
    """), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_the_in_process_warm_up_is_waited_for_and_stops_once_nobody_will_render(monkeypatch):
    """The in-process renderer's thread is not a daemon (a process exiting while it was inside
    Pango made the C++ runtime abort), and it stops between its steps once its caller is gone."""
    import threading

    renderer = pdf_render.PdfRenderer()
    warm = [t for t in threading.enumerate() if t.name == "simreport-warm-pdf"]
    assert warm and not any(t.daemon for t in warm)
    renderer._done.wait(60)

    steps = []
    monkeypatch.setattr(pdf_render, "compile_template", lambda *a: steps.append("compile"))
    monkeypatch.setattr(pdf_render, "colorscale", lambda *a: steps.append("colours"))
    pdf_render._ready_weasyprint(None, "report.html.j2", wanted=lambda: False)
    assert steps == []
    pdf_render._ready_weasyprint(None, "report.html.j2", job_waiting=lambda: True, alone=True)
    assert steps == ["compile", "colours"]
    pdf_render._ready_weasyprint(None, "report.html.j2", job_waiting=lambda: True, alone=False)
    assert steps == ["compile", "colours", "compile"]  # plotly is left to the thread that renders


def test_with_another_thread_running_weasyprint_is_imported_as_it_is(tmp_path):
    """Output is set aside during the quick import, so it is done only by a process's one thread:
    another thread's print would be lost."""
    script = tmp_path / "busy.py"
    script.write_text(textwrap.dedent("""
        import ctypes.util, sys, threading
        real, searched = ctypes.util.find_library, []

        def counting(name):
            searched.append(name)
            return real(name)

        ctypes.util.find_library = counting
        release = threading.Event()
        other = threading.Thread(target=release.wait)
        other.start()
        out = sys.stdout
        from simreport.render.pdf import import_weasyprint
        import_weasyprint()
        release.set()
        other.join()
        assert searched and sys.stdout is out, searched
    """), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
