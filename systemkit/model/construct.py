"""Lenient construction: every mistake in a constructor call becomes a located finding.

attrs generates each model class's ``__init__``; :func:`lenient` wraps it (installed by
``Located.__init_subclass__``) so that, before the generated code runs, the call's arguments are
screened against the parameter types the constructor declares (the converter's parameter type,
else the field's type):

- an unknown keyword (with "did you mean" from the real field names), a positional argument too
  many, or a missing required argument is SK123;
- a value of the wrong type is SK121, naming the field, at the argument; it is replaced by the
  field's default, so the object is still made;
- in a list of model objects, an object of the wrong kind (a ``Service`` in ``onboot``) is one
  SK121 line at the item; a container of another kind is converted to the right one (so later
  checks still see it), anything else is left out.

Under :func:`systemkit.diagnostics.collecting` (``systemkit check``, ``lower``, ``build``) the
findings are collected and loading goes on. Used directly, the constructor raises
:class:`~systemkit.diagnostics.UserError` with every finding about the call (a
``ModelTypeError``, also a ``TypeError``, when one of them is about types or arguments).

The wrapper never changes what mypy, pyright or an editor see: they read attrs' declarations.
"""

from __future__ import annotations

import collections.abc
import difflib
import functools
import os
import types
import typing
from collections.abc import Callable
from typing import Any

import attrs

from systemkit import codes
from systemkit.diagnostics import (
    Diagnostic,
    ModelTypeError,
    ModelValueError,
    Severity,
    collecting,
    is_collecting,
    report,
    report_all,
)
from systemkit.location import Location, argument_location, caller_location

UNKNOWN_ARGUMENT = codes.BAD_ARGUMENT.code
TYPE_ERROR = codes.MODEL_TYPE.code

Check = Callable[[object], bool]


@attrs.frozen
class Param:
    """One constructor parameter: name, keyword-only, default, the accepted type."""

    name: str
    kw_only: bool
    default: Any
    hint: Any
    check: Check
    items: Any  # the item type when the parameter takes a list of model objects, else None
    rescue: Callable[[Any], Any] | None = None  # the value meant by a wrong one, when obvious

    @property
    def required(self) -> bool:
        return self.default is attrs.NOTHING


_PARAMS: dict[type, list[Param]] = {}
_SHAPES: dict[type, tuple[list[Param], dict[str, Param]]] = {}


def _shape(cls: type) -> tuple[list[Param], dict[str, Param]]:
    """(positional parameters, every parameter by name) of ``cls`` (cached)."""
    found = _SHAPES.get(cls)
    if found is None:
        ps = params(cls)
        found = _SHAPES[cls] = ([p for p in ps if not p.kw_only], {p.name: p for p in ps})
    return found


def params(cls: type) -> list[Param]:
    """The parameters of ``cls``'s attrs ``__init__``, in order (cached)."""
    found = _PARAMS.get(cls)
    if found is not None:
        return found
    hints = typing.get_type_hints(cls)
    found = []
    for f in attrs.fields(cls):
        if not f.init:
            continue
        hint = hints[f.name]
        conv = f.converter
        if conv is not None and callable(conv):
            conv_hints = typing.get_type_hints(conv)
            first = next(iter(k for k in conv_hints if k != "return"), None)
            if first is not None:
                hint = conv_hints[first]
        default = f.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            default = default.factory()
        found.append(
            Param(
                f.name,
                f.kw_only,
                default,
                hint,
                compile_check(hint),
                _model_items(hint),
                getattr(conv, "rescue", None),
            )
        )
    _PARAMS[cls] = found
    return found


def _is_model(tp: Any) -> bool:
    from systemkit.model.base import Located

    return isinstance(tp, type) and issubclass(tp, Located)


def _model_items(hint: Any) -> Any:
    """The item type of a list-of-model-objects parameter (``ListOf[Onboot]``), else None."""
    from systemkit.model.base import ListOf

    for arm in _arms(hint):
        if typing.get_origin(arm) is ListOf:
            (item,) = typing.get_args(arm)
            if _is_model(item):
                return item
    return None


