"""What a model-risk file needs around the numbers: the cover's inventory facts, the
threshold set's identity, findings with their meaning and actions, and the sign-off.

Plain data for the templates of both documents (single run and comparison). The texts
that say what a finding means and what to do are written here, per check; the user's
configuration (``[actions.ID]``) can replace the action and fills owner, due date and
response.
"""

from __future__ import annotations

from html import escape

from markupsafe import Markup

from simreport import numbers
from simreport.findings import ALL_CHECKS, STATUS_WORDS, SUBJECT_WORDS, Finding


def breakable_id(check_id: str) -> Markup:
    """A check id that may wrap only after an underscore, never inside a word."""
    return Markup("_<wbr>".join(escape(part) for part in check_id.split("_")))

NOT_STATED = "not stated"
DECISIONS = ("accepted", "accepted with conditions", "rejected")

# check id -> (what a warning or failure means for the intended use, the recommended action)
MEANING: dict[str, tuple[str, str]] = {
    "mean_similarity": (
        "Most records look alike to the model, so rankings for {use} rest on small differences and a fixed "
        "similarity threshold will accept unrelated records.",
        "Check the input pipeline (pooling, normalisation, truncation); compare with a reference model on the same "
        "records; do not set similarity thresholds for {use} until the cause is known."),
    "similarity_spread": (
        "The model gives almost every pair the same similarity, so {use} cannot separate related from unrelated "
        "records by a threshold.",
        "Test a threshold on labelled pairs before relying on it; compare with a reference model; look for a "
        "collapsed or wrongly pooled embedding."),
    "near_duplicate_share": (
        "Distinct texts that the model places almost on top of each other are interchangeable for {use}: one will "
        "be returned or routed in place of the other.",
        "Read the listed distinct-text pairs. Where they differ in meaning, record the model's blind spot and test "
        "its effect on {use}; where they are the same content, treat them as data duplicates."),
    "opposed_pairs": (
        "Pairs in nearly opposite directions are rare for text models; the listed ones point to negated, "
        "corrupted or wrongly scaled vectors that will rank last for {use} whatever their content.",
        "Trace the listed records through the embedding pipeline (sign flips, failed inputs, mixed model "
        "versions) and re-embed them; re-run the test."),
    "neighbour_crowding": (
        "The typical record has a very close neighbour, so small changes in the text or the model reorder the "
        "nearest neighbours that {use} relies on.",
        "Measure the stability of nearest-neighbour results for {use} on perturbed inputs; consider a model with "
        "more spread."),
    "identical_rows": (
        "Different inputs received bit-identical vectors: for {use} these records cannot be told apart, and the "
        "cause is usually a fallback vector, truncation or a pipeline fault rather than the texts.",
        "Look up the repeated vectors' records; fix the pipeline step that produced them and re-embed; re-run the "
        "test."),
    "duplicate_texts": (
        "The validation data repeats texts, so every share in this report counts those texts more than once and "
        "near-duplicate figures are inflated by the data, not the model.",
        "The data owner decides whether repeats belong in the data: de-duplicate and re-run, or record why they "
        "stay (for example repeated standard wording)."),
    "crowding_gap": (
        "One model packs the same records much closer together, so switching models changes which neighbours "
        "{use} returns.",
        "Re-validate the nearest-neighbour behaviour {use} depends on with the more crowded model before switching."),
    "near_duplicate_gap": (
        "One model merges many more distinct records than the other; for {use} those records become "
        "interchangeable under it.",
        "Read the pairs listed as near-duplicates under one model only and decide whether the merging is "
        "acceptable for {use}."),
    "spread_ratio": (
        "One model separates the same records less clearly, so thresholds set on the other model do not carry "
        "over to it.",
        "Recalibrate every similarity threshold used for {use} on the new model."),
    "similarity_agreement": (
        "The two models rank pairs differently, so results of {use} will change noticeably when one replaces the "
        "other.",
        "Treat the replacement as a new model for {use}: validate it in full rather than by comparison."),
    "neighbour_agreement": (
        "Users of {use} will see different nearest neighbours for most records after a switch.",
        "Review the records whose neighbours changed most (listed in the report) with the business owner of "
        "{use} before switching."),
}


def _use(report: dict | None) -> str:
    use = (report or {}).get("intended_use")
    return f"the intended use ({use})" if use else "the model's use (not stated on the cover)"


def finding_actions(findings: list[Finding], report: dict | None, anchor_prefix: str = "finding") -> list[dict]:
    """One entry per finding that is not a pass: what it means for the intended use, the
    recommended action, and owner, due date and response (blank when not configured)."""
    configured = (report or {}).get("actions") or {}
    use = _use(report)
    out = []
    for f in findings:
        if f.status == "pass":
            continue
        meaning, action = MEANING.get(f.id, ("", ""))
        if f.status == "na":
            meaning = f"Not judged: {f.evidence.rstrip('.')}." if f.evidence else "Not judged."
            action = ("None needed for this run." if f.note == "not informative"
                      else "Supply the records' texts (or set labels_are_texts) to assess it.")
        given = configured.get(f.id) or {}
        out.append({
            "id": f.id, "id_html": breakable_id(f.id), "title": f.title, "status": f.status,
            "anchor": f"{anchor_prefix}-{f.id}",
            "status_word": (f.note[:1].upper() + f.note[1:]) if f.status == "na" and f.note
            else STATUS_WORDS[f.status],
            "subject": SUBJECT_WORDS.get(f.subject, f.subject),
            "meaning": meaning.format(use=use),
            "action": given.get("action") or action.format(use=use),
            "action_source": "configuration" if given.get("action") else "recommended by simreport",
            "owner": given.get("owner", ""), "due": given.get("due", ""), "response": given.get("response", ""),
        })
    return out


