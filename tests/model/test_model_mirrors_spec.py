"""The one test that holds the model's hand-written declarations to the spec's.

The spec (systemkit/spec/types.py) declares each LinuxKit field once; the model's constructors
are written out by hand because mypy's attrs plugin needs literal declarations. This test is
what keeps them one fact: every model class has exactly the fields of its spec class (minus
systemkit-only ones), in the spec's order where the order is the user's keyword order, a field
required by the spec is required by the model and one the model may leave unset may be unset
in the spec, and ``ContainerOptions`` (the
``**options`` of a container subclass) lists exactly the container's keyword fields.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from systemkit.linuxkit.fields import SYSTEMKIT_ONLY
from systemkit.model import containers as mc
from systemkit.model import oci
from systemkit.model import parts as mp
from systemkit.model import system as ms
from systemkit.spec import types as st

PAIRS: list[tuple[type[Any], type[Any]]] = [
    (mc.Container, st.ImageSpec),
    (mp.Mount, st.MountSpec),
    (mp.Device, st.DeviceSpec),
    (mp.Runtime, st.RuntimeSpec),
    (ms.Kernel, st.KernelSpec),
    (ms.File, st.FileSpec),
    (ms.Volume, st.VolumeSpec),
    (ms.System, st.Spec),
    *[(cls, cls.SPEC) for cls in oci.OCI_VALUES],
]


def model_fields(cls: type[Any]) -> list[attrs.Attribute[Any]]:
    return [f for f in attrs.fields(cls) if not f.name.startswith("_")]


def spec_fields(cls: type[Any]) -> list[attrs.Attribute[Any]]:
    return [f for f in attrs.fields(cls) if (cls, f.name) not in SYSTEMKIT_ONLY]


@pytest.mark.parametrize(("model", "spec"), PAIRS, ids=[m.__name__ for m, _ in PAIRS])
def test_model_class_has_exactly_the_spec_fields(model: type[Any], spec: type[Any]) -> None:
    names = {f.name for f in model_fields(model)}
    expected = {f.name for f in spec_fields(spec)}
    assert names == expected, (
        f"{model.__name__}: missing {sorted(expected - names)}, extra {sorted(names - expected)}"
    )
    by_name = {f.name: f for f in spec_fields(spec)}
    for f in model_fields(model):
        mirror = by_name[f.name]
        if mirror.default is attrs.NOTHING:  # required in the spec: required in the model
            assert f.default is attrs.NOTHING, f"{model.__name__}.{f.name} must be required"
        if f.default is None:  # unset in the model: may be unset in the spec
            assert mirror.default is None, f"{spec.__name__}.{f.name} cannot be unset"


def test_container_keywords_follow_the_spec_order() -> None:
    """``Container(name, image, *, <ImageConfig's fields in order>)``."""
    assert [f.name for f in model_fields(mc.Container)] == ["name", "image"] + [
        f.name for f in attrs.fields(st.ImageConfig)
    ]
    assert all(f.kw_only for f in model_fields(mc.Container)[2:])


def test_container_options_list_every_keyword_of_a_container() -> None:
    keywords = [f.name for f in model_fields(mc.Container) if f.kw_only]
    assert list(mc.ContainerOptions.__annotations__) == keywords
    assert mc.ContainerOptions.__total__ is False


def test_every_oci_struct_of_the_spec_has_a_model_class() -> None:
    from systemkit.linuxkit.fields import OCI_STRUCTS

    modelled = {cls.SPEC for cls in oci.OCI_VALUES} | {st.MountSpec}
    assert modelled >= OCI_STRUCTS
    assert {st.Interface, st.BindNS} <= modelled
