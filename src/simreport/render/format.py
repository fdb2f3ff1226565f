"""How numbers and rows read in every report: one formatter per kind of value.

The context builders of both documents use these, so a count, a share or a finding row
reads the same in a single report and in a comparison. The number rules themselves
(similarities 3 decimals, shares 1-2 significant digits with '< 0.01%', plurals, nice
axis ticks) are :mod:`simreport.numbers`, which the findings' messages use too.
"""

from __future__ import annotations

from html import escape

from markupsafe import Markup

from simreport import numbers
from simreport.findings import STATUS_WORDS, SUBJECT_WORDS, Check, Finding, format_value


def number(value: float | None, digits: int = 3) -> str:
    """A similarity-like value: 3 decimals in every document (``digits`` other than 3 only for
    cross-checks printed to more places), or 'n/a'."""
    if value is None:
        return "n/a"
    return numbers.similarity(value) if digits == 3 else f"{value:.{digits}f}"


def signed(value: float, digits: int = 3) -> str:
    """A difference with its sign: '+0.012'."""
    text = numbers.similarity(value)
    return text if text.startswith("-") or text == "0.000" else "+" + text


def count(value: int) -> str:
    """A count with thousands separators."""
    return numbers.count(value)


def share_of(part: int, whole: int) -> str:
    """``part`` as a share of ``whole`` (1-2 significant digits, '< 0.01%' when tiny), or 'n/a'."""
    return numbers.share(part / whole) if whole else "n/a"


def percent(value: float | None) -> str:
    """A fraction as a percentage (the share rule), or 'n/a'."""
    return "n/a" if value is None else numbers.share(value)


def breakable_id(check_id: str) -> Markup:
    """A check id that may wrap only after an underscore, never inside a word."""
    return Markup("_<wbr>".join(escape(part) for part in check_id.split("_")))


def status_word(finding: Finding) -> str:
    """'Pass', 'Warning', 'Fail', or for a finding not judged its reason ('Not informative')."""
    if finding.status == "na" and finding.note:
        return finding.note[:1].upper() + finding.note[1:]
    return STATUS_WORDS[finding.status]


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
    """Findings as rows: value and limits in the check's unit, status in words, what the check
    measures (data or model), whether the value sits at a limit, the defects counted."""
    rows = []
    for f in findings:
        unit = checks[f.id].unit if f.id in checks else f.unit
        word = "above" if f.worse == "higher" else "below"
        rows.append({
            "id": f.id, "id_html": breakable_id(f.id), "anchor": f"{anchor}-{f.id}", "title": f.title,
            "status": f.status, "status_word": status_word(f),
            "value": format_value(f.value, unit) if f.status != "na" else "n/a",
            "warn": f"{word} {format_value(f.warn_threshold, unit)}",
            "fail": f"{word} {format_value(f.threshold, unit)}", "message": f.message,
            "subject": SUBJECT_WORDS.get(f.subject, f.subject),
            "subject_short": f.subject if f.subject != "comparison" else "both models",
            "at_limit": ("at the warning limit" if f.at_limit == "warn" else "at the fail limit"
                         if f.at_limit == "fail" else ""),
            "count": numbers.count(f.count) if f.count is not None else "",
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
             "similarity": numbers.similarity(p["similarity"])} for k, p in enumerate(pairs)]


def paired_rows(pairs: list[dict]) -> list[dict]:
    """Ranked pairs of records with their similarity under model A and model B."""
    return [{"rank": k + 1, "i": p["i"], "j": p["j"], "label_i": p["label_i"], "label_j": p["label_j"],
             "a": numbers.similarity(p["similarity_a"]), "b": numbers.similarity(p["similarity_b"])}
            for k, p in enumerate(pairs)]


def setting_text(value) -> str:
    """A configuration value as the appendix prints it."""
    if value is None:
        return "not set"
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
