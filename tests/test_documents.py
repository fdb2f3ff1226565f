"""Documents for a governance file: PDF/A, attached evidence and verify, cover, templates, config."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter

from conftest import planted_embeddings, run_cli

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
COVER = {"--model-name": "Complaints encoder", "--model-version": "3.2", "--dataset": "Complaints Q3",
         "--owner": "Retail Analytics", "--validator": "MRM Team"}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("documents")
    x, _ = planted_embeddings(n=120, d=16)
    np.save(folder / "emb.npy", x)
    (folder / "labels.txt").write_text("".join(f"record {k}\n" for k in range(120)), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def report(workdir) -> Path:
    args = [a for pair in COVER.items() for a in pair]
    proc = run_cli("run", str(workdir / "emb.npy"), "-o", str(workdir / "out" / "r"), "--labels",
                   str(workdir / "labels.txt"), "--attach-data", "--quiet", *args, cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    return workdir / "out" / "r.pdf"


def pdf_text(path: Path, *pages: int) -> str:
    args = ["pdftotext", "-layout"]
    if pages:
        args += ["-f", str(pages[0]), "-l", str(pages[-1])]
    return subprocess.run([*args, str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_pdf_declares_pdfa3b_with_metadata_and_language(report):
    reader = PdfReader(report)
    xmp = reader.xmp_metadata.stream.get_data().decode("utf-8")
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert "Complaints encoder" in xmp  # subject / keywords carry the model
    info = reader.metadata
    assert info["/Title"] == "Cosine similarity test"
    assert "MRM Team" in info["/Author"]
    assert "Complaints encoder" in info["/Subject"] and "Complaints encoder" in info["/Keywords"]
    root = reader.trailer["/Root"]
    assert str(root["/Lang"]) == "en"
    assert "sRGB" in str(root["/OutputIntents"][0].get_object()["/OutputConditionIdentifier"])
    spec = root["/Names"]["/EmbeddedFiles"]["/Names"][1].get_object()
    assert spec["/AFRelationship"] == "/Data" and spec["/EF"]["/F"].get_object()["/Subtype"] == "/application/json"
    fonts = [page["/Resources"]["/Font"][name].get_object() for page in reader.pages
             for name in page["/Resources"].get("/Font", {})]
    assert fonts and all("/FontFile2" in f["/DescendantFonts"][0].get_object()["/FontDescriptor"]
                         or "/FontFile3" in f["/DescendantFonts"][0].get_object()["/FontDescriptor"]
                         for f in fonts if "/DescendantFonts" in f)


def test_results_and_data_are_attached(report):
    attachments = PdfReader(report).attachments
    assert set(attachments) == {"simreport-results.json", "labels.txt", "input-fingerprint.json"}
    attached = attachments["simreport-results.json"][0]
    assert attached == (report.parent / "r.json").read_bytes()
    assert attachments["labels.txt"][0].decode().splitlines()[:2] == ["record 0", "record 1"]


def test_cover_toc_header_footer_and_signoff(report):
    first = pdf_text(report, 1)
    for value in COVER.values():
        assert value in first
    result = json.loads((report.parent / "r.json").read_text())
    report_id = re.search(r"SR-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}", first).group(0)
    assert "Overall outcome" in first and "Contents" in first
    assert re.search(r"Signs of High Risk\s*\.+\s*\d+", first)  # contents with page numbers
    pages = len(PdfReader(report).pages)
    second = pdf_text(report, 2)
    assert f"Report {report_id}" in second and f"Page 2 of {pages}" in second
    last = pdf_text(report, pages)
    assert "Review and sign-off" in last and "Decision" in last and "Signature" in last
    assert result["report"]["model"] == "Complaints encoder"


def test_every_page_renders_with_ink(report, tmp_path):
    subprocess.run(["pdftoppm", "-png", "-r", "30", str(report), str(tmp_path / "page")], check=True)
    images = sorted(tmp_path.glob("page*.png"))
    assert len(images) == len(PdfReader(report).pages)
    for image in images:
        pixels = np.asarray(Image.open(image).convert("L"), dtype=np.float64)
        assert (pixels < 200).mean() > 0.005, image.name


def test_charts_are_vector_graphics(report):
    reader = PdfReader(report)
    images = {}
    for page in reader.pages:
        xobjects = page["/Resources"].get("/XObject") or {}
        for name in xobjects:
            obj = xobjects[name].get_object()
            if obj.get("/Subtype") == "/Image":
                images[name] = (obj["/Width"], obj["/Height"], obj.get("/Interpolate"))
    # the rasters are the heatmap (inside its SVG axes), one pixel per record, and its colour bar,
    # one pixel per colour, both drawn without smoothing so cells stay sharp at any zoom; both
    # histograms are vector drawings
    assert sorted(images.values()) == [(1, 128, False), (120, 120, False)]
    text = pdf_text(report)
    assert "Distribution of cosine similarity" in text and "nearest neighbour" in text


def test_verify_passes_and_checks_the_input(report, workdir):
    proc = run_cli("verify", str(report), str(workdir / "emb.npy"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Complaints encoder 3.2" in proc.stdout and "FAIL" not in proc.stdout
    other = workdir / "other.npy"
    np.save(other, np.load(workdir / "emb.npy")[::-1])
    proc = run_cli("verify", str(report), str(other))
    assert proc.returncode == 3
    assert "FAIL  SHA-256 of other.npy" in proc.stdout


def test_verify_detects_a_changed_attachment(report, tmp_path):
    reader = PdfReader(report)
    data = json.loads(reader.attachments["simreport-results.json"][0])
    data["summary"]["status"] = "pass"  # someone edits the evidence
    writer = PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    writer.add_metadata({k: v for k, v in reader.metadata.items()})
    writer.add_attachment("simreport-results.json", json.dumps(data, indent=1).encode())
    tampered = tmp_path / "tampered.pdf"
    with open(tampered, "wb") as handle:
        writer.write(handle)
    proc = run_cli("verify", str(tampered))
    assert proc.returncode == 3
    assert "FAIL  report ID in the PDF metadata matches" in proc.stdout


def test_verify_rejects_a_pdf_without_evidence(tmp_path):
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    plain = tmp_path / "plain.pdf"
    with open(plain, "wb") as handle:
        writer.write(handle)
    proc = run_cli("verify", str(plain))
    assert proc.returncode == 2 and "simreport-results.json" in proc.stderr


def test_pdf_ua_variant_renders(workdir, tmp_path):
    proc = run_cli("run", str(workdir / "emb.npy"), "-o", str(tmp_path / "ua"), "--format", "pdf",
                   "--pdf-variant", "pdf/ua-1", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "/StructTreeRoot" in str(PdfReader(tmp_path / "ua.pdf").trailer["/Root"].keys())


def _without_cover(html: str) -> str:
    return re.sub(r'<header class="cover".*?</header>', "", html, flags=re.S)


def test_custom_templates_change_the_cover_and_nothing_else(report, tmp_path):
    results = report.parent / "r.json"
    custom_dir = tmp_path / "mine" / "partials"
    custom_dir.mkdir(parents=True)
    (custom_dir / "cover.html.j2").write_text(
        '<header class="cover" id="top"><h1>House style: {{ report.title }}</h1>'
        '<p class="report-id">{{ report.report_id }}</p></header>\n', encoding="utf-8")
    plain = run_cli("render", str(results), "-o", str(tmp_path / "plain"), "--quiet")
    styled = run_cli("render", str(results), "-o", str(tmp_path / "styled"), "--templates", str(tmp_path / "mine"),
                     "--quiet")
    assert plain.returncode == 0 and styled.returncode == 0, styled.stderr
    a = (tmp_path / "plain.html").read_text(encoding="utf-8")
    b = (tmp_path / "styled.html").read_text(encoding="utf-8")
    assert "House style: Cosine similarity test" in b and "House style" not in a
    assert "Complaints encoder" in _cover(a) and "Complaints encoder" not in _cover(b)
    assert _without_cover(a) == _without_cover(b)
    assert "House style" in pdf_text(tmp_path / "styled.pdf", 1)
    assert "House style" not in pdf_text(tmp_path / "plain.pdf", 1)


def _cover(html: str) -> str:
    return re.search(r'<header class="cover".*?</header>', html, flags=re.S).group(0)


def test_shipped_example_templates_render(workdir, tmp_path):
    proc = run_cli("run", str(workdir / "emb.npy"), "-o", str(tmp_path / "ex"), "--format", "html",
                   "--config", str(EXAMPLES / "simreport.toml"), "--quiet")
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "ex.html").read_text(encoding="utf-8")
    assert "Example Bank plc" in html and "complaints-encoder (version 3.2.0)" in html
    assert "#0b3d6e" in html  # the head_extra block of the example report.html.j2


def test_config_file_flags_precedence_and_show(tmp_path, workdir):
    (tmp_path / "simreport.toml").write_text(
        '[report]\ntitle = "From file"\nowner = "File owner"\n[test]\ndisplay_cap = 50\n'
        '[thresholds]\nmean_similarity = { warn = 0.4 }\n', encoding="utf-8")
    shown = run_cli("config", "--show", "--title", "From flag", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert 'title = "From flag"' in shown.stdout and 'owner = "File owner"' in shown.stdout
    assert "display_cap = 50" in shown.stdout and "mean_similarity = { warn = 0.4 }" in shown.stdout
    proc = run_cli("run", str(workdir / "emb.npy"), "-o", str(tmp_path / "r"), "--format", "json", "--title",
                   "From flag", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["parameters"]["title"] == "From flag" and result["parameters"]["display_cap"] == 50
    assert result["report"]["owner"] == "File owner"
    assert result["parameters"]["thresholds"]["mean_similarity"] == {"warn": 0.4, "fail": 0.7, "margin": 0.005}
    assert result["parameters"]["threshold_set"]["overrides"] == {"mean_similarity": {"warn": 0.4}}
    assert result["configuration"]["sources"]["config_file"] == "simreport.toml"
    assert result["configuration"]["test"]["display_cap"] == 50


@pytest.mark.parametrize("text,needle", [
    ("[test]\ndisplay_capp = 3\n", "test.display_capp"),
    ("[tests]\n", "[tests]"),
    ("[test]\ndisplay_cap = 1\n", "test.display_cap"),
    ('[render]\ncolor_range = "wide"\n', "render.color_range"),
    ("[thresholds]\nmean_similarity = { worry = 1 }\n", "thresholds.mean_similarity"),
    ("[report\n", "not valid TOML"),
])
def test_bad_config_is_an_error_naming_the_key(tmp_path, workdir, text, needle):
    config = tmp_path / "bad.toml"
    config.write_text(text, encoding="utf-8")
    proc = run_cli("run", str(workdir / "emb.npy"), "-o", str(tmp_path / "r"), "--config", str(config))
    assert proc.returncode == 2
    assert needle in proc.stderr and "bad.toml" in proc.stderr
    assert not list(tmp_path.glob("r.*"))


@pytest.mark.parametrize("mode", ["inline", "directory", "cdn"])
def test_plotlyjs_modes(workdir, tmp_path, mode):
    proc = run_cli("run", str(workdir / "emb.npy"), "-o", str(tmp_path / "r"), "--format", "html",
                   "--plotlyjs", mode, "--quiet")
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    if mode == "inline":  # the cartesian partial bundle (1.5 MB; 0.66 MB packed), not the full plotly.js (4.6 MB)
        assert "<script src=" not in html and 700_000 < len(html) < 1_500_000
        from simreport.render.html import plotly_js

        packed = re.search(r'id="simreport-plotlyjs-gzip">([A-Za-z0-9+/=]+)</script>', html).group(1)
        assert gzip.decompress(base64.b64decode(packed)).decode("utf-8") == plotly_js()
    elif mode == "directory":
        bundle = tmp_path / "plotly-cartesian.min.js"
        assert '<script src="plotly-cartesian.min.js"' in html and bundle.stat().st_size > 1_400_000
        assert len(html) < 500_000
    else:
        assert re.search(r'<script src="https://cdn\.plot\.ly/plotly-cartesian-[\d.]+\.min\.js"', html)


def test_shipped_plotlyjs_is_the_partial_bundle_of_the_installed_plotlys_version():
    from plotly.offline.offline import get_plotlyjs_version

    from simreport.render.html import VENDOR, plotly_js, plotly_js_version

    assert plotly_js_version() == get_plotlyjs_version()
    # the shipped gzip file unpacks to the npm package's file, byte for byte (its SHA-256 in vendor/README.md)
    digest = hashlib.sha256(plotly_js().encode("utf-8")).hexdigest()
    assert digest in (VENDOR / "README.md").read_text(encoding="utf-8")
    assert plotly_js().startswith("/**\n* plotly.js (cartesian - minified) v")
    assert "</script" not in plotly_js().lower()
    licence = (VENDOR / "plotly-cartesian.LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License") and "Plotly" in licence
    assert plotly_js_version() in (VENDOR / "README.md").read_text(encoding="utf-8")


def test_html_has_contents_anchors_and_json_tools(workdir, tmp_path):
    proc = run_cli("run", str(workdir / "emb.npy"), "-o", str(tmp_path / "r"), "--format", "html", "--quiet")
    assert proc.returncode == 0
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    for anchor in ("summary", "purpose", "mechanism", "risk", "heatmap", "limitations", "appendix",
                   "finding-mean_similarity", "finding-near_duplicate_share"):
        assert f'id="{anchor}"' in html and (f'href="#{anchor}"' in html)
    assert "Copy results JSON" in html and "Download results JSON" in html
    assert "@media print" in html


def test_html_stays_under_2_mb_with_long_labels(tmp_path):
    """The largest HTML: more records than the display cap (records view and cluster view, their
    labels in the embedded JSON and in the figures) and 200-character labels."""
    rng = np.random.default_rng(2)
    np.save(tmp_path / "emb.npy", rng.standard_normal((2500, 16)).astype(np.float32))
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz "))
    (tmp_path / "labels.txt").write_text("".join(f"{k} {''.join(rng.choice(letters, 200))}\n" for k in range(2500)))
    proc = run_cli("run", str(tmp_path / "emb.npy"), "--labels", str(tmp_path / "labels.txt"), "-o",
                   str(tmp_path / "r"), "--format", "json,html", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "r.json").stat().st_size > 400_000  # the labels really are in it
    assert (tmp_path / "r.html").stat().st_size < 2_000_000
