"""Judge the statistics: each sign of high risk becomes a finding (pass / warn / fail).

Pure functions from measured values and thresholds to :class:`Finding`. The default
thresholds, and why they were chosen, are in :data:`CHECKS`; users override them with
``--threshold ID.warn=VALUE`` / ``ID.fail=VALUE`` (or the ``thresholds`` option).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

STATUS_ORDER = {"pass": 0, "warn": 1, "fail": 2}


@dataclass(frozen=True)
class Check:
    """One risk sign: what is measured, which way is worse, and the default limits."""

    id: str
    title: str
    measure: str  # what the value is, in words
    worse: str  # "higher" or "lower"
    warn: float
    fail: float
    unit: str  # "similarity", "share" or "count"
    rationale: str


CHECKS: dict[str, Check] = {c.id: c for c in (
    Check("mean_similarity", "Overall similarity too high",
          "mean cosine similarity over all distinct pairs", "higher", 0.50, 0.70, "similarity",
          "Sentence-embedding models that separate records well give mean pairwise cosine near 0.0-0.3 "
          "on varied text. Above 0.5 most pairs sit within 60 degrees of each other: the space has "
          "collapsed into a narrow cone and rankings rest on small differences. Above 0.7 the model "
          "barely tells records apart."),
    Check("similarity_spread", "Similarities bunched together",
          "standard deviation of cosine similarity over all distinct pairs", "lower", 0.05, 0.02, "similarity",
          "When almost every pair has the same similarity, related and unrelated records cannot be "
          "told apart by a threshold. A standard deviation under 0.05 leaves little room between them; "
          "under 0.02 there is practically none."),
    Check("near_duplicate_share", "Near-duplicate records",
          "share of records whose nearest neighbour reaches the near-duplicate threshold", "higher", 0.01, 0.05,
          "share",
          "Records whose embeddings are almost identical are redundant: they inflate retrieval results, "
          "bias cluster sizes and can leak between training and test splits. Up to 1% of records is "
          "common in real corpora; over 5% points to duplicated data or a model that merges distinct texts."),
    Check("opposed_pairs", "Strongly opposed pairs",
          "share of distinct pairs with cosine similarity at or below the opposed threshold", "higher", 0.0001,
          0.01, "share",
          "Text-embedding models rarely place two records in nearly opposite directions. More than "
          "0.01% of pairs at or below -0.5 is unusual and worth a look where consistent representations "
          "are expected; more than 1% suggests inverted or corrupted vectors."),
    Check("neighbour_crowding", "Crowded neighbourhoods",
          "median over records of the similarity to the nearest other record", "higher", 0.85, 0.95,
          "similarity",
          "If the typical record has a neighbour above 0.85, the space is crowded: neighbours are hard "
          "to separate from near-copies and small perturbations change nearest-neighbour results. Above "
          "0.95 the typical record is indistinguishable from its neighbour."),
    Check("identical_rows", "Exactly identical embeddings",
          "share of rows that repeat an earlier row exactly", "higher", 0.0, 0.01, "share",
          "Identical vectors usually come from a pipeline fault (the same record embedded twice, a "
          "fallback vector for failed inputs) rather than from the model. Any is worth a warning; more "
          "than 1% of rows fails."),
)}


COMPARE_CHECKS: dict[str, Check] = {c.id: c for c in (
    Check("crowding_gap", "One model much more crowded",
          "difference between the two models' median nearest-neighbour similarity", "higher", 0.05, 0.10,
          "similarity",
          "Both models see the same records, so their typical nearest-neighbour similarity should be close. "
          "A gap above 0.05 means one model packs records noticeably closer together; above 0.10 its "
          "neighbourhoods are crowded enough that near-copies and genuine neighbours become hard to separate "
          "in it but not in the other model."),
    Check("near_duplicate_gap", "One model finds many more near-duplicates",
          "difference between the two models' share of records with a near-duplicate neighbour", "higher", 0.02,
          0.10, "share",
          "On the same records, near-duplicates in the data show up under both models. When one model puts more "
          "than 2% more of the records next to a near-duplicate, the extra ones come from the model, not the "
          "data; more than 10% means it merges many distinct texts."),
    Check("spread_ratio", "One model much less discriminating",
          "standard deviation of pairwise similarity of the less spread model divided by that of the other",
          "lower", 0.75, 0.50, "ratio",
          "The spread of pairwise similarity is the room a model has to tell related from unrelated records. "
          "If one model's spread is under three quarters of the other's it separates the same records less "
          "clearly; under half, thresholds and rankings built on it are much less reliable."),
    Check("similarity_agreement", "Models disagree on which pairs are similar",
          "Pearson correlation of the two models' similarities over all distinct pairs", "lower", 0.70, 0.50,
          "similarity",
          "Replacing one model by the other keeps search results, clusters and duplicate detection roughly "
          "the same only when their similarities move together. Below 0.7 a noticeable share of rankings "
          "changes; below 0.5 the models describe the records differently, and everything built on the old "
          "model must be validated again."),
    Check("neighbour_agreement", "Models disagree on nearest neighbours",
          "mean share of each record's k nearest neighbours that both models have in common", "lower", 0.50, 0.30,
          "share",
          "Nearest neighbours are what retrieval returns. When on average fewer than half of a record's nearest "
          "neighbours are the same under both models, users will see different results for most queries; under "
          "30% the two models are not interchangeable."),
)}


@dataclass(frozen=True)
class Finding:
    """A judged risk sign with its number, its limits and one sentence of evidence."""

    id: str
    title: str
    status: str
    value: float
    threshold: float
    warn_threshold: float
    worse: str
    message: str

    def to_dict(self) -> dict:
        return asdict(self)


def default_thresholds(checks: dict[str, Check] | None = None) -> dict[str, dict[str, float]]:
    """``{check id: {"warn": x, "fail": y}}`` with the documented defaults."""
    return {c.id: {"warn": c.warn, "fail": c.fail} for c in (checks or CHECKS).values()}


def merge_thresholds(overrides: dict[str, dict[str, float]] | None, checks: dict[str, Check] | None = None,
                     what: str = "finding") -> dict[str, dict[str, float]]:
    """Defaults with user overrides applied; unknown ids or levels, or warn beyond fail, raise ValueError."""
    checks = checks or CHECKS
    merged = default_thresholds(checks)
    for check_id, levels in (overrides or {}).items():
        if check_id not in merged:
            raise ValueError(f"unknown {what} {check_id!r}; known: {', '.join(merged)}")
        for level, value in levels.items():
            if level not in ("warn", "fail"):
                raise ValueError(f"unknown level {level!r} for {check_id}; use warn or fail")
            merged[check_id][level] = float(value)
    for check_id, levels in merged.items():
        warn, fail = levels["warn"], levels["fail"]
        worse_when_higher = checks[check_id].worse == "higher"
        if (worse_when_higher and warn > fail) or (not worse_when_higher and warn < fail):
            relation = "at most" if worse_when_higher else "at least"
            raise ValueError(f"{check_id}: warn threshold {warn:g} must be {relation} the fail threshold {fail:g}")
    return merged


def judge(value: float, warn: float, fail: float, worse: str) -> str:
    """pass / warn / fail: strictly beyond a limit, in the direction that is worse."""
    if worse == "higher":
        return "fail" if value > fail else "warn" if value > warn else "pass"
    return "fail" if value < fail else "warn" if value < warn else "pass"


def format_value(value: float, unit: str) -> str:
    """A finding's value or limit as shown in messages and reports: shares in %, else 3 decimals."""
    if unit == "share":
        return f"{value * 100:.3g}%"
    return f"{value:.3f}"