def _arms(tp: Any) -> tuple[Any, ...]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return typing.get_args(tp)
    return (tp,)


_CHECKS: dict[Any, Check] = {}


def compile_check(tp: Any) -> Check:
    """A loose predicate for "a value a caller may pass as ``tp``": the shape is checked,
    the values are left to the value rules (a capability literal accepts any string here)."""
    check = _CHECKS.get(tp)
    if check is not None:
        return check
    from systemkit.model.base import ListOf

    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any:
        check = _always
    elif tp is type(None) or tp is None:
        check = _is_none
    elif origin in (typing.Union, types.UnionType):
        parts = [compile_check(a) for a in args]
        check = lambda v: any(c(v) for c in parts)  # noqa: E731
    elif origin is typing.Literal:
        kinds = tuple({type(a) for a in args})
        check = lambda v: isinstance(v, kinds) and not isinstance(v, bool)  # noqa: E731
    elif tp is bool:
        check = lambda v: type(v) is bool  # noqa: E731
    elif tp is int:
        check = lambda v: isinstance(v, int) and type(v) is not bool  # noqa: E731
    elif tp is str:
        check = lambda v: isinstance(v, str)  # noqa: E731
    elif origin is ListOf or origin in (list, tuple, collections.abc.Sequence):
        item = compile_check(args[0]) if args else _always
        check = lambda v: isinstance(v, list | tuple) and all(item(x) for x in v)  # noqa: E731
    elif origin is collections.abc.Iterable:
        item = compile_check(args[0]) if args else _always
        check = lambda v: (  # noqa: E731
            isinstance(v, collections.abc.Iterable)
            and not isinstance(v, str | bytes | collections.abc.Mapping)
            and all(item(x) for x in v)
        )
    elif origin in (dict, collections.abc.Mapping):
        check = lambda v: isinstance(v, collections.abc.Mapping)  # noqa: E731
    elif origin is os.PathLike or tp is os.PathLike:
        check = lambda v: isinstance(v, os.PathLike)  # noqa: E731
    elif isinstance(tp, type) and attrs.has(tp) and not _is_model(tp):
        # a plain spec value (Resources, Memory, Interface ...): its fields are checked too
        cls = tp
        check = lambda v: isinstance(v, cls) and _bad_field(v) is None  # noqa: E731
    elif isinstance(tp, type):
        cls = tp
        check = lambda v: isinstance(v, cls)  # noqa: E731
    else:
        check = _always
    _CHECKS[tp] = check
    return check


def _bad_field(value: Any) -> tuple[str, Any, Any] | None:
    """The first field of a plain spec value whose value does not have its type:
    (dotted path, the field's type, the value), searched depth first."""
    hints = typing.get_type_hints(type(value))
    for f in attrs.fields(type(value)):
        item = getattr(value, f.name)
        tp = hints[f.name]
        if compile_check(tp)(item):
            continue
        inner = _bad_field(item) if attrs.has(type(item)) else None
        if inner is not None:
            return (f"{f.name}.{inner[0]}", inner[1], inner[2])
        return (f.name, tp, item)
    return None


def _always(_value: object) -> bool:
    return True


def _is_none(value: object) -> bool:
    return value is None


def describe(tp: Any) -> str:
    """How a parameter type reads in a message (``a list of strings``)."""
    from systemkit.model.base import ListOf

    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        parts = [describe(a) for a in args if a is not type(None)]
        return " or ".join(dict.fromkeys(parts))
    if origin is typing.Literal:
        if len(args) > 4:
            return "a string"
        return " or ".join(repr(a) for a in args)
    if origin is ListOf or origin in (list, tuple, collections.abc.Sequence):
        return f"a list of {_plural(args[0]) if args else 'values'}"
    if origin is collections.abc.Iterable:
        return f"a list of {_plural(args[0]) if args else 'values'}"
    if origin in (dict, collections.abc.Mapping):
        return "a mapping"
    if origin is os.PathLike or tp is os.PathLike:
        return "a path"
    if tp is str:
        return "a string"
    if tp is bool:
        return "True or False"
    if tp is int:
        return "an integer"
    name = getattr(tp, "__name__", str(tp))
    return f"an {name}" if name[:1] in "AEIOU" else f"a {name}"


