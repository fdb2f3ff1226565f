"""The errors simreport raises on purpose: one base, :class:`SimreportError`, and a class per cause.

Each error's message is one line that names what is wrong, where, and the fix. The parts
of it are kept as fields (``file``, ``key``, ``rows``, ``reason``) so that callers (the
command line above all) can decide and reword without reading the message text. The
command line maps each class to its exit code (2 for all of these).
"""

from __future__ import annotations

from collections.abc import Sequence


class SimreportError(Exception):
    """Something simreport was asked to do cannot be done as asked; the message says why and the fix."""

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None,
                 rows: Sequence[int] | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file  # the file (or other source) at fault, as the user named it
        self.key = key  # the option, column or configuration key at fault
        self.rows = list(rows) if rows is not None else None  # 0-based rows at fault
        self.reason = reason  # what is wrong, without the where

    def __str__(self) -> str:
        return self.message


class InputError(SimreportError, ValueError):
    """Input that the test cannot run on: a file, array, label list or table."""


class ModelError(InputError):
    """A model that cannot be used (not local, not installed, unreadable)."""


class ConfigError(SimreportError, ValueError):
    """An option or configuration key that is unknown or has a bad value.

    ``file`` is where the value came from (a file, "flag", "command line"), ``key`` is
    ``section.key``, ``value`` the value given, ``reason`` what is wrong with it, and
    ``detail`` the message without the source in front.
    """

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None,
                 reason: str | None = None, value: object = None, detail: str | None = None) -> None:
        super().__init__(message, file=file, key=key, reason=reason)
        self.value = value
        self.detail = detail if detail is not None else message


class OutputError(SimreportError, OSError):
    """A report file that cannot be written (bad location, no permission, disk full)."""


class VerifyError(InputError):
    """A PDF that cannot be verified: unreadable, or without simreport's attached results."""


__all__ = ["ConfigError", "InputError", "ModelError", "OutputError", "SimreportError", "VerifyError"]
