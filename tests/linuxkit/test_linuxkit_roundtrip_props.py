"""Property tests: any normalised spec emits YAML that parses back to the identical spec."""

from __future__ import annotations

import ast
import typing
from pathlib import Path
from typing import Any

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from systemkit.images.ref import normalise
from systemkit.linuxkit import parse_yaml
from systemkit.linuxkit.emit import emit_yaml
from systemkit.linuxkit.fields import IMAGE_REF_FIELDS, MODE_FIELDS, is_idref, yaml_fields
from systemkit.linuxkit.pyexpr import string
from systemkit.spec import types as st

TEXT = hs.text(hs.characters(codec="utf-8"), max_size=12) | hs.sampled_from(
    [
        "",
        "yes",
        "No",
        "on",
        "~",
        "null",
        "0644",
        "1e3",
        "0x1f",
        "- a",
        "a: b",
        "#x",
        "x #y",
        "'q'",
        '"q"',
        "a\nb\n",
        "a\n\nb",
        " lead",
        "trail ",
        "line\n",
        "|",
        ">",
        "@a",
        "`b",
        "*c",
        "&d",
        "!e",
        "%f",
        "{}",
        "[]",
        "a,b",
        "<<",
        "=",
        "2001-01-01",
        ".inf",
        "+1",
        "-",
    ]
)
REFS = hs.sampled_from(
    [
        "alpine",
        "alpine:3.20",
        "linuxkit/init:abc",
        "localhost:5000/a/b:1",
        "ghcr.io/o/r@sha256:" + "b" * 64,
        "registry.example.com:443/x",
    ]
).map(normalise)
SEGMENT = hs.from_regex(r"[a-z0-9_][a-z0-9_.-]{0,6}", fullmatch=True).filter(
    lambda s: s not in (".", "..")
)
REL_PATH = hs.lists(SEGMENT, min_size=1, max_size=3).map("/".join)


def _scalar(hint: Any) -> hs.SearchStrategy[Any]:
    if hint is str:
        return TEXT
    if hint is bool:
        return hs.booleans()
    if hint is int:
        return hs.integers(-(2**63), 2**63 - 1)
    if is_idref(hint):
        return hs.integers(0, 2**32) | TEXT
    raise TypeError(hint)


def _value(cls: type[Any], name: str, hint: Any) -> hs.SearchStrategy[Any]:
    if (cls, name) in IMAGE_REF_FIELDS:
        return hs.lists(REFS, max_size=3) if typing.get_origin(hint) is list else REFS
    if (cls, name) in MODE_FIELDS:
        return hs.integers(0, 0o7777).map(lambda m: f"{m:04o}")
    if cls is st.FileSpec and name == "path":
        return REL_PATH
    if cls is st.VolumeSpec and name == "name":
        return hs.from_regex(r"[a-z0-9_-]{0,8}", fullmatch=True)
    if attrs.has(hint):
        return hs.deferred(lambda: spec_objects(hint))
    origin = typing.get_origin(hint)
    if origin is list:
        (item,) = typing.get_args(hint)
        return hs.lists(_value(cls, name, item), max_size=3)
    if origin is dict:
        return hs.dictionaries(TEXT, TEXT, max_size=3)
    return _scalar(hint)


def spec_objects(cls: type[Any]) -> hs.SearchStrategy[Any]:
    """Any normalised instance of a spec class, driven by its declaration."""
    fields: dict[str, hs.SearchStrategy[Any]] = {}
    for f in yaml_fields(cls):
        value = _value(cls, f.name, f.hint)
        fields[f.name] = value if f.required else hs.none() | value
    if cls is st.FileSpec:
        # A source must exist to be digested; optional ones may be missing (digest None).
        fields["source"] = hs.none() | REL_PATH.map(lambda p: "missing/" + p)
        fields["optional"] = hs.just(True)
    if cls is st.KernelSpec:
        fields["image"] = hs.none() | REFS
        return (
            hs.fixed_dictionaries(fields)
            .filter(lambda d: any(v is not None for v in d.values()))
            .map(lambda d: cls(**d))
        )
    return hs.fixed_dictionaries(fields).map(lambda d: cls(**d))


def _unique(attr: str) -> Any:
    return lambda x: getattr(x, attr)


SPECS = hs.builds(
    st.Spec,
    kernel=hs.none() | spec_objects(st.KernelSpec),
    init=hs.lists(REFS, max_size=3),
    onboot=hs.lists(spec_objects(st.ImageSpec), max_size=2),
    onshutdown=hs.lists(spec_objects(st.ImageSpec), max_size=1),
    services=hs.lists(spec_objects(st.ImageSpec), max_size=2, unique_by=_unique("name")),
    files=hs.lists(spec_objects(st.FileSpec), max_size=3),
    volumes=hs.lists(spec_objects(st.VolumeSpec), max_size=2, unique_by=_unique("name")),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=SPECS)
def test_emit_then_parse_is_identity(spec: st.Spec) -> None:
    cwd = Path("/nonexistent-systemkit-cwd")
    text = emit_yaml(spec)
    assert emit_yaml(spec) == text
    back = parse_yaml(text, "emitted.yml", cwd=cwd)
    assert back.spec == spec, text


@settings(max_examples=300, deadline=None)
@given(text=TEXT)
def test_python_string_literals_read_back(text: str) -> None:
    assert ast.literal_eval(string(text).text) == text
