"""The spec as a LinuxKit system file (YAML that ``linuxkit build`` accepts).

Hand-written block-style YAML: LinuxKit keys in the spec's declaration order (``name`` and
``image`` first in container entries), 2-space indent, unset fields and empty top-level sections
left out, systemkit-only fields (``apiVersion``, ``sourceDigest``) never written. A string is
written plain only when both yaml.v3 (LinuxKit) and a YAML 1.1 reader would read it back as
that same string; otherwise it is double-quoted, or written as a literal block (``|``) when it
is multi-line text. The output is deterministic and reads back through
:func:`systemkit.linuxkit.parse.parse_yaml` to the identical spec.

``files[].source`` paths are written as the spec holds them: relative to ``Lowered.base_dir``,
which is where LinuxKit must run to find them (it resolves them against its working directory),
or ``~/...``, which LinuxKit and systemkit both expand to the builder's home directory.
"""

from __future__ import annotations

import io
from typing import Any

import attrs
import yaml
import yaml.emitter

from systemkit.linuxkit.fields import yaml_fields
from systemkit.linuxkit.yamlcore import would_resolve_as_string
from systemkit.spec import types as st

__all__ = ["emit_yaml", "yaml_scalar"]

_INDENT = "  "
_RESOLVER = yaml.resolver.Resolver()


def _plain_ok(text: str) -> bool:
    if not text or not would_resolve_as_string(text):
        return False
    tag = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    if tag != "tag:yaml.org,2002:str":
        return False  # a YAML 1.1 reader would see a bool/int/...: quote for everyone's sake
    analysis = yaml.emitter.Emitter(io.StringIO()).analyze_scalar(text)
    return bool(analysis.allow_block_plain and not analysis.multiline)


def _printable(ch: str) -> bool:
    code = ord(ch)
    if ch in "\t\n":
        return True
    if code < 0x20 or 0x7F <= code <= 0x9F or code in (0x2028, 0x2029, 0xFEFF):
        return False
    return not (0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF))


def _double_quoted(text: str) -> str:
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif _printable(ch):
            out.append(ch)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def _literal_ok(text: str) -> bool:
    """Multi-line text that a literal block scalar carries exactly."""
    if "\n" not in text.rstrip("\n") or not all(_printable(ch) for ch in text):
        return False
    lines = text.rstrip("\n").split("\n")
    # Leading blank or space-indented first line needs an indentation indicator, trailing
    # white space on a line and tabs at a line start are fine in YAML but fragile: quote those.
    if lines[0] == "" or lines[0][0] in " \t":
        return False
    return all(line == line.rstrip(" \t") for line in lines) and all(
        not line.startswith("\t") for line in lines
    )


def _literal(text: str, indent: str) -> list[str]:
    body = text.rstrip("\n")
    trailing = len(text) - len(body)
    chomp = "-" if trailing == 0 else ("" if trailing == 1 else "+")
    lines = [f"|{chomp}"]
    for line in body.split("\n"):
        lines.append(indent + line if line else "")
    lines.extend("" for _ in range(max(0, trailing - 1)))
    return lines


def yaml_scalar(value: str | int | bool) -> str:
    """One scalar as YAML text on one line: plain when that reads back the same, else quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return value if _plain_ok(value) else _double_quoted(value)


def _fields_of(obj: Any) -> list[tuple[str, Any]]:
    pairs = [
        (f.key, getattr(obj, f.name))
        for f in yaml_fields(type(obj))
        if getattr(obj, f.name) is not None
    ]
    return pairs


def _is_block(value: Any) -> bool:
    if attrs.has(type(value)):
        return bool(_fields_of(value))
    return isinstance(value, list | dict) and bool(value)


def _emit_pairs(pairs: list[tuple[str, Any]], depth: int, out: list[str]) -> None:
    pad = _INDENT * depth
    for key, value in pairs:
        head = f"{pad}{yaml_scalar(key)}:"
        if isinstance(value, str) and not _plain_ok(value) and _literal_ok(value):
            block = _literal(value, pad + _INDENT)
            out.append(f"{head} {block[0]}")
            out.extend(block[1:])
        elif not _is_block(value):
            out.append(f"{head} {_inline(value)}")
        else:
            out.append(head)
            _emit_block(value, depth + 1, out)


def _inline(value: Any) -> str:
    if isinstance(value, list):
        return "[]"
    if isinstance(value, dict) or attrs.has(type(value)):
        return "{}"
    return yaml_scalar(value)


def _emit_block(value: Any, depth: int, out: list[str]) -> None:
    pad = _INDENT * depth
    if attrs.has(type(value)):
        _emit_pairs(_fields_of(value), depth, out)
    elif isinstance(value, dict):
        _emit_pairs(sorted(value.items()), depth, out)
    else:
        for item in value:
            if attrs.has(type(item)) and _fields_of(item):
                sub: list[str] = []
                _emit_pairs(_fields_of(item), depth + 1, sub)
                sub[0] = f"{pad}- " + sub[0][len(pad) + len(_INDENT) :]
                out.extend(sub)
            elif isinstance(item, str) and not _plain_ok(item) and _literal_ok(item):
                block = _literal(item, pad + _INDENT)
                out.append(f"{pad}- {block[0]}")
                out.extend(block[1:])
            else:
                out.append(f"{pad}- {_inline(item)}")


def emit_yaml(spec: st.Spec) -> str:
    """The spec as LinuxKit YAML: deterministic, accepted by ``linuxkit build``."""
    pairs = [
        (key, value)
        for key, value in _fields_of(spec)
        if not (isinstance(value, list) and not value)
    ]
    out: list[str] = []
    _emit_pairs(pairs, 0, out)
    return "\n".join(out) + "\n" if out else "{}\n"
