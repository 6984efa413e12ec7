"""The one walk over a spec's image references.

Every part of systemkit that needs the images of a system (the build resolving them, the
docker backend exporting them, the linuxkit backend naming them in errors, the pinning check,
the lock) walks them here, in one order: the build's stream order, as LinuxKit processes them
(kernel, init, volumes, onboot, onshutdown, services).
"""

from __future__ import annotations

from collections.abc import Iterator

from systemkit.spec.types import SECTIONS, Spec


def image_paths(spec: Spec) -> Iterator[tuple[str, str]]:
    """``(spec path, reference)`` of every image reference in ``spec``, in build order."""
    if spec.kernel is not None and spec.kernel.image:
        yield "$.kernel.image", spec.kernel.image
    for i, ref in enumerate(spec.init):
        yield f"$.init[{i}]", ref
    for i, vol in enumerate(spec.volumes):
        if vol.image:
            yield f"$.volumes[{i}].image", vol.image
    for section in SECTIONS:
        for i, c in enumerate(getattr(spec, section)):
            yield f"$.{section}[{i}].image", c.image


def first_uses(spec: Spec) -> dict[str, str]:
    """Each reference once, with the spec path of its first use, in build order."""
    found: dict[str, str] = {}
    for path, ref in image_paths(spec):
        found.setdefault(ref, path)
    return found


def image_refs(spec: Spec) -> list[str]:
    """Every image the spec builds from, in build order, without repeats."""
    return list(first_uses(spec))
