"""Messages and help that guide: the hint to embed a text column, the rule for a DataFrame's
label column, and (CLI) help texts, exit codes and the outcome line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simreport
from conftest import run_cli
from simreport.inputs import InputError


def test_a_text_csv_without_text_column_says_how_to_embed_it(tmp_path):
    path = tmp_path / "jokes.csv"
    pd.DataFrame({"id": [1, 2, 3], "joke": ["A horse walks into a bar.", "Knock knock.", "Two atoms..."]}).to_csv(
        path, index=False)
    proc = run_cli("run", str(path), "-o", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert "column 'joke' holds text" in proc.stderr
    assert "--text-column joke --model MODEL" in proc.stderr and "--label-column joke" in proc.stderr
    assert not list(tmp_path.glob("out*"))
    with pytest.raises(InputError, match=r"text_column='joke' and model="):
        simreport.run_test(pd.read_csv(path).drop(columns="id"))


def test_the_label_column_of_a_dataframe_follows_a_stated_rule():
    vectors = list(np.random.default_rng(0).normal(size=(6, 8)))
    one = pd.DataFrame({"name": list("abcdef"), "embedding": vectors})
    assert simreport.run_test(one).input["labels"] == "column name"  # the one text column
    two = one.assign(source=list("uvwxyz"))
    with pytest.raises(InputError, match=r"2 columns hold text \('name', 'source'\).*label_column='name'"):
        simreport.run_test(two)  # ambiguous: never silently row numbers
    chosen = simreport.run_test(two, label_column="source")
    assert chosen.input["labels"] == "column source" and set(chosen.heatmap["labels"]) == set("uvwxyz")
    with pytest.raises(InputError, match="no column named 'nope'"):
        simreport.run_test(two, label_column="nope")
    numbers = simreport.run_test(pd.DataFrame({"embedding": vectors}))
    assert numbers.input["labels"] == "index"


def test_top_level_help_gives_each_command_a_full_line():
    import os

    proc = run_cli("--help", env={**os.environ, "COLUMNS": "80"})
    assert proc.returncode == 0
    commands = proc.stdout.split("Commands:")[1].strip().splitlines()
    assert {line.split()[0] for line in commands} == {"compare", "config", "demo", "render", "run", "schema",
                                                                "verify"}
    for line in commands:
        assert not line.rstrip().endswith("...") and line.rstrip().endswith("."), line
    assert "Test embeddings (or texts with --model); write the report." in proc.stdout


@pytest.mark.parametrize("command", ["run", "demo", "compare"])
def test_help_lists_exit_codes_and_tells_the_two_model_options_apart(command):
    text = " ".join(run_cli(command, "--help").stdout.split())
    assert "Exit codes: 0 done" in text and "2 bad input or option" in text
    assert "4 the outcome reached --fail-on (all files written)" in text
    assert "--cover-model, --model-name NAME The model's name as printed on the cover (only text" in text
    if command != "demo":
        assert "--cover-model only prints a name on the cover" in text  # said where --model is


def test_cover_model_and_its_old_spelling(tmp_path):
    x = np.random.default_rng(1).normal(size=(20, 8))
    np.save(tmp_path / "x.npy", x)
    for flag in ("--cover-model", "--model-name"):
        proc = run_cli("run", str(tmp_path / "x.npy"), "-o", str(tmp_path / flag.strip("-")), "--format", "json",
                       flag, "Complaints encoder")
        assert proc.returncode == 0, proc.stderr
        assert simreport.load_result(tmp_path / f"{flag.strip('-')}.json").report["model"] == "Complaints encoder"
