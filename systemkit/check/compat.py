"""LinuxKit compatibility: fields LinuxKit accepts and then silently drops (SK296)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs

from systemkit.check.context import Context
from systemkit.linuxkit.fields import dropped_by_linuxkit
from systemkit.spec.types import key_of


def _dropped(obj: Any, path: str) -> Iterator[tuple[str, str]]:
    """(spec path, key) of every set field below ``obj`` that LinuxKit drops."""
    if isinstance(obj, list):
        for i, item in enumerate(obj):
            yield from _dropped(item, f"{path}[{i}]")
        return
    if not attrs.has(type(obj)):
        return
    for f in attrs.fields(type(obj)):
        value = getattr(obj, f.name)
        if value is None:
            continue
        key = key_of(f)
        if dropped_by_linuxkit(type(obj), key):
            yield f"{path}.{key}", key
        else:
            yield from _dropped(value, f"{path}.{key}")


def check_dropped_fields(ctx: Context) -> None:
    for e in ctx.containers():
        for path, key in _dropped(e.spec, e.path):
            ctx.report(
                "SK296",
                path,
                f"`{key}` is silently dropped by LinuxKit (it decodes this OCI struct with "
                "lower-cased field names), and systemkit's build drops it too, to build exactly "
                "what `linuxkit build` builds",
                "leave it out, or set it in the image's own configuration",
            )


RULES = (check_dropped_fields,)
