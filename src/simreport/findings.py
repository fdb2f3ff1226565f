"""Judge the statistics: each sign of high risk becomes a finding (pass / warn / fail, or
not assessed / not informative).

Pure functions from measured values and a threshold set to :class:`Finding`. What each check
measures, whether it speaks about the data or the model, and why it matters are in
:data:`CHECKS` (single run) and :data:`COMPARE_CHECKS` (two models); the numbers come from
a threshold set (:mod:`simreport.threshold_set`; the shipped default set unless the user
names one) with ``--threshold ID.LEVEL=VALUE`` overrides on top.

Rules every judgement follows:

* a value past a limit, or within the limit's ``margin`` of it, has reached the limit; a value
  inside the margin is marked "at the limit" in the finding, never a silent pass;
* checks that guard against individual defects (``opposed_pairs``, ``identical_rows``,
  ``duplicate_texts``) also count defects one by one: ``warn_count`` of them is at least a
  warning, whatever the share;
* each finding says whether it measures the data, the model, or cannot tell which.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from simreport import numbers

STATUS_ORDER = {"na": 0, "pass": 0, "warn": 1, "fail": 2}
STATUS_WORDS = {"pass": "Pass", "warn": "Warning", "fail": "Fail", "na": "Not assessed"}
SUBJECT_WORDS = {
    "data": "the data",
    "model": "the model",
    "data or model": "the data or the model (texts unknown, so the two cannot be told apart)",
    "comparison": "the two models against each other",
}
EPS = 1e-12


@dataclass(frozen=True)
class Check:
    """One risk sign: what is measured, about what, which way is worse, and why it matters."""

    id: str
    title: str
    measure: str  # what the value is, in words
    worse: str  # "higher" or "lower"
    unit: str  # "similarity", "share", "ratio" or "count"
    subject: str  # "data", "model", "data or model" (when texts are unknown) or "comparison"
    rationale: str
    counts: str = ""  # for checks that count individual defects: what one defect is


CHECKS: dict[str, Check] = {c.id: c for c in (
    Check("mean_similarity", "Overall similarity too high",
          "mean cosine similarity over all distinct pairs", "higher", "similarity", "model",
          "Sentence-embedding models that separate records well give mean pairwise cosine near 0.0-0.3 "
          "on varied text. Above 0.5 most pairs sit within 60 degrees of each other: the space has "
          "collapsed into a narrow cone and rankings rest on small differences. Above 0.7 the model "
          "barely tells records apart."),
    Check("similarity_spread", "Similarities bunched together",
          "standard deviation of cosine similarity over all distinct pairs", "lower", "similarity", "model",
          "When almost every pair has the same similarity, related and unrelated records cannot be "
          "told apart by a threshold. A standard deviation under 0.05 leaves little room between them; "
          "under 0.02 there is practically none."),
    Check("near_duplicate_share", "Near-duplicate records",
          "share of records whose nearest neighbour with a different text reaches the near-duplicate threshold "
          "(any neighbour when texts are unknown)", "higher", "share", "model",
          "Records whose embeddings are almost identical are redundant: they inflate retrieval results, "
          "bias cluster sizes and can leak between training and test splits. When the texts are known, "
          "records that repeat a text are counted by the data finding on repeated texts, and this check "
          "counts only distinct texts that the model maps to nearly the same vector. Up to 1% of records is "
          "common; over 5% points to a model that merges distinct texts (or, when texts are unknown, to "
          "duplicated data)."),
    Check("opposed_pairs", "Strongly opposed pairs",
          "share of distinct pairs with cosine similarity at or below the opposed threshold", "higher", "share",
          "model",
          "Text-embedding models rarely place two records in nearly opposite directions. More than "
          "0.01% of pairs at or below -0.5 is unusual and worth a look where consistent representations "
          "are expected; more than 1% suggests inverted or corrupted vectors. A single pair at or below "
          "-0.99 is a negated or corrupted vector and is at least a warning however many records there are.",
          counts="pair at or below the defect similarity"),
    Check("neighbour_crowding", "Crowded neighbourhoods",
          "median over records of the similarity to the nearest other record", "higher", "similarity", "model",
          "If the typical record has a neighbour above 0.85, the space is crowded: neighbours are hard "
          "to separate from near-copies and small perturbations change nearest-neighbour results. Above "
          "0.95 the typical record is indistinguishable from its neighbour."),
    Check("identical_rows", "Exactly identical embeddings",
          "share of rows whose vector exactly repeats an earlier row's vector (for a different text, when texts "
          "are known)", "higher", "share", "model",
          "Distinct inputs should never give bit-identical vectors: when they do, the cause is a fallback vector "
          "for failed inputs, truncation that cuts distinct texts to the same tokens, or the same row written "
          "twice. Identical vectors for identical texts are a data matter, counted by the repeated-texts "
          "finding instead. Any one is a warning; more than 1% of rows fails.",
          counts="row"),
    Check("duplicate_texts", "Repeated texts in the data",
          "share of records whose text repeats an earlier record's text exactly", "higher", "share", "data",
          "A text that appears several times is one record counted several times: it inflates near-duplicate "
          "counts, bias cluster sizes and can sit on both sides of a train/test split. This is a property of "
          "the data, not the model; whether repeats belong in the validation data is for the data owner to "
          "decide. Any repeat is a warning; more than 5% of records fails.",
          counts="record"),
)}

COMPARE_CHECKS: dict[str, Check] = {c.id: c for c in (
    Check("crowding_gap", "One model much more crowded",
          "difference between the two models' median nearest-neighbour similarity", "higher", "similarity",
          "comparison",
          "Both models see the same records, so their typical nearest-neighbour similarity should be close. "
          "A gap above 0.05 means one model packs records noticeably closer together; above 0.10 its "
          "neighbourhoods are crowded enough that near-copies and genuine neighbours become hard to separate "
          "in it but not in the other model."),
    Check("near_duplicate_gap", "One model finds many more near-duplicates",
          "difference between the two models' share of records with a near-duplicate neighbour", "higher",
          "share", "comparison",
          "On the same records, near-duplicates in the data show up under both models. When one model puts more "
          "than 2% more of the records next to a near-duplicate, the extra ones come from the model, not the "
          "data; more than 10% means it merges many distinct texts."),
    Check("spread_ratio", "One model much less discriminating",
          "standard deviation of pairwise similarity of the less spread model divided by that of the other",
          "lower", "ratio", "comparison",
          "The spread of pairwise similarity is the room a model has to tell related from unrelated records. "
          "If one model's spread is under three quarters of the other's it separates the same records less "
          "clearly; under half, thresholds and rankings built on it are much less reliable."),
    Check("similarity_agreement", "Models disagree on which pairs are similar",
          "Pearson correlation of the two models' similarities over all distinct pairs", "lower", "similarity",
          "comparison",
          "Replacing one model by the other keeps search results, clusters and duplicate detection roughly "
          "the same only when their similarities move together. Below 0.7 a noticeable share of rankings "
          "changes; below 0.5 the models describe the records differently, and everything built on the old "
          "model must be validated again."),
    Check("neighbour_agreement", "Models disagree on nearest neighbours",
          "mean share of each record's k nearest neighbours that both models have in common", "lower", "share",
          "comparison",
          "Nearest neighbours are what retrieval returns. When on average fewer than half of a record's nearest "
          "neighbours are the same under both models, users will see different results for most queries; under "
          "30% the two models are not interchangeable."),
)}

ALL_CHECKS: dict[str, Check] = {**CHECKS, **COMPARE_CHECKS}
LEVELS = ("warn", "fail", "margin", "warn_count", "defect_similarity")



@dataclass(frozen=True)
class Finding:
    """A judged risk sign: its number, limits, what it measures and its evidence."""

    id: str
    title: str
    status: str
    value: float
    threshold: float  # the fail limit
    warn_threshold: float
    worse: str
    message: str  # evidence, limits and verdict in one paragraph
    subject: str = "model"  # data, model, data or model, comparison
    unit: str = "similarity"
    margin: float = 0.0
    at_limit: str | None = None  # "warn" or "fail" when the value is within the margin of that limit
    count: int | None = None  # individual defects counted (checks that count them)
    warn_count: int | None = None
    evidence: str = ""  # the measured facts, without the verdict
    note: str = ""  # why a finding is not assessed or not informative

    def to_dict(self) -> dict:
        return asdict(self)


def default_thresholds(checks: dict[str, Check] | None = None) -> dict[str, dict[str, float]]:
    """``{check id: {"warn", "fail", "margin", ...}}`` from the shipped default threshold set."""
    from simreport.threshold_set import default_set

    checks = checks or CHECKS
    return default_set().numbers(list(checks))


def merge_thresholds(overrides: dict[str, dict[str, float]] | None, checks: dict[str, Check] | None = None,
                     what: str = "finding", base: dict[str, dict[str, float]] | None = None
                     ) -> dict[str, dict[str, float]]:
    """A threshold set's limits (the default set unless ``base``) with user overrides applied;
    unknown ids or levels, a negative margin, or warn beyond fail raise ValueError."""
    checks = checks or CHECKS
    source = base if base is not None else default_thresholds(checks)
    merged = {cid: dict(source[cid]) for cid in checks}
    for check_id, levels in (overrides or {}).items():
        if check_id not in merged:
            raise ValueError(f"unknown {what} {check_id!r}; known: {', '.join(merged)}")
        for level, value in levels.items():
            if level not in LEVELS or (level in ("warn_count", "defect_similarity") and level not in merged[check_id]):
                known = [lv for lv in LEVELS if lv in ("warn", "fail", "margin") or lv in merged[check_id]]
                raise ValueError(f"unknown level {level!r} for {check_id}; use {', '.join(known)}")
            if level == "warn_count":
                if float(value) < 1 or float(value) != int(value):
                    raise ValueError(f"{check_id}: warn_count {value} must be a whole number of at least 1")
                merged[check_id][level] = int(value)
            else:
                merged[check_id][level] = float(value)
    for check_id, levels in merged.items():
        warn, fail = levels["warn"], levels["fail"]
        if levels.get("margin", 0.0) < 0:
            raise ValueError(f"{check_id}: margin {levels['margin']:g} must not be negative")
        worse_when_higher = checks[check_id].worse == "higher"
        if (worse_when_higher and warn > fail) or (not worse_when_higher and warn < fail):
            relation = "at most" if worse_when_higher else "at least"
            raise ValueError(f"{check_id}: warn threshold {warn:g} must be {relation} the fail threshold {fail:g}")
    return merged


def reached(value: float, limit: float, worse: str, margin: float) -> tuple[bool, bool]:
    """(reached, at the limit): past the limit, or within ``margin`` of it on the good side."""
    if worse == "higher":
        past = value > limit + EPS
        near = margin > 0 and not past and value >= limit - margin - EPS
    else:
        past = value < limit - EPS
        near = margin > 0 and not past and value <= limit + margin + EPS
    return past or near, near


def judge_at(value: float, warn: float, fail: float, worse: str, margin: float = 0.0) -> tuple[str, str | None]:
    """(status, at_limit): a value past a limit or within the margin of it has reached it;
    ``at_limit`` names the limit ("warn" or "fail") the value sits at, else None."""
    hit_fail, near_fail = reached(value, fail, worse, margin)
    if hit_fail:
        return "fail", "fail" if near_fail else None
    hit_warn, near_warn = reached(value, warn, worse, margin)
    if hit_warn:
        return "warn", "warn" if near_warn else None
    return "pass", None


def judge(value: float, warn: float, fail: float, worse: str, margin: float = 0.0) -> str:
    """pass / warn / fail (see :func:`judge_at`)."""
    return judge_at(value, warn, fail, worse, margin)[0]


def format_value(value: float, unit: str) -> str:
    """A finding's value or limit as shown in messages and reports (one number style)."""
    return numbers.value(value, unit)


