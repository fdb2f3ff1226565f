"""Log a simreport document to an MLflow run: flat metrics, each finding as a metric and a
tag, the parameters, and the JSON, HTML and PDF as artifacts.

``mlflow`` is imported when :func:`log_to_mlflow` is called (extra ``simreport[mlflow]``);
the tracking URI is MLflow's own (``MLFLOW_TRACKING_URI`` or ``mlflow.set_tracking_uri``).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable
from pathlib import Path

from simreport.frames import metrics_of

PARAM_LIMIT = 6000  # MLflow's longest parameter value
FORMATS = ("json", "html", "pdf")


def _mlflow():
    try:
        import mlflow
    except ImportError:
        raise ImportError("logging to MLflow needs mlflow: pip install 'simreport[mlflow]'") from None
    return mlflow


def _flatten(prefix: str, value: object, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), item, out)
        return
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    out[prefix] = text[:PARAM_LIMIT]


def params_of(data: dict) -> dict[str, str]:
    """The run's parameters as MLflow parameters: the test's options (thresholds flattened to
    ``thresholds.<id>.warn``), the input's fingerprint and size, the cover and the model."""
    out: dict[str, str] = {}
    _flatten("", data["parameters"], out)
    for key in ("path", "sha256", "array_sha256", "n", "dim", "dtype", "labels"):
        if key in data.get("input", {}):
            _flatten(f"input.{key}", data["input"][key], out)
    for key, value in (data.get("report") or {}).items():
        if value:
            _flatten(f"report.{key}", value, out)
    model = data.get("model") or {}
    for key in ("name", "kind", "source", "fingerprint"):
        if model.get(key) is not None:
            _flatten(f"model.{key}", model[key], out)
    if data.get("kind") == "simreport-comparison":
        for side, name, result in zip("ab", data["names"], data["results"], strict=True):
            out[f"{side}.name"] = name[:PARAM_LIMIT]
            for key in ("sha256", "array_sha256", "n", "dim"):
                _flatten(f"{side}.input.{key}", result["input"].get(key), out)
            for key in ("name", "fingerprint"):
                if (result.get("model") or {}).get(key) is not None:
                    _flatten(f"{side}.model.{key}", result["model"][key], out)
    return out


def tags_of(document) -> dict[str, str]:
    """``simreport.status``, ``simreport.report_id``, ``simreport.kind`` and one
    ``simreport.finding.<id>`` tag per finding holding its status."""
    data = document.to_dict()
    tags = {"simreport.status": document.status, "simreport.report_id": document.report_id(),
            "simreport.kind": data.get("kind", "simreport-result"),
            "simreport.version": data["tool"]["version"]}
    for f in data["findings"]:
        tags[f"simreport.finding.{f['id']}"] = f["status"]
    if data.get("kind") == "simreport-comparison":
        for side, result in zip("ab", data["results"], strict=True):
            tags[f"simreport.{side}.status"] = result["summary"]["status"]
            for f in result["findings"]:
                tags[f"simreport.{side}.finding.{f['id']}"] = f["status"]
    return tags


def _render_files(document, folder: Path, formats: Iterable[str], name: str, templates=None) -> list[Path]:
    paths = []
    for fmt in formats:
        path = folder / f"{name}.{fmt}"
        if fmt == "json":
            path.write_text(document.to_json(), encoding="utf-8")
        elif fmt == "html":
            document.to_html(path, templates=templates)
        elif fmt == "pdf":
            document.to_pdf(path, templates=templates)
        else:
            raise ValueError(f"formats are {', '.join(FORMATS)}, not {fmt!r}")
        paths.append(path)
    return paths


def log_to_mlflow(document, run_id: str | None = None, *, files: Iterable[str | Path] | None = None,
                  formats: Iterable[str] = FORMATS, artifact_path: str = "simreport", name: str = "report",
                  templates: str | Path | None = None) -> str:
    """Log ``document`` (a Result or a Comparison) to MLflow and return the run's ID.

    The run: ``run_id`` when given (resumed), else the active run, else a new run named
    after the report's title (ended again afterwards). Logged: :meth:`metrics` as metrics,
    the parameters, tags (outcome, report ID, each finding's status) and, under
    ``artifact_path``, the documents: ``files`` when given (files already written), else
    ``formats`` rendered now as ``NAME.json``, ``NAME.html``, ``NAME.pdf``.
    """
    mlflow = _mlflow()
    data = document.to_dict()
    active = mlflow.active_run()
    own = not (active is not None and run_id in (None, active.info.run_id))
    if own:
        title = data.get("parameters", {}).get("title") or data.get("title") or "simreport"
        run = mlflow.start_run(run_id=run_id, run_name=None if run_id else title)
    else:
        run = active
    try:
        mlflow.log_params(params_of(data))
        mlflow.log_metrics(metrics_of(data))
        mlflow.set_tags(tags_of(document))
        if files is not None:
            for path in files:
                mlflow.log_artifact(str(path), artifact_path)
        else:
            with tempfile.TemporaryDirectory(prefix="simreport-mlflow-") as tmp:
                _render_files(document, Path(tmp), formats, name, templates)
                mlflow.log_artifacts(tmp, artifact_path)
    finally:
        if own:
            mlflow.end_run()
    return run.info.run_id
