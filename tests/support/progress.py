"""Progress callbacks for tests: the plain lines of the events a build reports."""

from __future__ import annotations

from systemkit.progress import Progress, ProgressEvent


def collect(lines: list[str]) -> Progress:
    """A progress callback that appends each event's plain line (``str(event)``) to ``lines``."""

    def add(event: ProgressEvent) -> None:
        lines.append(str(event))

    return add
