"""What a run says when it ends, and whether CI should stop on it.

Every ``run``, ``demo`` and ``compare`` prints one line to stdout: the outcome, the
pass/warn/fail counts, the report ID and the files written (``--summary-json``: the same as
one JSON object). ``--fail-on warn|fail`` turns the outcome into exit code 4, after every file
is written, so CI can gate on it and still keep the reports.
"""

from __future__ import annotations

import json
from pathlib import Path

FAIL_ON_LEVELS = ("never", "warn", "fail")
EXIT_GATED = 4
_LEVEL = {"na": 0, "pass": 0, "warn": 1, "fail": 2}  # not assessed gates like a pass

EXIT_CODES_HELP = ("Exit codes: 0 done (and the outcome is below --fail-on); 1 unexpected failure; "
                   "2 bad input or option (nothing written); 4 the outcome reached --fail-on (all files "
                   "written); 130 interrupted (nothing written).")


def gate_status(document) -> str:
    """The status CI gates on: the document's outcome; for a comparison, the worst of the
    comparison's own checks and each model's outcome (a failing model fails the gate)."""
    statuses = [document.status]
    for result in getattr(document, "results", None) or []:
        statuses.append(result["summary"]["status"])
    return max(statuses, key=_LEVEL.__getitem__)


def reaches(status: str, fail_on: str) -> bool:
    """True when ``status`` is at or beyond the ``fail_on`` level (never: never)."""
    if fail_on not in FAIL_ON_LEVELS:
        raise ValueError(f"fail_on must be one of {', '.join(FAIL_ON_LEVELS)}, not {fail_on!r}")
    return fail_on != "never" and _LEVEL[status] >= _LEVEL[fail_on]


def summary(document, files: list[Path], fail_on: str, report_id: str) -> dict:
    """The outcome of one run as plain data (what ``--summary-json`` prints); ``report_id``: the
    ID of the JSON as written (the document is not serialised again for it)."""
    status = gate_status(document)
    out = {
        "status": document.status,
        "counts": dict(document.summary["counts"]),
        "report_id": report_id,
        "kind": "comparison" if getattr(document, "results", None) else "run",
        "files": [str(p) for p in files],
        "fail_on": fail_on,
        "gated": reaches(status, fail_on),
        "exit_code": EXIT_GATED if reaches(status, fail_on) else 0,
    }
    if out["kind"] == "comparison":
        out["models"] = {name: r["summary"]["status"] for name, r in zip(document.names, document.results,
                                                                          strict=True)}
        out["gate_status"] = status
        out["comparison_status"] = document.summary.get("own_status", document.status)
    out["findings"] = {f["id"]: f["status"] for f in document.findings_data}
    return out


def line(data: dict) -> str:
    """One line for a terminal or a CI log."""
    counts = data["counts"]
    tally = f"{counts.get('pass', 0)} pass, {counts.get('warn', 0)} warn, {counts.get('fail', 0)} fail"
    if data["kind"] == "comparison":  # overall: the worst of the comparison and the two models
        models = ", ".join(f"{name} {status.upper()}" for name, status in data["models"].items())
        own = "NOT INFORMATIVE" if data["comparison_status"] == "na" else data["comparison_status"].upper()
        text = (f"simreport: {data['gate_status'].upper()} (comparison {own}: {tally}; "
                f"models {models})")
    else:
        text = f"simreport: {data['status'].upper()} ({tally})"
    text += f"; report {data['report_id']}"
    text += "; files " + (", ".join(data["files"]) if data["files"] else "none")
    if data["gated"]:
        text += f"; exit {EXIT_GATED} (--fail-on {data['fail_on']})"
    return text


def as_json(data: dict) -> str:
    """The summary as one line of JSON."""
    return json.dumps(data, ensure_ascii=False, sort_keys=False)
