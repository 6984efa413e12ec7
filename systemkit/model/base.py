"""Shared machinery of the model: source locations, value coercion, value errors."""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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

    __slots__ = ("_location",)
    _location: Location | None

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


# --- runtime type checks --------------------------------------------------------------------------
# mypy catches a wrong type in the editor and in `systemkit check`; `lower` and `build` do not run
# mypy, so every model object also checks its fields against their annotations when it is made.
# A wrong value is reported (SK121) and replaced by "unset", so the rest of the file still loads.

Check = Callable[[object], bool]
_CHECKS: dict[Any, Check] = {}
_FIELDS: dict[type, list[tuple[str, Any, bool, Check]]] = {}


def _fields(cls: type) -> list[tuple[str, Any, bool, Check]]:
    """(name, type, accepts None, check) of every init field of an attrs class (cached)."""
    found = _FIELDS.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls)
        found = []
        for f in attrs.fields(cls):
            if f.init:
                tp = hints[f.name]
                found.append((f.name, tp, _compile(tp)(None), _compile(tp)))
        _FIELDS[cls] = found
    return found


def _compile(tp: Any) -> Check:
    """A fast predicate for "value has type ``tp``" (the annotation forms the model uses)."""
    check = _CHECKS.get(tp)
    if check is not None:
        return check
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any:
        check = _always
    elif tp is type(None):
        check = _is_none
    elif origin in (typing.Union, types.UnionType):
        parts = [_compile(a) for a in args]
        check = lambda v: any(c(v) for c in parts)  # noqa: E731
    elif origin is typing.Literal:
        check = lambda v: v in args  # noqa: E731
    elif tp is bool:
        check = lambda v: type(v) is bool  # noqa: E731
    elif tp is int:
        check = lambda v: isinstance(v, int) and type(v) is not bool  # noqa: E731
    elif tp is str:
        check = lambda v: type(v) is str or isinstance(v, str)  # noqa: E731
    elif origin in (tuple, list):
        item = _compile(args[0])
        kind = origin
        check = lambda v: isinstance(v, kind) and all(item(x) for x in v)  # noqa: E731
    elif origin is dict:
        check = lambda v: isinstance(v, dict)  # noqa: E731
    elif isinstance(tp, type) and attrs.has(tp) and not issubclass(tp, Located):
        # a plain spec value (Resources, Memory, Interface ...): check inside it too
        cls = tp
        check = lambda v: isinstance(v, cls) and _fields_ok(v)  # noqa: E731
    elif isinstance(tp, type):
        cls = tp
        check = lambda v: isinstance(v, cls)  # noqa: E731
    else:
        check = _always
    _CHECKS[tp] = check
    return check


def _always(_value: object) -> bool:
    return True


def _is_none(value: object) -> bool:
    return value is None


def _fields_ok(obj: object) -> bool:
    for name, _tp, optional, check in _fields(type(obj)):
        value = getattr(obj, name)
        if not ((value is None and optional) or check(value)):
            return False
    return True


def _describe(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        parts = [_describe(a) for a in typing.get_args(tp) if a is not type(None)]
        return " or ".join(parts)
    if origin is typing.Literal:
        return " or ".join(repr(a) for a in typing.get_args(tp))
    if origin in (tuple, list):
        return f"a list whose items are each {_describe(typing.get_args(tp)[0])}"
    if tp is str:
        return "a string"
    if tp is bool:
        return "True or False"
    if tp is int:
        return "an integer"
    return f"a {getattr(tp, '__name__', tp)}"


def _explain(value: object, tp: Any, path: str) -> tuple[str, Any, object]:
    """The innermost (path, expected type, value) that makes ``value`` not a ``tp``."""
    inner = [a for a in typing.get_args(tp) if a is not type(None)] or [tp]
    for cls in inner:
        if isinstance(cls, type) and attrs.has(cls) and isinstance(value, cls):
            for name, sub, optional, check in _fields(cls):
                item = getattr(value, name)
                if not ((item is None and optional) or check(item)):
                    return _explain(item, sub, f"{path}.{name}")
    return path, tp, value


def check_field_types(obj: Located) -> None:
    """Report every field whose value does not have its declared type (and unset it)."""
    for name, tp, optional, check in _fields(type(obj)):
        value = getattr(obj, name)
        if (value is None and optional) or check(value):
            continue
        where, expected, bad = _explain(value, tp, name)
        type_error(where, _describe(expected), bad, obj.location)
        default: Any = attrs.fields_dict(typing.cast(Any, type(obj)))[name].default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            default = default.factory()
        replacement = None if optional else default if default is not attrs.NOTHING else str(value)
        object.__setattr__(obj, name, replacement)
