"""Where the user wrote something: source locations for model objects and diagnostics."""

from __future__ import annotations

import ast
import os
import sys
from types import CodeType, FrameType

import attrs

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _package_dirs(*names: str) -> tuple[str, ...]:
    dirs = []
    for name in names:
        module = sys.modules.get(name)
        if module is None:
            module = __import__(name)
        dirs.append(os.path.dirname(os.path.abspath(module.__file__ or "")) + os.sep)
    return tuple(dirs)


_ATTRS_DIRS = _package_dirs("attr", "attrs")
"""attrs' own code (evolve, converters): never the user's line."""


@attrs.frozen(order=True)
class Location:
    """A position in a user's file: 1-based line and column (column 0 when unknown)."""

    file: str
    line: int
    column: int = 0

    def __str__(self) -> str:
        if self.column:
            return f"{self.file}:{self.line}:{self.column}"
        return f"{self.file}:{self.line}"


def is_internal(filename: str) -> bool:
    """True for systemkit's own code and the attrs machinery it runs on (by path prefix)."""
    if filename.startswith(("<attrs generated", "<frozen ")):
        return True
    path = os.path.abspath(filename)
    return path.startswith(_PACKAGE_DIR) or path.startswith(_ATTRS_DIRS)


def display_path(filename: str | os.PathLike[str]) -> str:
    """How every finding names a file: relative to the current directory (absolute only when
    no relative path exists, e.g. another drive)."""
    try:
        return os.path.relpath(filename)
    except ValueError:
        return os.fspath(filename)


_POSITIONS: dict[CodeType, list[tuple[int | None, int | None, int | None, int | None]]] = {}
_DISPLAY: dict[tuple[str, str], str] = {}


def frame_location(frame: FrameType) -> Location:
    """The location of the call being executed in ``frame`` (line and column)."""
    code = frame.f_code
    positions = _POSITIONS.get(code)
    if positions is None:
        positions = _POSITIONS[code] = list(code.co_positions())
    index = frame.f_lasti // 2
    line, _, col, _ = positions[index] if 0 <= index < len(positions) else (None,) * 4
    key = (code.co_filename, os.getcwd())
    shown = _DISPLAY.get(key)
    if shown is None:
        shown = _DISPLAY[key] = display_path(code.co_filename)
    return Location(shown, line or frame.f_lineno, col + 1 if col is not None else 0)


class _Calls:
    """The calls of one source file by (line, column), parsed once per file version."""

    def __init__(self, path: str) -> None:
        self.calls: dict[tuple[int, int], ast.Call] = {}
        try:
            tree = ast.parse(open(path, encoding="utf-8").read())  # noqa: SIM115
        except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
            return
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                self.calls.setdefault((node.lineno, node.col_offset + 1), node)


_CALLS: dict[tuple[str, float], _Calls] = {}


def _call_at(loc: Location) -> ast.Call | None:
    try:
        key = (os.path.abspath(loc.file), os.path.getmtime(loc.file))
    except OSError:
        return None
    calls = _CALLS.get(key)
    if calls is None:
        calls = _CALLS[key] = _Calls(loc.file)
    return calls.calls.get((loc.line, loc.column))


def argument_location(
    call: Location | None,
    *,
    keyword: str | None = None,
    position: int | None = None,
    item: int | None = None,
    name_only: bool = False,
) -> Location | None:
    """Where one argument of the call at ``call`` is written: the value of ``keyword=`` (its
    name with ``name_only``), or the ``position``-th positional argument; with ``item``, that
    element of a list or tuple literal. The call's own location when the source does not show
    it literally (a variable, ``**options``)."""
    if call is None or not call.file.endswith(".py"):
        return call
    node = _call_at(call)
    if node is None:
        return call
    found: ast.AST | None = None
    if keyword is not None:
        for kw in node.keywords:
            if kw.arg == keyword:
                found = kw if name_only else kw.value
    elif position is not None:
        args = node.args
        if position < len(args) and not any(isinstance(a, ast.Starred) for a in args[:position]):
            found = args[position]
    if found is not None and item is not None:
        elts = found.elts if isinstance(found, ast.List | ast.Tuple) else []
        starred = any(isinstance(e, ast.Starred) for e in elts[: item + 1])
        found = elts[item] if item < len(elts) and not starred else found
    if not isinstance(found, ast.expr | ast.keyword):
        return call
    return Location(call.file, found.lineno, found.col_offset + 1)


def caller_location(building: object | None = None) -> Location | None:
    """The first stack frame outside systemkit (and attrs): where the user made the call.

    ``building`` is the object under construction: frames of its own methods (a user's
    subclass ``__init__`` calling ``super().__init__``) are skipped too, so the location is the
    user's ``Getty()`` call rather than the subclass's ``super()`` line.
    """
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if not is_internal(frame.f_code.co_filename) and not (
            building is not None
            and frame.f_code.co_argcount
            and frame.f_locals.get(frame.f_code.co_varnames[0]) is building
        ):
            return frame_location(frame)
        frame = frame.f_back
    return None
