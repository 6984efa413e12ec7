"""The one place progress events become output (see :mod:`systemkit.progress`).

:class:`ProgressRenderer` writes to a stream (the CLI's stderr). On a terminal it draws a live
display with rich: a spinner with the current step and the elapsed time, one bar per transfer
under way (a blob being pulled, an engine pull), and warnings and results printed above it as
lines that stay. Anywhere else (a pipe, a file, CI, ``TERM=dumb``) each event is one plain line
(``str(event)``); ``advance`` events, which only move bars, print nothing there.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import IO, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from systemkit.progress import ProgressEvent


class ProgressRenderer:
    """A :data:`systemkit.progress.Progress` callback that shows events to a person.

    ``live`` forces the live display on or off (default: on when ``stream`` is a terminal that
    rich can drive). Use it as a context manager, or call :meth:`close` at the end, so the
    live area is cleared and only the lasting lines remain.
    """

    def __init__(self, stream: IO[str], *, live: bool | None = None) -> None:
        self.stream = stream
        self.console = Console(file=stream, highlight=False, soft_wrap=True, force_terminal=live)
        if live is None:
            live = self.console.is_terminal and not self.console.is_dumb_terminal
        self.live = live
        self.started = time.monotonic()
        self._display: Progress | None = None
        self._status: TaskID | None = None
        self._transfers: dict[tuple[str, str], TaskID] = {}
        self._lock = threading.Lock()

    # -- the callback -------------------------------------------------------------------------

    def __call__(self, event: ProgressEvent) -> None:
        with self._lock:  # events may come from several threads (parallel pulls)
            self._show(event)

    def _show(self, event: ProgressEvent) -> None:
        if not self.live:
            if event.kind != "advance" and event.line:
                print(event.line, file=self.stream, flush=True)
            return
        display = self._start()
        if event.kind == "advance":
            self._advance(display, event)
        elif event.kind in ("warning", "done"):
            if event.kind == "done" and event.subject is not None:
                self._finish_transfer(display, event)
            if event.line:
                display.console.print(event.line, markup=False, highlight=False)
        elif event.line:  # step, log: the status line
            assert self._status is not None
            display.update(self._status, description=event.line.strip())
            display.refresh()

    def close(self) -> None:
        """Clear the live area (the lasting lines stay)."""
        with self._lock:
            self._stop()

    def _stop(self) -> None:
        if self._display is not None:
            self._display.stop()
            self._display = None
            self._status = None
            self._transfers.clear()

    def __enter__(self) -> ProgressRenderer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the live display ---------------------------------------------------------------------

    def _start(self) -> Progress:
        if self._display is None:
            self._display = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}", markup=False),
                _ForTransfers(BarColumn(bar_width=24)),
                _ForTransfers(DownloadColumn()),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
                refresh_per_second=8,
            )
            self._display.start()
            self._status = self._display.add_task("", total=None, status=True)
            self._display.tasks[0].start_time = self.started
        return self._display

    def _advance(self, display: Progress, event: ProgressEvent) -> None:
        key = (event.phase, event.subject or "")
        task = self._transfers.get(key)
        label = _short(event.subject or event.phase)
        finished = (
            event.total is not None and event.current is not None and event.current >= event.total
        )
        if task is None:
            if finished:
                return  # done in one go: nothing to draw
            task = display.add_task(f"  {label}", total=event.total)
            self._transfers[key] = task
        fields: dict[str, Any] = {"completed": event.current or 0}
        if event.total is not None:
            fields["total"] = event.total
        display.update(task, **fields)
        if finished:
            display.remove_task(task)
            del self._transfers[key]

    def _finish_transfer(self, display: Progress, event: ProgressEvent) -> None:
        task = self._transfers.pop((event.phase, event.subject or ""), None)
        if task is not None:
            display.remove_task(task)


class _ForTransfers(ProgressColumn):
    """A column drawn for transfers only (the status row has no bar and no byte count)."""

    def __init__(self, inner: ProgressColumn) -> None:
        super().__init__()
        self.inner = inner

    def render(self, task: Task) -> Any:
        return Text("") if task.fields.get("status") else self.inner.render(task)


def _short(subject: str) -> str:
    """A digest shortened for a bar's label (``sha256:0123456789ab``)."""
    if subject.startswith("sha256:") and len(subject) > 19:
        return subject[:19]
    return subject
