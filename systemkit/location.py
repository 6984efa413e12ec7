"""Where the user wrote something: source locations for model objects and diagnostics."""

from __future__ import annotations

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


def _display_path(filename: str) -> str:
    try:
        rel = os.path.relpath(filename)
    except ValueError:
        return filename
    return filename if rel.startswith(".." + os.sep + "..") else rel


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
        shown = _DISPLAY[key] = _display_path(code.co_filename)
    return Location(shown, line or frame.f_lineno, col + 1 if col is not None else 0)


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
