"""(Un)structuring the spec: canonical JSON bytes, digest, JSON Schema.

A cattrs converter maps each spec class to a dict keyed by LinuxKit's keys (from the field
metadata in :mod:`systemkit.spec.types`), omitting unset (``None``) fields. The canonical form is
JSON with sorted keys, 2-space indent and a trailing newline; there are no floats in a spec.
"""

from __future__ import annotations

import hashlib
import json
import types
import typing
from collections.abc import Iterator
from typing import Any

import attrs
import cattrs
import orjson
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from cattrs.v import format_exception

from systemkit.codes import UNKNOWN_KEY, WRONG_TYPE
from systemkit.diagnostics import Diagnostic, UserError
from systemkit.spec import types as st
from systemkit.spec.types import Spec, key_of


def _reachable(cls: type[Any], out: list[type[Any]]) -> list[type[Any]]:
    """Spec classes reachable from ``cls`` through its field types, dependencies first."""
    hints = typing.get_type_hints(cls)
    for f in attrs.fields(cls):
        stack = [hints[f.name]]
        while stack:
            tp = stack.pop()
            stack.extend(typing.get_args(tp))
            if attrs.has(tp) and tp not in out:
                _reachable(tp, out)
    if cls not in out:
        out.append(cls)
    return out


SPEC_CLASSES: tuple[type[Any], ...] = tuple(_reachable(Spec, _reachable(st.ImageConfig, [])))
"""Every spec class, each after the classes its fields use (the converter needs that order)."""


def _structure_idref(value: Any, _type: Any) -> int | str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"expected an integer or a string, got {value!r}")
    return value


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True)
    conv.register_structure_hook_func(lambda t: t == st.IdRef, _structure_idref)
    conv.register_structure_hook_func(
        lambda t: t == st.IdRef | None,
        lambda v, t: None if v is None else _structure_idref(v, t),
    )
    for cls in SPEC_CLASSES:
        renames: dict[str, Any] = {
            f.name: override(rename=key_of(f), omit_if_default=f.default is None)
            for f in attrs.fields(cls)
        }
        conv.register_unstructure_hook(cls, make_dict_unstructure_fn(cls, conv, **renames))
        srenames: dict[str, Any] = {f.name: override(rename=key_of(f)) for f in attrs.fields(cls)}
        conv.register_structure_hook(
            cls, make_dict_structure_fn(cls, conv, _cattrs_forbid_extra_keys=True, **srenames)
        )
    return conv


converter = _make_converter()
"""The cattrs converter for every spec class."""


def to_data(obj: Any) -> Any:
    """A spec object as plain JSON-able data with LinuxKit keys (unset fields omitted)."""
    return converter.unstructure(obj)


class SpecError(UserError):
    """Data that is not a valid spec: one finding per problem, at its spec path (``SK002`` an
    unknown key, ``SK003`` a value of the wrong type), made from cattrs' structured errors."""


def from_data(data: Any, cls: type[Any] = Spec) -> Any:
    """Structure plain data (LinuxKit keys) into a spec class.

    Raises :class:`SpecError` with every problem (unknown keys, wrong types), each at its path.
    """
    try:
        return converter.structure(data, cls)
    except cattrs.BaseValidationError as exc:
        raise SpecError(list(_findings(exc, "$", cls))) from None
    except (ValueError, TypeError, AttributeError) as exc:
        message = f"expected a mapping, got {type(data).__name__}"
        if not isinstance(exc, AttributeError):
            message = format_exception(exc, cls)
        raise SpecError(WRONG_TYPE.diagnostic(message, spec_path="$")) from None


