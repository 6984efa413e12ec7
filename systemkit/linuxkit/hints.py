"""What the YAML reader says about a mistake: the expected type in words and how to fix it.

Pure functions of a type hint, a YAML node and the spec's declarations; the reader
(:mod:`systemkit.linuxkit.parse`) calls them when it reports a finding.
"""

from __future__ import annotations

import difflib
import typing
from typing import Any

import attrs
import yaml

from systemkit.linuxkit.fields import MODE_FIELDS, is_idref, yaml_fields
from systemkit.linuxkit.yamlcore import (
    INT_TAG,
    NULL_TAG,
    PLAIN_TAG,
    STR_TAG,
    TYPE_NAMES,
    scalar_value,
)


def _python_names() -> dict[str, str]:
    """snake_case attrs names -> LinuxKit keys, for 'did you mean' hints."""
    from systemkit.spec.codec import SPEC_CLASSES

    out: dict[str, str] = {}
    for cls in SPEC_CLASSES:
        for f in yaml_fields(cls):
            if f.name != f.key:
                out[f.name] = f.key
    return out


PYTHON_NAMES = _python_names()
"""The Python name of every LinuxKit key that is spelled differently (``binds_add``)."""


def describe_expected(hint: Any) -> str:
    """The type ``hint`` in words (``a list``, ``an integer or a string`` ...)."""
    if hint is str:
        return "a string"
    if hint is bool:
        return "a boolean (true or false)"
    if hint is int:
        return "an integer"
    if is_idref(hint):
        return "an integer or a string"
    origin = typing.get_origin(hint)
    if origin is list:
        return "a list"
    if origin is dict:
        return "a mapping of strings to strings"
    if attrs.has(hint):
        return "a mapping"
    return str(hint)


def generic_type_hint(hint: Any) -> str:
    """How to write a value of this type in YAML."""
    if attrs.has(hint):
        keys = [f.key for f in yaml_fields(hint)]
        shown = ", ".join(keys[:6]) + (", ..." if len(keys) > 6 else "")
        return f"write `key: value` lines with keys such as {shown}"
    origin = typing.get_origin(hint)
    if origin is list:
        (item,) = typing.get_args(hint)
        what = "an entry" if attrs.has(item) else "a value"
        return f"write one `- ...` line per {what.split()[-1]}, or [a, b] on one line"
    if origin is dict:
        return "write `name: value` lines (values are strings: quote numbers)"
    if hint is int:
        return "write a whole number"
    if is_idref(hint):
        return "write a number, or the name of a container"
    if hint is bool:
        return "write true or false"
    return "write a single string"


def wrong_type(
    node: yaml.Node, hint: Any, owner: tuple[type[Any], str] | None = None
) -> tuple[str, str]:
    """``(got, hint)`` for a value of the wrong type: what the node is, in words, and how to
    write what ``hint`` expects."""
    hint_text: str | None = None
    if isinstance(node, yaml.MappingNode):
        got = "a mapping"
    elif isinstance(node, yaml.SequenceNode):
        got = "a list"
    else:
        try:
            tag, _ = scalar_value(typing.cast(yaml.ScalarNode, node))
        except ValueError:
            tag = STR_TAG
        got = f"{TYPE_NAMES.get(tag, tag)} ({node.value!r})"
        if tag == NULL_TAG:
            got = "an empty value (null)"
        plain = node.tag == PLAIN_TAG
        if hint is str and plain and tag != STR_TAG:
            if owner in MODE_FIELDS and tag == INT_TAG:
                hint_text = (
                    f'modes are octal strings in LinuxKit: write mode: "{node.value}" (quoted)'
                )
            elif tag == NULL_TAG:
                hint_text = 'write a value, or "" for an empty string'
            else:
                hint_text = f'quote the value to keep it a string: "{node.value}"'
        elif hint is bool and tag == STR_TAG:
            hint_text = "write true or false (LinuxKit reads YAML 1.2: yes/no/on/off are strings)"
        elif tag == NULL_TAG:
            hint_text = "write a value, [] for an empty list, or remove the key"
        elif hint is int and tag == STR_TAG and node.value.strip().lstrip("-").isdigit():
            hint_text = f"remove the quotes: {node.value.strip()}"
        elif typing.get_origin(hint) is list:
            hint_text = f"write a list: [{node.value}], or one `- item` per line"
    return got, hint_text if hint_text is not None else generic_type_hint(hint)


def unknown_key(key: str, known: list[str]) -> str:
    """The hint for an unknown key: its LinuxKit spelling, the closest known key, or the list."""
    alias = PYTHON_NAMES.get(key)
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if alias is not None and alias in known:
        return f"LinuxKit spells it `{alias}` (`{key}` is the Python name)"
    if close:
        return f"did you mean `{close[0]}`?"
    return "known keys here: " + ", ".join(known)


def bad_image_ref(value: str) -> str:
    """The hint for an image reference that does not parse."""
    if value.startswith("@pkg:"):
        return (
            "systemkit does not resolve LinuxKit's `@pkg:` templates: write the tag "
            "`linuxkit pkg show-tag` prints, or compute it in system.py"
        )
    return (
        "write NAME[:TAG][@sha256:DIGEST], e.g. linuxkit/init:<tag> or "
        "registry.example.com/team/app:1.2"
    )


BAD_MODE = 'write the mode as a quoted octal string such as "0644" (omit it for the default)'
BAD_VOLUME_NAME = "use lower-case letters, digits, '_' and '-' (LinuxKit allows only these)"
MISSING_SOURCE = "run from the directory the sources are relative to, or add `optional: true`"
