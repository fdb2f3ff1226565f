"""Findings: judgement at the limits, threshold overrides, the evidence sentences, the documented defaults."""

from __future__ import annotations

import hashlib

import pytest

from simreport import findings
from simreport.findings import CHECKS, Finding

# the documented defaults (README "Findings"; each check's rationale states them too)
DEFAULTS = {
    "mean_similarity": ("higher", 0.50, 0.70, "similarity"),
    "similarity_spread": ("lower", 0.05, 0.02, "similarity"),
    "near_duplicate_share": ("higher", 0.01, 0.05, "share"),
    "opposed_pairs": ("higher", 0.0001, 0.01, "share"),
    "neighbour_crowding": ("higher", 0.85, 0.95, "similarity"),
    "identical_rows": ("higher", 0.0, 0.01, "share"),
}


def test_the_checks_and_their_default_limits():
    assert list(CHECKS) == list(DEFAULTS)
    for check_id, (worse, warn, fail, unit) in DEFAULTS.items():
        c = CHECKS[check_id]
        assert (c.id, c.worse, c.warn, c.fail, c.unit) == (check_id, worse, warn, fail, unit)
    assert findings.default_thresholds() == {k: {"warn": v[1], "fail": v[2]} for k, v in DEFAULTS.items()}


COMPARE_DEFAULTS = {
    "crowding_gap": ("higher", 0.05, 0.10, "similarity"),
    "near_duplicate_gap": ("higher", 0.02, 0.10, "share"),
    "spread_ratio": ("lower", 0.75, 0.50, "ratio"),
    "similarity_agreement": ("lower", 0.70, 0.50, "similarity"),
    "neighbour_agreement": ("lower", 0.50, 0.30, "share"),
}


def test_the_comparison_checks_and_their_default_limits():
    checks = findings.COMPARE_CHECKS
    assert list(checks) == list(COMPARE_DEFAULTS)
    for check_id, (worse, warn, fail, unit) in COMPARE_DEFAULTS.items():
        c = checks[check_id]
        assert (c.id, c.worse, c.warn, c.fail, c.unit) == (check_id, worse, warn, fail, unit)
    assert findings.default_thresholds(checks) == {k: {"warn": v[1], "fail": v[2]} for k, v in COMPARE_DEFAULTS.items()}
    with pytest.raises(ValueError, match=r"^spread_ratio: warn threshold 0.4 must be at least the fail threshold 0.5$"):
        findings.merge_thresholds({"spread_ratio": {"warn": 0.4}}, checks, "comparison finding")
    text = "\n".join(f"{c.id}|{c.title}|{c.measure}|{c.rationale}" for c in checks.values())
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    assert digest == "68d616e42c088f6e", f"the comparison checks' texts changed (digest {digest}): review, then update"


def test_each_rationale_states_its_default_limits():
    for check_id, (_, warn, fail, unit) in DEFAULTS.items():
        text = CHECKS[check_id].rationale
        for limit in (warn, fail):
            if limit == 0:
                assert "Any" in text, check_id
            else:
                shown = f"{limit * 100:g}%" if unit == "share" else f"{limit:g}"
                assert shown in text, (check_id, shown)


def test_check_texts_are_the_reviewed_ones():
    """Titles, measures and rationales are shipped report text: a change must be deliberate."""
    text = "\n".join(f"{c.id}|{c.title}|{c.measure}|{c.rationale}" for c in CHECKS.values())
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    assert digest == "46892df202f45121", (f"the texts of the risk signs changed (digest {digest}): review the "
                                          "new wording in the report, then put the new digest here")


@pytest.mark.parametrize("worse,warn,fail,cases", [
    ("higher", 0.5, 0.7, [(0.4999, "pass"), (0.5, "pass"), (0.5001, "warn"), (0.7, "warn"), (0.7001, "fail")]),
    ("lower", 0.05, 0.02, [(0.0501, "pass"), (0.05, "pass"), (0.0499, "warn"), (0.02, "warn"), (0.0199, "fail")]),
    ("higher", 0.0, 0.01, [(0.0, "pass"), (1e-12, "warn"), (0.01, "warn"), (0.02, "fail")]),
])
def test_judge_is_strictly_beyond_each_limit(worse, warn, fail, cases):
    for value, expected in cases:
        assert findings.judge(value, warn, fail, worse) == expected, value


def test_threshold_overrides_and_their_errors():
    merged = findings.merge_thresholds({"mean_similarity": {"warn": 0.6}, "similarity_spread": {"fail": 0.01}})
    assert merged["mean_similarity"] == {"warn": 0.6, "fail": 0.7}
    assert merged["similarity_spread"] == {"warn": 0.05, "fail": 0.01}
    assert merged["opposed_pairs"] == {"warn": 0.0001, "fail": 0.01}
    assert findings.merge_thresholds(None) == findings.default_thresholds()
    assert findings.merge_thresholds({"mean_similarity": {"warn": "0.7"}})["mean_similarity"]["warn"] == 0.7
    # equal limits are allowed in both directions
    assert findings.merge_thresholds({"similarity_spread": {"warn": 0.03, "fail": 0.03}})["similarity_spread"] == {
        "warn": 0.03, "fail": 0.03}
    with pytest.raises(ValueError, match=r"^unknown finding 'nope'; known: mean_similarity, similarity_spread"):
        findings.merge_thresholds({"nope": {"warn": 1}})
    with pytest.raises(ValueError, match=r"^unknown check 'nope'"):
        findings.merge_thresholds({"nope": {"warn": 1}}, what="check")
    with pytest.raises(ValueError, match=r"^unknown level 'pass' for mean_similarity; use warn or fail$"):
        findings.merge_thresholds({"mean_similarity": {"pass": 0.1}})
    with pytest.raises(ValueError, match=r"^mean_similarity: warn threshold 0.9 must be at most the fail "
                                         r"threshold 0.8$"):
        findings.merge_thresholds({"mean_similarity": {"warn": 0.9, "fail": 0.8}})
    with pytest.raises(ValueError, match=r"^similarity_spread: warn threshold 0.01 must be at least the fail threshold "
                                         r"0.02$"):
        findings.merge_thresholds({"similarity_spread": {"warn": 0.01}})
    # a custom table of checks
    custom = {"x": findings.Check("x", "X", "x", "lower", 2.0, 1.0, "count", "")}
    assert findings.merge_thresholds({"x": {"warn": 3}}, checks=custom) == {"x": {"warn": 3.0, "fail": 1.0}}
    assert findings.default_thresholds(custom) == {"x": {"warn": 2.0, "fail": 1.0}}
    # the defaults are not changed by an override
    assert CHECKS["mean_similarity"].warn == 0.5 and findings.default_thresholds()["mean_similarity"]["warn"] == 0.5


