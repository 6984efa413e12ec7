"""Lowering: model objects -> the canonical spec, with the user's locations.

Pure: reads nothing but the objects and the local files that ``File(source=...)`` names (whose
content digests go into the spec). Never touches the network.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import attrs

from systemkit import validate
from systemkit.diagnostics import Diagnostic, Severity, UserError
from systemkit.images.ref import InvalidReference, normalise
from systemkit.location import Location
from systemkit.model.base import FrozenDict, Located
from systemkit.model.containers import Container
from systemkit.model.system import File, System, Volume
from systemkit.spec import types as st
from systemkit.spec.lowered import Lowered

_IMAGE_FIELDS = {f.name: st.key_of(f) for f in attrs.fields(st.ImageSpec)}
_LOCATED_LISTS = ("mounts", "devices")  # container fields holding located model objects


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        if all(type(v) is str for v in value):
            return list(value)
        return [_plain(v) for v in value]
    if isinstance(value, FrozenDict):
        return dict(value)
    to_spec = getattr(value, "to_spec", None)
    if to_spec is not None:
        return to_spec()
    return value


def _scalar_or_list(value: Any) -> Any:
    return list(value) if type(value) is tuple else value


def _spec_list(value: tuple[Any, ...]) -> list[Any]:
    return [v.to_spec() for v in value]


_FIELD_LOWERING: dict[str, Any] = {
    "mounts": _spec_list,
    "devices": _spec_list,
    "uid_mappings": _spec_list,
    "gid_mappings": _spec_list,
    "resources": lambda r: r.to_spec(),
    "runtime": lambda r: r.to_spec(),
    "sysctl": dict,
    "annotations": dict,
}
"""How a container field's model value becomes spec data (default: tuples become lists)."""


def _ref(text: str) -> str:
    try:
        return normalise(text)
    except InvalidReference:
        return text  # reported by the constructor / checks; keep the user's text


class _Lowering:
    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir
        self.locations: dict[str, Location] = {}
        self.errors: list[Diagnostic] = []

    def at(self, path: str, obj: Located | None) -> None:
        if obj is not None and obj.location is not None:
            self.locations[path] = obj.location

    def container(self, path: str, c: Container) -> st.ImageSpec:
        self.at(path, c)
        kwargs = {
            n: _FIELD_LOWERING.get(n, _scalar_or_list)(v)
            for n in _IMAGE_FIELDS
            if (v := getattr(c, n)) is not None
        }
        for name in _LOCATED_LISTS:
            for j, item in enumerate(getattr(c, name) or ()):
                self.at(f"{path}.{_IMAGE_FIELDS[name]}[{j}]", item)
        kwargs["image"] = _ref(c.image)
        return st.ImageSpec(**kwargs)

    def file(self, path: str, f: File) -> st.FileSpec:
        self.at(path, f)
        source = digest = None
        if f.source is not None:
            source, digest = self.source(path, f)
        return st.FileSpec(
            path=f.path.lstrip("/"),
            directory=f.directory,
            symlink=f.symlink,
            contents=f.contents,
            source=source,
            source_digest=digest,
            metadata=f.metadata,
            optional=f.optional,
            mode=None
            if f.mode is None or validate.octal_mode(f.mode)
            else validate.mode_string(f.mode),
            uid=f.uid,
            gid=f.gid,
        )

    def source(self, path: str, f: File) -> tuple[str, str | None]:
        assert f.source is not None
        raw = os.path.expanduser(f.source)
        full = Path(raw) if os.path.isabs(raw) else self.base_dir / raw
        # `~/...` stays as written (expanded when building, as LinuxKit does): a path through
        # this machine's home directory would make the spec differ from machine to machine.
        rel = f.source if f.source.startswith("~/") else os.path.relpath(full, self.base_dir)
        try:
            h = hashlib.sha256()
            with open(full, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            return rel, "sha256:" + h.hexdigest()
        except OSError as exc:
            if not f.optional:
                self.errors.append(
                    Diagnostic(
                        "SK122",
                        Severity.ERROR,
                        f"source {f.source!r} of file {f.path!r} cannot be read: "
                        f"{exc.strerror or exc}",
                        f.location,
                        spec_path=f"{path}.source",
                        hint="fix the path (relative to the system file's directory), "
                        "or mark the file optional=True",
                    )
                )
            return rel, None

    def volume(self, path: str, v: Volume) -> st.VolumeSpec:
        self.at(path, v)
        return st.VolumeSpec(
            name=v.name,
            image=None if v.image is None else _ref(v.image),
            readonly=v.readonly,
            format=v.format,
            platforms=None if v.platforms is None else list(v.platforms),
        )

    def system(self, s: System) -> st.Spec:
        self.at("$", s)
        kernel = None
        if s.kernel is not None:
            k = s.kernel
            self.at("$.kernel", k)
            kernel = st.KernelSpec(
                image=None if k.image is None else _ref(k.image),
                cmdline=k.cmdline,
                binary=k.binary,
                tar=k.tar,
                ucode=k.ucode,
            )
        sections: dict[str, list[st.ImageSpec]] = {"onboot": [], "onshutdown": [], "services": []}
        for section, i, c in s.containers():
            sections[section].append(self.container(f"$.{section}[{i}]", c))
        return st.Spec(
            kernel=kernel,
            init=[_ref(r) for r in s.init],
            onboot=sections["onboot"],
            onshutdown=sections["onshutdown"],
            services=sections["services"],
            files=[self.file(f"$.files[{i}]", f) for i, f in enumerate(s.files)],
            volumes=[self.volume(f"$.volumes[{i}]", v) for i, v in enumerate(s.volumes)],
        )


def default_base_dir(system: System) -> Path:
    """The directory of the file that created ``system`` (else the current directory)."""
    if system.location is not None and os.path.exists(system.location.file):
        return Path(system.location.file).resolve().parent
    return Path.cwd()


def lower(system: System, *, base_dir: Path | None = None, name: str | None = None) -> Lowered:
    """Lower a :class:`System` to the canonical spec, with the location of each part.

    ``base_dir`` is where relative ``File(source=...)`` paths are found (default: the directory
    of the file that created the system). Raises :class:`UserError` for a missing source.
    """
    if not isinstance(system, System):
        raise TypeError(f"lower() takes a System, not {type(system).__name__}")
    base = (base_dir or default_base_dir(system)).resolve()
    low = _Lowering(base)
    spec = low.system(system)
    if low.errors:
        raise UserError(low.errors)
    return Lowered(spec=spec, locations=low.locations, base_dir=base, name=name)
