"""The LinuxKit YAML view of the spec classes, derived from their attrs declarations.

Every spec field carries its LinuxKit key in ``field.metadata["key"]``; this module turns the
declarations into what the parser and the emitter walk: the YAML fields of a class, in emit
order, with their kinds, and the sets the readers use (fields that exist only in systemkit,
fields that hold image references or modes, the OCI structs whose camelCase keys LinuxKit drops),
all derived from the ``lk()`` declarations and ``@oci_struct`` marks of
:mod:`systemkit.spec.types`: nothing about a field is written here.
"""

from __future__ import annotations

import types
import typing
from typing import Any

import attrs

from systemkit.spec import types as st


@attrs.frozen
class YamlField:
    """One key of a LinuxKit object: attrs name, LinuxKit key, type hint, required or not."""

    name: str
    key: str
    hint: Any
    required: bool


def _marked(flag: str) -> frozenset[tuple[type[Any], str]]:
    """Every (spec class, field name) whose ``lk()`` declaration sets ``flag``."""
    from systemkit.spec.codec import SPEC_CLASSES

    return frozenset(
        (cls, f.name) for cls in SPEC_CLASSES for f in attrs.fields(cls) if f.metadata.get(flag)
    )


def _unmarked(flag: str) -> frozenset[tuple[type[Any], str]]:
    from systemkit.spec.codec import SPEC_CLASSES

    return frozenset(
        (cls, f.name)
        for cls in SPEC_CLASSES
        for f in attrs.fields(cls)
        if not f.metadata.get(flag, True)
    )


SYSTEMKIT_ONLY: frozenset[tuple[type[Any], str]] = _unmarked("linuxkit")
"""Spec fields that are not LinuxKit keys (``lk(..., linuxkit=False)``): never read from, nor
written to, YAML."""

IMAGE_REF_FIELDS: frozenset[tuple[type[Any], str]] = _marked("image_ref")
"""Fields holding image references (``lk(..., image_ref=True)``; for ``init``: each item),
normalised while parsing."""

MODE_FIELDS: frozenset[tuple[type[Any], str]] = _marked("mode")
"""Fields holding an octal mode string (``lk(..., mode=True)``), canonicalised to ``%04o``
while parsing."""

OCI_STRUCTS: frozenset[type[Any]] = frozenset(
    cls for cls in vars(st).values() if isinstance(cls, type) and getattr(cls, st.OCI_STRUCT, False)
)
"""Spec classes declared ``@oci_struct``: OCI runtime-spec structs inside LinuxKit, whose
camelCase keys LinuxKit drops (see :func:`systemkit.spec.types.oci_struct`)."""

dropped_by_linuxkit = st.dropped_by_linuxkit


def _unwrap_optional(hint: Any) -> Any:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1:
            return args[0]
        return typing.Union[tuple(args)]  # noqa: UP007 (rebuilt from a tuple)
    return hint


_FIELDS: dict[type[Any], tuple[YamlField, ...]] = {}


def yaml_fields(cls: type[Any]) -> tuple[YamlField, ...]:
    """The LinuxKit keys of a spec class, required ones first, then in declaration order."""
    cached = _FIELDS.get(cls)
    if cached is not None:
        return cached
    hints = typing.get_type_hints(cls)
    out = [
        YamlField(
            name=f.name,
            key=st.key_of(f),
            hint=_unwrap_optional(hints[f.name]),
            required=f.default is attrs.NOTHING,
        )
        for f in attrs.fields(cls)
        if (cls, f.name) not in SYSTEMKIT_ONLY
    ]
    result = tuple([f for f in out if f.required] + [f for f in out if not f.required])
    _FIELDS[cls] = result
    return result


def fields_by_key(cls: type[Any]) -> dict[str, YamlField]:
    """The YAML fields of a class keyed by LinuxKit key."""
    return {f.key: f for f in yaml_fields(cls)}


def is_idref(hint: Any) -> bool:
    """True for ``int | str`` (a uid/gid: a number or a container name)."""
    return typing.get_origin(hint) in (typing.Union, types.UnionType) and set(
        typing.get_args(hint)
    ) == {int, str}
