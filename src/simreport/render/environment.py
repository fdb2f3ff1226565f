"""The Jinja environment: a user's template directory (when given) before the shipped
``templates/`` folder, so an institution can override one partial without copying the rest.

Templates are untrusted (a template directory may come from a configuration file found
in the current folder), so they render in Jinja's sandbox: no attribute starting with an
underscore, no calls to unsafe functions; a template that tries is an error naming the
template file and line.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from simreport.errors import ConfigError


class TemplateProblem(ConfigError):
    """A template that cannot be compiled or rendered; the message names the file and line."""


def shipped_templates() -> Path:
    """The shipped templates: inside the installed package, or at the source tree's top."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "templates", here.parent.parent / "templates"):
        if (candidate / "report.html.j2").is_file():
            return candidate
    raise FileNotFoundError("simreport's templates folder is missing from this installation")


def make_environment(templates_dir: str | Path | None = None) -> jinja2.Environment:
    """Sandboxed Jinja environment: user templates (if any) before the shipped ones; autoescaping on.

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
            raise TemplateProblem(f"{path}: templates directory not found; fix --templates "
                                  "(or render.templates in the configuration).")
        loaders.append(jinja2.FileSystemLoader(str(path)))
    loaders.append(jinja2.FileSystemLoader(str(shipped_templates())))
    env = SandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # |tojson: keep the data's own key order and drop the spaces (the embedded results are large)
    env.policies["json.dumps_kwargs"] = {"sort_keys": False, "separators": (",", ":"), "allow_nan": False}
    return env


def check_templates(templates_dir: str | Path | None) -> None:
    """Compile every template of a user's template directory, so that a syntax error is
    reported (file and line) before the computation, not after it."""
    if templates_dir is None:
        return
    env = make_environment(templates_dir)
    root = Path(templates_dir)
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in (".j2", ".jinja", ".html", ".css") and ".j2" in path.name:
            name = path.relative_to(root).as_posix()
            try:
                env.get_template(name)
            except Exception as exc:
                raise template_problem(exc, name) from None


def compile_template(env: jinja2.Environment, name: str) -> None:
    """Compile template ``name`` and every template it names (extends, include, import), as its
    first render would; a name held in a variable is left to the render."""
    from jinja2 import meta

    todo, seen = [name], set()
    while todo:
        entry = todo.pop()
        if entry in seen:
            continue
        seen.add(entry)
        env.get_template(entry)
        source = env.loader.get_source(env, entry)[0]
        todo.extend(ref for ref in meta.find_referenced_templates(env.parse(source)) if ref)


def render_template(env: jinja2.Environment, name: str, **context) -> str:
    """Render one template; any template failure becomes a :class:`TemplateProblem`
    naming the template file and line."""
    try:
        return env.get_template(name).render(**context)
    except TemplateProblem:
        raise
    except (jinja2.TemplateError, TypeError, AttributeError, ValueError, KeyError, IndexError,
            ZeroDivisionError, OverflowError, RecursionError, MemoryError) as exc:
        raise template_problem(exc, name) from None


def template_problem(exc: BaseException, entry: str) -> TemplateProblem:
    """A located, one-line description of a template failure."""
    from jinja2.exceptions import SecurityError

    if isinstance(exc, jinja2.TemplateSyntaxError):
        where = f"{exc.filename or exc.name or entry}, line {exc.lineno}"
        return TemplateProblem(f"template {where}: syntax error: {exc.message}")
    filename, line = _template_frame(exc)
    where = f"{filename}, line {line}" if filename else f"{entry} (line unknown)"
    if isinstance(exc, SecurityError):
        what = f"unsafe operation refused by the template sandbox ({exc})"
    elif isinstance(exc, jinja2.TemplateNotFound):
        what = f"template not found: {exc.name}"
    elif isinstance(exc, jinja2.UndefinedError):
        what = f"undefined value ({exc.message})"
    else:
        what = f"{type(exc).__name__}: {exc}"
    return TemplateProblem(f"template {where}: {what}; fix the template")


def _template_frame(exc: BaseException) -> tuple[str | None, int | None]:
    """The innermost traceback frame that belongs to a template (Jinja rewrites template
    frames so that they carry the template's file name and line)."""
    found: tuple[str | None, int | None] = (None, None)
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename.endswith((".j2", ".jinja")) or code.co_name in ("template", "top-level template code"):
            found = (code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    return found
