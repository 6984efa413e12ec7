"""Diagnostics: one finding about the user's input, located at the user's line."""

from __future__ import annotations

import contextlib
import contextvars
import enum
from collections.abc import Iterator

import attrs

from systemkit.location import Location


class Severity(enum.Enum):
    """How serious a finding is."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@attrs.frozen
class Diagnostic:
    """A finding: rule code, severity, message, where, the spec path, and how to fix it."""

    code: str
    severity: Severity
    message: str
    location: Location | None = None
    spec_path: str | None = None
    hint: str | None = None
    related: tuple[Location, ...] = ()

    def render(self) -> str:
        """``file:line:col: error[SK123]: message`` plus the spec path and the hint."""
        where = f"{self.location}: " if self.location else ""
        text = f"{where}{self.severity.value}[{self.code}]: {self.message}"
        if self.spec_path:
            text += f" (at {self.spec_path})"
        for rel in self.related:
            text += f"\n  note: see also {rel}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def sort_key(self) -> tuple[str, int, int, str]:
        loc = self.location
        return (loc.file, loc.line, loc.column, self.code) if loc else ("", 0, 0, self.code)


class SystemkitError(Exception):
    """Base of every error systemkit raises on purpose."""


class UserError(SystemkitError):
    """The user's input is wrong: carries one or more diagnostics, rendered without traceback."""

    def __init__(self, diagnostics: Diagnostic | list[Diagnostic]) -> None:
        self.diagnostics = [diagnostics] if isinstance(diagnostics, Diagnostic) else diagnostics
        super().__init__(self.render())

    def render(self) -> str:
        """Every diagnostic, rendered, one after the other (what the CLI prints)."""
        return "\n".join(d.render() for d in self.diagnostics)


class ModelValueError(UserError, ValueError):
    """A value that is wrong on its own (raised by a model constructor)."""


class ModelTypeError(ModelValueError, TypeError):
    """A constructor call with an unknown argument or a value of the wrong type (with every
    other finding about the same call)."""


_collector: contextvars.ContextVar[list[Diagnostic] | None] = contextvars.ContextVar(
    "systemkit_collector", default=None
)


@contextlib.contextmanager
def collecting() -> Iterator[list[Diagnostic]]:
    """Collect value errors from model constructors instead of raising them.

    Inside this context a constructor that finds a bad value records a diagnostic and keeps the
    value, so the rest of the user's file still loads and every mistake is reported in one run.
    """
    found: list[Diagnostic] = []
    token = _collector.set(found)
    try:
        yield found
    finally:
        _collector.reset(token)


def is_collecting() -> bool:
    """True inside :func:`collecting`: value errors are recorded, not raised."""
    return _collector.get() is not None


def report_all(diags: list[Diagnostic]) -> None:
    """Record several findings at once: raise them together, or collect each."""
    sink = _collector.get()
    if sink is None:
        raise UserError(diags)
    sink.extend(diags)


def report(diag: Diagnostic) -> None:
    """Record a value error: raise it, or collect it inside :func:`collecting`."""
    sink = _collector.get()
    if sink is None:
        raise ModelValueError(diag)
    sink.append(diag)
