"""Where the user wrote something: source locations for model objects and diagnostics."""

from __future__ import annotations

import inspect
import os
import sys
from types import FrameType

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


def frame_location(frame: FrameType) -> Location:
    """The location of the call being executed in ``frame`` (line and column)."""
    info = inspect.getframeinfo(frame, context=0)
    pos = info.positions
    line = (pos.lineno if pos and pos.lineno else None) or frame.f_lineno
    col = (pos.col_offset + 1) if pos and pos.col_offset is not None else 0
    return Location(_display_path(frame.f_code.co_filename), line, col)


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
