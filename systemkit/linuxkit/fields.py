"""The LinuxKit YAML view of the spec classes, derived from their attrs declarations.

Every spec field carries its LinuxKit key in ``field.metadata["key"]``; this module turns the
declarations into what the parser and the emitter walk: the YAML fields of a class, in emit
order, with their kinds. It also holds the few tables that are *about* LinuxKit rather than
about the spec: fields that exist only in systemkit, fields that hold image references, and the
camelCase fields LinuxKit silently drops (reference §1.5).
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


SYSTEMKIT_ONLY: frozenset[tuple[type[Any], str]] = frozenset(
    {(st.Spec, "api_version"), (st.FileSpec, "source_digest")}
)
"""Spec fields that are not LinuxKit keys: never read from, nor written to, YAML."""

IMAGE_REF_FIELDS: frozenset[tuple[type[Any], str]] = frozenset(
    {(st.ImageSpec, "image"), (st.KernelSpec, "image"), (st.VolumeSpec, "image"), (st.Spec, "init")}
)
"""Fields holding image references (for ``init``: each item), normalised while parsing."""

MODE_FIELDS: frozenset[tuple[type[Any], str]] = frozenset(
    {(st.FileSpec, "mode"), (st.DeviceSpec, "mode")}
)
"""Fields holding an octal mode string, canonicalised to ``%04o`` while parsing."""

OCI_STRUCTS: frozenset[type[Any]] = frozenset(
    {
        st.IDMapping,
        st.MountSpec,
        st.DeviceCgroup,
        st.Memory,
        st.CPU,
        st.Pids,
        st.WeightDevice,
        st.ThrottleDevice,
        st.BlockIO,
        st.HugepageLimit,
        st.InterfacePriority,
        st.Network,
        st.Resources,
    }
)
"""Spec classes that are OCI runtime-spec structs inside LinuxKit (no ``yaml`` tags there).

LinuxKit decodes them with yaml.v3's default field names (the Go name lower-cased), so a
camelCase key the schema allows (``disableOOMKiller``) never reaches the struct: it is dropped.
"""


def dropped_by_linuxkit(cls: type[Any], key: str) -> bool:
    """True for a key LinuxKit accepts but silently drops while decoding (reference §1.5)."""
    return cls in OCI_STRUCTS and key != key.lower()


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
