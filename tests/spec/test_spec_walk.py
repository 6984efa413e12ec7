"""The one walk over a spec's images: build order, every use, each reference once."""

from __future__ import annotations

from systemkit.spec.types import ImageSpec, KernelSpec, Spec, VolumeSpec
from systemkit.spec.walk import first_uses, image_paths, image_refs


def test_images_are_walked_in_build_order() -> None:
    spec = Spec(
        kernel=KernelSpec(image="k:1"),
        init=["init:1", "app:1"],
        onboot=[ImageSpec(name="a", image="app:1")],
        onshutdown=[ImageSpec(name="b", image="down:1")],
        services=[ImageSpec(name="c", image="svc:1")],
        volumes=[VolumeSpec(name="v", image="vol:1"), VolumeSpec(name="empty")],
    )
    assert list(image_paths(spec)) == [
        ("$.kernel.image", "k:1"),
        ("$.init[0]", "init:1"),
        ("$.init[1]", "app:1"),
        ("$.volumes[0].image", "vol:1"),
        ("$.onboot[0].image", "app:1"),
        ("$.onshutdown[0].image", "down:1"),
        ("$.services[0].image", "svc:1"),
    ]
    assert first_uses(spec)["app:1"] == "$.init[1]"
    assert image_refs(spec) == ["k:1", "init:1", "app:1", "vol:1", "down:1", "svc:1"]
