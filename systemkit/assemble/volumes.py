"""Volumes: LinuxKit's name rule, their directories, and binds rewritten to them.

A volume is ``containers/volumes/NAME/`` with ``lower/`` (the image's content, or empty),
``tmp/`` and ``merged/``; a container's bind whose source is a volume name is rewritten to
``/containers/volumes/NAME/merged``, and a read-only volume must be bound ``ro``. The assembler
(:mod:`systemkit.assemble.build`) streams the image content into ``lower/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from systemkit.assemble.errors import BuildError
from systemkit.assemble.filters import Member
from systemkit.assemble.members import dir_member
from systemkit.codes import VOLUME_PROBLEM
from systemkit.spec.types import VolumeSpec

VOLUMES_SOURCE = "linuxkit.volumes"
_VOLUME_NAME = re.compile(r"[a-z0-9_-]*")


def volume_dir(index: int, vol: VolumeSpec) -> str:
    """``containers/volumes/NAME`` (refused: a name outside LinuxKit's rule, SK623)."""
    if not _VOLUME_NAME.fullmatch(vol.name):
        raise BuildError(
            VOLUME_PROBLEM,
            f"$.volumes[{index}]",
            f"invalid volume name {vol.name!r} (allowed: a-z 0-9 _ -)",
            where=f"volume[{index}]",
        )
    return f"containers/volumes/{vol.name}"


def volume_tail(base: str, location: str) -> Iterator[Member]:
    """The ``tmp/`` and ``merged/`` directories that follow a volume's content."""
    yield dir_member(base + "/tmp/", VOLUMES_SOURCE, location), None
    yield dir_member(base + "/merged/", VOLUMES_SOURCE, location), None


def bind_volumes(
    data: dict[str, Any], volumes: Sequence[VolumeSpec], where: str, spec_path: str
) -> dict[str, Any]:
    """A container's LinuxKit data with binds of volumes rewritten to the volumes' ``merged``
    directories; an undeclared volume or a read-only one bound writable is SK623."""
    vols = {v.name: v for v in volumes}
    for key in ("binds", "binds.add"):
        if data.get(key) is None:
            continue
        rewritten = []
        for bind in data[key]:
            parts = bind.split(":")
            if len(parts) >= 2 and not parts[0].startswith("/"):
                vol = vols.get(parts[0])
                if vol is None:
                    raise BuildError(
                        VOLUME_PROBLEM,
                        spec_path,
                        f"volume {parts[0]!r} is not declared",
                        where=where,
                    )
                if vol.readonly and (len(parts) < 3 or parts[2] != "ro"):
                    raise BuildError(
                        VOLUME_PROBLEM,
                        spec_path,
                        f"volume {vol.name!r} is read-only, so its bind must end in ':ro'",
                        where=where,
                    )
                parts[0] = f"/containers/volumes/{vol.name}/merged"
            rewritten.append(":".join(parts))
        data[key] = rewritten
    for mount in data.get("mounts") or []:
        vol = vols.get(mount.get("source") or "")
        if vol is not None and vol.readonly and "ro" not in (mount.get("options") or []):
            raise BuildError(
                VOLUME_PROBLEM,
                spec_path,
                f"volume {vol.name!r} is read-only, so its mount needs option 'ro'",
                where=where,
            )
    return data
