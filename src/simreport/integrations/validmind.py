"""simreport's cosine-similarity test as a ValidMind test.

Importing this module registers :func:`CosineSimilarityTest` with ValidMind under
``TEST_ID`` (``simreport.CosineSimilarityTest``), so a ValidMind user runs it like any other::

    import validmind as vm
    from simreport.integrations import validmind as sr_vm

    vm_model = vm.init_model(input_id="embedder", predict_fn=embed_one)   # or any VMModel
    vm_data = vm.init_dataset(frame, input_id="complaints", text_column="text")
    vm_data.assign_predictions(vm_model)                                  # or prediction_values=vectors
    vm.tests.run_test(sr_vm.TEST_ID, inputs={"dataset": vm_data, "model": vm_model})

The test runs simreport's exact engine over all n(n-1)/2 pairs of the model's embeddings of
the dataset and returns ValidMind's outputs: titled tables (findings, statistics, pairs),
titled plotly figures (similarity histogram, heatmap), a pass flag (True only when every
check passes) and the raw data (the full results, and the PDF's path when ``pdf_path`` is
given). Needs ``pip install 'simreport[validmind]'``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

try:
    import validmind as vm
    from validmind import RawData, tags, tasks
except ImportError:  # pragma: no cover - exercised only without the extra
    raise ImportError("the ValidMind test needs validmind: pip install 'simreport[validmind]'") from None

import simreport
from simreport.frames import findings_frame, pairs_frame, result_metrics, threshold_frame
from simreport.pictures import decode_picture

TEST_ID = "simreport.CosineSimilarityTest"
HISTOGRAM_BINS = 200


def embeddings_of(dataset, model) -> np.ndarray:
    """The model's embeddings of the dataset's rows, as an (n, d) array. Predictions already
    assigned to the dataset are used; otherwise they are assigned now (``model.predict``)."""
    if dataset.prediction_column(model) is None:
        dataset.assign_predictions(model)
    vectors = dataset.y_pred(model)
    if vectors.dtype == object:
        vectors = np.stack([np.asarray(v, dtype=np.float64) for v in vectors])
    return np.asarray(vectors)


def labels_of(dataset) -> list[str]:
    """Row labels: the dataset's text column when it has one, else its index."""
    frame = dataset.df
    if getattr(dataset, "text_column", None) and dataset.text_column in frame.columns:
        return [str(v) for v in frame[dataset.text_column].tolist()]
    return [str(v) for v in frame.index.tolist()]


