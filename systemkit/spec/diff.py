"""Differences between two specs, by spec path (what changes between two variants)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import attrs

from systemkit.spec.codec import to_data
from systemkit.spec.types import Spec


@attrs.frozen
class Change:
    """One difference: ``kind`` is ``+`` (only in the second), ``-`` (only in the first) or
    ``~`` (changed); ``path`` is the spec path (containers, volumes and files are named by
    their ``name``/``path``, not their index)."""

    kind: str
    path: str
    old: Any = None
    new: Any = None

    def render(self) -> str:
        if self.kind == "~":
            return f"~ {self.path}: {_show(self.old)} -> {_show(self.new)}"
        return f"{self.kind} {self.path}: {_show(self.new if self.kind == '+' else self.old)}"


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _key(item: Any) -> str | None:
    if isinstance(item, dict):
        for field in ("name", "path"):
            if isinstance(item.get(field), str):
                return f"{field}={item[field]}"
    return None


def _keyed(items: list[Any]) -> dict[str, Any] | None:
    """Items by name/path when every item has a distinct one, else None (compare by index)."""
    keys = [_key(i) for i in items]
    if any(k is None for k in keys) or len(set(keys)) != len(keys):
        return None
    return dict(zip((str(k) for k in keys), items, strict=True))


def _walk(a: Any, b: Any, path: str) -> Iterator[Change]:
    if a == b:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            sub = f"{path}.{k}"
            if k not in b:
                yield Change("-", sub, old=a[k])
            elif k not in a:
                yield Change("+", sub, new=b[k])
            else:
                yield from _walk(a[k], b[k], sub)
        return
    if isinstance(a, list) and isinstance(b, list):
        ka, kb = _keyed(a), _keyed(b)
        if ka is not None and kb is not None and (a or b):
            for k in list(ka) + [k for k in kb if k not in ka]:
                sub = f"{path}[{k}]"
                if k not in kb:
                    yield Change("-", sub, old=ka[k])
                elif k not in ka:
                    yield Change("+", sub, new=kb[k])
                else:
                    yield from _walk(ka[k], kb[k], sub)
            return
        if a and b:
            yield from _walk_items(a, b, path)
            return
    yield Change("~", path, old=a, new=b)


def _walk_items(a: list[Any], b: list[Any], path: str) -> Iterator[Change]:
    """Lists compared item by item: ``- $.init[1]`` (index in A), ``+ $.init[4]`` (index in
    B), ``~`` for an item replaced by one other item; never two whole arrays."""
    import difflib

    ja = [_show(x) for x in a]
    jb = [_show(x) for x in b]
    matcher = difflib.SequenceMatcher(None, ja, jb, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        if op == "replace" and i2 - i1 == j2 - j1:
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                yield from _walk(a[i], b[j], f"{path}[{j}]")
            continue
        for i in range(i1, i2):
            yield Change("-", f"{path}[{i}]", old=a[i])
        for j in range(j1, j2):
            yield Change("+", f"{path}[{j}]", new=b[j])


def diff_specs(a: Spec, b: Spec) -> list[Change]:
    """What changes from ``a`` to ``b``, in spec order; empty when they mean the same."""
    return list(_walk(to_data(a), to_data(b), "$"))
