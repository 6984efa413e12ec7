"""The ``Args:`` section of each model class's docstring, derived from the spec's field docs.

Editors show a class's docstring on hover and in signature help (pyright, jedi, pylance), and
read a Google-style ``Args:`` section as the documentation of each parameter. Each spec field
declares its one-line doc once (:func:`systemkit.spec.types.lk`); the model classes' docstrings
carry those docs in a generated ``Args:`` section, written into the source by
``python3 scripts/gen_model_docs.py`` and held to the spec by a test (so the docs are never
written twice by hand, and an editor that reads only the source still shows them).
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import attrs

from systemkit.model import containers, oci, parts, system
from systemkit.spec import types as st

DOCUMENTED: dict[type, type] = {
    containers.Container: st.ImageSpec,
    containers.Onboot: st.ImageSpec,
    containers.Onshutdown: st.ImageSpec,
    containers.Service: st.ImageSpec,
    system.Kernel: st.KernelSpec,
    system.File: st.FileSpec,
    system.Volume: st.VolumeSpec,
    system.System: st.Spec,
    parts.Mount: st.MountSpec,
    parts.Device: st.DeviceSpec,
    parts.Runtime: st.RuntimeSpec,
    **{
        cls: cls.SPEC
        for cls in (
            oci.IDMapping,
            oci.DeviceCgroup,
            oci.Memory,
            oci.CPU,
            oci.Pids,
            oci.WeightDevice,
            oci.ThrottleDevice,
            oci.BlockIO,
            oci.HugepageLimit,
            oci.InterfacePriority,
            oci.Network,
            oci.Resources,
            oci.Interface,
            oci.BindNS,
        )
    },
}
"""Model classes whose parameters are spec fields, with the spec class that documents them."""

HEADER = "Args:"
WIDTH = 100
INDENT = "    "


def arg_docs(model: type) -> list[tuple[str, str]]:
    """(parameter, doc) for each constructor parameter of ``model``, in signature order."""
    spec_fields = {f.name: f for f in attrs.fields(DOCUMENTED[model])}
    out = []
    for f in attrs.fields(model):
        if not f.init:
            continue
        sf = spec_fields.get(f.name)
        if sf is None:
            continue
        doc = str(sf.metadata.get("doc", ""))
        key = st.key_of(sf)
        if key != f.name:
            doc += f" (LinuxKit ``{key}``)"
        out.append((f.name, doc))
    return out


def args_section(model: type, indent: str = INDENT) -> str:
    """The ``Args:`` section of ``model``'s docstring, indented as in the class body."""
    lines = [indent + HEADER]
    for name, doc in arg_docs(model):
        lines += textwrap.wrap(
            f"{name}: {doc}",
            width=WIDTH,
            initial_indent=indent * 2,
            subsequent_indent=indent * 3,
            break_on_hyphens=False,
        )
    return "\n".join(lines)


def _docstring_node(tree: ast.Module, name: str) -> ast.Constant:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                return first.value
    raise LookupError(f"class {name} has no docstring")


def updated_source(path: Path, classes: list[type]) -> str:
    """The text of ``path`` with the ``Args:`` sections of ``classes`` regenerated."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    tree = ast.parse(text)
    # From the bottom up, so that earlier line numbers stay valid.
    spans = []
    for cls in classes:
        node = _docstring_node(tree, cls.__name__)
        assert node.end_lineno is not None
        spans.append((node.lineno, node.end_lineno, cls))
    for start, end, cls in sorted(spans, key=lambda s: s[0], reverse=True):
        old = "".join(lines[start - 1 : end])
        body = old.rstrip()
        assert body.endswith('"""'), f"{cls.__name__}: the docstring must end with three quotes"
        body = body[:-3].rstrip()
        cut = body.find("\n" + INDENT + HEADER)
        if cut >= 0:
            body = body[:cut].rstrip()
        new = f'{body}\n\n{args_section(cls)}\n{INDENT}"""\n'
        lines[start - 1 : end] = [new]
    return "".join(lines)


def by_file() -> dict[Path, list[type]]:
    """The documented classes grouped by their source file."""
    import inspect

    out: dict[Path, list[type]] = {}
    for cls in DOCUMENTED:
        out.setdefault(Path(inspect.getfile(cls)), []).append(cls)
    return out


def stale() -> list[Path]:
    """Source files whose generated ``Args:`` sections do not match the spec docs."""
    return [p for p, classes in by_file().items() if updated_source(p, classes) != _read(p)]


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def write_all() -> list[Path]:
    """Regenerate every ``Args:`` section; the files changed."""
    changed = []
    for path, classes in by_file().items():
        new = updated_source(path, classes)
        if new != _read(path):
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed
