"""What varies across many systems: ``systemkit diff FILE --all``.

Each selected spec is walked as :mod:`systemkit.spec.diff` walks two (containers, volumes and
files matched by ``name``/``path``, not by position). A :class:`Variation` is a spec path whose
value is not the same in every system that has the enclosing object: how many distinct values
it takes, and in how many systems it is present at all. A list of plain values (``init``,
``command``, ``env`` ...) is also compared item by item with the first selected system that has
the list, so a variant that adds an image shows as ``+ $.init[4]``, not as two whole arrays.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Sequence
from typing import Any

import attrs

from systemkit.spec.codec import to_data
from systemkit.spec.diff import _keyed
from systemkit.spec.types import Spec

_ABSENT = object()


@attrs.frozen
class ItemChange:
    """A list item added (``+``, index in the system that has it) or removed (``-``, index in
    the first system) compared with the first selected system that has the list, and how many
    systems do so."""

    kind: str
    path: str
    value: Any
    systems: int


@attrs.frozen
class Variation:
    """A spec path that varies: ``values`` distinct values among the ``present`` systems that
    have it, out of the ``of`` systems that have its enclosing object."""

    path: str
    values: int
    present: int
    of: int
    items: tuple[ItemChange, ...] = ()

    def render(self) -> str:
        parts = []
        if self.present != self.of:
            parts.append(f"in {self.present} of {self.of} systems")
        if self.values > 1:
            parts.append(f"{self.values} values")
        return f"{self.path}: {', '.join(parts)}"


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _nodes(value: Any, path: str, parent: str | None) -> Iterator[tuple[str, str | None, Any]]:
    """(path, parent path, leaf value or _ABSENT for inner nodes) of every node."""
    if isinstance(value, dict):
        yield path, parent, _ABSENT
        for key in sorted(value):
            yield from _nodes(value[key], f"{path}.{key}", path)
        return
    if isinstance(value, list) and value:
        keyed = _keyed(value)
        if keyed is not None:
            yield path, parent, _ABSENT
            for key, item in keyed.items():
                yield from _nodes(item, f"{path}[{key}]", path)
            return
    yield path, parent, value


def _item_changes(base: list[Any], other: list[Any], path: str) -> Iterator[tuple[str, str, str]]:
    ja = [_show(x) for x in base]
    jb = [_show(x) for x in other]
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ja, jb, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        for i in range(i1, i2):
            yield "-", f"{path}[{i}]", ja[i]
        for j in range(j1, j2):
            yield "+", f"{path}[{j}]", jb[j]


def variations(specs: Sequence[Spec]) -> list[Variation]:
    """Every spec path that varies across ``specs``, in spec order (first seen first)."""
    order: dict[str, None] = {}
    parents: dict[str, str | None] = {}
    present: dict[str, list[int]] = {}
    leaves: dict[str, dict[int, Any]] = {}
    for index, spec in enumerate(specs):
        for path, parent, value in _nodes(to_data(spec), "$", None):
            order.setdefault(path, None)
            parents.setdefault(path, parent)
            present.setdefault(path, []).append(index)
            if value is not _ABSENT:
                leaves.setdefault(path, {})[index] = value
    total = list(range(len(specs)))
    rank = {path: i for i, path in enumerate(order)}

    def position(path: str) -> tuple[int, ...]:
        chain: list[int] = []
        at: str | None = path
        while at is not None:
            chain.append(rank[at])
            at = parents[at]
        return tuple(reversed(chain))

    out: list[Variation] = []
    for path in sorted(order, key=position):
        parent = parents[path]
        have = present[path]
        around = total if parent is None else present[parent]
        values = leaves.get(path, {})
        distinct = {_show(v) for v in values.values()}
        if len(have) == len(around) and len(distinct) <= 1:
            continue
        if len(have) != len(around) and path in leaves and len(distinct) <= 1:
            out.append(Variation(path, len(distinct), len(have), len(around)))
            continue
        if path not in leaves:
            out.append(Variation(path, 1, len(have), len(around)))
            continue
        items: tuple[ItemChange, ...] = ()
        lists = [v for v in values.values() if isinstance(v, list)]
        if len(lists) == len(values) and len(lists) > 1:
            first = values[have[0]]
            counts: dict[tuple[str, str, str], int] = {}
            for i in have[1:]:
                for change in dict.fromkeys(_item_changes(first, values[i], path)):
                    counts[change] = counts.get(change, 0) + 1
            items = tuple(
                ItemChange(kind, p, json.loads(v), n) for (kind, p, v), n in counts.items()
            )
        out.append(Variation(path, len(distinct), len(have), len(around), items))
    return out
