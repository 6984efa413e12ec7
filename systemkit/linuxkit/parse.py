"""A strict, located reader of LinuxKit system files into the spec.

The reader walks the YAML node tree (:mod:`systemkit.linuxkit.yamlcore`, yaml.v3 scalar rules)
guided by the spec classes' declarations (:mod:`systemkit.linuxkit.fields`): each mapping is
read as the spec class the field's type hint names, each key must be one of that class's
LinuxKit keys, each value must have the declared type. Every problem in a file is collected and
raised at once as a :class:`~systemkit.diagnostics.UserError` whose diagnostics carry
``file:line:col`` and the spec path (``$.onboot[0].binds[1]``).

LinuxKit's normalisations (image references, modes, file paths and sources, the kernel's empty
image) and name rules are applied from :mod:`systemkit.linuxkit.normalise`; the hints that say
how to fix a mistake come from :mod:`systemkit.linuxkit.hints`. This module only reads.
"""

from __future__ import annotations

import difflib
import json
import re
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import yaml

from systemkit import validate
from systemkit.diagnostics import Diagnostic, Severity, UserError
from systemkit.images.ref import InvalidReference
from systemkit.limits import MAX_YAML_DEPTH
from systemkit.linuxkit import codes, hints, normalise
from systemkit.linuxkit.codes import Code
from systemkit.linuxkit.fields import (
    IMAGE_REF_FIELDS,
    MODE_FIELDS,
    fields_by_key,
    is_idref,
    yaml_fields,
)
from systemkit.linuxkit.merge import merge_lowered
from systemkit.linuxkit.normalise import VOLUME_NAME_RE, check_unique_names, spec_names
from systemkit.linuxkit.yamlcore import (
    BOOL_TAG,
    INT_TAG,
    MERGE_TAG,
    PLAIN_TAG,
    STR_TAG,
    TYPE_NAMES,
    compose,
    scalar_value,
)
from systemkit.location import Location, display_path
from systemkit.spec import types as st
from systemkit.spec.lowered import Lowered

__all__ = ["VOLUME_NAME_RE", "parse_files", "parse_yaml"]

_ENTRY_RE = re.compile(r"^\$\.(services|volumes)\[(\d+)\]$")
_TRUST_KEYS = ("image", "org")


MAX_NODE_VISITS = 400_000
"""Nodes read from one document, aliases expanded (yaml.v3's limit): beyond it, an alias bomb."""


