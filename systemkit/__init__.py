"""systemkit: LinuxKit-style bootable systems as typed Python.

Write a ``system.py`` that composes :class:`System`, :class:`Kernel`, :class:`Onboot`,
:class:`Service`, :class:`File` ... with ordinary Python; :func:`lower` it to the canonical spec,
or :func:`build` it into bootable artifacts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from attrs import evolve

from systemkit import catalog
from systemkit.capabilities import Capability
from systemkit.diagnostics import Diagnostic, Severity, SystemkitError, UserError
from systemkit.images.ref import ImageRef
from systemkit.loader import load
from systemkit.location import Location
from systemkit.model import (
    CPU,
    Bind,
    BindNS,
    BlockIO,
    Container,
    ContainerOptions,
    Device,
    DeviceCgroup,
    File,
    HugepageLimit,
    IDMapping,
    Init,
    Interface,
    InterfacePriority,
    Kernel,
    Memory,
    Mount,
    Network,
    Onboot,
    Onshutdown,
    Pids,
    Resources,
    Rlimit,
    Runtime,
    Service,
    System,
    ThrottleDevice,
    Tmpfs,
    Volume,
    WeightDevice,
    lower,
)
from systemkit.spec.lowered import Lowered
from systemkit.spec.types import Spec
from systemkit.variants.matrix import matrix
from systemkit.version import __version__


def build(
    system: System | Lowered,
    *,
    formats: Iterable[str] = ("kernel+initrd",),
    out_dir: str | Path = ".",
    name: str | None = None,
    backend: str = "native",
    arch: str | None = None,
    cache_dir: str | Path | None = None,
    pull: bool = False,
    progress: Callable[..., None] | None = None,
) -> list[Path]:
    """Build ``system`` into artifacts in ``out_dir``; returns the paths written.

    ``system`` is a :class:`System` (lowered first) or an already :class:`Lowered` one. The
    checks of ``systemkit check`` run first: an error raises :class:`UserError`.
    """
    from systemkit.backends import build as backend_build
    from systemkit.check import gate

    formats = tuple(formats)
    lowered = system if isinstance(system, Lowered) else lower(system)
    gate(lowered, formats=formats)
    kwargs: dict[str, Any] = {}
    if progress is not None:
        kwargs["progress"] = progress
    paths: list[Path] = backend_build(
        lowered.spec,
        base_dir=lowered.base_dir,
        formats=formats,
        out_dir=Path(out_dir),
        name=name or lowered.name or "system",
        backend=backend,
        arch=arch,
        cache_dir=None if cache_dir is None else Path(cache_dir),
        pull=pull,
        **kwargs,
    )
    return paths


__all__ = [
    "CPU",
    "Bind",
    "BindNS",
    "BlockIO",
    "Capability",
    "Container",
    "ContainerOptions",
    "Device",
    "DeviceCgroup",
    "Diagnostic",
    "File",
    "HugepageLimit",
    "IDMapping",
    "ImageRef",
    "Init",
    "Interface",
    "InterfacePriority",
    "Kernel",
    "Location",
    "Lowered",
    "Memory",
    "Mount",
    "Network",
    "Onboot",
    "Onshutdown",
    "Pids",
    "Resources",
    "Rlimit",
    "Runtime",
    "Service",
    "Severity",
    "Spec",
    "System",
    "SystemkitError",
    "ThrottleDevice",
    "Tmpfs",
    "UserError",
    "Volume",
    "WeightDevice",
    "__version__",
    "build",
    "catalog",
    "evolve",
    "load",
    "lower",
    "matrix",
]