def cover_rows(report: dict | None, threshold_set: dict | None) -> list[tuple[str, str]]:
    """The model-inventory facts for the cover, 'not stated' where the configuration is silent."""
    info = report or {}
    model = info.get("model") or NOT_STATED
    if info.get("model") and info.get("model_version"):
        model = f"{info['model']} (version {info['model_version']})"
    rows = [("Model", model), ("Model ID", info.get("model_id") or NOT_STATED),
            ("Intended use", info.get("intended_use") or NOT_STATED),
            ("Risk tier", info.get("risk_tier") or NOT_STATED),
            ("Dataset", info.get("dataset") or NOT_STATED),
            ("Data source", info.get("data_source") or NOT_STATED),
            ("Data period", info.get("data_period") or NOT_STATED),
            ("Owner", info.get("owner") or NOT_STATED), ("Validator", info.get("validator") or NOT_STATED)]
    if threshold_set:
        rows.append(("Threshold set", threshold_set_line(threshold_set)))
    return rows


def threshold_set_line(identity: dict) -> str:
    """'NAME, version V, approved by A on D' (+ overrides)."""
    text = (f"{identity['name']}, version {identity['version']}, approved by {identity['approved_by']} "
            f"on {identity['date']}")
    overrides = identity.get("overrides") or {}
    if overrides:
        changed = ", ".join(f"{cid}.{level} = {value:g}" for cid, levels in overrides.items()
                            for level, value in levels.items())
        text += f"; changed for this run: {changed}"
    return text


def threshold_set_rows(identity: dict | None) -> list[tuple[str, str]]:
    """The set's identity for the appendix."""
    if not identity:
        return []
    rows = [("Name", identity["name"]), ("Version", identity["version"]), ("Approved by", identity["approved_by"]),
            ("Date", identity["date"]), ("File", identity["file"]), ("SHA-256", identity["sha256"])]
    overrides = identity.get("overrides") or {}
    rows.append(("Changed for this run", ", ".join(f"{cid}.{level} = {value:g}" for cid, levels in overrides.items()
                                                   for level, value in levels.items()) or "nothing"))
    return rows


def limit_rows(thresholds: dict, ids: list[str], identity: dict | None) -> list[dict]:
    """Every check's limits with its margin, defect rule, what it measures and its source."""
    sources = (identity or {}).get("sources") or {}
    rows = []
    for cid in ids:
        check = ALL_CHECKS[cid]
        lim = thresholds[cid]
        word = "above" if check.worse == "higher" else "below"
        extra = []
        if lim.get("margin"):
            extra.append("margin " + (numbers.percentage_points(lim["margin"]) if check.unit == "share"
                                      else numbers.value(lim["margin"], check.unit)))
        if lim.get("warn_count"):
            extra.append(f"warning at {numbers.plural(int(lim['warn_count']), check.counts or 'defect')}"
                         + (f" at or below {numbers.similarity(lim['defect_similarity'])}"
                            if "defect_similarity" in lim else ""))
        rows.append({"id": cid, "id_html": breakable_id(cid), "title": check.title, "measure": check.measure,
                     "subject": check.subject, "worse": check.worse,
                     "warn": f"{word} {numbers.value(lim['warn'], check.unit)}",
                     "fail": f"{word} {numbers.value(lim['fail'], check.unit)}",
                     "rules": "; ".join(extra), "rationale": check.rationale,
                     "source": sources.get(cid, "not recorded (results written before threshold sets)")})
    return rows


def signoff(report: dict | None, report_id: str) -> dict:
    """The sign-off page: reviewers and approvers (named ones first, then blank lines),
    the decision (ticked when configured), conditions and comments."""
    block = (report or {}).get("signoff") or {}

    def people(names: list[str], blank: int) -> list[str]:
        return list(names) + [""] * max(blank - len(names), 0)

    decision = block.get("decision")
    return {
        "report_id": report_id,
        "reviewers": people(block.get("reviewers") or [], 2),
        "approvers": people(block.get("approvers") or [], 1),
        "decisions": [{"text": d, "ticked": d == decision} for d in DECISIONS],
        "decided": decision is not None,
        "conditions": list(block.get("conditions") or []),
        "comments": block.get("comments") or "",
    }


def duplicate_text_rows(block: dict | None) -> dict | None:
    """The repeated-texts table: one row per group (text, size, rows, whether the vectors agree)."""
    if not block:
        return None
    rows = []
    for g in block["table"]:
        shown = ", ".join(str(r) for r in g["rows"])
        if g["size"] > len(g["rows"]):
            shown += f", ... ({numbers.plural(g['size'], 'row')} in all)"
        rows.append({"text": g["text"], "size": numbers.count(g["size"]), "rows": shown,
                     "vectors": "identical" if g["identical_vectors"]
                     else f"differ (lowest similarity {numbers.similarity(g['min_similarity'])})"})
    return {"rows": rows, "groups": numbers.plural(block["groups"], "group"),
            "records": numbers.plural(block["rows"], "record"),
            "listed": block["listed"], "more": block["groups"] - block["listed"]}
