"""Writing report files all-or-nothing.

Every requested file is first staged: written to a hidden temporary file beside its
target and flushed to disk (fsync). Only when every file is staged are the targets
replaced, one rename each; an existing target is first kept as a hidden backup (a hard
link, or a copy where links are not possible). If a rename fails, or SIGINT or SIGTERM
arrives at any point while files are written, the renames already done are undone (the
old files come back, new ones are removed) and every temporary and backup file is
deleted; folders created for the outputs are removed again. Only SIGKILL or a power cut
can leave a hidden ``.NAME.*.tmp``/``.bak`` file behind.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
import shutil
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

from simreport.errors import OutputError

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived; ``written`` says whether the outputs were already in place."""

    def __init__(self, signum: int, written: bool = False) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.written = written


def _rename(source: Path, target: Path) -> None:
    """One rename into place (a separate function so that tests can inject failures)."""
    os.replace(source, target)


def _write_bytes(handle: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(handle, view)
        view = view[written:]


def _cannot(path: Path, exc: OSError, what: str = "cannot write the report here") -> OutputError:
    reason = exc.strerror or str(exc) or type(exc).__name__
    return OutputError(f"{path}: {what} ({reason}); free the space or choose another output prefix with -o.",
                       file=str(path), reason=f"{what} ({reason})")


class _Signals:
    """Defers SIGINT and SIGTERM while files are written: the handler only records the
    signal; :meth:`check` raises :class:`Interrupted` at the next safe point."""

    def __init__(self) -> None:
        self.received: int | None = None
        self.previous: dict[int, object] = {}

    def _record(self, signum, frame) -> None:
        if self.received is None:
            self.received = signum

    def __enter__(self) -> _Signals:
        if threading.current_thread() is threading.main_thread():
            for sig in HANDLED_SIGNALS:
                self.previous[sig] = signal.signal(sig, self._record)
        return self

    def check(self) -> None:
        if self.received is not None:
            raise Interrupted(self.received)

    def __exit__(self, *exc_info) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


def _check_targets(paths: list[Path]) -> None:
    """Refuse, before anything is written, targets that a rename could not replace."""
    for path in paths:
        if path.name in ("", ".."):  # a path's name is never "." (Path drops it)
            raise OutputError(f"{path}: not a file name; give an output prefix such as reports/run with -o.",
                              file=str(path))
        if path.is_dir():
            raise OutputError(f"{path}: is a folder, not a file; remove it or choose another output prefix with -o.",
                              file=str(path))
        nearest = next(parent for parent in path.parents if parent.exists())  # "." or "/" at the latest
        if not nearest.is_dir():
            raise OutputError(f"{path}: cannot write the report here ({nearest} is a file, not a folder); "
                              "choose another output prefix with -o.", file=str(path))


def _make_folders(path: Path, created: list[Path]) -> None:
    missing = list(itertools.takewhile(lambda parent: not parent.exists(), path.parents))
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise _cannot(path, exc) from None
        created.append(folder)


def _stage(path: Path, data: bytes) -> Path:
    """Write ``data`` to a hidden temporary file beside ``path`` and fsync it."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"{path}: report data must be bytes, not {type(data).__name__}")
    name = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
    try:
        handle = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the system applies the umask
    except OSError as exc:
        raise _cannot(path, exc) from None
    try:
        _write_bytes(handle, data)
        os.fsync(handle)
    except BaseException as exc:
        os.close(handle)
        with contextlib.suppress(OSError):
            os.unlink(name)
        if isinstance(exc, OSError):
            raise _cannot(path, exc) from None
        raise
    os.close(handle)
    return name


def _backup(path: Path) -> Path | None:
    """A hidden copy of an existing target (hard link where possible); None if there is none."""
    if not path.exists():
        return None
    name = path.parent / f".{path.name}.{secrets.token_hex(4)}.bak"
    try:
        os.link(path, name)
    except OSError:
        try:
            shutil.copy2(path, name)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(name)
            raise _cannot(path, exc, "cannot keep a copy of the existing file") from None
    return name


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def write_atomic(path: Path, data: bytes) -> None:
    """Write bytes to ``path`` through a temporary file and a rename."""
    write_all({path: data})


def write_all(files: dict[Path, bytes]) -> None:
    """Write several files all-or-nothing (see the module's description).

    Raises :class:`OutputError` (nothing changed on disk) or :class:`Interrupted` when
    SIGINT/SIGTERM arrived (nothing changed, unless ``written`` is set on it).
    """
    files = {Path(path): data for path, data in files.items()}
    _check_targets(list(files))
    created: list[Path] = []
    staged: dict[Path, Path] = {}
    backups: dict[Path, Path | None] = {}
    committed: list[Path] = []
    with _Signals() as signals:
        try:
            for path, data in files.items():
                _make_folders(path, created)
                staged[path] = _stage(path, data)
                signals.check()
            for path in files:
                backups[path] = _backup(path)
                signals.check()
            for path in files:
                try:
                    _rename(staged[path], path)
                except OSError as exc:
                    raise _cannot(path, exc) from None
                committed.append(path)
                signals.check()
            for folder in {path.parent for path in files}:
                _fsync_folder(folder)
            signals.check()
        except BaseException:
            _undo(committed, backups)
            _remove(staged, backups)
            for folder in reversed(created):  # empty again once the staged files are gone
                with contextlib.suppress(OSError):
                    folder.rmdir()
            raise
        _remove(staged, backups)
        late = signals.received
    if late is not None:
        raise Interrupted(late, written=True)


def _remove(staged: dict[Path, Path], backups: dict[Path, Path | None]) -> None:
    """Delete the temporary files left (renamed ones are gone already) and the backups."""
    for temporary in staged.values():
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    for backup in backups.values():
        if backup is not None:
            with contextlib.suppress(OSError):
                os.unlink(backup)


def _undo(committed: list[Path], backups: dict[Path, Path | None]) -> None:
    """Put back what the renames replaced (old files restored, new ones removed)."""
    for path in reversed(committed):
        backup = backups.get(path)
        try:
            if backup is not None:
                os.replace(backup, path)
            else:
                os.unlink(path)
        except OSError:
            continue


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """While active, SIGTERM raises :class:`Interrupted` like Ctrl-C does, so that clean-up
    code runs (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum, frame):
        raise Interrupted(signum)

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
