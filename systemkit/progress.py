"""Progress of long work (pulls, builds, boots): one typed event, rendered in one place.

Library code reports what it is doing by calling a :data:`Progress` callback with a
:class:`ProgressEvent`; it never prints. The CLI renders the events
(:class:`systemkit.cli.progress.ProgressRenderer`: a live display on a terminal, plain lines
otherwise); a program using the library can pass any callable, e.g. ``events.append``, or
``lambda e: print(e)`` for the plain lines.

Kinds of event:

- ``step``: a step begins (``Add onboot containers:``, ``Extract kernel image: REF``).
- ``advance``: ``current`` of ``total`` ``unit`` (bytes or items) of ``subject`` are done
  (a blob being downloaded). Not shown as a line; a live display draws a bar.
- ``log``: a line of an external tool's output (``linuxkit build``'s log).
- ``warning``: something the user should read; kept on screen.
- ``done``: a step or the whole work finished (``Built NAME.tar in 1.2s``, a blob fetched).

``phase`` names the part of the work (``kernel``, ``init``, ``volume``, ``onboot``,
``onshutdown``, ``services``, ``files``, ``pull``, ``cache``, ``engine``, ``linuxkit``,
``build``); ``system`` names the system when several are built at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import attrs

EventKind = Literal["step", "advance", "log", "warning", "done"]
"""What an event says (see the module docs)."""

Unit = Literal["bytes", "items"]
"""What ``current`` and ``total`` count."""


@attrs.frozen
class ProgressEvent:
    """One progress report: what happened (``kind``), in which part of the work (``phase``),
    about what (``subject``), how far (``current`` of ``total`` ``unit``), and the line a
    person reads (``message``; ``str(event)`` is the plain line)."""

    kind: EventKind
    message: str = ""
    phase: str = ""
    subject: str | None = None
    current: int | None = None
    total: int | None = None
    unit: Unit | None = None
    system: str | None = None

    @property
    def line(self) -> str:
        """The plain text line of the event (empty for ``advance`` events without a message)."""
        text = f"warning: {self.message}" if self.kind == "warning" else self.message
        return f"[{self.system}] {text}" if self.system and text else text

    def __str__(self) -> str:
        return self.line


Progress = Callable[[ProgressEvent], None]
"""The progress callback every long operation takes (``None`` or :func:`silent`: no progress)."""


def silent(_event: ProgressEvent) -> None:
    """A :data:`Progress` that drops every event."""
    return None


def step(message: str, phase: str = "", subject: str | None = None) -> ProgressEvent:
    """A ``step`` event."""
    return ProgressEvent("step", message, phase, subject)


def warning(message: str, phase: str = "", subject: str | None = None) -> ProgressEvent:
    """A ``warning`` event."""
    return ProgressEvent("warning", message, phase, subject)


def format_size(n: int | None) -> str:
    """A byte count for people: ``512 B``, ``1.5 KiB``, ``3.2 MiB`` (``incomplete``: None)."""
    if n is None:
        return "incomplete"
    if n < 1024:
        return f"{n} B"
    value = n / 1024
    units = ["KiB", "MiB", "GiB"]
    while value >= 1024 and len(units) > 1:
        value /= 1024
        units.pop(0)
    return f"{value:.1f} {units[0]}"