def margin_text(check: Check, margin: float) -> str:
    if margin <= 0:
        return ""
    if check.unit == "share":
        return f"margin {numbers.percentage_points(margin)}"
    return f"margin {format_value(margin, check.unit)}"


def limits_text(check: Check, warn: float, fail: float, margin: float = 0.0) -> str:
    """'warn above X, fail above Y' (or below, when lower is worse), and the margin."""
    word = "above" if check.worse == "higher" else "below"
    text = f"warn {word} {format_value(warn, check.unit)}, fail {word} {format_value(fail, check.unit)}"
    extra = margin_text(check, margin)
    return f"{text}; {extra}" if extra else text


VERDICT = {"pass": "pass", "warn": "warning", "fail": "fail"}


def judged_status(value: float, warn: float, fail: float, worse: str, margin: float = 0.0,
                  count: int | None = None, warn_count: int | None = None) -> tuple[str, str | None, bool]:
    """(status, at_limit, by_count): :func:`judge_at`, and a value that passes is a warning when
    ``warn_count`` or more defects were counted one by one (``by_count``)."""
    status, at_limit = judge_at(value, warn, fail, worse, margin)
    by_count = status == "pass" and warn_count is not None and count is not None and count >= warn_count
    return ("warn" if by_count else status), at_limit, by_count