def histogram_figure(result: simreport.Result):
    """Plotly bar chart of all pairwise similarities (the exact fine histogram, merged into
    ``HISTOGRAM_BINS`` bins), with the near-duplicate threshold marked."""
    import plotly.graph_objects as go

    hist = result.stats["histogram"]
    counts, edges = np.asarray(hist["counts"]), np.asarray(hist["edges"])
    step = max(1, len(counts) // HISTOGRAM_BINS)
    merged = np.add.reduceat(counts, np.arange(0, len(counts), step))
    left = edges[:-1:step][: len(merged)]
    width = float(edges[1] - edges[0]) * step
    fig = go.Figure(go.Bar(x=left + width / 2, y=merged, width=width, marker_color="#4c78a8",
                           hovertemplate="similarity %{x:.3f}<br>%{y:,} pairs<extra></extra>"))
    fig.add_vline(x=result.near_duplicates["threshold"], line_dash="dash", line_color="#b2182b",
                  annotation_text="near-duplicate threshold")
    fig.update_layout(title=f"Cosine similarity of all {result.stats['pairs']:,} pairs",
                      xaxis_title="cosine similarity", yaxis_title="pairs", bargap=0)
    return fig


def heatmap_figure(result: simreport.Result):
    """Plotly heatmap of the records view (every record up to the display cap)."""
    import plotly.graph_objects as go

    from simreport.render.figures import heatmap_figure as figure_dict

    params = result.parameters
    spec = figure_dict(result.heatmap, params["color_scale"], params["color_range"],
                       "Cosine similarity between records")
    values = decode_picture(result.heatmap["values"])
    spec["data"][0]["z"] = [[None if np.isnan(v) else round(float(v), 3) for v in row] for row in values]
    spec["data"][0]["y"] = spec["data"][0].get("y") or spec["data"][0]["x"]
    return go.Figure(spec)


def statistics_rows(result: simreport.Result) -> list[dict]:
    metrics = result_metrics(result.to_dict())
    names = ["n", "dim", "pairs", "mean", "std", "min", "max", *result.stats["quantiles"],
             "near_duplicate.pairs", "near_duplicate.items", "opposed.pairs", "opposed.items",
             "nearest_neighbour.mean", "nearest_neighbour.p50", "identical.rows"]
    return [{"statistic": name, "value": metrics[name]} for name in names if name in metrics]


@tags("embeddings", "cosine_similarity", "model_validation", "simreport")
@tasks("feature_extraction", "text_classification", "text_qa", "text_summarization", "text_generation")
def CosineSimilarityTest(dataset, model, near_duplicate_threshold: float = 0.95, opposed_threshold: float = -0.5,
                         thresholds: dict | None = None, display_cap: int = 300, seed: int = 0,
                         title: str | None = None, pdf_path: str | None = None):
    """
    Measures the cosine similarity of every pair of a model's embeddings, exactly, and judges
    the signs of a collapsed or redundant embedding space against stated thresholds.

    ### Purpose

    An embedding model is only useful when different texts get distinguishable vectors. This
    test shows whether the model spreads the dataset's records over the space or crowds them
    together, and whether the dataset holds near-copies that the model cannot tell apart.

    ### Test Mechanism

    simreport embeds nothing itself: it takes the model's predictions for the dataset (one
    vector per row), normalises them and computes the cosine similarity of all n(n-1)/2
    pairs in tiles, without ever holding the n x n matrix. The mean and standard deviation are
    exact (from the sum vector and the Gram matrix); the histogram, the pair counts at each
    threshold, each record's nearest neighbour and the listed pairs come from the tiled pass.
    Six checks are judged: mean similarity, spread, share of records with a near-duplicate,
    strongly opposed pairs, nearest-neighbour crowding and identical rows.

    ### Signs of High Risk

    - A high mean similarity or a small spread: the space has collapsed into a narrow cone.
    - Many records whose nearest neighbour is a near-duplicate, or a typical record whose
      nearest neighbour is almost identical.
    - Strongly opposed pairs, which text models rarely produce (inverted or corrupted vectors).
    - Exactly identical vectors, usually a pipeline fault.

    ### Strengths

    - Exact statistics over every pair, not a sample; the same numbers as simreport's own
      HTML and PDF reports, which can be written alongside (``pdf_path``).
    - Every threshold is stated and can be changed (``thresholds``).

    ### Limitations

    - Cosine similarity sees direction only; it says nothing about the task performance of
      the embeddings.
    - The default thresholds suit sentence embeddings; other models may need other limits.
    """
    vectors = embeddings_of(dataset, model)
    name = getattr(model, "input_id", None) or getattr(model, "name", None) or "model"
    result = simreport.run_test(
        vectors, labels=labels_of(dataset), title=title or f"Cosine similarity test: {name}",
        near_duplicate_threshold=near_duplicate_threshold, opposed_threshold=opposed_threshold,
        thresholds=thresholds or {}, display_cap=display_cap, seed=seed)
    result.report = {"title": result.parameters["title"], "model": str(name),
                     "dataset": str(getattr(dataset, "input_id", "") or "")}
    if pdf_path is not None:
        result.to_pdf(Path(pdf_path))
    tables = {
        "Checks (simreport)": findings_frame(result.to_dict()),
        "Pairwise similarity statistics": statistics_rows(result),
        "Pairs at or above each similarity threshold": threshold_frame(result.to_dict()),
    }
    pairs = pairs_frame(result.to_dict(), "near_duplicate")
    if len(pairs):
        tables["Near-duplicate pairs"] = pairs.drop(columns=["list"])
    figures = {"Similarity of all pairs": histogram_figure(result),
               "Heatmap of cosine similarity": heatmap_figure(result)}
    raw = RawData(results=result.to_dict(), report_id=result.report_id(), status=result.status,
                  pdf_path=str(pdf_path) if pdf_path is not None else None,
                  model=getattr(model, "input_id", None), dataset=getattr(dataset, "input_id", None))
    return tables, figures, result.status == "pass", raw


run_cosine_similarity_test = vm.test(TEST_ID)(CosineSimilarityTest)