def test_values_and_limits_as_shown():
    assert findings.format_value(0.012345, "share") == "1.23%"
    assert findings.format_value(0.0001, "share") == "0.01%"
    assert findings.format_value(0.5, "similarity") == "0.500"
    assert findings.format_value(3, "count") == "3.000"
    assert findings.limits_text(CHECKS["mean_similarity"], 0.5, 0.7) == "warn above 0.500, fail above 0.700"
    assert findings.limits_text(CHECKS["similarity_spread"], 0.05, 0.02) == "warn below 0.050, fail below 0.020"
    assert findings.limits_text(CHECKS["opposed_pairs"], 0.0001, 0.01) == "warn above 0.01%, fail above 1%"


STATS = {
    "n": 200, "pairs": 19900, "mean": 0.61, "std": 0.03,
    "near_duplicates": {"threshold": 0.95, "pairs": 7, "items": 9},
    "nearest_neighbour": {"quantiles": {"p05": 0.7, "p50": 0.9, "p95": 0.99}, "items_above_threshold": 9},
    "opposed": {"threshold": -0.5, "pairs": 2, "items": 3},
    "identical_rows": {"rows": 1, "groups": 1},
}


def test_evaluate_values_statuses_and_sentences():
    result = findings.evaluate(STATS, findings.default_thresholds())
    assert [f.id for f in result] == list(CHECKS)
    by_id = {f.id: f for f in result}
    expected = {
        "mean_similarity": (0.61, "warn"),
        "similarity_spread": (0.03, "warn"),
        "near_duplicate_share": (9 / 200, "warn"),
        "opposed_pairs": (2 / 19900, "warn"),
        "neighbour_crowding": (0.9, "warn"),
        "identical_rows": (1 / 200, "warn"),
    }
    for check_id, (value, status) in expected.items():
        f = by_id[check_id]
        c = CHECKS[check_id]
        assert (f.value, f.status) == (value, status), check_id
        assert (f.title, f.threshold, f.warn_threshold, f.worse) == (c.title, c.fail, c.warn, c.worse)
        assert f.to_dict() == {"id": check_id, "title": c.title, "status": status, "value": value,
                               "threshold": c.fail, "warn_threshold": c.warn, "worse": c.worse, "message": f.message}
    assert by_id["mean_similarity"].message == (
        "The mean cosine similarity over all 19,900 distinct pairs is 0.610 (standard deviation 0.030) "
        "(warn above 0.500, fail above 0.700): warn.")
    assert by_id["similarity_spread"].message == (
        "The standard deviation of cosine similarity over all 19,900 pairs is 0.030 around a mean of 0.610 "
        "(warn below 0.050, fail below 0.020): warn.")
    assert by_id["near_duplicate_share"].message == (
        "9 of 200 records (4.5%) have a nearest neighbour at or above 0.95; 7 pairs reach that threshold "
        "(warn above 1%, fail above 5%): warn.")
    assert by_id["opposed_pairs"].message == (
        "2 of 19,900 pairs (0.0101%) have similarity at or below -0.50, involving 3 records "
        "(warn above 0.01%, fail above 1%): warn.")
    assert by_id["neighbour_crowding"].message == (
        "The median record's nearest neighbour has similarity 0.900 (5th percentile 0.700, 95th 0.990) "
        "(warn above 0.850, fail above 0.950): warn.")
    assert by_id["identical_rows"].message == (
        "1 of 200 rows (0.5%) repeat an earlier row exactly, in 1 groups of identical vectors "
        "(warn above 0%, fail above 1%): warn.")


def test_evaluate_uses_the_given_thresholds():
    thresholds = findings.merge_thresholds({"mean_similarity": {"warn": 0.62, "fail": 0.8},
                                            "identical_rows": {"warn": 0.004, "fail": 0.0049}})
    by_id = {f.id: f for f in findings.evaluate(STATS, thresholds)}
    assert by_id["mean_similarity"].status == "pass"
    assert (by_id["mean_similarity"].threshold, by_id["mean_similarity"].warn_threshold) == (0.8, 0.62)
    assert by_id["identical_rows"].status == "fail"


def test_overall_status_is_the_worst():
    def f(status: str) -> Finding:
        return Finding("x", "X", status, 0.0, 0.0, 0.0, "higher", "")

    assert findings.overall_status([]) == "pass"
    assert findings.overall_status([f("pass"), f("pass")]) == "pass"
    assert findings.overall_status([f("pass"), f("warn"), f("pass")]) == "warn"
    assert findings.overall_status([f("warn"), f("fail"), f("pass")]) == "fail"
    assert findings.overall_status([f("fail"), f("warn")]) == "fail"
    assert findings.STATUS_ORDER == {"pass": 0, "warn": 1, "fail": 2}
