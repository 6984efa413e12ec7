"""Where the user wrote something: source locations for model objects and diagnostics."""

from __future__ import annotations

import os
import sys
from types import CodeType, FrameType

import attrs

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


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
    """True for a file inside the systemkit package (by path prefix, never by frame count)."""
    return os.path.abspath(filename).startswith(_PACKAGE_DIR)


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


def caller_location() -> Location | None:
    """The first stack frame outside the systemkit package: where the user made the call."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not is_internal(filename) and not filename.startswith("<frozen "):
            if filename.startswith("<attrs generated") or "attrs" + os.sep in filename:
                frame = frame.f_back
                continue
            return frame_location(frame)
        frame = frame.f_back
    return None