def misjudged(finding: Finding) -> str | None:
    """Why a judged finding's status or at-limit mark is not what its own value, limits, margin
    and count give, or None (a finding not assessed has nothing to judge)."""
    if finding.status == "na":
        return None
    status, at_limit, _ = judged_status(finding.value, finding.warn_threshold, finding.threshold, finding.worse,
                                        finding.margin, finding.count, finding.warn_count)
    if (status, at_limit) == (finding.status, finding.at_limit):
        return None
    said = finding.status + (f" at the {finding.at_limit} limit" if finding.at_limit else "")
    given = status + (f" at the {at_limit} limit" if at_limit else "")
    return (f"finding {finding.id} says {said}, but its value {finding.value:g} with its own limits "
            f"(warn {finding.warn_threshold:g}, fail {finding.threshold:g}, margin {finding.margin:g}) gives {given}")


def make_finding(check: Check, value: float, limits: dict, evidence: str, *, subject: str | None = None,
                 count: int | None = None, count_text: str = "") -> Finding:
    """Judge one value (and, for defect-counting checks, its count) and write the message."""
    warn, fail, margin = limits["warn"], limits["fail"], limits.get("margin", 0.0)
    warn_count = limits.get("warn_count") if check.counts else None
    status, at_limit, by_count = judged_status(float(value), warn, fail, check.worse, margin, count, warn_count)
    reasons = []
    if at_limit:
        reasons.append(f"at the {'warning' if at_limit == 'warn' else 'fail'} limit (within the margin)")
    if by_count:
        reasons.append(f"{count_text or numbers.plural(count, 'defect')} counted one by one: "
                       f"{numbers.count(warn_count)} or more is a warning whatever the share")
    rules = limits_text(check, warn, fail, margin)
    if warn_count is not None:
        rules += f"; warn at {numbers.count(warn_count)} or more counted one by one"
    verdict = VERDICT[status] + (f", {'; '.join(reasons)}" if reasons else "")
    message = f"{evidence} ({rules}): {verdict}."
    return Finding(check.id, check.title, status, float(value), fail, warn, check.worse, message,
                   subject=subject or check.subject, unit=check.unit, margin=margin, at_limit=at_limit,
                   count=count, warn_count=warn_count, evidence=evidence)


