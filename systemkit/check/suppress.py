"""Suppressing findings: a ``# systemkit: ignore[SK104]`` comment on the offending line, or
:func:`ignore` on a model object in Python.

A comment without a code list (``# systemkit: ignore``) silences every finding on its line;
``ignore[SK210, SK280]`` only those codes. In a ``system.py`` the line is the one the finding
points at (the list element, keyword or constructor call); in YAML, the line of the key or item.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TypeVar

from systemkit.check.locate import Lines
from systemkit.diagnostics import Diagnostic
from systemkit.location import Location
from systemkit.model.base import Located

_COMMENT = re.compile(r"#\s*systemkit:\s*ignore(?:\[([^\]]*)\])?")
_ALL = "*"

_IGNORED: dict[Location, set[str]] = {}

L = TypeVar("L", bound=Located)


def ignore(obj: L, *codes: str) -> L:
    """Silence ``codes`` (all codes when none are given) for ``obj`` and everything in it.

    ``Service("app", IMAGE, binds=[...])`` becomes ``ignore(Service(...), "SK211")``: the
    object is returned unchanged, so it can be used inline.
    """
    if obj.location is not None:
        _IGNORED.setdefault(obj.location, set()).update(codes or (_ALL,))
    return obj


def reset() -> None:
    """Forget every :func:`ignore` (before loading a file again)."""
    _IGNORED.clear()


def _codes_in_comment(line: str) -> set[str] | None:
    m = _COMMENT.search(line)
    if m is None:
        return None
    if m.group(1) is None:
        return {_ALL}
    return {c.strip() for c in m.group(1).split(",") if c.strip()}


def _silenced(codes: set[str] | None, code: str) -> bool:
    return codes is not None and (_ALL in codes or code in codes)


def _ancestors(path: str) -> Iterable[str]:
    while True:
        yield path
        cut = max(path.rfind("."), path.rfind("["))
        if cut <= 0:
            if path != "$":
                yield "$"
            return
        path = path[:cut]


def is_suppressed(
    d: Diagnostic, locations: Mapping[str, Location] | None = None, lines: Lines | None = None
) -> bool:
    """True when a comment on the finding's line, or :func:`ignore`, silences it."""
    loc = d.location
    if loc is not None:
        text = (lines or Lines()).get(loc.file, loc.line)
        if _silenced(_codes_in_comment(text), d.code):
            return True
        if _silenced(_IGNORED.get(loc), d.code):
            return True
    if d.spec_path and locations:
        for p in _ancestors(d.spec_path):
            anc = locations.get(p)
            if anc is not None and _silenced(_IGNORED.get(anc), d.code):
                return True
    return False
