"""Shared machinery of the model: source locations, value coercion, value errors."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NoReturn, TypeVar

import attrs

from systemkit.diagnostics import Diagnostic, Severity, report
from systemkit.location import Location, caller_location
from systemkit.validate import Problem

T = TypeVar("T")


@attrs.frozen
class Located:
    """Base of every model object: remembers where the user created it.

    The location is the first stack frame outside the systemkit package (found by path prefix),
    i.e. the user's constructor call. It is not part of equality, hashing or the spec.
    """

    _location: Location | None = attrs.field(
        init=False, default=None, eq=False, hash=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_location", caller_location(self))

    @property
    def location(self) -> Location | None:
        """Where the user created this object (file, line, column)."""
        return self._location


def problem(p: Problem | None) -> None:
    """Report a value problem at the user's line (raise, or collect under ``check``)."""
    if p is not None:
        report(Diagnostic(p.code, Severity.ERROR, p.message, caller_location(), hint=p.hint))


def type_error(what: str, expected: str, value: object) -> None:
    report(
        Diagnostic(
            "SK121",
            Severity.ERROR,
            f"{what} must be {expected}, got {type(value).__name__} {value!r}",
            caller_location(),
        )
    )


class FrozenDict(dict[str, str]):
    """An immutable, hashable ``dict[str, str]`` used for env-like mapping fields."""

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self.items()))

    def _readonly(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("systemkit model objects are immutable; use attrs.evolve()")

    __setitem__ = _readonly
    __delitem__ = _readonly
    clear = _readonly
    pop = _readonly
    popitem = _readonly
    setdefault = _readonly
    update = _readonly


def to_tuple(value: Iterable[T] | None, what: str = "value") -> tuple[T, ...] | None:
    """Any iterable (but not a bare string) to a tuple; ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, str | bytes):
        type_error(what, "a list", value)
        return (value,)  # type: ignore[return-value]
    if isinstance(value, Mapping):
        type_error(what, "a list", value)
    try:
        return tuple(value)
    except TypeError:
        type_error(what, "a list", value)
        return ()


def to_str_map(value: Mapping[str, object] | None, what: str = "value") -> FrozenDict | None:
    """A mapping of strings (values converted with ``str``, bools lower-cased)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        type_error(what, "a mapping", value)
        return FrozenDict()
    out: dict[str, str] = {}
    for k, v in value.items():
        if isinstance(v, bool):
            v = "true" if v else "false"
        out[str(k)] = str(v)
    return FrozenDict(out)


def iter_located(obj: Located) -> Iterator[Located]:
    """Model objects directly inside ``obj``'s fields (one level)."""
    for f in attrs.fields(type(obj)):
        val = getattr(obj, f.name)
        items = val if isinstance(val, tuple) else (val,)
        for item in items:
            if isinstance(item, Located):
                yield item
