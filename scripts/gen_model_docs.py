#!/usr/bin/env python3
"""Generate the field tables of docs/model.md from the spec declarations.

Every LinuxKit object has one table: its LinuxKit key, the Python name to use in ``system.py``,
the type the model's constructor accepts, and the one-line description. The keys and the
descriptions come from the spec classes' attrs field metadata (``key``, ``doc``) in
``systemkit/spec/types.py``; the types from the model classes' constructors. The tables are
written between two marker lines of docs/model.md; the rest of the page is left alone.

It also writes the ``Args:`` section of each model class's docstring from the same field docs
(:mod:`systemkit.model.docstrings`), which editors show on hover and in signature help.

Usage::

    python3 scripts/gen_model_docs.py           # rewrite docs/model.md
    python3 scripts/gen_model_docs.py --check   # exit 1 if docs/model.md is out of date
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import types
import typing
from pathlib import Path
from typing import Any

import attrs

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from systemkit import model  # noqa: E402
from systemkit.capabilities import CapabilityName  # noqa: E402
from systemkit.linuxkit.fields import SYSTEMKIT_ONLY, dropped_by_linuxkit  # noqa: E402
from systemkit.model import docstrings  # noqa: E402
from systemkit.spec import types as st  # noqa: E402
from systemkit.validate import VALUE_RULES  # noqa: E402

DOC = REPO / "docs" / "model.md"
MARKER = "<!-- {which} GENERATED: {name} -->"
"""Generated regions are enclosed in ``<!-- BEGIN GENERATED: name -->`` / ``END`` lines."""


@attrs.frozen
class Obj:
    """One LinuxKit object: where it appears, its spec class and the model class users write."""

    title: str
    where: str
    spec: type[Any]
    model: type[Any]
    note: str = ""


OBJECTS = (
    Obj("System", "the whole file", st.Spec, model.System),
    Obj("Kernel", "`kernel`", st.KernelSpec, model.Kernel),
    Obj(
        "Onboot, Onshutdown, Service",
        "entries of `onboot`, `onshutdown`, `services`",
        st.ImageSpec,
        model.Service,
        "The three classes take the same arguments; `Container` is their common base.",
    ),
    Obj("Mount", "`mounts` entries, `runtime.mounts` entries", st.MountSpec, model.Mount),
    Obj("Device", "`devices` entries", st.DeviceSpec, model.Device),
    Obj("Runtime", "`runtime`", st.RuntimeSpec, model.Runtime),
    Obj("Interface", "`runtime.interfaces` entries", st.Interface, model.Interface),
    Obj("BindNS", "`runtime.bindNS`", st.BindNS, model.BindNS),
    Obj("IDMapping", "`uidMappings`/`gidMappings` entries", st.IDMapping, model.IDMapping),
    Obj("Resources", "`resources`", st.Resources, model.Resources),
    Obj("Memory", "`resources.memory`", st.Memory, model.Memory),
    Obj("CPU", "`resources.cpu`", st.CPU, model.CPU),
    Obj("Pids", "`resources.pids`", st.Pids, model.Pids),
    Obj("BlockIO", "`resources.blockio`", st.BlockIO, model.BlockIO),
    Obj(
        "WeightDevice",
        "`resources.blockio.weightDevice` entries",
        st.WeightDevice,
        model.WeightDevice,
    ),
    Obj(
        "ThrottleDevice",
        "`resources.blockio.throttle*` entries",
        st.ThrottleDevice,
        model.ThrottleDevice,
    ),
    Obj(
        "HugepageLimit", "`resources.hugepageLimits` entries", st.HugepageLimit, model.HugepageLimit
    ),
    Obj("Network", "`resources.network`", st.Network, model.Network),
    Obj(
        "InterfacePriority",
        "`resources.network.priorities` entries",
        st.InterfacePriority,
        model.InterfacePriority,
    ),
    Obj("DeviceCgroup", "`resources.devices` entries", st.DeviceCgroup, model.DeviceCgroup),
    Obj("File", "entries of `files`", st.FileSpec, model.File),
    Obj("Volume", "entries of `volumes`", st.VolumeSpec, model.Volume),
)

ALIASES: dict[Any, str] = {CapabilityName: "CapabilityName"}
"""Types shown by name rather than spelled out."""


def render_type(hint: Any) -> str:
    """A type as a reader writes it: ``Iterable[str] | None``, ``CapabilityName``."""
    if hint is type(None):
        return "None"
    for alias, name in ALIASES.items():
        if hint == alias:
            return name
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        parts = [render_type(a) for a in args if a is not type(None)]
        if type(None) in args:
            parts.append("None")
        return " | ".join(parts)
    if origin is typing.Literal:
        return " | ".join(json.dumps(a) for a in args)
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join(render_type(a) for a in args)}]"
    if isinstance(hint, type):
        return hint.__name__
    return str(hint)


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(obj: Obj) -> list[str]:
    spec_fields = list(attrs.fields(obj.spec))
    spec_fields.sort(key=lambda f: f.default is not attrs.NOTHING)  # required ones first
    init_hints = typing.get_type_hints(obj.model.__init__)
    model_fields = {f.name: f for f in attrs.fields(obj.model)}
    lines = [
        f"### {obj.title}",
        "",
        f"LinuxKit: {obj.where}. Python: "
        + ", ".join(f"`{n.strip()}`" for n in obj.title.split(","))
        + "."
        + (f" {obj.note}" if obj.note else ""),
        "",
        "| LinuxKit key | Python name | Python type | Meaning |",
        "|---|---|---|---|",
    ]
    for f in spec_fields:
        key = st.key_of(f)
        doc = str(f.metadata.get("doc", ""))
        if (obj.spec, f.name) in SYSTEMKIT_ONLY:
            name, kind = "(computed)", "-"
            doc += " (systemkit only: not a LinuxKit key, never written to YAML)"
        elif f.name in init_hints:
            mf = model_fields.get(f.name)
            required = mf is not None and mf.default is attrs.NOTHING
            positional = mf is not None and not mf.kw_only
            name = f"`{f.name}`" + (" (positional)" if positional else "")
            kind = f"`{render_type(init_hints[f.name])}`" + (" required" if required else "")
        else:
            name, kind = "-", "-"
        if dropped_by_linuxkit(obj.spec, key):
            doc += (
                " (LinuxKit accepts the key but silently drops it: "
                "[quirks](quirks.md#camelcase-keys-silently-dropped))"
            )
        lines.append(f"| `{key}` | {cell(name)} | {cell(kind)} | {cell(doc)} |")
    lines.append("")
    return lines


def field_tables() -> list[str]:
    out: list[str] = []
    for obj in OBJECTS:
        out.extend(table(obj))
    return out


def value_rules() -> list[str]:
    out = ["| Code | The value is wrong when |", "|---|---|"]
    out += [f"| `{code}` | {cell(text)} |" for code, text in sorted(VALUE_RULES.items())]
    return [*out, ""]


REGIONS = {"field tables": field_tables, "value rules": value_rules}


def updated(text: str) -> str:
    """``text`` with every generated region replaced by fresh content."""
    for name, make in REGIONS.items():
        begin = MARKER.format(which="BEGIN", name=name)
        end = MARKER.format(which="END", name=name)
        start, stop = text.find(begin), text.find(end)
        if start < 0 or stop < start:
            raise SystemExit(f"{DOC}: the marker lines {begin!r} and {end!r} are missing")
        body = [
            begin,
            "<!-- Do not edit by hand: run `python3 scripts/gen_model_docs.py`. -->",
            "",
            *make(),
        ]
        text = text[:start] + "\n".join(body) + text[stop:]
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the page is outdated")
    args = parser.parse_args(argv)
    current = DOC.read_text()
    fresh = updated(current)
    if args.check:
        stale = docstrings.stale()
        for path in stale:
            print(f"{path}: Args: sections out of date", file=sys.stderr)
        if fresh != current:
            print(f"{DOC} is out of date: run python3 scripts/gen_model_docs.py", file=sys.stderr)
            return 1
        return 1 if stale else 0
    docstrings.write_all()  # the Args: sections of the model classes' docstrings
    if fresh != current:
        fd, tmp = tempfile.mkstemp(prefix=".model.md.", dir=DOC.parent)
        with os.fdopen(fd, "w") as fh:
            fh.write(fresh)
        os.replace(tmp, DOC)
    return 0


if __name__ == "__main__":
    sys.exit(main())