class _Abort(Exception):
    """Reading cannot go on (recursive or excessive aliases)."""

    def __init__(self, node: yaml.Node, message: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message


class _Bad:
    """Marker for a value that could not be read (its diagnostic is already recorded)."""


_BAD = _Bad()

Node = yaml.Node


class _FileReader:
    """Reads one YAML document into a spec, collecting diagnostics."""

    def __init__(self, text: str, filename: str, cwd: Path, lenient: bool = False) -> None:
        self.lenient = lenient
        self.text = text
        self.filename = filename
        self.cwd = cwd
        self.errors: list[Diagnostic] = []
        self.notes: list[Diagnostic] = []
        self.locations: dict[str, Location] = {}
        self.names: list[tuple[str, int, str]] = []
        self.visits = 0
        self.active: set[int] = set()
        self._finishers: dict[type[Any], Callable[[dict[str, Any], dict[str, Node], str], bool]]
        self._finishers = {
            st.FileSpec: self._finish_file,
            st.KernelSpec: self._finish_kernel,
            st.VolumeSpec: self._finish_volume,
        }

    # --- diagnostics -------------------------------------------------------------------------

    def loc(self, node: Node) -> Location:
        mark = node.start_mark
        return Location(self.filename, mark.line + 1, mark.column + 1)

    def error(
        self,
        code: Code,
        message: str,
        node: Node | None,
        path: str | None,
        hint: str | None = None,
        related: tuple[Location, ...] = (),
    ) -> None:
        where = self.loc(node) if node is not None else Location(self.filename, 1, 1)
        self.errors.append(
            Diagnostic(code.code, code.severity, message, where, path, hint, related)
        )

    def note(self, code: Code, message: str, node: Node, path: str, hint: str | None) -> None:
        self.notes.append(Diagnostic(code.code, code.severity, message, self.loc(node), path, hint))

    # --- entry point -------------------------------------------------------------------------

    def read(self) -> Lowered:
        try:
            root = compose(self.text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            problem = exc.problem or str(exc)
            related: tuple[Location, ...] = ()
            if exc.context:
                problem = f"{problem} ({exc.context})"
                if exc.context_mark is not None and exc.problem_mark is not None:
                    ctx = exc.context_mark
                    related = (Location(self.filename, ctx.line + 1, ctx.column + 1),)
            self.errors.append(
                Diagnostic(
                    codes.INVALID_YAML.code,
                    Severity.ERROR,
                    f"invalid YAML: {problem}",
                    Location(self.filename, line, col),
                    "$",
                    "flatten the structure: a system file needs a few levels"
                    if "nested deeper" in problem
                    else "check the indentation and quoting near this line",
                    related,
                )
            )
            raise UserError(self.errors) from None
        except yaml.YAMLError as exc:
            self.error(codes.INVALID_YAML, f"invalid YAML: {exc}", None, "$")
            raise UserError(self.errors) from None
        if root is None:
            self.error(
                codes.INVALID_YAML,
                "the file is empty (LinuxKit: `invalid config: EOF`)",
                None,
                "$",
                "a system file is a mapping with keys such as kernel, init, onboot, services",
            )
            raise UserError(self.errors)
        self.locations["$"] = self.loc(root)
        try:
            spec = self.read_value(root, st.Spec, "$", None)
        except _Abort as abort:
            self.errors = [
                Diagnostic(
                    codes.INVALID_YAML.code,
                    Severity.ERROR,
                    f"invalid YAML: {abort.message}",
                    self.loc(abort.node),
                    "$",
                    "expand the aliases by hand",
                )
            ]
            raise UserError(self.errors) from None
        check_unique_names(self.names, self.locations, self.errors)
        if not isinstance(spec, st.Spec):
            raise UserError(sorted(self.errors, key=Diagnostic.sort_key))
        if spec.kernel == st.KernelSpec():
            spec = attrs.evolve(spec, kernel=None)  # `kernel: {image: ""}` = no kernel
        if self.errors and not self.lenient:
            raise UserError(sorted(self.errors, key=Diagnostic.sort_key))
        return Lowered(
            spec=spec,
            locations=dict(self.locations),
            base_dir=self.cwd,
            diagnostics=(*self.errors, *self.notes),
            name=Path(self.filename).stem,
        )

    def _drop_items(self, path: str, dropped: list[int], total: int) -> None:
        """Items left out of the list at ``path`` (lenient reading): the locations and names
        of the items after them move to their new index."""
        if not dropped:
            return
        gone = set(dropped)

        def split(key: str) -> tuple[int, str] | None:
            if not key.startswith(path + "["):
                return None
            rest = key[len(path) + 1 :]
            num, _, tail = rest.partition("]")
            return (int(num), tail) if num.isdigit() else None

        moved: dict[str, Location] = {}
        for key in list(self.locations):
            found = split(key)
            if found is None:
                continue
            index, tail = found
            loc = self.locations.pop(key)
            if index not in gone:
                new = index - sum(1 for d in dropped if d < index)
                moved[f"{path}[{new}]{tail}"] = loc
        self.locations.update(moved)
        match = re.fullmatch(r"\$\.(services|volumes)", path)
        if match:
            section = match.group(1)
            self.names = [
                (sec, i - sum(1 for d in dropped if d < i), name)
                for sec, i, name in self.names
                if sec != section or i not in gone
            ]

    # --- mappings ----------------------------------------------------------------------------

    def pairs(
        self, node: yaml.MappingNode, path: str, depth: int = 0
    ) -> list[tuple[Node, str, Node]] | None:
        """The (key node, key, value node) of a mapping, merges applied; None if a key is bad."""
        self.visits += len(node.value)
        if self.visits > MAX_NODE_VISITS:
            raise _Abort(node, "the document expands to too many nodes (excessive aliasing)")
        if depth > MAX_YAML_DEPTH:
            raise _Abort(
                node,
                f"merge keys (<<) nested deeper than {MAX_YAML_DEPTH} levels (the limit), "
                "or a mapping that merges itself",
            )
        explicit: list[tuple[Node, str, Node]] = []
        merged: list[tuple[Node, str, Node]] = []
        seen: dict[str, Node] = {}
        ok = True
        for knode, vnode in node.value:
            if isinstance(knode, yaml.ScalarNode) and (
                knode.tag == MERGE_TAG or (knode.tag == PLAIN_TAG and knode.value == "<<")
            ):
                sources = vnode.value if isinstance(vnode, yaml.SequenceNode) else [vnode]
                for src in sources:
                    if not isinstance(src, yaml.MappingNode):
                        self.error(
                            codes.WRONG_TYPE,
                            "a merge key (<<) needs a mapping or a list of mappings",
                            src,
                            path,
                        )
                        ok = False
                        continue
                    sub = self.pairs(src, path, depth + 1)
                    if sub is None:
                        ok = False
                        continue
                    merged.extend(sub)
                continue
            key = self.key_text(knode, path)
            if key is None:
                ok = False
                continue
            if key in seen:
                first = self.loc(seen[key])
                self.error(
                    codes.DUPLICATE_KEY,
                    f"key {key!r} is already defined at line {first.line}",
                    knode,
                    f"{path}.{key}",
                    "remove one of the two entries",
                    related=(first,),
                )
                ok = False
                continue
            seen[key] = knode
            explicit.append((knode, key, vnode))
        if not ok:
            return None
        out = list(explicit)
        for knode, key, vnode in merged:
            if key not in seen:
                seen[key] = knode
                out.append((knode, key, vnode))
        return out

    def key_text(self, knode: Node, path: str) -> str | None:
        if isinstance(knode, yaml.ScalarNode):
            tag, value = scalar_value(knode)
            if tag == STR_TAG:
                return str(value)
            self.error(
                codes.WRONG_TYPE,
                f"mapping keys must be strings, got {TYPE_NAMES.get(tag, tag)} ({knode.value!r})",
                knode,
                path,
                f'quote the key: "{knode.value}"',
            )
            return None
        self.error(codes.WRONG_TYPE, "mapping keys must be strings", knode, path)
        return None

    def read_object(self, node: Node, cls: type[Any], path: str) -> Any:
        if not isinstance(node, yaml.MappingNode):
            self.type_error(node, cls, path)
            return _BAD
        pairs = self.pairs(node, path)
        if pairs is None:
            return _BAD
        known = fields_by_key(cls)
        values: dict[str, Any] = {}
        nodes: dict[str, Node] = {}
        present: set[str] = set()
        ok = True
        for knode, key, vnode in pairs:
            if cls is st.Spec and key == "trust":
                ok = (self.read_trust(knode, vnode) or self.lenient) and ok
                continue
            fld = known.get(key)
            if fld is None:
                self.unknown_key(knode, key, cls, path)
                ok = self.lenient and ok
                continue
            fpath = f"{path}.{key}"
            self.locations[fpath] = self.loc(knode)
            present.add(fld.name)
            nodes[fld.name] = vnode
            value = self.read_value(vnode, fld.hint, fpath, (cls, fld.name))
            if value is _BAD:
                ok = self.lenient and not fld.required and ok  # lenient: the key is left out
                continue
            values[fld.name] = value
            if fld.name == "name" and cls in (st.ImageSpec, st.VolumeSpec):
                self.record_name(path, value)
        for fld in yaml_fields(cls):
            if fld.required and fld.name not in present:
                self.error(
                    codes.MISSING_KEY,
                    f"missing required key `{fld.key}`",
                    node,
                    f"{path}.{fld.key}",
                    f"add `{fld.key}: ...` to this entry",
                )
                ok = False
        if not ok:
            return _BAD
        finish = self._finishers.get(cls)
        if finish is not None and not finish(values, nodes, path):
            return _BAD
        return cls(**values)

    def record_name(self, path: str, name: str) -> None:
        match = _ENTRY_RE.match(path)
        if match:
            self.names.append((match.group(1), int(match.group(2)), name))

    def unknown_key(self, knode: Node, key: str, cls: type[Any], path: str) -> None:
        known = [f.key for f in yaml_fields(cls)]
        if cls is st.Spec:
            known.append("trust")
        hint = hints.unknown_key(key, known)
        where = "at the top level" if path == "$" else f"in {path}"
        self.error(codes.UNKNOWN_KEY, f"unknown key `{key}` {where}", knode, f"{path}.{key}", hint)

    def read_trust(self, knode: Node, vnode: Node) -> bool:
        path = "$.trust"
        self.locations[path] = self.loc(knode)
        ok = True
        if not isinstance(vnode, yaml.MappingNode):
            self.error(codes.WRONG_TYPE, "`trust` must be a mapping", vnode, path)
            return False
        pairs = self.pairs(vnode, path)
        if pairs is None:
            return False
        for tk, key, tv in pairs:
            if key not in _TRUST_KEYS:
                close = difflib.get_close_matches(key, _TRUST_KEYS, n=1)
                self.error(
                    codes.UNKNOWN_KEY,
                    f"unknown key `{key}` in $.trust",
                    tk,
                    f"{path}.{key}",
                    f"did you mean `{close[0]}`?" if close else "known keys here: image, org",
                )
                ok = False
                continue
            if self.read_value(tv, list[str], f"{path}.{key}", None) is _BAD:
                ok = False
        if ok:
            self.note(
                codes.TRUST_IGNORED,
                "`trust` is ignored: LinuxKit removed content trust in 2021 and ignores this "
                "section too",
                knode,
                path,
                "remove the `trust` section",
            )
        return ok

    # --- values ------------------------------------------------------------------------------

    def read_value(
        self, node: Node, hint: Any, path: str, owner: tuple[type[Any], str] | None
    ) -> Any:
        self.visits += 1
        if self.visits > MAX_NODE_VISITS:
            raise _Abort(node, "the document expands to too many nodes (excessive aliasing)")
        if id(node) in self.active:
            raise _Abort(node, "an alias refers to a node that contains it (recursive alias)")
        self.active.add(id(node))
        try:
            return self._read_value(node, hint, path, owner)
        finally:
            self.active.discard(id(node))

    def _read_value(
        self, node: Node, hint: Any, path: str, owner: tuple[type[Any], str] | None
    ) -> Any:
        if attrs.has(hint):
            return self.read_object(node, hint, path)
        origin = typing.get_origin(hint)
        if origin is list:
            (item_hint,) = typing.get_args(hint)
            if not isinstance(node, yaml.SequenceNode):
                self.type_error(node, hint, path)
                return _BAD
            items: list[Any] = []
            ok = True
            dropped: list[int] = []
            for i, inode in enumerate(node.value):
                ipath = f"{path}[{i}]"
                self.locations[ipath] = self.loc(inode)
                value = self.read_value(inode, item_hint, ipath, owner)
                if value is _BAD:
                    ok = False
                    dropped.append(i)
                    continue
                items.append(value)
            if self.lenient:
                self._drop_items(path, dropped, len(node.value))
                return items
            return items if ok else _BAD
        if origin is dict:
            if not isinstance(node, yaml.MappingNode):
                self.type_error(node, hint, path)
                return _BAD
            pairs = self.pairs(node, path)
            if pairs is None:
                return _BAD
            out: dict[str, str] = {}
            ok = True
            for knode, key, vnode in pairs:
                epath = f"{path}[{json.dumps(key)}]"
                self.locations[epath] = self.loc(knode)
                value = self.read_value(vnode, str, epath, None)
                if value is _BAD:
                    ok = False
                else:
                    out[key] = value
            return out if ok or self.lenient else _BAD
        return self.read_scalar(node, hint, path, owner)

    def read_scalar(
        self, node: Node, hint: Any, path: str, owner: tuple[type[Any], str] | None
    ) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            self.type_error(node, hint, path)
            return _BAD
        try:
            tag, value = scalar_value(node)
        except ValueError as exc:
            self.error(codes.WRONG_TYPE, str(exc), node, path)
            return _BAD
        accepted = {
            str: (STR_TAG,),
            int: (INT_TAG,),
            bool: (BOOL_TAG,),
        }.get(hint, (INT_TAG, STR_TAG) if is_idref(hint) else ())
        if tag not in accepted:
            self.type_error(node, hint, path, owner)
            return _BAD
        if owner in IMAGE_REF_FIELDS:
            return self.image_ref(node, value, path, owner)
        if owner in MODE_FIELDS:
            return self.mode(node, value, path)
        return value

    def image_ref(
        self, node: Node, value: str, path: str, owner: tuple[type[Any], str] | None
    ) -> Any:
        if owner == (st.KernelSpec, "image") and value == "":
            return value  # "no kernel image", as LinuxKit reads it; dropped in _finish_kernel
        try:
            return normalise.image_ref(value)
        except InvalidReference as exc:
            hint = hints.bad_image_ref(value)
            self.error(codes.BAD_IMAGE_REF, str(exc), node, path, hint)  # = validate.image_ref
            return value if self.lenient else _BAD

    def mode(self, node: Node, value: str, path: str) -> Any:
        canonical = normalise.mode(value)
        if canonical is None:
            problem = validate.octal_mode(value)
            self.error(
                codes.BAD_MODE,
                problem.message if problem else f"mode {value!r} is not an octal number",
                node,
                path,
                hints.BAD_MODE,
            )
            return value if self.lenient else _BAD
        return canonical

    def type_error(
        self,
        node: Node,
        hint: Any,
        path: str,
        owner: tuple[type[Any], str] | None = None,
    ) -> None:
        expected = hints.describe_expected(hint)
        got, hint_text = hints.wrong_type(node, hint, owner)
        self.error(codes.WRONG_TYPE, f"expected {expected}, got {got}", node, path, hint_text)

    # --- per-class normalisation -------------------------------------------------------------

    def _finish_kernel(self, values: dict[str, Any], nodes: dict[str, Node], path: str) -> bool:
        values["image"] = normalise.kernel_image(values.get("image"))
        return True

    def _finish_volume(self, values: dict[str, Any], nodes: dict[str, Node], path: str) -> bool:
        name = values["name"]
        if not normalise.VOLUME_NAME_RE.match(name):
            problem = validate.volume_name(name)
            self.error(
                codes.BAD_VOLUME_NAME,
                problem.message if problem else f"invalid volume name {name!r}",
                nodes["name"],
                f"{path}.name",
                hints.BAD_VOLUME_NAME,
            )
            return self.lenient
        return True

    def _finish_file(self, values: dict[str, Any], nodes: dict[str, Node], path: str) -> bool:
        values["path"] = normalise.file_path(values["path"])
        source = values.get("source")
        if source is None:
            return True
        values["source"], absolute = normalise.source_path(source, self.cwd)
        try:
            values["source_digest"] = normalise.file_digest(absolute)
        except OSError as exc:
            if values.get("optional"):
                values["source_digest"] = None
                return True
            self.error(
                codes.MISSING_SOURCE,
                f"cannot read source {source!r} ({exc.strerror or exc}; resolved against "
                f"{self.cwd}, as LinuxKit resolves relative sources against the current "
                "directory)",
                nodes["source"],
                f"{path}.source",
                hints.MISSING_SOURCE,
            )
            if self.lenient:  # checked on without it: the finding is made
                values["source_digest"] = None
                values["optional"] = True
            return self.lenient
        return True


def parse_yaml(
    text: str, filename: str, *, cwd: Path | None = None, lenient: bool = False
) -> Lowered:
    """Read one LinuxKit system file (its text) into a :class:`Lowered` spec.

    ``filename`` is used in locations; ``cwd`` (default: the process's current directory) is
    what relative ``files[].source`` paths resolve against, as in LinuxKit, and becomes
    ``base_dir``. Raises :class:`UserError` with every problem found.
    """
    base = (cwd or Path.cwd()).resolve()
    return _FileReader(text, filename, base, lenient).read()


def _display(path: Path) -> str:
    return display_path(path)


def parse_files(paths: list[Path], *, cwd: Path | None = None, lenient: bool = False) -> Lowered:
    """Read several system files and append them in order, as ``linuxkit build a.yml b.yml``.

    Every file is read (and every problem in every file reported) before merging; the merged
    spec is then checked for duplicate service and volume names across files.

    ``lenient`` (for ``systemkit check``): a value that cannot be read is recorded as a finding
    in ``Lowered.diagnostics`` and left out (an entry without its required keys is left out
    whole), so that the rest of the file is still read and checked; only a file that is not
    YAML at all raises.
    """
    if not paths:
        raise ValueError("parse_files needs at least one path")
    errors: list[Diagnostic] = []
    parts: list[Lowered] = []
    for path in paths:
        shown = _display(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(
                Diagnostic(
                    codes.INVALID_YAML.code,
                    Severity.ERROR,
                    f"cannot read {shown}: {exc}",
                    Location(shown, 1, 0),
                    "$",
                )
            )
            continue
        try:
            parts.append(parse_yaml(text, shown, cwd=cwd, lenient=lenient))
        except UserError as exc:
            errors.extend(exc.diagnostics)
    if errors:
        raise UserError(errors)
    merged = parts[0]
    for part in parts[1:]:
        merged = merge_lowered(merged, part)
    if len(parts) > 1 and not lenient:  # lenient: the checks' SK201/SK202 report them
        check_unique_names(spec_names(merged.spec), merged.locations, errors)
        if errors:
            raise UserError(errors)
    return attrs.evolve(merged, name=paths[0].stem)
