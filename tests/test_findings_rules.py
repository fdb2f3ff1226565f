"""findings.py's judgement, exactly: pure functions on hand-made statistics (no engine, milliseconds).

What is pinned: where a limit is reached (margins, EPS, both directions), the levels of a
threshold set and their overrides, the data/model split of every finding, defect counting,
the message of every finding word for word, the outcome of a list of findings, and the
shipped check catalogue (tests/snapshots/checks.json: a change to a shipped text or a
check's direction, unit or subject is a deliberate act that updates the snapshot with
``python tests/test_findings_rules.py``).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from simreport import findings
from simreport.findings import (
    CHECKS,
    COMPARE_CHECKS,
    EPS,
    Finding,
    default_thresholds,
    evaluate,
    evaluate_comparison,
    judge,
    judge_at,
    limits_text,
    make_finding,
    merge_thresholds,
    not_assessed,
    overall_status,
    reached,
    split_thresholds,
    summary_of,
    worst,
)

SNAPSHOT = Path(__file__).parent / "snapshots" / "checks.json"


def catalogue() -> dict:
    return {"checks": {cid: asdict(c) for cid, c in CHECKS.items()},
            "compare_checks": {cid: asdict(c) for cid, c in COMPARE_CHECKS.items()},
            "all_checks": list(findings.ALL_CHECKS), "levels": list(findings.LEVELS),
            "status_order": findings.STATUS_ORDER, "status_words": findings.STATUS_WORDS,
            "subject_words": findings.SUBJECT_WORDS, "verdict": findings.VERDICT, "eps": EPS}


def test_the_check_catalogue_is_the_shipped_one():
    assert catalogue() == json.loads(SNAPSHOT.read_text("utf-8")), (
        "the check catalogue changed: if deliberate, run `python tests/test_findings_rules.py` and review the diff")


def test_the_defaults_are_the_shipped_set():
    assert default_thresholds() == {
        "mean_similarity": {"warn": 0.5, "fail": 0.7, "margin": 0.005},
        "similarity_spread": {"warn": 0.05, "fail": 0.02, "margin": 0.002},
        "near_duplicate_share": {"warn": 0.01, "fail": 0.05, "margin": 0.001},
        "opposed_pairs": {"warn": 0.0001, "fail": 0.01, "margin": 1e-05, "warn_count": 1,
                          "defect_similarity": -0.99},
        "neighbour_crowding": {"warn": 0.85, "fail": 0.95, "margin": 0.005},
        "identical_rows": {"warn": 0.0, "fail": 0.01, "margin": 0.0, "warn_count": 1},
        "duplicate_texts": {"warn": 0.0, "fail": 0.05, "margin": 0.0, "warn_count": 1}}
    assert default_thresholds(COMPARE_CHECKS) == {
        "crowding_gap": {"warn": 0.05, "fail": 0.1, "margin": 0.005},
        "near_duplicate_gap": {"warn": 0.02, "fail": 0.1, "margin": 0.002},
        "spread_ratio": {"warn": 0.75, "fail": 0.5, "margin": 0.01},
        "similarity_agreement": {"warn": 0.7, "fail": 0.5, "margin": 0.01},
        "neighbour_agreement": {"warn": 0.5, "fail": 0.3, "margin": 0.01}}


# ----------------------------------------------------------------------------- limits and margins


@pytest.mark.parametrize("value,expected", [
    (0.7 + 2 * EPS, (True, False)),  # past
    (0.7 + 0.5 * EPS, (True, True)),  # within EPS of the limit: at it, not past it
    (0.7, (True, True)),
    (0.69, (True, True)),  # the edge of the margin
    (0.69 - 0.5 * EPS, (True, True)),
    (0.69 - 2 * EPS, (False, False)),  # just outside the margin
    (0.5, (False, False)),
])
def test_reached_when_higher_is_worse(value, expected):
    assert reached(value, 0.7, "higher", 0.01) == expected


@pytest.mark.parametrize("value,expected", [
    (0.3 - 2 * EPS, (True, False)),
    (0.3 - 0.5 * EPS, (True, True)),
    (0.3, (True, True)),
    (0.31, (True, True)),
    (0.31 + 0.5 * EPS, (True, True)),
    (0.31 + 2 * EPS, (False, False)),
    (0.5, (False, False)),
])
def test_reached_when_lower_is_worse(value, expected):
    assert reached(value, 0.3, "lower", 0.01) == expected


@pytest.mark.parametrize("worse,value,expected", [
    ("higher", 0.7, (False, False)),  # without a margin, exactly on the limit is not past it
    ("higher", 0.7 + 0.5 * EPS, (False, False)),
    ("higher", 0.7 + 2 * EPS, (True, False)),
    ("lower", 0.7, (False, False)),
    ("lower", 0.7 - 2 * EPS, (True, False)),
])
def test_reached_without_a_margin_is_strictly_past(worse, value, expected):
    assert reached(value, 0.7, worse, 0.0) == expected


@pytest.mark.parametrize("value,expected", [
    (0.2, ("pass", None)),
    (0.495, ("warn", "warn")),  # the margin's edge below the warning limit
    (0.5, ("warn", "warn")),
    (0.6, ("warn", None)),
    (0.695, ("fail", "fail")),  # within the margin of the fail limit: a fail, marked at the limit
    (0.7, ("fail", "fail")),
    (0.71, ("fail", None)),
])
def test_judge_at_when_higher_is_worse(value, expected):
    assert judge_at(value, 0.5, 0.7, "higher", 0.005) == expected
    assert judge(value, 0.5, 0.7, "higher", 0.005) == expected[0]


@pytest.mark.parametrize("value,expected", [
    (0.9, ("pass", None)),
    (0.76, ("warn", "warn")),
    (0.75, ("warn", "warn")),
    (0.6, ("warn", None)),
    (0.51, ("fail", "fail")),
    (0.5, ("fail", "fail")),
    (0.4, ("fail", None)),
])
def test_judge_at_when_lower_is_worse(value, expected):
    assert judge_at(value, 0.75, 0.5, "lower", 0.01) == expected


def test_judge_defaults_to_no_margin():
    assert judge_at(0.5, 0.5, 0.7, "higher") == ("pass", None)
    assert judge(0.7, 0.5, 0.7, "higher") == "warn"


# ----------------------------------------------------------------------------- threshold sets


def test_overrides_apply_on_the_defaults_and_keep_the_rest():
    merged = merge_thresholds({"mean_similarity": {"warn": 0.4, "margin": 0}, "opposed_pairs": {"warn_count": 3.0}})
    defaults = default_thresholds()
    assert merged["mean_similarity"] == {"warn": 0.4, "fail": 0.7, "margin": 0.0}
    assert merged["opposed_pairs"] == {**defaults["opposed_pairs"], "warn_count": 3}
    assert type(merged["opposed_pairs"]["warn_count"]) is int
    assert type(merged["mean_similarity"]["margin"]) is float
    assert {k: v for k, v in merged.items() if k not in ("mean_similarity", "opposed_pairs")} == {
        k: v for k, v in defaults.items() if k not in ("mean_similarity", "opposed_pairs")}
    assert merge_thresholds(None) == defaults and merge_thresholds({}) == defaults


def test_overrides_never_change_the_set_they_start_from():
    base = default_thresholds()
    before = json.dumps(base, sort_keys=True)
    merge_thresholds({"mean_similarity": {"warn": 0.3}}, base=base)
    assert json.dumps(base, sort_keys=True) == before


def test_a_set_of_its_own_is_the_base_of_the_overrides():
    base = {cid: {"warn": 0.1, "fail": 0.2, "margin": 0.0} for cid in ("mean_similarity",)}
    checks = {"mean_similarity": CHECKS["mean_similarity"]}
    assert merge_thresholds({"mean_similarity": {"fail": 0.3}}, checks, base=base) == {
        "mean_similarity": {"warn": 0.1, "fail": 0.3, "margin": 0.0}}
    with pytest.raises(KeyError):
        merge_thresholds(None, checks, base={})  # {} is not "no base": the check has no limits there


def test_comparison_limits_merge_with_their_own_catalogue():
    merged = merge_thresholds({"spread_ratio": {"warn": 0.8}}, COMPARE_CHECKS, what="comparison check")
    assert merged["spread_ratio"] == {"warn": 0.8, "fail": 0.5, "margin": 0.01}
    assert list(merged) == list(COMPARE_CHECKS)
    with pytest.raises(ValueError) as err:
        merge_thresholds({"mean_similarity": {"warn": 0.1}}, COMPARE_CHECKS, what="comparison check")
    assert str(err.value) == ("unknown comparison check 'mean_similarity'; known: crowding_gap, near_duplicate_gap, "
                              "spread_ratio, similarity_agreement, neighbour_agreement")


@pytest.mark.parametrize("overrides,message", [
    ({"nope": {"warn": 1}}, "unknown finding 'nope'; known: mean_similarity, similarity_spread, near_duplicate_share, "
                            "opposed_pairs, neighbour_crowding, identical_rows, duplicate_texts"),
    ({"mean_similarity": {"high": 1}}, "unknown level 'high' for mean_similarity; use warn, fail, margin"),
    ({"mean_similarity": {"warn_count": 1}}, "unknown level 'warn_count' for mean_similarity; use warn, fail, margin"),
    ({"identical_rows": {"defect_similarity": -0.9}},
     "unknown level 'defect_similarity' for identical_rows; use warn, fail, margin, warn_count"),
    ({"opposed_pairs": {"x": 1}}, "unknown level 'x' for opposed_pairs; use warn, fail, margin, warn_count, "
                                  "defect_similarity"),
    ({"opposed_pairs": {"warn_count": 0}}, "opposed_pairs: warn_count 0 must be a whole number of at least 1"),
    ({"opposed_pairs": {"warn_count": 1.5}}, "opposed_pairs: warn_count 1.5 must be a whole number of at least 1"),
    ({"mean_similarity": {"margin": -0.001}}, "mean_similarity: margin -0.001 must not be negative"),
    ({"mean_similarity": {"warn": 0.8}}, "mean_similarity: warn threshold 0.8 must be at most the fail threshold 0.7"),
    ({"similarity_spread": {"warn": 0.01}},
     "similarity_spread: warn threshold 0.01 must be at least the fail threshold 0.02"),
])
def test_a_bad_override_is_refused_with_its_reason(overrides, message):
    with pytest.raises(ValueError) as err:
        merge_thresholds(overrides)
    assert str(err.value) == message


@pytest.mark.parametrize("overrides", [
    {"mean_similarity": {"warn": 0.7}},  # warn equal to fail is allowed
    {"similarity_spread": {"warn": 0.02}},
    {"mean_similarity": {"margin": 0.0}},
    {"opposed_pairs": {"warn_count": 1}},
])
def test_limits_on_the_edge_of_the_rules_are_accepted(overrides):
    merge_thresholds(overrides)


def test_split_thresholds_sorts_by_catalogue():
    single, compare = split_thresholds({"mean_similarity": {"warn": 0.1}, "spread_ratio": {"fail": 0.4},
                                        "unknown_id": {"warn": 1}})
    assert single == {"mean_similarity": {"warn": 0.1}, "unknown_id": {"warn": 1}}  # merge_thresholds names it
    assert compare == {"spread_ratio": {"fail": 0.4}}
    assert split_thresholds(None) == ({}, {})


# ----------------------------------------------------------------------------- one finding


def test_limits_text_in_both_directions_with_and_without_margin():
    assert limits_text(CHECKS["mean_similarity"], 0.5, 0.7, 0.005) == "warn above 0.500, fail above 0.700; margin 0.005"
    assert limits_text(CHECKS["similarity_spread"], 0.05, 0.02) == "warn below 0.050, fail below 0.020"
    assert (limits_text(CHECKS["near_duplicate_share"], 0.01, 0.05, 0.001)
            == "warn above 1.0%, fail above 5.0%; margin 0.10 percentage points")
    assert limits_text(CHECKS["identical_rows"], 0.0, 0.01, 0.0) == "warn above 0%, fail above 1.0%"
    assert (limits_text(COMPARE_CHECKS["spread_ratio"], 0.75, 0.5, 0.01)
            == "warn below 0.75, fail below 0.50; margin 0.01")


LIMITS = {"warn": 0.5, "fail": 0.7, "margin": 0.005}


@pytest.mark.parametrize("value,status,at_limit,verdict", [
    (0.3, "pass", None, "pass"),
    (0.498, "warn", "warn", "warning, at the warning limit (within the margin)"),
    (0.6, "warn", None, "warning"),
    (0.7, "fail", "fail", "fail, at the fail limit (within the margin)"),
    (0.8, "fail", None, "fail"),
])
def test_make_finding_says_where_the_value_stands(value, status, at_limit, verdict):
    f = make_finding(CHECKS["mean_similarity"], value, LIMITS, "Evidence")
    assert (f.status, f.at_limit) == (status, at_limit)
    assert f.message == f"Evidence (warn above 0.500, fail above 0.700; margin 0.005): {verdict}."
    assert f == Finding("mean_similarity", "Overall similarity too high", status, value, 0.7, 0.5, "higher",
                        f.message, subject="model", unit="similarity", margin=0.005, at_limit=at_limit,
                        count=None, warn_count=None, evidence="Evidence", note="")
    assert f.to_dict() == asdict(f)


def test_a_check_without_margin_has_margin_zero():
    f = make_finding(CHECKS["mean_similarity"], 0.3, {"warn": 0.5, "fail": 0.7}, "E")
    assert f.margin == 0.0 and f.message == "E (warn above 0.500, fail above 0.700): pass."


OPPOSED = {"warn": 0.0001, "fail": 0.01, "margin": 1e-05, "warn_count": 2, "defect_similarity": -0.99}


@pytest.mark.parametrize("value,count,status,verdict", [
    (0.0, 1, "pass", "pass"),  # one defect, two needed
    (0.0, 2, "warn", "warning, 2 defects counted one by one: 2 or more is a warning whatever the share"),
    (0.0, 3, "warn", "warning, 3 defects counted one by one: 2 or more is a warning whatever the share"),
    (0.0, None, "pass", "pass"),  # not counted: the share alone decides
    (0.02, 5, "fail", "fail"),  # the count never softens a fail, nor adds a reason to it
    (0.001, 5, "warn", "warning"),  # already a warning by its share
])
def test_defects_counted_one_by_one(value, count, status, verdict):
    f = make_finding(CHECKS["opposed_pairs"], value, OPPOSED, "E", count=count)
    assert f.status == status and f.count == count and f.warn_count == 2
    assert f.message == ("E (warn above 0.010%, fail above 1.0%; margin 0.0010 percentage points; "
                         f"warn at 2 or more counted one by one): {verdict}.")


def test_a_count_with_its_own_words_and_a_margin_reason_together():
    limits = {**OPPOSED, "warn_count": 1}
    f = make_finding(CHECKS["opposed_pairs"], 0.0000905, limits, "E", count=1, count_text="1 pair at or below -0.990")
    assert f.status == "warn" and f.at_limit == "warn"
    assert f.message.endswith("): warning, at the warning limit (within the margin).")  # a warning already
    g = make_finding(CHECKS["opposed_pairs"], 0.0, limits, "E", count=1, count_text="1 pair at or below -0.990")
    assert g.message.endswith("): warning, 1 pair at or below -0.990 counted one by one: 1 or more is a warning "
                              "whatever the share.")


def test_a_check_that_counts_nothing_ignores_a_warn_count():
    f = make_finding(CHECKS["mean_similarity"], 0.1, {**LIMITS, "warn_count": 1}, "E", count=5)
    assert f.status == "pass" and f.warn_count is None and "counted" not in f.message


def test_subject_override_and_not_assessed():
    f = make_finding(CHECKS["near_duplicate_share"], 0.0, {"warn": 0.01, "fail": 0.05}, "E", subject="data or model")
    assert f.subject == "data or model" and f.unit == "share"
    na = not_assessed(CHECKS["duplicate_texts"], {"warn": 0.0, "fail": 0.05}, "No texts")
    assert na == Finding("duplicate_texts", "Repeated texts in the data", "na", 0.0, 0.05, 0.0, "higher",
                         "No texts: not assessed.", subject="data", unit="share", margin=0.0,
                         evidence="No texts", note="not assessed")
    other = not_assessed(COMPARE_CHECKS["spread_ratio"], {"warn": 0.75, "fail": 0.5, "margin": 0.01}, "Same model",
                         word="not informative", subject="model")
    assert (other.message, other.note, other.subject, other.margin) == (
        "Same model: not informative.", "not informative", "model", 0.01)


# ----------------------------------------------------------------------------- all findings of a run


def stats_with_texts() -> dict:
    return dict(n=1000, pairs=499500, mean=0.3, std=0.1,
                near_duplicates=dict(threshold=0.95, pairs=12, items=20,
                                     split=dict(computed=True, distinct_text_items=8, distinct_text_pairs=5,
                                                same_text_pairs=7)),
                nearest_neighbour=dict(quantiles=dict(p05=0.4, p50=0.6, p95=0.8), items_above_threshold=20),
                opposed=dict(threshold=-0.5, pairs=3, items=5, defects=dict(threshold=-0.99, pairs=1, items=2)),
                identical_rows=dict(rows=4, groups=2, distinct_text_rows=1),
                duplicate_texts=dict(rows=6, groups=3, largest=3))


def stats_without_texts() -> dict:
    return dict(n=200, pairs=19900, mean=0.72, std=0.019,
                near_duplicates=dict(threshold=0.95, pairs=30, items=11),
                nearest_neighbour=dict(quantiles=dict(p05=0.9, p50=0.951, p95=0.99), items_above_threshold=11),
                opposed=dict(threshold=-0.5, pairs=2, items=2),
                identical_rows=dict(rows=3, groups=1, distinct_text_rows=1),
                duplicate_texts=None)


def table(found: list[Finding]) -> list[tuple]:
    return [(f.id, f.status, f.subject, f.value, f.count, f.warn_count, f.at_limit) for f in found]


def test_every_finding_of_a_run_with_texts():
    found = evaluate(stats_with_texts(), default_thresholds())
    assert table(found) == [
        ("mean_similarity", "pass", "model", 0.3, None, None, None),
        ("similarity_spread", "pass", "model", 0.1, None, None, None),
        ("near_duplicate_share", "pass", "model", 0.008, None, None, None),  # distinct texts only: 8, not 20
        ("opposed_pairs", "warn", "model", 3 / 499500, 1, 1, None),  # one defect pair
        ("neighbour_crowding", "pass", "model", 0.6, None, None, None),
        ("identical_rows", "warn", "model", 0.001, 1, 1, None),  # different texts only: 1, not 4
        ("duplicate_texts", "warn", "data", 0.006, 6, 1, None),
    ]
    assert [f.message for f in found] == [
        "The mean cosine similarity over all 499,500 distinct pairs is 0.300 (standard deviation 0.100) "
        "(warn above 0.500, fail above 0.700; margin 0.005): pass.",
        "The standard deviation of cosine similarity over all 499,500 pairs is 0.100 around a mean of 0.300 "
        "(warn below 0.050, fail below 0.020; margin 0.002): pass.",
        "8 records of 1,000 (0.80%) have a neighbour with a different text at or above 0.950 (5 pairs of distinct "
        "texts); 7 further pairs at or above 0.950 repeat the same text and are counted by the repeated-texts finding "
        "(warn above 1.0%, fail above 5.0%; margin 0.10 percentage points): pass.",
        "3 pairs of 499,500 (< 0.01%) have similarity at or below -0.500, involving 5 records; 1 pair at or below "
        "-0.990 (nearly opposite vectors), involving 2 records (warn above 0.010%, fail above 1.0%; margin 0.0010 "
        "percentage points; warn at 1 or more counted one by one): warning, 1 pair at or below -0.990 counted one "
        "by one: 1 or more is a warning whatever the share.",
        "The median record's nearest neighbour has similarity 0.600 (5th percentile 0.400, 95th 0.800) "
        "(warn above 0.850, fail above 0.950; margin 0.005): pass.",
        "1 row of 1,000 (0.10%) repeat exactly the vector of an earlier row with a different text; 3 further rows "
        "repeat the vector of an identical text (counted by the repeated-texts finding) (warn above 0%, fail above "
        "1.0%; warn at 1 or more counted one by one): warning.",  # by its share (above 0%)
        "6 records of 1,000 (0.60%) repeat the text of an earlier record, in 3 groups of identical texts (largest "
        "group 3 records) (warn above 0%, fail above 5.0%; warn at 1 or more counted one by one): warning.",
    ]
    assert summary_of(found) == {"status": "warn", "counts": {"pass": 4, "warn": 3, "fail": 0, "na": 0}}


def test_every_finding_of_a_run_without_texts():
    found = evaluate(stats_without_texts(), default_thresholds())
    assert table(found) == [
        ("mean_similarity", "fail", "model", 0.72, None, None, None),
        ("similarity_spread", "fail", "model", 0.019, None, None, None),
        ("near_duplicate_share", "fail", "data or model", 0.055, None, None, None),  # every neighbour counts
        ("opposed_pairs", "warn", "model", 2 / 19900, None, 1, None),  # by its share; no defects measured
        ("neighbour_crowding", "fail", "model", 0.951, None, None, None),  # past, not at
        ("identical_rows", "fail", "data or model", 0.015, 3, 1, None),  # every identical row counts
        ("duplicate_texts", "na", "data", 0.0, None, None, None),
    ]
    assert [f.message for f in found] == [
        "The mean cosine similarity over all 19,900 distinct pairs is 0.720 (standard deviation 0.019) "
        "(warn above 0.500, fail above 0.700; margin 0.005): fail.",
        "The standard deviation of cosine similarity over all 19,900 pairs is 0.019 around a mean of 0.720 "
        "(warn below 0.050, fail below 0.020; margin 0.002): fail.",
        "11 records of 200 (5.5%) have a nearest neighbour at or above 0.950; 30 pairs reach that threshold (the "
        "texts are unknown, so repeated records cannot be told from a model that merges distinct texts) (warn above "
        "1.0%, fail above 5.0%; margin 0.10 percentage points): fail.",
        "2 pairs of 19,900 (0.010%) have similarity at or below -0.500, involving 2 records (warn above 0.010%, "
        "fail above 1.0%; margin 0.0010 percentage points; warn at 1 or more counted one by one): warning.",
        "The median record's nearest neighbour has similarity 0.951 (5th percentile 0.900, 95th 0.990) "
        "(warn above 0.850, fail above 0.950; margin 0.005): fail.",
        "3 rows of 200 (1.5%) repeat an earlier row exactly, in 1 group of identical vectors (texts unknown: a "
        "repeated record and a pipeline fault look the same) (warn above 0%, fail above 1.0%; warn at 1 or more "
        "counted one by one): fail.",
        "The records carry no texts (or labels marked as texts), so repeated texts cannot be counted: not assessed.",
    ]
    assert found[-1].note == "not assessed" and found[-1].threshold == 0.05
    assert summary_of(found) == {"status": "fail", "counts": {"pass": 0, "warn": 1, "fail": 5, "na": 1}}


def test_texts_known_but_not_separated_say_why():
    stats = stats_without_texts()
    stats["duplicate_texts"] = dict(rows=0, groups=0, largest=0)
    stats["near_duplicates"]["split"] = dict(computed=False, reason="the texts were cut")
    found = {f.id: f for f in evaluate(stats, default_thresholds())}
    f = found["near_duplicate_share"]
    assert (f.subject, f.value) == ("data or model", 0.055)
    assert "30 pairs reach that threshold (the texts were cut) (" in f.message
    del stats["near_duplicates"]["split"]
    f = {f.id: f for f in evaluate(stats, default_thresholds())}["near_duplicate_share"]
    assert "30 pairs reach that threshold (repeated texts could not be separated) (" in f.message
    d = found["duplicate_texts"]
    assert (d.status, d.value, d.count, d.subject) == ("pass", 0.0, 0, "data")
    assert d.message == ("0 records of 200 (0%) repeat the text of an earlier record, in 0 groups of identical texts "
                         "(largest group 0 records) (warn above 0%, fail above 5.0%; warn at 1 or more counted one by "
                         "one): pass.")
    r = found["identical_rows"]  # texts known: rows of the same text are the data's, not the model's
    assert (r.subject, r.value, r.count, r.status) == ("model", 0.005, 1, "warn")


def test_identical_rows_without_the_text_split_count_every_row():
    stats = stats_with_texts()
    del stats["identical_rows"]["distinct_text_rows"]
    f = {f.id: f for f in evaluate(stats, default_thresholds())}["identical_rows"]
    assert (f.subject, f.value, f.count) == ("data or model", 0.004, 4)


def test_each_finding_uses_its_own_limits():
    limits = default_thresholds()
    stats = stats_with_texts()
    base = {f.id: f.status for f in evaluate(stats, limits)}
    for cid, value in (("mean_similarity", 0.3), ("similarity_spread", 0.1), ("near_duplicate_share", 0.008),
                       ("neighbour_crowding", 0.6)):
        strict = merge_thresholds({cid: {"warn": value, "fail": value} if CHECKS[cid].worse == "higher"
                                   else {"fail": value, "warn": value}}, base=limits)
        after = {f.id: f for f in evaluate(stats, strict)}
        assert after[cid].status == "fail" and after[cid].at_limit == "fail"
        assert {k: f.status for k, f in after.items() if k != cid} == {k: s for k, s in base.items() if k != cid}
    relaxed = merge_thresholds({"opposed_pairs": {"warn_count": 2}, "identical_rows": {"warn_count": 2},
                                "duplicate_texts": {"warn_count": 7, "warn": 0.01}}, base=limits)
    after = {f.id: f.status for f in evaluate(stats, relaxed)}
    assert (after["opposed_pairs"], after["identical_rows"], after["duplicate_texts"]) == ("pass", "warn", "pass")


# ----------------------------------------------------------------------------- a comparison's own findings


def compared_side(p50: float, items: int, std: float) -> dict:
    """The parts of one model's results (its JSON dict) a comparison's findings are judged from."""
    return {"nearest_neighbour": {"quantiles": {"p50": p50}, "items_above_threshold": items}, "input": {"n": 200},
            "stats": {"std": std}, "near_duplicates": {"threshold": 0.95}}


def agreement_block(pearson: float | None = 0.62, identical: bool = False, same_fingerprint: bool = False) -> dict:
    return {"correlation": {"pearson": pearson}, "pairs": 19900,
            "neighbours": {"k": 10, "mean_overlap": 0.45, "same_nearest_share": 0.5},
            "sameness": {"identical_vectors": identical, "same_fingerprint": same_fingerprint}}


def test_a_comparisons_findings_word_for_word():
    limits = default_thresholds(COMPARE_CHECKS)
    found = evaluate_comparison(compared_side(0.61, 4, 0.12), compared_side(0.52, 1, 0.09), ["A", "B"],
                                agreement_block(), limits)
    assert [(f.id, f.status, f.at_limit, f.subject) for f in found] == [
        ("crowding_gap", "warn", None, "comparison"), ("near_duplicate_gap", "pass", None, "comparison"),
        ("spread_ratio", "warn", "warn", "comparison"), ("similarity_agreement", "warn", None, "comparison"),
        ("neighbour_agreement", "warn", None, "comparison")]
    assert [f.value for f in found] == pytest.approx([0.09, 0.015, 0.75, 0.62, 0.45])
    assert [f.message for f in found] == [
        "The median record's nearest neighbour has similarity 0.610 under A and 0.520 under B: A is more crowded "
        "by 0.090 (warn above 0.050, fail above 0.100; margin 0.005): warning.",
        "2.0% of records have a neighbour at or above 0.950 under A and 0.50% under B: A puts 1.5 percentage points "
        "more of the records next to a near-duplicate (warn above 2.0%, fail above 10%; margin 0.20 percentage "
        "points): pass.",
        "The standard deviation of pairwise similarity is 0.120 under A and 0.090 under B: B has 0.75 times the "
        "spread of A (warn below 0.75, fail below 0.50; margin 0.01): warning, at the warning limit (within the "
        "margin).",
        "The correlation of the two models' similarities over all 19,900 pairs is 0.620 (warn below 0.700, fail "
        "below 0.500; margin 0.010): warning.",
        "On average 45% of a record's 10 nearest neighbours are the same under both models; 50% of records have "
        "the same nearest neighbour (warn below 50%, fail below 30%; margin 1.0 percentage points): warning."]


def test_a_comparison_names_the_model_each_gap_is_about():
    limits = default_thresholds(COMPARE_CHECKS)
    found = {f.id: f for f in evaluate_comparison(compared_side(0.52, 1, 0.09), compared_side(0.61, 4, 0.12),
                                                  ["first", "second"], agreement_block(same_fingerprint=True),
                                                  limits)}
    assert "second is more crowded by 0.090" in found["crowding_gap"].message
    assert "second puts 1.5 percentage points more" in found["near_duplicate_gap"].message
    assert "first has 0.75 times the spread of second" in found["spread_ratio"].message
    assert found["crowding_gap"].evidence.endswith(
        "(both sides are the same model by fingerprint; differences come from the embedding settings)")
    even = evaluate_comparison(compared_side(0.5, 3, 0.1), compared_side(0.5, 3, 0.1), ["A", "B"],
                               agreement_block(), limits)
    assert even[0].evidence == "The median record's nearest neighbour has similarity 0.500 under both models"
    assert even[1].evidence == "1.5% of records have a neighbour at or above 0.950 under both models"
    assert (even[0].value, even[2].value, even[0].status) == (0.0, 1.0, "pass")
    flat = evaluate_comparison(compared_side(0.5, 3, 0.0), compared_side(0.5, 3, 0.0), ["A", "B"],
                               agreement_block(), limits)
    assert (flat[2].value, flat[2].status) == (1.0, "pass")  # no spread under either model: the same spread


def test_a_misjudged_finding_is_named_with_what_its_numbers_give():
    limits = {"warn": 0.5, "fail": 0.7, "margin": 0.01}
    honest = make_finding(CHECKS["mean_similarity"], 0.495, limits, "E")
    assert (honest.status, honest.at_limit) == ("warn", "warn") and findings.misjudged(honest) is None
    assert findings.misjudged(not_assessed(CHECKS["duplicate_texts"], limits, "No texts")) is None
    edited = Finding(**{**asdict(honest), "status": "pass", "at_limit": None})
    assert findings.misjudged(edited) == (
        "finding mean_similarity says pass, but its value 0.495 with its own limits (warn 0.5, fail 0.7, margin "
        "0.01) gives warn at the warn limit")
    edited = Finding(**{**asdict(honest), "status": "fail", "at_limit": "fail"})
    assert findings.misjudged(edited).endswith("says fail at the fail limit, but its value 0.495 with its own limits "
                                               "(warn 0.5, fail 0.7, margin 0.01) gives warn at the warn limit")


def test_an_undefined_correlation_is_never_a_pass_and_identical_sides_are_not_informative():
    limits = default_thresholds(COMPARE_CHECKS)
    side = compared_side(0.5, 3, 0.1)
    undefined = {f.id: f for f in evaluate_comparison(side, side, ["A", "B"], agreement_block(None), limits)}
    assert (undefined["similarity_agreement"].status, undefined["similarity_agreement"].value) == ("warn", 0.0)
    assert undefined["similarity_agreement"].message == (
        "The correlation of the two models' similarities is undefined: one model gives every pair the same "
        "similarity (to within float32 rounding): warning (an undefined correlation is never a pass).")
    same = evaluate_comparison(side, side, ["A", "B"], agreement_block(identical=True, same_fingerprint=True), limits)
    assert [(f.status, f.note) for f in same] == [("na", "not informative")] * len(COMPARE_CHECKS)
    assert same[0].message == ("A and B give identical vectors for every record (same model fingerprint), so the two "
                               "sides agree by construction and this check says nothing about the models: "
                               "not informative.")


# ----------------------------------------------------------------------------- outcome


@pytest.mark.parametrize("statuses,expected", [
    ([], "pass"),
    (["na"], "pass"),
    (["na", "na"], "pass"),
    (["pass", "na"], "pass"),
    (["na", "warn", "pass"], "warn"),
    (["warn", "fail", "pass"], "fail"),
    (["fail", "na", "warn"], "fail"),
    (["pass", "pass"], "pass"),
])
def test_the_worst_status_wins_and_not_assessed_counts_for_nothing(statuses, expected):
    assert worst(statuses) == expected
    assert worst(iter(statuses)) == expected
    fs = [not_assessed(CHECKS["duplicate_texts"], {"warn": 0, "fail": 1}, "x") if s == "na"
          else make_finding(CHECKS["mean_similarity"], {"pass": 0.1, "warn": 0.6, "fail": 0.9}[s], LIMITS, "x")
          for s in statuses]
    assert overall_status(fs) == expected
    assert summary_of(fs) == {"status": expected, "counts": {s: statuses.count(s) for s in ("pass", "warn", "fail",
                                                                                            "na")}}


if __name__ == "__main__":  # write the snapshot after a deliberate change of the catalogue
    SNAPSHOT.parent.mkdir(exist_ok=True)
    SNAPSHOT.write_text(json.dumps(catalogue(), indent=1, ensure_ascii=False) + "\n", "utf-8")
    print(f"wrote {SNAPSHOT}", file=sys.stderr)