def not_assessed(check: Check, limits: dict, note: str, word: str = "not assessed",
                 subject: str | None = None) -> Finding:
    """A finding that could not be judged (no texts, or nothing to compare); never a pass."""
    return Finding(check.id, check.title, "na", 0.0, limits["fail"], limits["warn"], check.worse,
                   f"{note}: {word}.", subject=subject or check.subject, unit=check.unit,
                   margin=limits.get("margin", 0.0), evidence=note, note=word)


def evaluate(stats: dict, thresholds: dict[str, dict[str, float]]) -> list[Finding]:
    """All findings for one run. ``stats`` is the results' ``stats`` block plus extras.

    Expected keys: pairs, n, mean, std, near_duplicates{threshold,pairs,items[,split]},
    nearest_neighbour{quantiles, items_above_threshold}, opposed{threshold,pairs,items[,defects]},
    identical_rows{rows,groups[,distinct_text_rows]}, and ``duplicate_texts`` (None when the
    texts are unknown).
    """
    n, pairs = stats["n"], stats["pairs"]
    nd, nn, opp, ident = (stats["near_duplicates"], stats["nearest_neighbour"],
                          stats["opposed"], stats["identical_rows"])
    texts = stats.get("duplicate_texts")
    share, plural, sim = numbers.share, numbers.plural, numbers.similarity
    out: list[Finding] = []

    def add(check_id: str, value: float, evidence: str, **kw) -> None:
        out.append(make_finding(CHECKS[check_id], value, thresholds[check_id], evidence, **kw))

    mean, std = stats["mean"], stats["std"]
    add("mean_similarity", mean, f"The mean cosine similarity over all {numbers.plural(pairs, 'distinct pair')} is "
        f"{sim(mean)} (standard deviation {sim(std)})")
    add("similarity_spread", std, f"The standard deviation of cosine similarity over all "
        f"{plural(pairs, 'pair')} is {sim(std)} around a mean of {sim(mean)}")

    split = nd.get("split") or {}
    t = sim(nd["threshold"])
    if texts is not None and split.get("computed"):
        items = split["distinct_text_items"]
        add("near_duplicate_share", items / n,
            f"{plural(items, 'record')} of {numbers.count(n)} ({share(items / n)}) have a neighbour with a "
            f"different text at or above {t} ({plural(split['distinct_text_pairs'], 'pair')} of distinct texts); "
            f"{plural(split['same_text_pairs'], 'further pair')} at or above {t} repeat the same text and are "
            "counted by the repeated-texts finding", subject="model")
    else:
        items = nn["items_above_threshold"]
        why = ("the texts are unknown, so repeated records cannot be told from a model that merges distinct texts"
               if texts is None else split.get("reason", "repeated texts could not be separated"))
        add("near_duplicate_share", items / n,
            f"{plural(items, 'record')} of {numbers.count(n)} ({share(items / n)}) have a nearest neighbour "
            f"at or above {t}; {plural(nd['pairs'], 'pair')} reach that threshold ({why})",
            subject="data or model")

    defects = opp.get("defects")
    defect_text = ""
    if defects is not None:
        defect_text = (f"; {plural(defects['pairs'], 'pair')} at or below {sim(defects['threshold'])} "
                       f"(nearly opposite vectors), involving {plural(defects['items'], 'record')}")
    add("opposed_pairs", opp["pairs"] / pairs,
        f"{plural(opp['pairs'], 'pair')} of {numbers.count(pairs)} ({share(opp['pairs'] / pairs)}) have similarity "
        f"at or below {sim(opp['threshold'])}, involving {plural(opp['items'], 'record')}{defect_text}",
        count=defects["pairs"] if defects is not None else None,
        count_text=(plural(defects["pairs"], "pair") + f" at or below {sim(defects['threshold'])}")
        if defects is not None else "")

    q = nn["quantiles"]
    add("neighbour_crowding", q["p50"], f"The median record's nearest neighbour has similarity {sim(q['p50'])} "
        f"(5th percentile {sim(q['p05'])}, 95th {sim(q['p95'])})")

    if texts is not None and "distinct_text_rows" in ident:
        rows = ident["distinct_text_rows"]
        add("identical_rows", rows / n,
            f"{plural(rows, 'row')} of {numbers.count(n)} ({share(rows / n)}) repeat exactly the vector of an "
            f"earlier row with a different text; {plural(ident['rows'] - rows, 'further row')} repeat the vector "
            "of an identical text (counted by the repeated-texts finding)",
            subject="model", count=rows, count_text=plural(rows, "row"))
    else:
        rows = ident["rows"]
        add("identical_rows", rows / n,
            f"{plural(rows, 'row')} of {numbers.count(n)} ({share(rows / n)}) repeat an earlier row exactly, in "
            f"{plural(ident['groups'], 'group')} of identical vectors (texts unknown: a repeated record and a "
            "pipeline fault look the same)", subject="data or model", count=rows, count_text=plural(rows, "row"))

    check = CHECKS["duplicate_texts"]
    if texts is None:
        out.append(not_assessed(check, thresholds["duplicate_texts"],
                                "The records carry no texts (or labels marked as texts), so repeated texts "
                                "cannot be counted"))
    else:
        rows = texts["rows"]
        add("duplicate_texts", rows / n,
            f"{plural(rows, 'record')} of {numbers.count(n)} ({share(rows / n)}) repeat the text of an earlier "
            f"record, in {plural(texts['groups'], 'group')} of identical texts (largest group "
            f"{plural(texts['largest'], 'record')})", count=rows, count_text=plural(rows, "repeated record"))
    return out


