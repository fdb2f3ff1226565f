"""One source for every option: the configuration schema gives the defaults of TestOptions and
EngineSettings, the checks, ``config --show`` and the command-line flags."""

from __future__ import annotations

import dataclasses

import pytest
from click.testing import CliRunner

from simreport.cli import main
from simreport.cli.shared import FLAG_KEYS
from simreport.config import SCHEMA, ConfigError, defaults, to_toml
from simreport.cosine_test import SETTINGS, TestOptions
from simreport.engine import EngineSettings


def test_test_options_take_their_defaults_from_the_schema():
    options = TestOptions()
    for name, (section, key) in SETTINGS.items():
        expected = SCHEMA[section][key].default
        value = getattr(options, name)
        assert (list(value) if isinstance(value, tuple) else value) == expected, name
    assert {f.name for f in dataclasses.fields(TestOptions)} >= set(SETTINGS)


def test_engine_settings_take_their_defaults_from_the_schema():
    settings = EngineSettings()
    for key in ("tile_size", "runner", "workers", "scheduler"):
        assert getattr(settings, key) == SCHEMA["engine"][key].default
    for key in ("near_duplicate_threshold", "opposed_threshold"):
        assert getattr(settings, key) == SCHEMA["test"][key].default


def test_every_flag_comes_from_the_schema_with_its_help():
    text = CliRunner().invoke(main, ["run", "--help"], terminal_width=1000).output
    for dest, (section, key) in FLAG_KEYS.items():
        opt = SCHEMA[section][key]
        assert opt.flag.split("/")[0] in text, dest
        assert opt.help_text() in text, dest
    assert "Rows per tile [2048]." in text and "[threads]" in text


def test_config_show_lists_every_schema_key():
    shown = to_toml(defaults())
    for section, keys in SCHEMA.items():
        assert f"[{section}]" in shown
        for key in keys:
            assert f"{key} = " in shown, key


@pytest.mark.parametrize("field, value, key", [
    ("display_cap", 1, "test.display_cap"), ("heatmap_order", "random", "test.heatmap_order"),
    ("runner", "gpu", "engine.runner"), ("tile_size", 0, "engine.tile_size"),
    ("color_range", (1.0, -1.0), "render.color_range"), ("near_duplicate_threshold", 2.0,
                                                         "test.near_duplicate_threshold"),
])
def test_test_options_check_is_the_schema_check(field, value, key):
    with pytest.raises(ConfigError) as info:
        TestOptions(**{field: value}).check()
    assert info.value.key == key


def test_from_config_round_trip():
    config = defaults()
    config["engine"]["tile_size"] = 512
    config["render"]["color_range"] = "auto"
    options = TestOptions.from_config(config)
    assert options.tile_size == 512 and options.color_range is None
    assert "formats" not in options.configuration["render"]
