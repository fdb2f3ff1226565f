"""Shared fixtures: small embedding sets with known structure, and a CLI runner."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

# the system Chromium (Debian's package; .ci/run installs it) and the flags it needs here
CHROMIUM = os.environ.get("SIMREPORT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")


def refuse_network(target, blocked: list[str]) -> None:
    """Route every request of a Playwright page or context: local schemes pass, anything
    else is aborted and its URL recorded in ``blocked``."""

    def route(r):
        if r.request.url.startswith(LOCAL_SCHEMES):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    target.route("**/*", route)


@pytest.fixture(scope="session")
def browser():
    """Playwright driving the system Chromium (it never downloads a browser of its own)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def planted_embeddings(n: int = 120, d: int = 24, seed: int = 7) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Random vectors with a few planted near-duplicate pairs (returned as (i, j), i < j)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    pairs = [(3, 40), (10, 11), (25, 90)]
    for i, j in pairs:
        x[j] = x[i] * 1.5 + rng.standard_normal(d).astype(np.float32) * 0.01
    return x, pairs


@pytest.fixture
def planted() -> tuple[np.ndarray, list[tuple[int, int]]]:
    return planted_embeddings()


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `python -m simreport.cli ...` in a subprocess and capture its output."""
    return subprocess.run([sys.executable, "-m", "simreport.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture
def cli():
    return run_cli


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI (CI=true) a skipped test is a failure: the browser and PDF tools must be there."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must run every test: {report.longrepr}"


def pytest_configure(config):
    config.addinivalue_line("markers", "cuda: needs a CUDA device; deselected (not skipped) where there is none")


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def pytest_collection_modifyitems(config, items):
    """Tests marked ``cuda`` are deselected where torch finds no CUDA device (a skip would
    fail under CI=true); torch is imported only when such a test was collected."""
    cuda = [item for item in items if item.get_closest_marker("cuda")]
    if cuda and not _cuda_available():
        config.hook.pytest_deselected(items=cuda)
        items[:] = [item for item in items if not item.get_closest_marker("cuda")]
