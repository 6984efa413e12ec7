"""YAML nodes with positions, and scalar resolution as LinuxKit's yaml.v3 does it.

PyYAML's composer gives a node tree whose nodes carry ``start_mark`` (0-based line and column).
Its resolver implements YAML 1.1 (``yes``/``on`` are booleans, ``0644`` is octal, ``1:20`` is
sexagesimal); LinuxKit reads system files with ``gopkg.in/yaml.v3``, so this module marks plain
scalars instead and resolves them with yaml.v3's rules: ``true``/``false`` (three spellings)
are booleans, ``~``/``null``/empty are null, Go integer literals (``0x1f``, ``0o17``, ``0b1``
and the 1.1-style octal ``0644``) are integers, YAML floats are floats, and everything else
(``yes``, ``on``, timestamps ...) is a string.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml

from systemkit.limits import DepthLimitedComposer, DepthLimitedScanner

PLAIN_TAG = "tag:systemkit.dev,2026:plain"
"""The tag given to plain (unquoted, untagged) scalars, resolved later by :func:`resolve_plain`."""

STR_TAG = "tag:yaml.org,2002:str"
INT_TAG = "tag:yaml.org,2002:int"
BOOL_TAG = "tag:yaml.org,2002:bool"
NULL_TAG = "tag:yaml.org,2002:null"
FLOAT_TAG = "tag:yaml.org,2002:float"
MERGE_TAG = "tag:yaml.org,2002:merge"

_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NULLS = {"", "~", "null", "Null", "NULL"}
_SPECIAL_FLOATS = {
    ".nan": math.nan,
    ".NaN": math.nan,
    ".NAN": math.nan,
    ".inf": math.inf,
    ".Inf": math.inf,
    ".INF": math.inf,
    "+.inf": math.inf,
    "+.Inf": math.inf,
    "+.INF": math.inf,
    "-.inf": -math.inf,
    "-.Inf": -math.inf,
    "-.INF": -math.inf,
}
# strconv.ParseInt(s, 0, 64) after yaml.v3 removed the underscores.
_GO_INT = re.compile(r"^[-+]?(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$")
_YAML_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")


class Loader(DepthLimitedScanner, DepthLimitedComposer, yaml.SafeLoader):
    """A composer-only loader that leaves plain scalars unresolved (tag :data:`PLAIN_TAG`) and
    stops at :data:`systemkit.limits.MAX_YAML_DEPTH` levels."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0]:
            return PLAIN_TAG
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]


def _go_int(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-")
    if body[:2] in ("0x", "0X"):
        return sign * int(body[2:], 16)
    if body[:2] in ("0o", "0O"):
        return sign * int(body[2:], 8)
    if body[:2] in ("0b", "0B"):
        return sign * int(body[2:], 2)
    if body.startswith("0") and len(body) > 1:
        return sign * int(body[1:], 8)
    return sign * int(body, 10)


def resolve_plain(text: str) -> tuple[str, Any]:
    """The (tag, value) yaml.v3 gives a plain scalar."""
    if text in _NULLS:
        return NULL_TAG, None
    if text in _BOOLS:
        return BOOL_TAG, _BOOLS[text]
    if text in _SPECIAL_FLOATS:
        return FLOAT_TAG, _SPECIAL_FLOATS[text]
    if text == "<<":
        return MERGE_TAG, text
    first = text[0]
    if first.isdigit() or first in "+-.":
        plain = text.replace("_", "")
        if _GO_INT.match(plain):
            return INT_TAG, _go_int(plain)
        if _YAML_FLOAT.match(plain):
            return FLOAT_TAG, float(plain)
    return STR_TAG, text


def scalar_value(node: yaml.ScalarNode) -> tuple[str, Any]:
    """The (tag, value) of a scalar node: plain ones resolved as yaml.v3 does, quoted = str.

    An explicit standard tag (``!!int 5``) is honoured; a value that does not fit it raises
    ``ValueError``.
    """
    tag, text = node.tag, node.value
    if tag == PLAIN_TAG:
        return resolve_plain(text)
    if tag in (STR_TAG, "!"):
        return STR_TAG, text
    if tag in (INT_TAG, BOOL_TAG, NULL_TAG, FLOAT_TAG):
        rtag, value = resolve_plain(text)
        if rtag != tag and not (tag == FLOAT_TAG and rtag == INT_TAG):
            raise ValueError(f"{text!r} is not a valid {tag.rsplit(':', 1)[-1]}")
        return tag, float(value) if tag == FLOAT_TAG else value
    # Any other tag: yaml.v3 decodes the value as if untagged.
    if node.style is None:
        return resolve_plain(text)
    return STR_TAG, text


def would_resolve_as_string(text: str) -> bool:
    """True when ``text`` written as a plain scalar reads back as that string (yaml.v3 rules)."""
    return resolve_plain(text) == (STR_TAG, text)


def compose(text: str) -> yaml.Node | None:
    """The node tree of a single-document YAML text (None for an empty document).

    Raises ``yaml.YAMLError`` (with marks) on invalid YAML or several documents.
    """
    return yaml.compose(text, Loader=Loader)


TYPE_NAMES = {
    STR_TAG: "a string",
    INT_TAG: "an integer",
    BOOL_TAG: "a boolean",
    NULL_TAG: "null",
    FLOAT_TAG: "a number with a fraction",
    MERGE_TAG: "a merge key",
}
