"""The Jinja environment: a user's template directory (when given) before the shipped
``templates/`` folder, so an institution can override one partial without copying the rest.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2


def shipped_templates() -> Path:
    """The shipped templates: inside the installed package, or at the source tree's top."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "templates", here.parent.parent / "templates"):
        if (candidate / "report.html.j2").is_file():
            return candidate
    raise FileNotFoundError("simreport's templates folder is missing from this installation")


def make_environment(templates_dir: str | Path | None = None) -> jinja2.Environment:
    """Jinja environment: user templates (if any) before the shipped ones; autoescaping on.

    One environment per template directory and process, so HTML and PDF share the compiled
    templates (Jinja still reloads a template whose file changed)."""
    return _environment(None if templates_dir is None else str(templates_dir))


@lru_cache(maxsize=8)
def _environment(templates_dir: str | None) -> jinja2.Environment:
    import jinja2

    loaders: list[jinja2.BaseLoader] = []
    if templates_dir is not None:
        path = Path(templates_dir)
        if not path.is_dir():
            raise FileNotFoundError(f"{path}: templates directory not found")
        loaders.append(jinja2.FileSystemLoader(str(path)))
    loaders.append(jinja2.FileSystemLoader(str(shipped_templates())))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # |tojson: keep the data's own key order and drop the spaces (the embedded results are large)
    env.policies["json.dumps_kwargs"] = {"sort_keys": False, "separators": (",", ":"), "allow_nan": False}
    return env
