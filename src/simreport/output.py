"""Writing report files so that a failed run leaves nothing half-written.

Each file is written to a temporary name in the target folder and renamed into place
only when every requested output has been produced.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from simreport.errors import OutputError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _temporary_copy(path: Path, data: bytes) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the report here ({exc.strerror or exc}); "
                          "choose another output prefix with -o.", file=str(path)) from None
    os.chmod(name, 0o666 & ~_umask())  # mkstemp creates 0600; reports are ordinary files
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    return Path(name)


def write_atomic(path: Path, data: bytes) -> None:
    """Write bytes to ``path`` through a temporary file and a rename."""
    write_all({path: data})


def write_all(files: dict[Path, bytes]) -> None:
    """Write several files all-or-nothing: temporaries first, then renames."""
    staged: list[tuple[Path, Path]] = []
    try:
        for path, data in files.items():
            staged.append((_temporary_copy(path, data), path))
        for temporary, path in staged:
            try:
                os.replace(temporary, path)
            except OSError as exc:
                raise OutputError(f"{path}: cannot write the report here ({exc.strerror or exc}); "
                                  "choose another output prefix with -o.", file=str(path)) from None
    finally:
        for temporary, _ in staged:
            with contextlib.suppress(OSError):
                if temporary.exists():
                    temporary.unlink()
