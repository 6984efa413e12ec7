"""Python expressions for generated code, printed the way ``ruff format`` prints them.

A tiny expression tree (calls, lists, dicts, literals) and a printer that keeps an expression on
one line when it fits and otherwise explodes it one element per line with a trailing comma (a
"magic trailing comma", which ``ruff format`` keeps exploded), so the output is stable under
``ruff format`` whatever line length the user's project configures (>= :data:`LINE_LENGTH`).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

LINE_LENGTH = 88
"""The line length generated code is laid out for (ruff's default)."""

_INDENT = "    "


@attrs.frozen
class Atom:
    """A literal or name, already rendered (may span lines: a triple-quoted string)."""

    text: str


@attrs.frozen
class Call:
    """``func(arg, ..., key=value, ...)``."""

    func: str
    args: tuple[Expr, ...] = ()
    kwargs: tuple[tuple[str, Expr], ...] = ()


@attrs.frozen
class ListExpr:
    """``[item, ...]``."""

    items: tuple[Expr, ...]


@attrs.frozen
class DictExpr:
    """``{key: value, ...}``."""

    items: tuple[tuple[Expr, Expr], ...]


Expr = Atom | Call | ListExpr | DictExpr


def string(text: str) -> Atom:
    """A string literal as ruff writes it (double quotes unless single ones need fewer escapes).

    Multi-line text without awkward characters becomes a triple-quoted block, which reads like
    the YAML literal it came from.
    """
    if _triple_ok(text):
        body = text.replace("\\", "\\\\")
        return Atom('"""\\\n' + body + '"""')
    quote = "'" if text.count('"') > text.count("'") else '"'
    out = [quote]
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == quote:
            out.append("\\" + quote)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ch.isprintable():
            out.append(ch)
        else:
            code = ord(ch)
            if code <= 0xFF:
                out.append(f"\\x{code:02x}")
            elif code <= 0xFFFF:
                out.append(f"\\u{code:04x}")
            else:
                out.append(f"\\U{code:08x}")
    out.append(quote)
    return Atom("".join(out))


def _triple_ok(text: str) -> bool:
    if "\n" not in text.rstrip("\n") or '"""' in text or text.endswith('"'):
        return False
    if any(line != line.rstrip() for line in text.split("\n")):
        return False  # trailing white space: editors and linters strip it
    return all(ch == "\n" or ch.isprintable() for ch in text)


def _flat(expr: Expr) -> str:
    if isinstance(expr, Atom):
        return expr.text
    if isinstance(expr, Call):
        parts = [_flat(a) for a in expr.args] + [f"{k}={_flat(v)}" for k, v in expr.kwargs]
        return f"{expr.func}({', '.join(parts)})"
    if isinstance(expr, ListExpr):
        return "[" + ", ".join(_flat(i) for i in expr.items) + "]"
    return "{" + ", ".join(f"{_flat(k)}: {_flat(v)}" for k, v in expr.items) + "}"


def _elements(expr: Expr) -> tuple[str, str, list[tuple[str, Expr]]]:
    """Opening text, closing text and (head, element) pairs of a bracketed expression."""
    if isinstance(expr, Call):
        elems = [("", a) for a in expr.args] + [(f"{k}=", v) for k, v in expr.kwargs]
        return f"{expr.func}(", ")", elems
    if isinstance(expr, ListExpr):
        return "[", "]", [("", i) for i in expr.items]
    assert isinstance(expr, DictExpr)
    return "{", "}", [(f"{_flat(k)}: ", v) for k, v in expr.items]


def format_expr(expr: Expr, depth: int = 0, head: str = "", tail: str = "") -> list[str]:
    """The lines of ``head + expr + tail`` at indentation ``depth`` (4 spaces per level)."""
    pad = _INDENT * depth
    flat = _flat(expr)
    fits = "\n" not in flat and len(pad) + len(head) + len(flat) + len(tail) <= LINE_LENGTH
    if fits or isinstance(expr, Atom):
        return (pad + head + flat + tail).split("\n")
    opener, closer, elems = _elements(expr)
    if not elems:
        return [pad + head + flat + tail]
    lines = [pad + head + opener]
    for elem_head, elem in elems:
        lines.extend(format_expr(elem, depth + 1, elem_head, ","))
    lines.append(pad + closer + tail)
    return lines


def format_import(module: str, names: Sequence[str]) -> list[str]:
    """``from module import a, b`` as ruff's isort writes it (wrapped when too long)."""
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= LINE_LENGTH:
        return [line]
    return [f"from {module} import (", *(f"{_INDENT}{n}," for n in names), ")"]


def isort_key(name: str) -> tuple[int, str]:
    """ruff's order-by-type within an import: CONSTANTS, then Classes, then functions."""
    if name.isupper():
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)
