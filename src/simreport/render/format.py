"""How numbers and rows read in every report: one formatter per kind of value.

The context builders of both documents use these, so a count, a share or a finding row
reads the same in a single report and in a comparison.
"""

from __future__ import annotations

from simreport.findings import Check, Finding, format_value

STATUS_WORDS = {"pass": "Pass", "warn": "Warning", "fail": "Fail"}


def number(value: float | None, digits: int) -> str:
    """A value with ``digits`` decimals, or 'n/a'."""
    return "n/a" if value is None else f"{value:.{digits}f}"


def signed(value: float, digits: int = 3) -> str:
    """A difference with its sign: '+0.012'."""
    return f"{value:+.{digits}f}"


def count(value: int) -> str:
    """A count with thousands separators."""
    return f"{value:,}"


def share_of(part: int, whole: int) -> str:
    """``part`` as a percentage of ``whole`` with two decimals, or 'n/a' when whole is 0."""
    return f"{100.0 * part / whole:.2f}%" if whole else "n/a"


def percent(value: float | None) -> str:
    """A fraction as a percentage with one decimal, or 'n/a'."""
    return "n/a" if value is None else f"{value * 100:.1f}%"


def percentile_name(key: str) -> str:
    """'p05' -> '5th percentile'."""
    k = int(key[1:])
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix} percentile"


def range_text(color_range) -> str:
    """How the colour range of the pictures reads."""
    if color_range == "auto" or color_range is None:
        return "automatic (from the smallest to the largest value shown; colours are relative to this run)"
    lo, hi = color_range
    return f"fixed from {lo:g} to {hi:g}"


def finding_rows(findings: list[Finding], checks: dict[str, Check], anchor: str) -> list[dict]:
    """Findings as table rows: value and limits in the check's unit, status in words."""
    rows = []
    for f in findings:
        unit = checks[f.id].unit if f.id in checks else "similarity"
        word = "above" if f.worse == "higher" else "below"
        rows.append({
            "id": f.id, "anchor": f"{anchor}-{f.id}", "title": f.title, "status": f.status,
            "status_word": STATUS_WORDS[f.status], "value": format_value(f.value, unit),
            "warn": f"{word} {format_value(f.warn_threshold, unit)}",
            "fail": f"{word} {format_value(f.threshold, unit)}", "message": f.message,
        })
    return rows


def threshold_rows(checks: dict[str, Check], thresholds: dict[str, dict[str, float]]) -> list[dict]:
    """The limits in force for every check, with what is measured and why."""
    return [{"id": c.id, "title": c.title, "measure": c.measure, "worse": c.worse,
             "warn": format_value(thresholds[c.id]["warn"], c.unit),
             "fail": format_value(thresholds[c.id]["fail"], c.unit), "rationale": c.rationale}
            for c in checks.values()]


def pair_rows(pairs: list[dict]) -> list[dict]:
    """Ranked pairs of records with their similarity."""
    return [{"rank": k + 1, "i": p["i"], "j": p["j"], "label_i": p["label_i"], "label_j": p["label_j"],
             "similarity": f"{p['similarity']:.4f}"} for k, p in enumerate(pairs)]


def paired_rows(pairs: list[dict]) -> list[dict]:
    """Ranked pairs of records with their similarity under model A and model B."""
    return [{"rank": k + 1, "i": p["i"], "j": p["j"], "label_i": p["label_i"], "label_j": p["label_j"],
             "a": f"{p['similarity_a']:.4f}", "b": f"{p['similarity_b']:.4f}"} for k, p in enumerate(pairs)]


def setting_text(value) -> str:
    """A configuration value as the appendix prints it."""
    if value is None:
        return "not set"
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
