"""Configuration: ``simreport.toml`` (or ``--config FILE``), overridden by command-line flags.

One schema, :data:`SCHEMA`, lists every setting once (default, check, help, flag);
unknown keys and bad values raise :class:`ConfigError` naming the key. ``effective_config`` merges the
defaults, the file and the flags the user actually typed, in that order.
"""

from __future__ import annotations

import copy
import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simreport.errors import ConfigError
from simreport.findings import ALL_CHECKS, LEVELS

DEFAULT_FILE = "simreport.toml"
FORMATS = ("json", "html", "pdf")
PDF_VARIANTS = ("pdf/a-3b", "pdf/a-2b", "pdf/a-3u", "pdf/ua-1", "none")
PLOTLYJS_MODES = ("inline", "directory", "cdn")


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("must be text")
    return value


def _number(lo: float | None = None, hi: float | None = None) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError("must be a number")
        if not math.isfinite(value):
            raise ValueError("must be a finite number (not nan or inf)")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ValueError(f"must lie between {lo} and {hi}")
        return float(value)

    return check


def _integer(lo: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("must be a whole number")
        if value < lo:
            raise ValueError(f"must be at least {lo}")
        return value

    return check


def _choice(*options: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return value

    return check


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("must be true or false")
    return value


def _optional_text(value: Any) -> str | None:
    return None if value in (None, "") else _text(value)


def _color_range(value: Any) -> list[float] | str:
    if value == "auto":
        return "auto"
    if (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        if not all(math.isfinite(v) for v in value):
            raise ValueError('must be "auto" or [low, high] of finite numbers (not nan or inf)')
        if value[0] < value[1]:
            return [float(value[0]), float(value[1])]
    raise ValueError('must be "auto" or [low, high], two numbers with low < high')


def _formats(value: Any) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not items or any(str(f).strip() not in FORMATS for f in items):
        raise ValueError(f"must be a list drawn from {', '.join(FORMATS)}")
    return [str(f).strip() for f in items]


def colorscale(name: str) -> list[list]:
    """A plotly named colour scale as [[position, 'rgb(r, g, b)'], ...]; ValueError for unknown names."""
    from plotly.colors import get_colorscale

    try:
        return [[float(p), c] for p, c in get_colorscale(name)]
    except Exception as exc:  # plotly raises PlotlyError for unknown names
        raise ValueError(f"unknown colour scale {name!r}: {exc}") from None


def _color_scale(value: Any) -> str:
    colorscale(_text(value))
    return value


def _threshold_levels(value: Any) -> dict[str, float] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TypeError("must be a table like { warn = 0.5, fail = 0.7 }")
    out = {}
    for level, number in value.items():
        if level not in LEVELS:
            raise ValueError(f"has unknown level {level!r} (use {', '.join(LEVELS)})")
        try:
            out[level] = _number()(number)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"has {level} = {number!r}, which {exc}") from None
    return out


def _text_list(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise TypeError('must be a list of texts, e.g. ["A. Jones, validator", "B. Smith, head of model risk"]')
    return [v.strip() for v in value]


DECISIONS = ("accepted", "accepted with conditions", "rejected")
ACTION_KEYS = ("action", "owner", "due", "response")


def _decision(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if value not in DECISIONS:
        raise ValueError(f"must be one of {', '.join(DECISIONS)} (or left out: blank boxes to tick)")
    return value


def _action(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TypeError('must be a table like { owner = "...", due = "2026-12-31", response = "..." }')
    bad = set(value) - set(ACTION_KEYS)
    if bad:
        raise ValueError(f"has unknown key(s) {', '.join(sorted(bad))} (use {', '.join(ACTION_KEYS)})")
    return {k: _text(v) for k, v in value.items()}


def _optional_boolean(value: Any) -> bool | None:
    return None if value is None else _boolean(value)


@dataclass(frozen=True)
class Option:
    """One setting, defined once: its default and check, and how the command line offers it.

    ``help`` may name ``{default}`` (the default as typed on the command line), ``{choices}``
    (the choices, comma-separated) and ``{marked}`` (the choices with the default marked).
    ``flag`` is the command-line flag (None: configuration file only); ``dest`` the click
    parameter name when it is not the key; ``choice_flag`` lets click itself check the choices.
    """

    default: Any
    check: Callable[[Any], Any]
    help: str = ""
    flag: str | None = None
    dest: str | None = None
    flag_type: Any = None  # click type of the flag's value: int, float (default: text)
    choices: tuple[str, ...] = ()
    choice_flag: bool = False
    metavar: str | None = None
    aliases: tuple[str, ...] = ()  # older spellings of the flag, still accepted

    def help_text(self) -> str:
        """The flag's help, with the default and choices filled in."""
        shown = (",".join(f"{v:g}" for v in self.default) if isinstance(self.default, list)
                 and all(isinstance(v, float) for v in self.default) else str(self.default))
        others = [c for c in self.choices if c != self.default]
        marked = f"{self.default} (default), {', '.join(others[:-1])} or {others[-1]}" if others else ""
        return self.help.format(default=shown, choices=", ".join(self.choices), marked=marked)


def _choice_option(default: str, choices: tuple[str, ...], help: str, flag: str | None = None, **extra) -> Option:
    return Option(default, _choice(*choices), help, flag, choices=choices, **extra)


# section -> key -> Option. The one list of settings: TestOptions and EngineSettings take their
# defaults from it, check_values its checks, ``config --show`` its keys and the command line its flags.
SCHEMA: dict[str, dict[str, Option]] = {
    "report": {
        "title": Option("Cosine similarity test", _text, "Report title.", "--title"),
        "model": Option(None, _optional_text, "The model's name as printed on the cover (only text; the model that "
                        "embeds texts is --model). --model-name is the old spelling.", "--cover-model",
                        dest="model_name", aliases=("--model-name",), metavar="NAME"),
        "model_version": Option(None, _optional_text, "Model version for the cover.", "--model-version"),
        "model_id": Option(None, _optional_text, "The model's ID in the model inventory (cover).", "--model-id"),
        "intended_use": Option(None, _optional_text, "What the model is used for (cover, findings and actions).",
                               "--intended-use"),
        "risk_tier": Option(None, _optional_text, "The model's risk tier (cover).", "--risk-tier"),
        "dataset": Option(None, _optional_text, "Dataset name for the cover.", "--dataset"),
        "data_source": Option(None, _optional_text, "Where the validation records come from (cover).",
                              "--data-source"),
        "data_period": Option(None, _optional_text, "The period the records cover (cover).", "--data-period"),
        "owner": Option(None, _optional_text, "Model owner for the cover.", "--owner"),
        "validator": Option(None, _optional_text, "Validator for the cover.", "--validator"),
    },
    "test": {
        "near_duplicate_threshold": Option(0.95, _number(-1, 1),
                                           "Pairs at or above this similarity are near-duplicates [{default}].",
                                           "--near-duplicate-threshold", flag_type=float),
        "opposed_threshold": Option(-0.5, _number(-1, 1),
                                    "Pairs at or below this similarity are strongly opposed [{default}].",
                                    "--opposed-threshold", flag_type=float),
        "display_cap": Option(300, _integer(2), "Most records the heatmap shows [{default}].", "--display-cap",
                              flag_type=int),
        "heatmap_order": _choice_option("cluster", ("cluster", "input"), "Order of heatmap rows [{default}].",
                                        "--heatmap-order", choice_flag=True),
        "seed": Option(0, _integer(0), "Seed for the heatmap sample and k-means [{default}].", "--seed",
                       flag_type=int),
        "threshold_set": Option(None, _optional_text, "A threshold-set TOML file (named, versioned, approved "
                                "limits) [the shipped default set].", "--threshold-set", metavar="FILE"),
        "labels_are_texts": Option(None, _optional_boolean, "Whether the labels are the records' texts (unset: "
                                   "decided from where the labels came from)."),
    },
    # overrides on top of the threshold set; unset: the set's limits
    "thresholds": {cid: Option(None, _threshold_levels) for cid in ALL_CHECKS},
    "render": {
        "formats": Option(list(FORMATS), _formats, "Comma-separated outputs: {choices} [all].", "--format",
                          dest="formats", choices=FORMATS),
        "color_scale": Option("RdBu_r", _color_scale, "A plotly named colour scale [{default}].", "--color-scale"),
        "color_range": Option([-1.0, 1.0], _color_range, "LOW,HIGH or auto [{default}].", "--color-range"),
        "templates": Option(None, _optional_text, "Directory of templates searched before the shipped ones.",
                            "--templates"),
        "pdf_variant": _choice_option("pdf/a-3b", PDF_VARIANTS, "{marked}.", "--pdf-variant"),
        "plotlyjs": _choice_option("inline", PLOTLYJS_MODES, "{marked}.", "--plotlyjs"),
        "attach_data": Option(False, _boolean, "Also attach the labels and the input's fingerprints to the PDF.",
                              "--attach-data/--no-attach-data"),
    },
    "ci": {
        "fail_on": _choice_option("never", ("never", "warn", "fail"),
                                  "Exit with code 4, after writing every file, when the outcome reaches this level "
                                  "(for CI) [{default}; configurable as ci.fail_on].", "--fail-on", dest="fail_on",
                                  choice_flag=True),
    },
    "engine": {
        "runner": _choice_option("threads", ("threads", "loop", "dask", "torch"),
                                 "Where tiles run: local threads, one loop, dask.distributed, or torch "
                                 "[{default}].", "--engine", dest="runner", choice_flag=True),
        "workers": Option(2, _integer(1), "Threads (or local dask workers) for the tile pass [{default}].",
                          "--workers", flag_type=int),
        "tile_size": Option(2048, _integer(1), "Rows per tile [{default}].", "--tile-size", flag_type=int),
        "scheduler": Option(None, _optional_text,
                            "Dask scheduler address (with --engine dask); default: a local cluster.", "--scheduler",
                            metavar="ADDRESS"),
        "device": _choice_option("cpu", ("cpu", "cuda"), "Device of the torch engine [{default}].", "--device",
                                 choice_flag=True),
        "precision": _choice_option("exact", ("exact", "screen"),
                                    "Tile products of the torch engine: exact (float32), or screen (bfloat16 "
                                    "with exact re-checks of every pair that could change a count, list or "
                                    "neighbour) [{default}].", "--precision", choice_flag=True),
    },
    # the sign-off page: printed filled in where given, blank lines to complete otherwise
    "signoff": {
        "reviewers": Option([], _text_list),
        "approvers": Option([], _text_list),
        "decision": Option(None, _decision),
        "conditions": Option([], _text_list),
        "comments": Option(None, _optional_text),
    },
    # findings and actions: per check id, the recommended action, owner, due date and owner's response
    "actions": {cid: Option(None, _action) for cid in ALL_CHECKS},
}


def default(section: str, key: str) -> Any:
    """The built-in value of one setting (a copy)."""
    return copy.deepcopy(SCHEMA[section][key].default)


def defaults() -> dict[str, dict[str, Any]]:
    """The built-in configuration."""
    return {section: {key: copy.deepcopy(opt.default) for key, opt in keys.items()}
            for section, keys in SCHEMA.items()}


def check_option(section: str, key: str, value: Any, source: str) -> Any:
    """One setting's value, checked (ConfigError naming the key and the source)."""
    return check_values({section: {key: value}}, source)[section][key]


def check_values(values: dict, source: str) -> dict[str, dict[str, Any]]:
    """Validate a partial configuration; errors name the key and the source."""
    def fail(detail: str, key: str | None = None, reason: str | None = None, value: Any = None) -> ConfigError:
        return ConfigError(f"{source}: {detail}", file=source, key=key, reason=reason or detail, value=value,
                           detail=detail)

    if not isinstance(values, dict):
        raise fail("the configuration must be a table of sections")
    out: dict[str, dict[str, Any]] = {}
    for section, keys in values.items():
        if section not in SCHEMA:
            raise fail(f"unknown section [{section}] (known: {', '.join(SCHEMA)})", section)
        if not isinstance(keys, dict):
            raise fail(f"[{section}] must be a table of keys", section)
        for key, value in keys.items():
            if key not in SCHEMA[section]:
                raise fail(f"unknown key {section}.{key} (known in [{section}]: {', '.join(SCHEMA[section])})",
                           f"{section}.{key}")
            try:
                checked = SCHEMA[section][key].check(value)
            except (TypeError, ValueError) as exc:
                raise fail(f"{section}.{key} = {value!r} {exc}", f"{section}.{key}", str(exc), value) from None
            out.setdefault(section, {})[key] = checked
    return out  # warn/fail order is checked on the merged configuration (TestOptions.check)


def read_config_file(path: Path) -> dict[str, dict[str, Any]]:
    """Parse and validate a TOML configuration file."""
    try:
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found", file=str(path),
                          reason="configuration file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a configuration file; give the path of a TOML file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save the configuration as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration file ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})", file=str(path), reason=f"not valid TOML ({exc})") from None
    values = check_values(raw, str(path))
    templates = values.get("render", {}).get("templates")
    if templates and not Path(templates).is_absolute():  # relative to the configuration file
        values["render"]["templates"] = str(Path(path).parent / templates)
    chosen = values.get("test", {}).get("threshold_set")
    if chosen and not Path(chosen).is_absolute():
        values["test"]["threshold_set"] = str(Path(path).parent / chosen)
    return values


def find_config(explicit: Path | None) -> Path | None:
    """``--config FILE`` when given, else ./simreport.toml when it exists."""
    if explicit is not None:
        return explicit
    default = Path(DEFAULT_FILE)
    return default if default.is_file() else None


def effective_config(file_values: dict | None, flag_values: dict | None) -> dict[str, dict[str, Any]]:
    """Defaults, then the file, then the flags (each a partial, already checked)."""
    config = defaults()
    for layer in (file_values or {}, flag_values or {}):
        for section, keys in layer.items():
            for key, value in keys.items():
                if section in ("thresholds", "actions"):
                    config[section][key] = {**(config[section][key] or {}), **value}
                else:
                    config[section][key] = value
    return config


def thresholds_of(config: dict) -> dict[str, dict[str, float]]:
    """The threshold overrides of a configuration (only the checks and levels that were set)."""
    return {k: dict(v) for k, v in config["thresholds"].items() if v}


def to_toml(config: dict) -> str:
    """The configuration as TOML text (for ``simreport config --show``)."""
    lines = []
    for section, keys in config.items():
        lines.append(f"[{section}]")
        for key, value in keys.items():
            if value is None:
                lines.append(f"# {key} = (not set)")
            else:
                lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)