def _findings(exc: BaseException, path: str, tp: Any) -> Iterator[Diagnostic]:
    """The located findings of one cattrs error (a tree of class and list errors)."""
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        for key in sorted(exc.extra_fields):
            yield UNKNOWN_KEY.diagnostic(f"unknown key `{key}`", spec_path=_key_path(path, key))
    elif isinstance(exc, cattrs.ClassValidationError):
        keys = {f.name: key_of(f) for f in attrs.fields(exc.cl)}
        noted, other = exc.group_exceptions()
        for sub, note in noted:
            sub_path = _key_path(path, keys.get(note.name, note.name))
            yield from _findings(sub, sub_path, note.type)
        for sub in other:
            yield from _findings(sub, path, exc.cl)
    elif isinstance(exc, cattrs.IterableValidationError):
        noted_items, other = exc.group_exceptions()
        for sub, item in noted_items:
            yield from _findings(sub, f"{path}[{item.index}]", item.type)
        for sub in other:
            yield from _findings(sub, path, tp)
    elif isinstance(exc, cattrs.BaseValidationError):
        for sub in exc.exceptions:
            yield from _findings(sub, path, tp)
    else:
        yield WRONG_TYPE.diagnostic(format_exception(exc, tp), spec_path=path)


def _key_path(path: str, key: str) -> str:
    """``path`` extended by a mapping key, as the YAML reader writes it (``$.x.binds.add``)."""
    return f"{path}.{key}"


def canonical_json(data: Any) -> bytes:
    """Canonical bytes: sorted keys, 2-space indent, UTF-8, trailing newline.

    orjson writes exactly the bytes of ``json.dumps(sort_keys=True, indent=2,
    ensure_ascii=False)`` about ten times faster (a test holds it to that); the standard
    library is the fallback for what orjson refuses (integers beyond 64 bits).
    """
    try:
        return orjson.dumps(data, option=_ORJSON_OPTS) + b"\n"
    except (TypeError, orjson.JSONEncodeError):
        text = json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
        return (text + "\n").encode("utf-8")


_ORJSON_OPTS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER


def spec_bytes(spec: Spec) -> bytes:
    """The canonical JSON bytes of a spec."""
    return canonical_json(to_data(spec))


def spec_digest(spec: Spec) -> str:
    """``sha256:<hex>`` of the spec's canonical bytes."""
    return "sha256:" + hashlib.sha256(spec_bytes(spec)).hexdigest()


def load_spec(raw: bytes | str) -> Spec:
    """Parse canonical (or any) spec JSON back into a :class:`Spec`."""
    spec = from_data(json.loads(raw))
    assert isinstance(spec, Spec)
    return spec


# --- JSON Schema, derived from the spec classes -------------------------------------------------


def _schema_for(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    origin = typing.get_origin(tp)
    if tp is type(None):
        return {"type": "null"}
    if tp is str:
        return {"type": "string"}
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        return {"type": "integer"}
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return _schema_for(args[0], defs)
        return {"anyOf": [_schema_for(a, defs) for a in args]}
    if origin is list:
        (item,) = typing.get_args(tp)
        return {"type": "array", "items": _schema_for(item, defs)}
    if origin is dict:
        _, val = typing.get_args(tp)
        return {"type": "object", "additionalProperties": _schema_for(val, defs)}
    if attrs.has(tp):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}  # placeholder against recursion
            hints = typing.get_type_hints(tp)
            props: dict[str, Any] = {}
            required: list[str] = []
            for f in attrs.fields(tp):
                sch = dict(_schema_for(hints[f.name], defs))
                if "doc" in f.metadata:
                    sch["description"] = f.metadata["doc"]
                props[key_of(f)] = sch
                if f.default is attrs.NOTHING:
                    required.append(key_of(f))
            body: dict[str, Any] = {
                "type": "object",
                "description": (tp.__doc__ or "").strip().splitlines()[0],
                "additionalProperties": False,
                "properties": props,
            }
            if required:
                body["required"] = sorted(required)
            defs[name] = body
        return {"$ref": f"#/$defs/{name}"}
    raise TypeError(f"no schema for {tp!r}")


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the spec document, generated from the spec types."""
    defs: dict[str, Any] = {}
    root = _schema_for(Spec, defs)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://systemkit.dev/schema/" + st.API_VERSION.split("/")[-1] + "/spec.json",
        "title": "systemkit spec " + st.API_VERSION,
        "$ref": root["$ref"],
        "$defs": dict(sorted(defs.items())),
    }
