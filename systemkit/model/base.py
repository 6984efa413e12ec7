"""Shared machinery of the model: source locations, value coercion, value errors."""

from __future__ import annotations

import typing
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NoReturn, Protocol, SupportsIndex, TypeVar, overload

import attrs

from systemkit.diagnostics import Diagnostic, Severity, report
from systemkit.location import Location, caller_location
from systemkit.validate import Problem

T = TypeVar("T")

T_co = TypeVar("T_co", covariant=True)


class ListOf(Protocol[T_co]):
    """What a model field holding several values accepts: a list or a tuple (any sequence but
    a ``str``), so that ``command="ls -l"`` where a list of words is meant is a type error for
    mypy and pyright, while ``list[str]`` variables and mixed literals (``[Init(...), "x"]``)
    still pass. (``str.__contains__`` takes only a ``str``, so a ``str`` does not match.)
    """

    @overload
    def __getitem__(self, index: SupportsIndex, /) -> T_co: ...
    @overload
    def __getitem__(self, index: slice, /) -> Sequence[T_co]: ...
    def __contains__(self, value: object, /) -> bool: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[T_co]: ...


class Located:
    """Base of every model object: remembers where the user created it.

    The location is the first stack frame outside the systemkit package (found by path prefix),
    i.e. the user's constructor call. It is not an attrs field: not part of equality, hashing,
    the spec, or the constructor's signature.

    Each attrs subclass's generated ``__init__`` is wrapped (:func:`systemkit.model.construct.
    lenient`): under ``systemkit check`` a mistake in the call (an unknown keyword, a value of
    the wrong type, an object of the wrong kind in a list) is recorded as a located finding and
    construction goes on; used directly, the constructor raises :class:`UserError` with every
    finding about the call. The signature that mypy, pyright and editors see is attrs' own.
    """

    __slots__ = ("_findings", "_location")
    _location: Location | None
    _findings: tuple[Diagnostic, ...]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        code = getattr(init, "__code__", None)
        if init is not None and code is not None and code.co_filename.startswith("<attrs gen"):
            from systemkit.model.construct import lenient

            setattr(cls, "__init__", lenient(cls, init))  # noqa: B010

    def __attrs_post_init__(self) -> None:
        # The arguments were screened against the declared types before attrs' __init__ ran
        # (model/construct.py), so the fields hold values of their types.
        object.__setattr__(self, "_location", caller_location(self))

    @property
    def location(self) -> Location | None:
        """Where the user created this object (file, line, column)."""
        return getattr(self, "_location", None)

    @property
    def findings(self) -> tuple[Diagnostic, ...]:
        """The value errors collected while this object was made (under ``check``), the very
        objects :func:`systemkit.diagnostics.collecting` gathered: which systems contain this
        object says which systems a finding is about."""
        return getattr(self, "_findings", ())


def problem(p: Problem | None) -> None:
    """Report a value problem at the user's line (raise, or collect under ``check``)."""
    if p is not None:
        report(Diagnostic(p.code, Severity.ERROR, p.message, caller_location(), hint=p.hint))


def type_error(what: str, expected: str, value: object, location: Location | None = None) -> None:
    report(
        Diagnostic(
            "SK121",
            Severity.ERROR,
            f"{what} must be {expected}, got {type(value).__name__} {short_repr(value)}",
            location or caller_location(),
        )
    )


def short_repr(value: object, limit: int = 60) -> str:
    """``repr(value)``, cut short: a wrong value is named, not dumped (a whole Service is long)."""
    if isinstance(value, Located):
        return f"{type(value).__name__}(...)"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
    for f in attrs.fields(typing.cast(Any, type(obj))):
        val = getattr(obj, f.name)
        items = val if isinstance(val, tuple) else (val,)
        for item in items:
            if isinstance(item, Located):
                yield item


def walk_located(obj: Located) -> Iterator[Located]:
    """``obj`` and every model object inside it, at any depth (each once)."""
    seen: set[int] = set()
    todo = [obj]
    while todo:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        todo.extend(iter_located(item))
