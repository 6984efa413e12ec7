"""``systemkit import``: a LinuxKit system, as an idiomatic ``system.py``.

The generated module builds the same system with the model API (``System``, ``Kernel``,
``Onboot``, ``Service``, ``File`` ...): lowering its ``system`` gives the spec the YAML parsed
to. Image references are written in their short form (``linuxkit/init:<tag>``, ``alpine:3.13``)
so the file reads like the YAML; modes are ints (``0o644``); ``env`` becomes a dict when every
entry is ``KEY=VALUE`` with distinct keys. The layout is what ``ruff format`` produces, and the
file type-checks under ``mypy --strict``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import attrs
import jinja2

from systemkit.images.ref import ImageRef
from systemkit.linuxkit.fields import IMAGE_REF_FIELDS, MODE_FIELDS, yaml_fields
from systemkit.linuxkit.pyexpr import (
    Atom,
    Call,
    DictExpr,
    Expr,
    ListExpr,
    format_expr,
    format_import,
    isort_key,
    string,
)
from systemkit.spec import types as st
from systemkit.spec.lowered import Lowered

__all__ = ["generate_python", "import_docstring"]

_MODEL_NAMES: dict[type[Any], str] = {
    st.MountSpec: "Mount",
    st.DeviceSpec: "Device",
    st.RuntimeSpec: "Runtime",
    st.KernelSpec: "Kernel",
    st.FileSpec: "File",
    st.VolumeSpec: "Volume",
}
"""Model constructors whose name differs from the spec class's (others share the name)."""

_POSITIONAL: dict[type[Any], tuple[str, ...]] = {
    st.ImageSpec: ("name", "image"),
    st.KernelSpec: ("image",),
    st.FileSpec: ("path",),
    st.VolumeSpec: ("name",),
    st.DeviceSpec: ("path",),
}
"""Fields written as positional arguments, in this order."""

_SECTIONS = {"onboot": "Onboot", "onshutdown": "Onshutdown", "services": "Service"}

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("systemkit.linuxkit", "templates"),
    autoescape=False,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)


class _Generator:
    def __init__(self, lowered: Lowered, output_dir: Path) -> None:
        self.lowered = lowered
        self.output_dir = output_dir
        self.used: set[str] = {"System"}

    def ref(self, text: str) -> Atom:
        return string(ImageRef.parse(text).familiar)

    def value(self, value: Any, owner: tuple[type[Any], str] | None = None) -> Expr:
        if attrs.has(type(value)):
            return self.obj(value)
        if isinstance(value, list):
            return ListExpr(tuple(self.value(v, owner) for v in value))
        if isinstance(value, dict):
            return DictExpr(tuple((string(k), self.value(v)) for k, v in value.items()))
        if isinstance(value, bool):
            return Atom(repr(value))
        if isinstance(value, int):
            return Atom(str(value))
        if owner in IMAGE_REF_FIELDS:
            return self.ref(value)
        if owner in MODE_FIELDS:
            return Atom(f"0o{int(value, 8):o}")
        return string(value)

    def obj(self, value: Any, func: str | None = None) -> Call:
        cls = type(value)
        func = func or _MODEL_NAMES.get(cls, cls.__name__)
        self.used.add(func)
        positional = tuple(n for n in _POSITIONAL.get(cls, ()) if getattr(value, n) is not None)
        args = tuple(self.value(getattr(value, n), (cls, n)) for n in positional)
        kwargs: list[tuple[str, Expr]] = []
        for f in yaml_fields(cls):
            item = getattr(value, f.name)
            if f.name in positional or item is None:
                continue
            kwargs.append((f.name, self.field(cls, f.name, item)))
        return Call(func, args, tuple(kwargs))

    def field(self, cls: type[Any], name: str, item: Any) -> Expr:
        if cls is st.ImageSpec and name == "env":
            pairs = [e.split("=", 1) for e in item]
            keys = [p[0] for p in pairs]
            if item and all(len(p) == 2 for p in pairs) and len(set(keys)) == len(keys):
                return DictExpr(tuple((string(k), string(v)) for k, v in pairs))
        if cls is st.FileSpec and name == "source":
            return string(self.source(item))
        return self.value(item, (cls, name))

    def source(self, rel: str) -> str:
        """A spec source (relative to base_dir) as seen from the generated file's directory.

        A home-directory file that is reached only by climbing up to the home directory (or
        above) is written ``~/...`` (the model expands it), as LinuxKit users write SSH keys.
        """
        if rel.startswith("~/"):
            return rel
        full = os.path.normpath(os.path.join(self.lowered.base_dir, rel))
        local = Path(os.path.relpath(full, self.output_dir)).as_posix()
        home = os.path.expanduser("~").rstrip("/")
        if local.startswith("../") and home and full.startswith(home + "/"):
            common = os.path.commonpath([full, str(self.output_dir)])
            if len(common) <= len(home):
                return "~/" + Path(os.path.relpath(full, home)).as_posix()
        return local

    def system(self) -> Call:
        spec = self.lowered.spec
        kwargs: list[tuple[str, Expr]] = []
        if spec.kernel is not None:
            kwargs.append(("kernel", self.obj(spec.kernel)))
        if spec.init:
            kwargs.append(("init", ListExpr(tuple(self.ref(r) for r in spec.init))))
        for section, func in _SECTIONS.items():
            entries = getattr(spec, section)
            if entries:
                kwargs.append((section, ListExpr(tuple(self.obj(e, func) for e in entries))))
        for section in ("files", "volumes"):
            entries = getattr(spec, section)
            if entries:
                kwargs.append((section, ListExpr(tuple(self.obj(e) for e in entries))))
        return Call("System", (), tuple(kwargs))


def import_docstring(files: list[str]) -> str:
    """The module docstring ``systemkit import`` writes: where the system came from."""
    listed = "\n".join(f"    {f}" for f in files)
    return (
        "A LinuxKit system, imported by `systemkit import` from:\n\n"
        f"{listed}\n\n"
        "Image references are written in their short form; `File(source=...)` paths are\n"
        "relative to this file's directory. Edit freely: this file is now the source."
    )


def _docstring(text: str) -> str:
    text = text.strip().replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if "\n" in text:
        return f'"""{text}\n"""'
    return f'"""{text}"""'


def generate_python(
    lowered: Lowered, *, module_doc: str | None = None, output_dir: Path | None = None
) -> str:
    """The text of a ``system.py`` that builds ``lowered``'s system with the model API.

    ``module_doc`` becomes the module docstring. ``output_dir`` is the directory the file will
    be written to: ``File(source=...)`` paths are written relative to it (the model resolves
    them against the system file's directory); default ``lowered.base_dir``.
    """
    gen = _Generator(lowered, (output_dir or lowered.base_dir).resolve())
    body = format_expr(gen.system(), 0, "system = ")
    names = sorted(gen.used, key=isort_key)
    doc = module_doc or "A LinuxKit system, imported by `systemkit import`."
    return _ENV.get_template("system.py.j2").render(
        docstring=_docstring(doc),
        imports=format_import("systemkit", names),
        body=body,
    )
