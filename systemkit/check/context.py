"""What a rule sees: the lowered system, and a way to report a finding at a spec path."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import attrs

from systemkit import codes
from systemkit.check.labels import LabelSource
from systemkit.check.locate import Locator
from systemkit.diagnostics import Diagnostic
from systemkit.spec import types as st
from systemkit.spec.lowered import Lowered


@attrs.frozen
class Entry:
    """A container of the system with its section, index and spec path."""

    section: str
    index: int
    spec: st.ImageSpec

    @property
    def path(self) -> str:
        return f"$.{self.section}[{self.index}]"


@attrs.define
class Context:
    """The input of every rule, and the list it reports into."""

    lowered: Lowered
    formats: tuple[str, ...] = ()
    labels: LabelSource = attrs.field(factory=LabelSource)
    found: list[Diagnostic] = attrs.field(factory=list)
    locator: Locator = attrs.field(
        default=attrs.Factory(lambda self: Locator(self.lowered), takes_self=True)
    )

    @property
    def spec(self) -> st.Spec:
        return self.lowered.spec

    def containers(self) -> Iterator[Entry]:
        """Every container, in LinuxKit's order (onboot, onshutdown, services)."""
        for section in st.SECTIONS:
            for i, c in enumerate(getattr(self.spec, section)):
                yield Entry(section, i, c)

    def volume_names(self) -> dict[str, st.VolumeSpec]:
        """Declared volumes by name (the first declaration of a name wins)."""
        out: dict[str, st.VolumeSpec] = {}
        for v in self.spec.volumes:
            out.setdefault(v.name, v)
        return out

    def report(
        self,
        code: str,
        path: str,
        message: str,
        hint: str | None = None,
        related: Sequence[str] = (),
    ) -> None:
        """Record a finding of rule ``code`` about the part at spec path ``path``.

        The location is the user's line of that part (see :mod:`systemkit.check.locate`);
        ``related`` are spec paths of the other parts involved (e.g. the first of two
        duplicates).
        """
        rel = tuple(loc for p in related if (loc := self.locator.at(p)) is not None)
        self.found.append(
            Diagnostic(
                code,
                codes.severity(code),
                message,
                self.locator.at(path),
                path,
                hint,
                rel,
            )
        )
