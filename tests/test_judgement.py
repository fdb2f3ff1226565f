"""Judgement that never reassures falsely, on planted data: each rule of issue 9 with a test."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import simreport
from simreport import numbers
from simreport.compare import CompareOptions, compare_embeddings
from simreport.cosine_test import TestOptions
from simreport.findings import CHECKS, COMPARE_CHECKS, judge_at
from simreport.inputs import from_array
from simreport.pictures import decode_picture
from simreport.threshold_set import ThresholdSetError, default_set, load_threshold_set


def unit_rows(n: int, d: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def by_id(result) -> dict:
    return {f.id: f for f in result.findings}


@pytest.fixture(scope="module")
def one_opposed_in_2000():
    x = unit_rows(2000, 256, 1)
    x[1999] = -x[7]  # one negated (corrupted) vector among 2,000 records
    return simreport.run_test(x)


def test_one_opposed_pair_in_2000_is_a_warning_whatever_its_share(one_opposed_in_2000):
    f = by_id(one_opposed_in_2000)["opposed_pairs"]
    assert f.value < 0.0001  # as a share it is far under every limit ...
    assert f.count == 1 and f.status == "warn"  # ... but one pair at or below -0.99 is a defect
    assert "1 pair at or below -0.990" in f.message and "whatever the share" in f.message
    defects = one_opposed_in_2000.opposed["defects"]
    assert defects["pairs"] == 1 and (defects["lowest"][0]["i"], defects["lowest"][0]["j"]) == (7, 1999)
    assert "e-0" not in f.message and "< 0.01%" in f.message  # never scientific notation


def test_the_defect_level_is_a_user_threshold():
    x = unit_rows(300, 64, 2)
    x[299] = -0.9 * x[3] + 0.3 * x[4]
    x[299] /= np.linalg.norm(x[299])
    s = float(x[299] @ x[3])
    assert -0.99 < s < -0.9
    assert by_id(simreport.run_test(x))["opposed_pairs"].count == 0
    stricter = simreport.run_test(x, thresholds={"opposed_pairs": {"defect_similarity": -0.9}})
    f = by_id(stricter)["opposed_pairs"]
    assert f.count == 1 and f.status == "warn"
    with pytest.raises(ValueError, match="defect_similarity"):
        simreport.run_test(x, thresholds={"opposed_pairs": {"defect_similarity": -0.2}})  # above -0.5


def test_one_identical_vector_is_a_warning_whatever_n():
    x = unit_rows(2000, 32, 3)
    x[1500] = x[20]
    f = by_id(simreport.run_test(x))["identical_rows"]
    assert f.count == 1 and f.status == "warn" and f.subject == "data or model"
    relaxed = simreport.run_test(x, thresholds={"identical_rows": {"warn": 0.001, "fail": 0.01}})
    assert by_id(relaxed)["identical_rows"].status == "warn"  # the count rule holds when the share limit is relaxed


@pytest.mark.parametrize("value,limit,margin,expected", [
    (0.01, 0.01, 0.001, ("warn", "warn")),  # exactly at the limit
    (0.0095, 0.01, 0.001, ("warn", "warn")),  # within the margin below it
    (0.0089, 0.01, 0.001, ("pass", None)),  # outside the margin
    (0.0101, 0.01, 0.001, ("warn", None)),  # past it
    (0.01, 0.01, 0.0, ("pass", None)),  # no margin: 'beyond' means strictly past
])
def test_at_the_limit_never_silently_passes(value, limit, margin, expected):
    assert judge_at(value, limit, 0.05, "higher", margin) == expected


def test_at_the_limit_when_lower_is_worse():
    assert judge_at(0.0515, 0.05, 0.02, "lower", 0.002) == ("warn", "warn")
    assert judge_at(0.021, 0.05, 0.02, "lower", 0.002) == ("fail", "fail")


def planted_near_duplicates(n: int, dup_records: int, seed: int = 5) -> np.ndarray:
    """n records, the first dup_records of which have a near-copy (pairs 2k, 2k+1) at about 0.99."""
    x = unit_rows(n, 128, seed)
    noise = unit_rows(n, 128, seed + 1)
    for k in range(0, dup_records, 2):
        y = x[k] + 0.1 * noise[k]
        x[k + 1] = y / np.linalg.norm(y)
    return x


def test_near_duplicates_exactly_at_the_warning_limit_are_not_a_pass():
    x = planted_near_duplicates(1000, 10)  # 10 of 1,000 records = 1.0%, the warning limit
    f = by_id(simreport.run_test(x))["near_duplicate_share"]
    assert f.value == pytest.approx(0.01)
    assert f.status == "warn" and f.at_limit == "warn" and "at the warning limit" in f.message


TEXTS = [f"distinct sentence number {k}" for k in range(400)]


@pytest.fixture(scope="module")
def texts_and_paraphrases():
    """Identical texts (same vector) mixed with paraphrases (distinct texts at about 0.99)."""
    x = unit_rows(400, 128, 9)
    texts = list(TEXTS)
    for a, b in ((10, 11), (20, 21), (30, 31), (40, 41), (50, 52), (51, 53)):  # repeated texts: same text, same vector
        texts[b] = texts[a]
        x[b] = x[a]
    noise = unit_rows(400, 128, 10)
    for a, b in ((100, 101), (200, 201)):  # paraphrases: distinct texts, nearly the same vector
        y = x[a] + 0.08 * noise[a]
        x[b] = y / np.linalg.norm(y)
        texts[b] = texts[a] + " (reworded)"
    return simreport.run_test(x, texts=texts), texts


def test_identical_texts_are_the_datas_finding_paraphrases_the_models(texts_and_paraphrases):
    result, _ = texts_and_paraphrases
    found = by_id(result)
    data = found["duplicate_texts"]
    assert data.subject == "data" and data.count == 6 and data.status == "warn"
    assert result.duplicate_texts["groups"] == 6 and result.duplicate_texts["table"][0]["size"] == 2
    assert all(g["identical_vectors"] for g in result.duplicate_texts["table"])
    model = found["near_duplicate_share"]
    assert model.subject == "model" and model.value == pytest.approx(4 / 400)  # the two paraphrase pairs only
    split = result.near_duplicates["split"]
    assert split["same_text_pairs"] == 6 and split["distinct_text_pairs"] == 2
    listed = [(p["i"], p["j"]) for p in result.near_duplicates["distinct_text_top"]]
    assert sorted(listed) == [(100, 101), (200, 201)]
    ident = found["identical_rows"]
    assert ident.count == 0 and ident.status == "pass" and ident.subject == "model"
    assert "repeat the vector of an identical text" in ident.message


def test_without_texts_the_duplicate_check_is_not_assessed_and_nothing_is_excused():
    x = unit_rows(200, 32, 11)
    x[150] = x[10]
    result = simreport.run_test(x)
    found = by_id(result)
    assert found["duplicate_texts"].status == "na"
    assert found["identical_rows"].status == "warn" and found["near_duplicate_share"].subject == "data or model"


def test_every_finding_states_data_or_model_and_its_evidence(texts_and_paraphrases):
    result, _ = texts_and_paraphrases
    for f in result.findings:
        assert f.subject in ("data", "model", "data or model")
        assert f.evidence and f.evidence in f.message and any(ch.isdigit() for ch in f.evidence)
    assert {f["subject"] for f in json.loads(result.to_json())["findings"]} <= {"data", "model", "data or model"}


# ----------------------------------------------------------------------------- comparisons


def test_a_model_compared_with_itself_is_stated_and_not_informative():
    x = from_array(unit_rows(150, 32, 12))
    c = compare_embeddings(x, x, TestOptions(display_cap=50))
    assert c.agreement["sameness"]["identical_vectors"]
    assert {f.status for f in c.findings} == {"na"}
    assert all(f.note == "not informative" for f in c.findings)
    assert c.summary["own_status"] == "na" and c.summary["counts"]["na"] == len(COMPARE_CHECKS)
    assert c.summary["status"] == max(c.summary["models"], key=["pass", "warn", "fail"].index)  # the models' own


def test_a_comparison_that_judged_nothing_is_not_a_pass_and_older_files_still_read():
    from simreport.render.compare_context import governance_section
    from simreport.results import checked_document
    from simreport.schema import SchemaViolation

    x = from_array(unit_rows(120, 32, 21))
    data = json.loads(compare_embeddings(x, x, TestOptions(display_cap=40)).to_json())
    assert data["summary"]["own_status"] == "na"
    older = json.loads(json.dumps(data))  # as 0.1.1 wrote it: "pass" for a comparison that judged nothing
    older["tool"]["version"] = "0.1.1"
    older["summary"]["own_status"] = "pass"
    document = checked_document(older, "old.json")
    assert document.summary["own_status"] == "pass"  # read as written, not taken for an edited file
    assert governance_section(document, document.a, document.b, "SC-x")["own_word"] == "not informative"
    edited = json.loads(json.dumps(data))  # the same wording in a file of this version is an edit
    edited["summary"]["own_status"] = "pass"
    with pytest.raises(SchemaViolation, match="own_status 'pass' where its findings give 'na'"):
        checked_document(edited, "new.json")


def test_a_comparison_is_as_bad_as_its_worst_model():
    a = unit_rows(200, 256, 13)
    b = a + 0.02 * unit_rows(200, 256, 14)  # nearly the same model: every agreement check passes
    b[199] = b[5]  # ... but B has an identical vector and B's own outcome is a warning
    b[198] = -b[4]
    c = compare_embeddings(from_array(a), from_array(b.astype(np.float32)), TestOptions(display_cap=50))
    assert c.summary["own_status"] == "pass"
    assert c.summary["models"] == ["pass", "warn"]
    assert c.status == "warn"
    failing = compare_embeddings(from_array(a), from_array(b.astype(np.float32)),
                                 TestOptions(display_cap=50, thresholds={"identical_rows": {"fail": 0.0}}),
                                 CompareOptions())
    assert failing.summary["models"][1] == "fail" and failing.status == "fail"


# ----------------------------------------------------------------------------- threshold sets


BANK_SET = """
[set]
name = "Example Bank embedding limits"
version = "3.1"
approved_by = "Model Risk Committee"
date = "2026-10-01"
"""


def bank_set_text(**changes: float) -> str:
    out = [BANK_SET]
    for cid, limits in default_set().limits.items():
        out.append(f"[limits.{cid}]")
        for key, value in limits.items():
            value = changes.get(f"{cid}.{key}", value)
            out.append(f"{key} = {json.dumps(value)}")
    return "\n".join(out) + "\n"


def test_the_shipped_defaults_are_a_threshold_set_with_a_source_for_every_limit():
    shipped = default_set()
    assert shipped.name and shipped.version and shipped.approved_by and shipped.date
    assert set(shipped.limits) == set(CHECKS) | set(COMPARE_CHECKS)
    assert all(limit["source"] for limit in shipped.limits.values())


def test_a_bank_ships_its_own_set_and_the_report_records_it(tmp_path):
    path = tmp_path / "bank-limits.toml"
    path.write_text(bank_set_text(**{"mean_similarity.warn": 0.05}), encoding="utf-8")
    result = simreport.run_test(unit_rows(100, 16, 15) + 0.3, threshold_set=str(path))
    identity = json.loads(result.to_json())["parameters"]["threshold_set"]
    assert identity["name"] == "Example Bank embedding limits" and identity["version"] == "3.1"
    assert identity["approved_by"] == "Model Risk Committee" and identity["file"] == "bank-limits.toml"
    assert by_id(result)["mean_similarity"].warn_threshold == 0.05


def test_a_set_without_a_source_is_refused_naming_the_key(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(bank_set_text().replace('source = "Calibrated by the simreport maintainers on the shipped demo '
                                            '(median', 'note = "x (median', 1), encoding="utf-8")
    with pytest.raises(ThresholdSetError, match=r"limits.neighbour_crowding"):
        load_threshold_set(path, set(CHECKS))


def test_cli_threshold_set_flag(tmp_path, cli):
    path = tmp_path / "bank.toml"
    path.write_text(bank_set_text(), encoding="utf-8")
    np.save(tmp_path / "x.npy", unit_rows(60, 8, 16))
    done = cli("run", str(tmp_path / "x.npy"), "-o", str(tmp_path / "r"), "--format", "json",
                          "--threshold-set", str(path), "--quiet")
    assert done.returncode == 0, done.stderr
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["parameters"]["threshold_set"]["version"] == "3.1"
    missing = cli("run", str(tmp_path / "x.npy"), "-o", str(tmp_path / "q"), "--format", "json",
                             "--threshold-set", str(tmp_path / "nope.toml"), "--quiet")
    assert missing.returncode == 2 and "nope.toml" in missing.stderr and not (tmp_path / "q.json").exists()


# ----------------------------------------------------------------------------- one number style


@pytest.mark.parametrize("value,text", [
    (0.0, "0%"), (5e-7, "< 0.01%"), (0.00005, "< 0.01%"), (0.0123, "1.2%"), (0.05, "5.0%"), (0.346, "35%"),
    (0.9996, "> 99.9%"), (1.0, "100%"), (0.0015, "0.15%"),
])
def test_shares(value, text):
    assert numbers.share(value) == text


def test_similarities_counts_and_plurals():
    assert numbers.similarity(0.23581) == "0.236" and numbers.similarity(-0.0001) == "0.000"
    assert numbers.plural(1, "pair") == "1 pair" and numbers.plural(2, "pair") == "2 pairs"
    assert numbers.plural(141103, "record") == "141,103 records"


def test_nice_ticks():
    assert numbers.nice_ticks(-0.27, 0.24) == [-0.4, -0.2, 0.0, 0.2, 0.4]
    assert numbers.tick_labels(numbers.nice_ticks(0, 141103)) == ["0", "50,000", "100,000", "150,000"]


def test_the_records_view_shows_every_record_of_the_listed_pairs_before_any_sample(one_opposed_in_2000):
    heat = one_opposed_in_2000.heatmap
    assert heat["selection"] == "subset"
    assert 7 in heat["indices"] and 1999 in heat["indices"] and heat["opposed_items"] == 2
    assert "the 2 records of the listed opposed pairs" in heat["description"]
    assert np.isnan(np.diag(decode_picture(heat["values"]))).all()
    # the cluster view says which clusters hold the flagged records, and where they are drawn
    flagged = {r: f["position"] for f in one_opposed_in_2000.clusters["flagged"] for r in f["rows"]}
    assert 7 in flagged and 1999 in flagged
    assert "Where the records of the listed near-duplicate and opposed pairs sit" in one_opposed_in_2000.to_html()


def test_cover_signoff_and_actions_are_recorded_in_the_json():
    report = {"model_id": "EMB-0042", "intended_use": "retrieval of policy documents", "risk_tier": "Tier 2",
              "data_source": "policy library", "data_period": "2025-01 to 2025-06",
              "signoff": {"reviewers": ["A. Jones, validator", "C. Wu, second line"], "approvers": ["B. Smith"],
                          "decision": "accepted with conditions", "conditions": ["re-run after de-duplication"]},
              "actions": {"near_duplicate_share": {"owner": "Data team", "due": "2026-12-31"}}}
    result = simreport.run_test(unit_rows(50, 8, 17), report=report)
    block = json.loads(result.to_json())["report"]
    assert block["model_id"] == "EMB-0042" and block["risk_tier"] == "Tier 2"
    assert block["signoff"]["reviewers"] == ["A. Jones, validator", "C. Wu, second line"]
    assert block["actions"]["near_duplicate_share"]["owner"] == "Data team"
    with pytest.raises(ValueError, match="unknown sign-off"):
        simreport.run_test(unit_rows(50, 8, 17), report={"signoff": {"approver": "x"}})


def test_signoff_and_actions_fill_from_the_configuration_into_the_document(tmp_path, cli):
    np.save(tmp_path / "x.npy", planted_near_duplicates(400, 20))
    (tmp_path / "simreport.toml").write_text(
        '[report]\nmodel_id = "EMB-7"\nintended_use = "routing complaints"\nrisk_tier = "Tier 1"\n'
        '[signoff]\nreviewers = ["A. Jones, validator", "C. Wu, second line"]\napprovers = ["B. Smith"]\n'
        'decision = "accepted with conditions"\nconditions = ["de-duplicate first"]\n'
        '[actions.near_duplicate_share]\nowner = "Data team"\ndue = "2026-12-31"\nresponse = "Agreed."\n',
        encoding="utf-8")
    done = cli("run", str(tmp_path / "x.npy"), "-o", str(tmp_path / "r"), "--format", "json,html", "--quiet",
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    for text in ("EMB-7", "routing complaints", "Tier 1", "A. Jones, validator", "C. Wu, second line", "B. Smith",
                 "de-duplicate first", "Data team", "2026-12-31", "Agreed.", "&#9746; Accepted with conditions"):
        assert text in html, text
    report = json.loads((tmp_path / "r.json").read_text())["report"]
    assert report["signoff"]["decision"] == "accepted with conditions"


def test_number_style_in_the_document(one_opposed_in_2000):
    html = one_opposed_in_2000.to_html()
    text = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    assert "0.00%" not in text and not re.search(r"\d e-0\d|\de-0\d%", text)
    assert not re.search(r"\b1 (pairs|records|rows)\b", re.sub(r"<[^>]+>", " ", text))
    assert "near_<wbr>duplicate_<wbr>share" in html  # ids wrap only at underscores
