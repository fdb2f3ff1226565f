"""Threshold sets: the limits findings are judged against, as a named, versioned, approved
document (TOML), so a report can say whose limits it applied.

A set file::

    [set]
    name = "Bank X embedding limits"
    version = "3.1"
    approved_by = "Model Risk Committee"
    date = "2026-10-01"
    description = "..."            # optional

    [limits.mean_similarity]       # one table per check id, every check listed
    warn = 0.5
    fail = 0.7
    margin = 0.005                 # a value within this of a limit counts as at the limit
    source = "where the numbers come from"

``opposed_pairs`` and ``identical_rows`` also take ``warn_count`` (this many individual
defects are at least a warning, whatever n); ``opposed_pairs`` takes ``defect_similarity``
(a pair at or below it is a defect). The shipped defaults are one such set,
``threshold_sets/simreport-default.toml``. Nothing here knows about checks' meaning: the
findings module validates ids against its checks.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DEFAULT_SET = Path(__file__).resolve().parent / "threshold_sets" / "simreport-default.toml"
IDENTITY_KEYS = ("name", "version", "approved_by", "date")
LIMIT_KEYS = {"warn", "fail", "margin", "source", "warn_count", "defect_similarity"}


class ThresholdSetError(ValueError):
    """A threshold-set file that cannot be used (names the file and the key)."""


@dataclass(frozen=True)
class ThresholdSet:
    """A named, versioned set of limits with its approval."""

    name: str
    version: str
    approved_by: str
    date: str
    description: str
    file: str  # file name only (never a local absolute path)
    sha256: str
    limits: dict[str, dict] = field(default_factory=dict)  # id -> warn, fail, margin, source (+ extras)

    def identity(self) -> dict:
        """What a report records about the set: name, version, approval, file, hash and each limit's source."""
        return {"name": self.name, "version": self.version, "approved_by": self.approved_by, "date": self.date,
                "file": self.file, "sha256": self.sha256, "sources": self.sources()}

    def numbers(self, ids: list[str] | None = None) -> dict[str, dict[str, float]]:
        """The numeric limits (no sources), for the checks in ``ids`` (all when None)."""
        return {cid: {k: v for k, v in lim.items() if k != "source"}
                for cid, lim in self.limits.items() if ids is None or cid in ids}

    def sources(self) -> dict[str, str]:
        return {cid: lim["source"] for cid, lim in self.limits.items()}


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ThresholdSetError(f"{where} must be a number, not {value!r}")
    return float(value)


def parse_threshold_set(raw: dict, file: str, digest: str, required: set[str] | None = None) -> ThresholdSet:
    """Check a parsed set; ``required`` are the check ids every set must cover."""
    head = raw.get("set")
    if not isinstance(head, dict):
        raise ThresholdSetError(f"{file}: no [set] table; add [set] with name, version, approved_by and date")
    for key in IDENTITY_KEYS:
        if not isinstance(head.get(key), str) or not head[key].strip():
            raise ThresholdSetError(f"{file}: [set] {key} is missing or empty; every set names its {key}")
    unknown = set(raw) - {"set", "limits"}
    if unknown:
        raise ThresholdSetError(f"{file}: unknown table(s) {', '.join(sorted(unknown))}; use [set] and [limits.ID]")
    limits_raw = raw.get("limits")
    if not isinstance(limits_raw, dict) or not limits_raw:
        raise ThresholdSetError(f"{file}: no [limits.ID] tables")
    limits: dict[str, dict] = {}
    for cid, table in limits_raw.items():
        where = f"{file}: [limits.{cid}]"
        if not isinstance(table, dict):
            raise ThresholdSetError(f"{where} must be a table")
        bad = set(table) - LIMIT_KEYS
        if bad:
            raise ThresholdSetError(f"{where} has unknown key(s) {', '.join(sorted(bad))} "
                                    f"(known: {', '.join(sorted(LIMIT_KEYS))})")
        for key in ("warn", "fail", "source"):
            if key not in table:
                raise ThresholdSetError(f"{where} lacks {key}; every limit states warn, fail and its source")
        if not isinstance(table["source"], str) or not table["source"].strip():
            raise ThresholdSetError(f"{where} source must be text saying where the limits come from")
        entry: dict = {"warn": _number(table["warn"], f"{where} warn"),
                       "fail": _number(table["fail"], f"{where} fail"),
                       "margin": _number(table.get("margin", 0.0), f"{where} margin")}
        if entry["margin"] < 0:
            raise ThresholdSetError(f"{where} margin must not be negative")
        if "warn_count" in table:
            count = table["warn_count"]
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise ThresholdSetError(f"{where} warn_count must be a whole number of at least 1")
            entry["warn_count"] = count
        if "defect_similarity" in table:
            entry["defect_similarity"] = _number(table["defect_similarity"], f"{where} defect_similarity")
            if not -1.0 <= entry["defect_similarity"] <= 1.0:
                raise ThresholdSetError(f"{where} defect_similarity must lie in [-1, 1]")
        entry["source"] = table["source"].strip()
        limits[cid] = entry
    missing = sorted((required or set()) - set(limits))
    if missing:
        raise ThresholdSetError(f"{file}: no limits for {', '.join(missing)}; a set covers every check "
                                "(copy the missing tables from simreport's default set)")
    return ThresholdSet(name=head["name"].strip(), version=head["version"].strip(),
                        approved_by=head["approved_by"].strip(), date=head["date"].strip(),
                        description=str(head.get("description", "")).strip(), file=Path(file).name,
                        sha256=digest, limits=limits)


def load_threshold_set(path: str | Path, required: set[str] | None = None) -> ThresholdSet:
    """Read and check a threshold-set TOML file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ThresholdSetError(f"{path}: threshold-set file not found; fix the path or leave it out for the "
                                "default set") from None
    except OSError as exc:
        raise ThresholdSetError(f"{path}: cannot read the threshold-set file ({exc.strerror})") from None
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ThresholdSetError(f"{path}: not valid TOML ({exc})") from None
    return parse_threshold_set(raw, str(path), hashlib.sha256(data).hexdigest(), required)


@lru_cache(maxsize=1)
def default_set() -> ThresholdSet:
    """The shipped default set."""
    return load_threshold_set(DEFAULT_SET)
