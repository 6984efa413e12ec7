"""Rendering ``File.template``: jinja2 with ``StrictUndefined``, no autoescaping, deterministic.

A template is rendered when the :class:`~systemkit.File` is made, so the file's ``contents``
(and the spec) hold the result, never the template. A template that does not parse, or that
uses a variable it was not given, is a located error (SK140) at the user's ``File.template``
call, naming the template's line; for a template file, that line is also a related location.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import jinja2

from systemkit import codes
from systemkit.diagnostics import report
from systemkit.location import Location, caller_location, display_path

TEMPLATE_PROBLEM = codes.TEMPLATE_PROBLEM
INLINE = "<template>"
"""The name an inline (string) template has in messages."""


def _environment(directory: Path | None) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(directory)) if directory is not None else None,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        auto_reload=False,
        cache_size=0,
    )


def _template_line(tb: TracebackType | None, filename: str) -> int | None:
    """The last line of the template's own frames in a (jinja2-rewritten) traceback."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def render(template: str | Path, values: Mapping[str, object]) -> str | None:
    """The rendered text; None after reporting a problem (which raises outside ``check``).

    A :class:`~pathlib.Path` is a template file, relative to the directory of the file that
    calls ``File.template``; a ``str`` is the template text itself.
    """
    where = caller_location()
    if isinstance(template, Path):
        path = template
        if not path.is_absolute() and where is not None:
            path = Path(where.file).parent / path
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            _problem(where, f"cannot read template {str(template)!r}: {reason}", None, None)
            return None
        name, filename = str(template), display_path(str(path.resolve()))
    else:
        if _looks_like_a_file_name(template):
            _problem(
                where,
                f"template {template!r} looks like a file name, but a str is the template's "
                "text: it would be written as the file's contents",
                None,
                None,
                f"pass Path({template!r}) to render the template file",
            )
            return None
        source, name, filename = template, INLINE, INLINE
    env = _environment(None)
    try:
        # jinja2 names the code of a template compiled from a string "<template>": give a file
        # template its path instead, so that its frames (and lines) can be found.
        compiled = env.template_class.from_code(
            env, env.compile(source, name, filename), env.make_globals(None), None
        )
        return compiled.render(**values)
    except jinja2.TemplateSyntaxError as exc:
        message = f"template {name}, line {exc.lineno}: {exc.message}"
        _problem(where, message, filename, exc.lineno, _SYNTAX_HINT)
    except jinja2.UndefinedError as exc:
        line = _template_line(sys.exc_info()[2], filename)
        at = f", line {line}" if line is not None else ""
        _problem(where, f"template {name}{at}: {exc.message}", filename, line, _UNDEFINED_HINT)
    except Exception as exc:  # an error raised while rendering (a filter, a division ...)
        line = _template_line(sys.exc_info()[2], filename)
        at = f", line {line}" if line is not None else ""
        _problem(where, f"template {name}{at}: {type(exc).__name__}: {exc}", filename, line)
    return None


_FILE_SUFFIXES = (".j2", ".jinja", ".jinja2", ".tmpl", ".tpl", ".template")


def _looks_like_a_file_name(text: str) -> bool:
    """One line, no jinja2 markup, ending in a template file suffix: ``"motd.j2"``."""
    return (
        "\n" not in text
        and not any(mark in text for mark in ("{{", "{%", "{#"))
        and text.strip().lower().endswith(_FILE_SUFFIXES)
    )


_UNDEFINED_HINT = (
    "give every variable the template uses as a keyword of File.template (a missing one is "
    "an error, never an empty string)"
)
_SYNTAX_HINT = (
    "jinja2 syntax: {{ name }}, {% if x %}...{% endif %}, {% for x in xs %}...{% endfor %}"
)


def _problem(
    where: Location | None,
    message: str,
    filename: str | None,
    line: int | None,
    hint: str | None = None,
) -> None:
    related: tuple[Location, ...] = ()
    if filename is not None and filename != INLINE and line is not None:
        related = (Location(filename, line, 1),)
    report(
        TEMPLATE_PROBLEM.diagnostic(
            message,
            where,
            hint=hint,
            related=related,
        )
    )
