"""A lowered system: the spec plus where each of its parts came from."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import attrs

from systemkit.diagnostics import Diagnostic
from systemkit.location import Location
from systemkit.spec.types import Spec


@attrs.frozen
class Lowered:
    """The result of lowering a ``system.py`` system or parsing LinuxKit YAML.

    ``locations`` maps spec paths (``$``, ``$.services[2]``, ``$.services[2].binds[0]``,
    ``$.files[0].mode`` ...) to where the user wrote that part; ``base_dir`` is the directory
    that relative ``files[].source`` paths in the spec are relative to; ``diagnostics`` are
    non-fatal findings made on the way (warnings, infos).
    """

    spec: Spec
    locations: Mapping[str, Location] = attrs.field(factory=dict)
    base_dir: Path = attrs.field(factory=Path.cwd)
    diagnostics: tuple[Diagnostic, ...] = ()
    name: str | None = None

    def location_of(self, spec_path: str) -> Location | None:
        """The location of a spec path, or of its nearest located ancestor."""
        path = spec_path
        while True:
            loc = self.locations.get(path)
            if loc is not None or path == "$":
                return loc
            cut = max(path.rfind("."), path.rfind("["))
            if cut <= 0:
                return self.locations.get("$")
            path = path[:cut]
