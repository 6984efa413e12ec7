"""Fast tests of a system without booting it: typed access to its lowered spec.

``spec_view(system)`` lowers a system once and answers questions about it (services, files,
capabilities) and gives the canonical JSON and LinuxKit YAML to compare with a snapshot.
"""

from __future__ import annotations

import os
from pathlib import Path

import attrs

from systemkit.model import System
from systemkit.spec.lowered import Lowered
from systemkit.spec.types import SECTIONS, FileSpec, ImageSpec, Spec


@attrs.frozen
class SpecView:
    """A lowered system, read by tests (nothing here boots or builds)."""

    lowered: Lowered

    @property
    def spec(self) -> Spec:
        return self.lowered.spec

    @property
    def onboot(self) -> dict[str, ImageSpec]:
        """The ``onboot`` containers by name, in order."""
        return {c.name: c for c in self.spec.onboot}

    @property
    def services(self) -> dict[str, ImageSpec]:
        """The ``services`` by name, in order."""
        return {c.name: c for c in self.spec.services}

    @property
    def onshutdown(self) -> dict[str, ImageSpec]:
        return {c.name: c for c in self.spec.onshutdown}

    @property
    def files(self) -> dict[str, FileSpec]:
        """The ``files`` entries by absolute path (``/etc/motd``)."""
        return {"/" + f.path.lstrip("/"): f for f in self.spec.files}

    def container(self, name: str) -> ImageSpec:
        """The container ``name`` of any section; KeyError names the ones there are."""
        for section in SECTIONS:
            for c in getattr(self.spec, section):
                if c.name == name:
                    assert isinstance(c, ImageSpec)
                    return c
        known = [c.name for s in SECTIONS for c in getattr(self.spec, s)]
        raise KeyError(f"no container named {name!r} (there are: {', '.join(known) or 'none'})")

    def capabilities(self, name: str) -> frozenset[str]:
        """The capabilities the system itself gives container ``name`` (``capabilities`` and
        ``capabilities.add``; an image label's defaults are not part of the spec)."""
        c = self.container(name)
        return frozenset([*(c.capabilities or []), *(c.capabilities_add or [])])

    def json(self) -> str:
        """The canonical spec (what ``systemkit lower`` prints)."""
        from systemkit.spec.codec import spec_bytes

        return spec_bytes(self.spec).decode()

    def yaml(self) -> str:
        """The LinuxKit YAML (what ``systemkit lower --format linuxkit`` prints)."""
        from systemkit.linuxkit.emit import emit_yaml

        return emit_yaml(self.spec)

    @property
    def digest(self) -> str:
        from systemkit.spec.codec import spec_digest

        return spec_digest(self.spec)


def spec_view(
    system: System | Lowered | str | os.PathLike[str], system_name: str | None = None
) -> SpecView:
    """Lower ``system`` (a :class:`~systemkit.System`, a :class:`~systemkit.Lowered`, or the
    path of a ``system.py`` / LinuxKit YAML file; ``system_name`` picks one of its systems)."""
    from systemkit.loader import load_lowered
    from systemkit.model import lower

    if isinstance(system, Lowered):
        return SpecView(system)
    if isinstance(system, System):
        return SpecView(lower(system))
    return SpecView(load_lowered([Path(system)], system_name))
