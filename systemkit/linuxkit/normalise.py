"""LinuxKit's own normalisations and checks of what the YAML reader reads.

So that a YAML file and the ``system.py`` generated from it lower to the same spec: image
references are normalised (``redis`` -> ``docker.io/library/redis``), file and device modes
become ``%04o`` strings, file paths lose their leading ``/``, an empty kernel ``image`` means no
image, and ``files[].source`` is resolved as LinuxKit does (``~/`` expanded, relative paths
against the current directory) and recorded relative to the base directory with the sha256 of
its content. LinuxKit's name rules (volume names, unique service and volume names) are here too.
The reader (:mod:`systemkit.linuxkit.parse`) applies them and reports what they refuse.
"""

from __future__ import annotations

import hashlib
import os
import re
import typing
from pathlib import Path

from systemkit.codes import DUPLICATE_SERVICE, DUPLICATE_VOLUME
from systemkit.diagnostics import Diagnostic
from systemkit.images.ref import normalise
from systemkit.location import Location
from systemkit.spec import types as st

VOLUME_NAME_RE = re.compile(r"^[a-z0-9_-]*$")
"""LinuxKit's rule for volume names."""

_OCTAL_RE = re.compile(r"^[0-7]+$")


def image_ref(value: str) -> str:
    """A reference as LinuxKit normalises it (raises ``InvalidReference``)."""
    return normalise(value)


def mode(value: str) -> str | None:
    """An octal mode string as ``%04o``; None when it is not an octal number in 0-07777."""
    if not _OCTAL_RE.match(value) or int(value, 8) > 0o7777:
        return None
    return f"{int(value, 8):04o}"


def file_path(path: str) -> str:
    """A ``files`` path without its leading ``/``."""
    return path.lstrip("/")


def kernel_image(image: str | None) -> str | None:
    """``image: ""`` in the kernel section means no kernel image."""
    return None if image == "" else image


def source_path(source: str, cwd: Path) -> tuple[str, str]:
    """``(as recorded in the spec, absolute path)`` of a ``files[].source``: ``~/`` is kept
    (expanded at build time, so the spec stays machine-neutral), a relative path is resolved
    against ``cwd`` as LinuxKit resolves it and recorded relative to ``cwd``."""
    expanded = source
    if source.startswith("~/"):
        expanded = os.path.join(os.path.expanduser("~"), source[2:])
    absolute = os.path.normpath(os.path.join(cwd, expanded))
    if source.startswith("~/"):
        return source, absolute
    return Path(os.path.relpath(absolute, cwd)).as_posix(), absolute


def file_digest(path: str) -> str:
    """``sha256:<hex>`` of a file's content (raises ``OSError``)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def spec_names(spec: st.Spec) -> list[tuple[str, int, str]]:
    """(section, index, name) of every service and volume of a spec."""
    return [
        (sec, i, e.name)
        for sec in ("services", "volumes")
        for i, e in enumerate(getattr(spec, sec))
    ]


def check_unique_names(
    names: list[tuple[str, int, str]],
    locations: typing.Mapping[str, Location],
    errors: list[Diagnostic],
) -> None:
    """LinuxKit's checks: service names are unique, volume names are unique."""
    first: dict[tuple[str, str], int] = {}
    for section, i, name in names:
        if (section, name) not in first:
            first[(section, name)] = i
            continue
        j = first[(section, name)]
        code, what = (DUPLICATE_VOLUME, "volume")
        if section == "services":
            code, what = DUPLICATE_SERVICE, "service"
        here = locations.get(f"$.{section}[{i}].name")
        there = locations.get(f"$.{section}[{j}].name")
        errors.append(
            Diagnostic(
                code.code,
                code.severity,
                f"duplicate {what} name {name!r} (also {section}[{j}])",
                here,
                f"$.{section}[{i}].name",
                f"give each {what} a unique name",
                (there,) if there else (),
            )
        )
