"""From a spec path to the user's line and column.

LinuxKit YAML records a location for every node, so a spec path is found directly. Lowering a
``system.py`` records where each model object was created (the constructor call); below that,
this module reads the user's source with :mod:`ast` and follows the rest of the path through the
call's arguments: ``$.services[2].binds[1]`` goes from the ``Service(...)`` call to its
``binds=`` keyword to the second element of the list literal. Where the value is not written
literally in that call (a variable, a helper function), the object's own location is used.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from systemkit.location import Location
from systemkit.spec.lowered import Lowered

_TOKEN = re.compile(r'\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')
_ADD_KEYS = ("capabilities", "binds")
_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")

Token = tuple[str, str | int]

_POSITIONAL: dict[str, tuple[str, ...]] = {
    "container": ("name", "image"),
    "files": ("path",),
    "volumes": ("name",),
    "kernel": ("image",),
    "mounts": ("destination",),
    "devices": ("path",),
}


def python_name(key: str) -> str:
    """The model's keyword for a LinuxKit key (``binds.add`` -> ``binds_add``)."""
    return _CAMEL.sub(r"_\1", key.replace(".", "_")).lower()


def tokens(rest: str) -> list[Token]:
    """Split the rest of a spec path into keys, indexes and mapping keys."""
    out: list[Token] = []
    pos = 0
    while pos < len(rest):
        m = _TOKEN.match(rest, pos)
        if m is None:
            break
        pos = m.end()
        if m.group(1) is not None:
            key = m.group(1)
            if key == "add" and out and out[-1] == ("key", out[-1][1]) and out[-1][1] in _ADD_KEYS:
                out[-1] = ("key", f"{out[-1][1]}.add")
            else:
                out.append(("key", key))
        elif m.group(2) is not None:
            out.append(("index", int(m.group(2))))
        else:
            out.append(("mapkey", str(json.loads(m.group(3)))))
    return out


def _anchor_kind(anchor: str) -> str:
    if re.fullmatch(r"\$\.(onboot|onshutdown|services)\[\d+\]", anchor):
        return "container"
    last = re.findall(r"([A-Za-z]+)(?:\[\d+\])?$", anchor)
    return last[0] if last else ""


class _Source:
    """One parsed Python file: its calls by (line, column)."""

    def __init__(self, path: str) -> None:
        self.calls: dict[tuple[int, int], ast.Call] = {}
        try:
            tree = ast.parse(Path(path).read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
            return
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                self.calls.setdefault((node.lineno, node.col_offset + 1), node)


def _follow(node: ast.expr, tok: Token, kind: str) -> ast.expr | None:
    what, value = tok
    if what == "key" and isinstance(node, ast.Call):
        name = python_name(str(value))
        for kw in node.keywords:
            if kw.arg == name:
                return kw.value
        positional = _POSITIONAL.get(kind, ())
        if value in positional:
            i = positional.index(str(value))
            if i < len(node.args) and not any(isinstance(a, ast.Starred) for a in node.args[:i]):
                return node.args[i]
        return None
    if what == "index" and isinstance(value, int):
        if isinstance(node, ast.List | ast.Tuple):
            elts = node.elts
            if any(isinstance(e, ast.Starred) for e in elts[: value + 1]):
                return None
            return elts[value] if value < len(elts) else None
        if isinstance(node, ast.Dict) and value < len(node.keys) and None not in node.keys:
            return node.keys[value]
        return None
    if what == "mapkey":
        if isinstance(node, ast.Dict):
            for k in node.keys:
                if isinstance(k, ast.Constant) and k.value == value:
                    return k
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg == value:
                    return kw.value
    return None


_SCALAR_AFTER_KEY = re.compile(r"\s*:\s+(?=[^\s#|>])")


class Lines:
    """The lines of the user's files, read once per check run (never a stale cache: the same
    relative name may be another file in another run)."""

    def __init__(self) -> None:
        self._files: dict[str, list[str]] = {}

    def get(self, file: str, line: int) -> str:
        lines = self._files.get(file)
        if lines is None:
            try:
                lines = Path(file).read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                lines = []
            self._files[file] = lines
        return lines[line - 1] if 0 < line <= len(lines) else ""


def _yaml_value(loc: Location, spec_path: str, lines: Lines) -> Location:
    """The location of a key's value when it is a scalar on the key's line (``uid: nobody``
    points at ``nobody``); the key itself otherwise (a block list, a mapping)."""
    m = re.search(r"\.([A-Za-z_][A-Za-z0-9_.]*)$", spec_path)
    if m is None or loc.column <= 0:
        return loc
    segment = m.group(1)
    key = segment if segment.endswith(".add") else segment.rsplit(".", 1)[-1]
    line = lines.get(loc.file, loc.line)
    start = loc.column - 1
    for quote in ("", '"', "'"):
        word = f"{quote}{key}{quote}"
        if line.startswith(word, start):
            after = _SCALAR_AFTER_KEY.match(line, start + len(word))
            if after is not None:
                return Location(loc.file, loc.line, after.end() + 1)
    return loc


class Locator:
    """Resolves spec paths of one lowered system to locations (refined in ``.py`` files)."""

    def __init__(self, lowered: Lowered) -> None:
        self.lowered = lowered
        self.lines = Lines()
        self._sources: dict[str, _Source] = {}

    def anchor(self, spec_path: str) -> tuple[str, Location] | None:
        """The nearest located ancestor of ``spec_path`` (itself included) and its location."""
        path = spec_path
        locations = self.lowered.locations
        while True:
            loc = locations.get(path)
            if loc is not None:
                return path, loc
            if path == "$":
                return None
            cut = max(path.rfind("."), path.rfind("["))
            if cut <= 0:
                loc = locations.get("$")
                return ("$", loc) if loc is not None else None
            path = path[:cut]

    def at(self, spec_path: str) -> Location | None:
        found = self.anchor(spec_path)
        if found is None:
            return None
        anchor, loc = found
        if loc.file.endswith((".yml", ".yaml")):
            return _yaml_value(loc, spec_path, self.lines) if anchor == spec_path else loc
        if anchor == spec_path or not loc.file.endswith(".py"):
            return loc
        source = self._sources.get(loc.file)
        if source is None:
            source = self._sources[loc.file] = _Source(loc.file)
        node: ast.expr | None = source.calls.get((loc.line, loc.column))
        if node is None:
            return loc
        kind = _anchor_kind(anchor)
        best: ast.expr = node
        for tok in tokens(spec_path[len(anchor) :]):
            node = _follow(best, tok, kind)
            if node is None:
                break
            best = node
            kind = str(tok[1]) if tok[0] == "key" else kind
        return Location(loc.file, best.lineno, best.col_offset + 1)