def evaluate_comparison(a: dict, b: dict, names: list[str], agreement: dict,
                        thresholds: dict[str, dict[str, float]]) -> list[Finding]:
    """The comparison's findings from each model's results (``a``, ``b``: the dicts of their JSON),
    the agreement block and the limits: relative crowding and discrimination, and agreement. When
    the two sides give identical vectors every check is marked not informative (nothing was compared)."""
    pct, sim = numbers.share, numbers.similarity
    same = agreement.get("sameness") or {}
    if same.get("identical_vectors"):
        note = (f"{names[0]} and {names[1]} give identical vectors for every record"
                + (" (same model fingerprint)" if same.get("same_fingerprint") else "")
                + ", so the two sides agree by construction and this check says nothing about the models")
        return [not_assessed(check, thresholds[cid], note, word="not informative")
                for cid, check in COMPARE_CHECKS.items()]
    na, nb = names
    med_a, med_b = a["nearest_neighbour"]["quantiles"]["p50"], b["nearest_neighbour"]["quantiles"]["p50"]
    n = a["input"]["n"]
    share_a = a["nearest_neighbour"]["items_above_threshold"] / n
    share_b = b["nearest_neighbour"]["items_above_threshold"] / n
    std_a, std_b = a["stats"]["std"], b["stats"]["std"]
    r = agreement["correlation"]["pearson"]
    nbr = agreement["neighbours"]
    crowded = na if med_a >= med_b else nb
    more = na if share_a >= share_b else nb
    narrow, wide = (na, nb) if std_a <= std_b else (nb, na)
    ratio = (min(std_a, std_b) / max(std_a, std_b)) if max(std_a, std_b) > 0 else 1.0
    t = sim(a["near_duplicates"]["threshold"])
    values = {
        "crowding_gap": (abs(med_a - med_b),
                         f"The median record's nearest neighbour has similarity {sim(med_a)} under {na} and "
                         f"{sim(med_b)} under {nb}: {crowded} is more crowded by {sim(abs(med_a - med_b))}"
                         if med_a != med_b else
                         f"The median record's nearest neighbour has similarity {sim(med_a)} under both models"),
        "near_duplicate_gap": (abs(share_a - share_b),
                               f"{pct(share_a)} of records have a neighbour at or above {t} under {na} "
                               f"and {pct(share_b)} under {nb}: {more} puts "
                               f"{numbers.percentage_points(share_a - share_b)} more of the records next to a "
                               "near-duplicate"
                               if share_a != share_b else
                               f"{pct(share_a)} of records have a neighbour at or above {t} under both "
                               "models"),
        "spread_ratio": (ratio,
                         f"The standard deviation of pairwise similarity is {sim(std_a)} under {na} and "
                         f"{sim(std_b)} under {nb}: {narrow} has {numbers.ratio(ratio)} times the spread of {wide}"),
        "similarity_agreement": (r if r is not None else 0.0,
                                 f"The correlation of the two models' similarities over all "
                                 f"{numbers.plural(agreement['pairs'], 'pair')} is {sim(r)}" if r is not None else
                                 "The correlation of the two models' similarities is undefined: one model gives every "
                                 "pair the same similarity (to within float32 rounding)"),
        "neighbour_agreement": (nbr["mean_overlap"],
                                f"On average {pct(nbr['mean_overlap'])} of a record's {nbr['k']} nearest "
                                f"neighbours are the same under both models; {pct(nbr['same_nearest_share'])}"
                                " of records have the same nearest neighbour"),
    }
    out = []
    for check_id, check in COMPARE_CHECKS.items():
        value, evidence = values[check_id]
        if same.get("same_fingerprint"):
            evidence += " (both sides are the same model by fingerprint; differences come from the embedding settings)"
        if check_id == "similarity_agreement" and r is None:
            # an undefined correlation (a model that gives every pair the same similarity) is never a pass
            judged = make_finding(check, 0.0, thresholds[check_id], evidence)
            out.append(replace(judged, status="warn", at_limit=None,
                               message=f"{evidence}: warning (an undefined correlation is never a pass)."))
            continue
        out.append(make_finding(check, float(value), thresholds[check_id], evidence))
    return out


