"""One number style for every document: the formatter all numbers in text, tables and
figure axes go through.

Rules (see the README, "How numbers are written"):

* similarities and correlations: 3 decimals (``0.236``), never ``-0.000``;
* shares: per cent with 1 or 2 significant digits (``35%``, ``5.0%``, ``0.15%``), ``< 0.01%``
  for a tiny non-zero share, ``> 99.9%`` for a share just under one: a non-zero count is
  never printed as ``0%`` nor an incomplete one as ``100%``; never scientific notation;
* ratios: 2 decimals; counts: whole numbers with thousands separators;
* a count with its noun is singular for one (``1 pair``, ``2 pairs``);
* axis ticks are "nice" numbers (1, 2 or 5 times a power of ten; Heckbert's algorithm).

Nothing here knows about reports; the render layer and the findings' messages call it.
"""

from __future__ import annotations

import math
from decimal import Decimal

TINY_SHARE = 0.0001  # 0.01%: smaller non-zero shares print as "< 0.01%"


def _plain(value: float, decimals: int) -> str:
    """Fixed decimals, no scientific notation, no negative zero."""
    text = f"{value:.{decimals}f}"
    if text.lstrip("-").strip("0.") == "":
        text = text.lstrip("-")
    return text


def similarity(value: float | None) -> str:
    """A cosine similarity, mean, standard deviation or correlation: 3 decimals."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return _plain(float(value), 3)


def ratio(value: float) -> str:
    """A ratio of two spreads: 2 decimals."""
    return _plain(float(value), 2)


def count(value: int) -> str:
    """A whole number with thousands separators."""
    return f"{int(value):,}"


def _significant(pct: float, digits: int) -> str:
    """pct rounded to ``digits`` significant digits, written without exponent."""
    if pct == 0:
        return "0"
    exponent = math.floor(math.log10(abs(pct)))
    decimals = max(digits - 1 - exponent, 0)
    rounded = round(pct, decimals)
    if rounded != 0 and math.floor(math.log10(abs(rounded))) > exponent:  # 9.96 -> 10.0: one digit fewer
        decimals = max(decimals - 1, 0)
    return format(Decimal(repr(round(pct, decimals))).quantize(Decimal(1).scaleb(-decimals)), "f")


def share(value: float) -> str:
    """A share (0..1) as per cent: 1-2 significant digits, '< 0.01%' for tiny non-zero values."""
    value = float(value)
    if value == 0:
        return "0%"
    if value < 0:
        return "-" + share(-value)
    if value >= 1:
        return "100%" if value == 1 else f"{_significant(value * 100, 3)}%"
    pct = value * 100
    if value < TINY_SHARE:
        return "< 0.01%"
    if pct > 99.9:
        return "> 99.9%"
    if pct >= 10:
        text = str(round(pct))
        return f"{text}%" if text != "100" else f"{math.floor(pct * 10) / 10:.1f}%"
    return f"{_significant(pct, 2)}%"


def percentage_points(value: float) -> str:
    """A difference of two shares (or a margin), in percentage points, 2 significant digits."""
    return f"{_significant(abs(value) * 100, 2)} percentage points"


def plural(number: int, noun: str, plural_form: str | None = None) -> str:
    """'1 pair', '2 pairs', '1,024 records' (``plural_form`` for irregular nouns)."""
    word = noun if int(number) == 1 else (plural_form or noun + "s")
    return f"{count(number)} {word}"


def value(number: float, unit: str) -> str:
    """A check's value or limit in its unit: similarity, share, ratio or count."""
    if unit == "share":
        return share(number)
    if unit == "ratio":
        return ratio(number)
    if unit == "count":
        return count(round(number))
    return similarity(number)


def _nice(x: float, round_it: bool) -> float:
    exponent = math.floor(math.log10(x))
    fraction = x / 10 ** exponent
    if round_it:
        nice = 1 if fraction < 1.5 else 2 if fraction < 3 else 5 if fraction < 7 else 10
    else:
        nice = 1 if fraction <= 1 else 2 if fraction <= 2 else 5 if fraction <= 5 else 10
    return nice * 10 ** exponent


def nice_ticks(low: float, high: float, target: int = 5) -> list[float]:
    """Round tick positions covering [low, high]: steps of 1, 2 or 5 times a power of ten
    (Heckbert, 'Nice numbers for graph labels', Graphics Gems, 1990)."""
    if not math.isfinite(low) or not math.isfinite(high):
        raise ValueError("tick range must be finite")
    if high < low:
        low, high = high, low
    if high == low:
        high = low + 1
    span = _nice(high - low, False)
    step = _nice(span / max(target - 1, 1), True)
    start = math.floor(low / step) * step
    stop = math.ceil(high / step) * step
    decimals = max(-math.floor(math.log10(step)), 0)
    count_ = int(round((stop - start) / step)) + 1
    return [round(start + k * step, decimals) for k in range(count_)]


def tick_text(tick: float, step: float) -> str:
    """A tick label with just the decimals its step needs, thousands separated."""
    decimals = max(-math.floor(math.log10(step)), 0) if step > 0 else 0
    if decimals == 0:
        return f"{round(tick):,}"
    return _plain(tick, decimals)


def tick_labels(ticks: list[float]) -> list[str]:
    """Labels for :func:`nice_ticks` output."""
    step = (ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    return [tick_text(t, step) for t in ticks]
