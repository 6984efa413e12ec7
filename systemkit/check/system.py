"""The system as a whole: the kernel (SK270, SK271), image pinning (SK280), volume options
(SK290)."""

from __future__ import annotations

import re

from systemkit.check.context import Context
from systemkit.images.ref import ImageRef, InvalidReference
from systemkit.spec.walk import image_paths

NON_BOOTABLE_FORMATS = frozenset(("tar", "docker"))
"""Output formats that need no kernel."""

_CONTENT_HASH_TAG = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})(?:-[a-z0-9]+)*$")


def check_kernel(ctx: Context) -> None:
    kernel = ctx.spec.kernel
    bootable = sorted(f for f in ctx.formats if f not in NON_BOOTABLE_FORMATS)
    if (kernel is None or not kernel.image) and bootable:
        ctx.report(
            "SK270",
            "$",
            f"format {bootable[0]} boots a kernel, but the system has none",
            "add a kernel (kernel: image: linuxkit/kernel:<tag>), or build only `tar`",
        )
    if kernel is not None and kernel.image and "console=" not in (kernel.cmdline or ""):
        ctx.report(
            "SK271",
            "$.kernel.cmdline" if kernel.cmdline is not None else "$.kernel",
            "the kernel cmdline has no `console=`: boot messages go nowhere visible",
            "e.g. cmdline: 'console=ttyS0' (qemu) or 'console=tty0'",
        )


def _unpinned(ref: str) -> bool:
    try:
        parsed = ImageRef.parse(ref)
    except InvalidReference:
        return False  # reported as SK105
    if parsed.digest is not None:
        return False
    return parsed.tag is None or not _CONTENT_HASH_TAG.match(parsed.tag)


def check_pinning(ctx: Context) -> None:
    for path, ref in image_paths(ctx.spec):
        if _unpinned(ref):
            ctx.report(
                "SK280",
                path,
                f"image {ref} is not pinned to a digest: the tag can move",
                "run `systemkit lock FILE`: lowering then pins it to the locked digest "
                "(docs/images.md)",
            )


def check_volume_options(ctx: Context) -> None:
    for i, v in enumerate(ctx.spec.volumes):
        if v.platforms and v.format != "oci":
            ctx.report(
                "SK290",
                f"$.volumes[{i}].platforms",
                f"volume {v.name!r}: `platforms` only applies to `format: oci`",
                "add `format: oci`, or remove `platforms`",
            )


RULES = (check_kernel, check_pinning, check_volume_options)