def overall_status(findings: list[Finding]) -> str:
    """The worst status among the findings (those not assessed count for nothing)."""
    return worst(f.status for f in findings)


def worst(statuses) -> str:
    """The worst of some statuses; 'pass' when every one is 'na' or there are none."""
    judged = [s for s in statuses if s != "na"]
    return max(judged, key=STATUS_ORDER.__getitem__, default="pass")


def summary_of(findings: list[Finding]) -> dict:
    """The worst status and how many findings have each status (a document's ``summary``)."""
    return {"status": overall_status(findings),
            "counts": {status: sum(f.status == status for f in findings) for status in ("pass", "warn", "fail", "na")}}


def own_comparison_status(judged: list[Finding]) -> str:
    """The comparison's own outcome: the worst of its checks, or 'na' when none of them could be
    assessed (two models giving identical vectors): a comparison that judged nothing never
    reads as a pass."""
    statuses = [f.status for f in judged]
    return worst(statuses) if any(s != "na" for s in statuses) else "na"


def comparison_summary(judged: list[Finding], model_statuses: list[str]) -> dict:
    """The comparison's outcome: the worst of its own checks (:func:`own_comparison_status`) and of
    each model's own outcome."""
    counts = {s: sum(f.status == s for f in judged) for s in ("pass", "warn", "fail", "na")}
    own = own_comparison_status(judged)
    return {"status": worst([own, *model_statuses]), "own_status": own, "counts": counts,
            "models": list(model_statuses)}


def split_thresholds(thresholds: dict[str, dict[str, float]] | None) -> tuple[dict, dict]:
    """(single-model thresholds, comparison thresholds) from one mapping of check ids."""
    single, compare = {}, {}
    for check_id, levels in (thresholds or {}).items():
        (compare if check_id in COMPARE_CHECKS else single)[check_id] = levels
    return single, compare