def limits_text(check: Check, warn: float, fail: float) -> str:
    """'warn above X, fail above Y' (or below, when lower is worse)."""
    word = "above" if check.worse == "higher" else "below"
    return f"warn {word} {format_value(warn, check.unit)}, fail {word} {format_value(fail, check.unit)}"


def evaluate(stats: dict, thresholds: dict[str, dict[str, float]]) -> list[Finding]:
    """All findings for one run. ``stats`` is the results' ``stats`` block plus extras.

    Expected keys: pairs, n, mean, std, near_duplicates{threshold,pairs,items},
    nearest_neighbour{quantiles, items_above_threshold}, opposed{threshold,pairs,items},
    identical_rows{rows,groups}.
    """
    n, pairs = stats["n"], stats["pairs"]
    nd, nn, opp, ident = (stats["near_duplicates"], stats["nearest_neighbour"],
                          stats["opposed"], stats["identical_rows"])
    values = {
        "mean_similarity": stats["mean"],
        "similarity_spread": stats["std"],
        "near_duplicate_share": nn["items_above_threshold"] / n,
        "opposed_pairs": opp["pairs"] / pairs,
        "neighbour_crowding": nn["quantiles"]["p50"],
        "identical_rows": ident["rows"] / n,
    }
    evidence = {
        "mean_similarity": lambda v: (
            f"The mean cosine similarity over all {pairs:,} distinct pairs is {v:.3f} "
            f"(standard deviation {stats['std']:.3f})"),
        "similarity_spread": lambda v: (
            f"The standard deviation of cosine similarity over all {pairs:,} pairs is {v:.3f} "
            f"around a mean of {stats['mean']:.3f}"),
        "near_duplicate_share": lambda v: (
            f"{nn['items_above_threshold']:,} of {n:,} records ({format_value(v, 'share')}) have a nearest neighbour "
            f"at or above {nd['threshold']:.2f}; {nd['pairs']:,} pairs reach that threshold"),
        "opposed_pairs": lambda v: (
            f"{opp['pairs']:,} of {pairs:,} pairs ({format_value(v, 'share')}) have similarity at or below "
            f"{opp['threshold']:.2f}, involving {opp['items']:,} records"),
        "neighbour_crowding": lambda v: (
            f"The median record's nearest neighbour has similarity {v:.3f} "
            f"(5th percentile {nn['quantiles']['p05']:.3f}, 95th {nn['quantiles']['p95']:.3f})"),
        "identical_rows": lambda v: (
            f"{ident['rows']:,} of {n:,} rows ({format_value(v, 'share')}) repeat an earlier row exactly, "
            f"in {ident['groups']:,} groups of identical vectors"),
    }
    return judge_all(CHECKS, {k: (v, evidence[k](float(v))) for k, v in values.items()}, thresholds)


