"""One error base with fields, exported from simreport; the CLI maps classes to exit codes."""

from __future__ import annotations

import click
import numpy as np
import pytest

import simreport
from simreport.cli.shared import exit_code
from simreport.config import check_values
from simreport.errors import ConfigError, InputError, ModelError, OutputError, SimreportError, VerifyError
from simreport.inputs import check_embeddings
from simreport.output import write_all


def test_every_error_is_a_simreport_error_and_exported():
    for cls in (InputError, ModelError, ConfigError, OutputError, VerifyError):
        assert issubclass(cls, SimreportError)
        assert getattr(simreport, cls.__name__) is cls
    assert simreport.SimreportError is SimreportError
    # callers that caught the built-in kinds keep working
    assert issubclass(InputError, ValueError) and issubclass(ConfigError, ValueError)
    assert issubclass(OutputError, OSError)


def test_input_error_names_file_and_rows():
    x = np.ones((5, 3), dtype=np.float32)
    x[[1, 4]] = 0.0
    with pytest.raises(InputError) as info:
        check_embeddings(x, "vectors.npy")
    assert info.value.file == "vectors.npy"
    assert info.value.rows == [1, 4]
    assert str(info.value).startswith("vectors.npy: zero vectors at rows 1, 4")


def test_config_error_fields():
    with pytest.raises(ConfigError) as info:
        check_values({"engine": {"tile_size": 0}}, "my.toml")
    error = info.value
    assert (error.file, error.key, error.value, error.reason) == ("my.toml", "engine.tile_size", 0,
                                                                  "must be at least 1")
    assert str(error) == "my.toml: engine.tile_size = 0 must be at least 1"
    assert error.detail == "engine.tile_size = 0 must be at least 1"


def test_output_error_names_the_file(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError) as info:
        write_all({blocker / "report.json": b"{}"})
    assert info.value.file == str(blocker / "report.json")


@pytest.mark.parametrize("error, code", [
    (InputError("x"), 2), (ModelError("x"), 2), (ConfigError("x"), 2), (OutputError("x"), 2), (VerifyError("x"), 2),
    (click.UsageError("x"), 2), (ValueError("x"), 2), (FileNotFoundError("x"), 2), (KeyboardInterrupt(), 130),
    (RuntimeError("x"), 1), (PermissionError("x"), 1),
])
def test_exit_code_by_class(error, code):
    assert exit_code(error) == code