def _plural(tp: Any) -> str:
    """``str`` -> strings, ``Mount`` -> Mount objects, a long literal -> names."""
    arms = [a for a in _arms(tp) if a is not type(None)]
    words: list[str] = []
    for arm in arms:
        if typing.get_origin(arm) is typing.Literal:
            words.append("names" if len(typing.get_args(arm)) > 4 else describe(arm))
        elif arm is str:
            words.append("strings")
        elif arm is int:
            words.append("integers")
        elif isinstance(arm, type):
            words.append(f"{arm.__name__} objects")
        else:
            words.append(describe(arm))
    return " or ".join(dict.fromkeys(words))


def _finding(code: str, message: str, where: Location | None, hint: str | None = None) -> None:
    report(Diagnostic(code, Severity.ERROR, message, where, hint=hint))


class _Call:
    """The constructor call being screened: its location, computed once, lazily."""

    def __init__(self, obj: object) -> None:
        self.obj = obj
        self._where: Location | None = None
        self._found = False

    @property
    def where(self) -> Location | None:
        if not self._found:
            self._where = caller_location(self.obj)
            self._found = True
        return self._where


def screen(
    cls: type, obj: object, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[list[Any], dict[str, Any]]:
    """The arguments of a constructor call with every mistake reported and taken out."""
    positional, known = _shape(cls)
    call = _Call(obj)
    name = cls.__name__
    out_args = list(args)
    if len(out_args) > len(positional):
        shown = ", ".join(p.name for p in positional) or "none"
        _finding(
            UNKNOWN_ARGUMENT,
            f"{name}() takes {len(positional)} positional argument"
            f"{'' if len(positional) == 1 else 's'} ({shown}), got {len(out_args)}",
            argument_location(call.where, position=len(positional)),
            "give the other values by keyword, e.g. command=[...]",
        )
        out_args = out_args[: len(positional)]
    given = {positional[i].name for i in range(len(out_args))}
    out_kwargs: dict[str, Any] = {}
    for key, value in kwargs.items():
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
            _finding(
                UNKNOWN_ARGUMENT,
                f"{name}() has no argument {key!r}",
                argument_location(call.where, keyword=key, name_only=True),
                f"did you mean {close[0]!r}?" if close else "its arguments: " + ", ".join(known),
            )
            continue
        if key in given:
            _finding(
                UNKNOWN_ARGUMENT,
                f"{name}() got {key!r} twice (by position and by keyword)",
                argument_location(call.where, keyword=key, name_only=True),
            )
            continue
        out_kwargs[key] = value
    for p in known.values():
        if p.required and p.name not in given and p.name not in out_kwargs:
            _finding(
                UNKNOWN_ARGUMENT,
                f"{name}() is missing its argument {p.name!r}",
                call.where,
                f"e.g. {name}({', '.join(repr(q.name) for q in positional)})",
            )
            if p.kw_only:
                out_kwargs[p.name] = ""
            else:
                out_args.extend([""] * (positional.index(p) + 1 - len(out_args)))
    for i, value in enumerate(out_args):
        p = positional[i]
        value = out_args[i] = _materialise(p, value)
        if not p.check(value):
            out_args[i] = _fix(p, value, call, position=i)
    for key, value in out_kwargs.items():
        p = known[key]
        value = out_kwargs[key] = _materialise(p, value)
        if not p.check(value):
            out_kwargs[key] = _fix(p, value, call, keyword=key)
    return out_args, out_kwargs


def _materialise(p: Param, value: Any) -> Any:
    """An iterator given for a list parameter, as a tuple (so it is read once). mypy and pyright
    ask for a list or a tuple; at run time any iterable but a string or a mapping is taken."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, collections.abc.Iterator) and not isinstance(value, str | bytes):
        return tuple(value)
    return value


_PLAIN = frozenset((list, tuple, str, int, bool, dict, type(None)))


def _fix(
    p: Param, value: Any, call: _Call, *, position: int | None = None, keyword: str | None = None
) -> Any:
    """Report a wrong value of parameter ``p``; return what to use instead."""
    if p.items is not None and isinstance(value, list | tuple):
        return _fix_items(p, value, call, position=position, keyword=keyword)
    where = argument_location(call.where, keyword=keyword, position=position)
    what, expected, bad = p.name, p.hint, value
    inner = _bad_field(value) if attrs.has(type(value)) and not _is_model(type(value)) else None
    if inner is not None:  # name the innermost field: resources.memory.limit
        what, expected, bad = f"{p.name}.{inner[0]}", inner[1], inner[2]
    _finding(
        TYPE_ERROR,
        f"{what} must be {describe(expected)}, got {type(bad).__name__} {_short(bad)}",
        where,
        _type_hint(p, value),
    )
    if p.rescue is not None:
        return p.rescue(value)
    if not p.required:
        return p.default
    return str(value)  # a required field (a name, a path): its text, so the rest still works


def _fix_items(
    p: Param, items: list[Any] | tuple[Any, ...], call: _Call, **arg: Any
) -> tuple[Any, ...]:
    """A list of model objects with each object of the wrong kind reported at the item."""
    from systemkit.model.containers import Container

    want: type = p.items
    kept: list[Any] = []
    for j, item in enumerate(items):
        if isinstance(item, want):
            kept.append(item)
            continue
        got = type(item).__name__
        where = getattr(item, "location", None) or argument_location(call.where, item=j, **arg)
        section = p.name
        if isinstance(item, Container) and issubclass(want, Container):
            _finding(
                TYPE_ERROR,
                f"{section}[{j}] is {_a(got)}: {section} takes {want.__name__} entries",
                where,
                f"write {want.__name__}(...) here, or move it to the section of its kind",
            )
            kept.append(_convert(item, want))
            continue
        _finding(
            TYPE_ERROR,
            f"{section}[{j}] must be {_a(want.__name__)}, got {got} {_short(item)}",
            where,
        )
    return tuple(kept)


def _convert(item: Any, want: type) -> Any:
    """A container as another kind (same fields, same location); findings not repeated."""
    values = {f.name: getattr(item, f.name) for f in attrs.fields(type(item)) if f.init}
    with collecting():
        out = want(**values)
    object.__setattr__(out, "_location", item.location)
    return out


def _a(name: str) -> str:
    return f"an {name}" if name[:1] in "AEIOU" else f"a {name}"


def _short(value: object) -> str:
    from systemkit.model.base import short_repr

    return short_repr(value)


def _type_hint(p: Param, value: object) -> str | None:
    if isinstance(value, str) and "list" in describe(p.hint):
        words = value.split()
        if len(words) > 1:
            return f"a list of words: {p.name}={words!r}"
        return f"a list: {p.name}=[{value!r}]"
    return None


def lenient(cls: type, init: Callable[..., None]) -> Callable[..., None]:
    """``cls``'s attrs ``__init__``, screening its arguments first (see the module docs)."""

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if is_collecting():
            # the findings of this call are kept on the object too (Located.findings), so
            # that each is attributed to the systems that contain the object
            found: list[Diagnostic] = []
            try:
                with collecting() as found:
                    good_args, good_kwargs = screen(cls, self, args, kwargs)
                    init(self, *good_args, **good_kwargs)
            finally:
                report_all(found)
            object.__setattr__(self, "_findings", tuple(found))
            return
        with collecting() as found:
            good_args, good_kwargs = screen(cls, self, args, kwargs)
            init(self, *good_args, **good_kwargs)
        if found:
            typed = any(d.code in (TYPE_ERROR, UNKNOWN_ARGUMENT) for d in found)
            raise (ModelTypeError if typed else ModelValueError)(found)

    return __init__