def judge_all(checks: dict[str, Check], measured: dict[str, tuple[float, str]],
              thresholds: dict[str, dict[str, float]], forced: dict[str, str] | None = None) -> list[Finding]:
    """One finding per check, in the checks' order: ``measured`` maps each check id to its
    value and one sentence of evidence; ``forced`` sets a status regardless of the value
    (a value that cannot be judged)."""
    findings = []
    for check_id, check in checks.items():
        warn, fail = thresholds[check_id]["warn"], thresholds[check_id]["fail"]
        value, evidence = float(measured[check_id][0]), measured[check_id][1]
        status = (forced or {}).get(check_id) or judge(value, warn, fail, check.worse)
        message = f"{evidence} ({limits_text(check, warn, fail)}): {status}."
        findings.append(Finding(check_id, check.title, status, value, fail, warn, check.worse, message))
    return findings


def overall_status(findings: list[Finding]) -> str:
    """The worst status among the findings."""
    return max((f.status for f in findings), key=STATUS_ORDER.__getitem__, default="pass")


def summary_of(findings: list[Finding]) -> dict:
    """The worst status and how many findings have each status (a document's ``summary``)."""
    return {"status": overall_status(findings),
            "counts": {status: sum(f.status == status for f in findings) for status in STATUS_ORDER}}


def split_thresholds(thresholds: dict[str, dict[str, float]] | None) -> tuple[dict, dict]:
    """(single-model thresholds, comparison thresholds) from one mapping of check ids."""
    single, compare = {}, {}
    for check_id, levels in (thresholds or {}).items():
        (compare if check_id in COMPARE_CHECKS else single)[check_id] = levels
    return single, compare
