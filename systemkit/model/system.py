"""The system and its non-container parts: ``Kernel``, ``File``, ``Volume``, ``System``."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import attrs

from systemkit import validate
from systemkit.diagnostics import Diagnostic, Severity, report_all
from systemkit.images.ref import ImageRef
from systemkit.model.base import ListOf, Located, problem, to_tuple, type_error
from systemkit.model.containers import Container, IdLike, Onboot, Onshutdown, Service


def _image(value: str | ImageRef) -> str:
    if isinstance(value, ImageRef):
        return str(value)
    problem(validate.image_ref(value))
    return value


def _opt_image(value: str | ImageRef | None) -> str | None:
    return None if value is None else _image(value)


@attrs.frozen
class Kernel(Located):
    """The kernel: an image holding ``kernel`` (or ``binary``) and ``kernel.tar`` (or ``tar``).

    ``image`` may be left out in a fragment meant to be merged onto a system that has one
    (e.g. a per-platform ``Kernel(cmdline=...)`` override).

    Args:
        image: image holding the kernel, normalised
        cmdline: kernel command line
        binary: kernel file name in the image (default `kernel`)
        tar: modules tarball in the image (default `kernel.tar`; `none`)
        ucode: CPU microcode cpio in the image
    """

    image: str | None = attrs.field(default=None, converter=_opt_image)
    cmdline: str | None = attrs.field(default=None, kw_only=True)
    binary: str | None = attrs.field(default=None, kw_only=True)
    tar: str | None = attrs.field(default=None, kw_only=True)
    ucode: str | None = attrs.field(default=None, kw_only=True)


def _source(value: str | os.PathLike[str] | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, os.PathLike):
        return str(os.fspath(value))
    type_error("source", "a path", value)
    return None


def _mode(value: int | None) -> int | None:
    return value


def _mode_meant(value: object) -> int | None:
    """``mode="0644"`` (reported as a wrong type) is read as the octal it means, so that the
    other checks (SK243) judge the mode the user meant, not the default."""
    try:
        return int(value, 8) if isinstance(value, str) else None
    except ValueError:
        return None


_mode.rescue = _mode_meant  # type: ignore[attr-defined]


@attrs.frozen
class File(Located):
    """A file, directory or symlink added to the image (``files``).

    Give exactly one of ``contents``, ``source`` (a host file, relative to the system file's
    directory), ``directory=True``, ``symlink`` or ``metadata`` (``"yaml"``/``"json"``: the
    system's own config). ``mode`` is an int (``0o644``); default 0600 for files, 0700 for dirs.

    Args:
        path: path in the image, without the leading `/`
        contents: inline contents
        source: host file, relative to the system file's directory
        directory: create a directory
        symlink: create a symlink to this target
        metadata: `yaml` or `json`: the system's own config
        optional: skip a `source` that cannot be read
        mode: octal mode string (default 0600 files, 0700 dirs)
        uid: owner: a number or a container name
        gid: group: a number or a container name
    """

    path: str
    contents: str | None = attrs.field(default=None, kw_only=True)
    source: str | None = attrs.field(default=None, kw_only=True, converter=_source)
    directory: bool | None = attrs.field(default=None, kw_only=True)
    symlink: str | None = attrs.field(default=None, kw_only=True)
    metadata: Literal["yaml", "json"] | None = attrs.field(default=None, kw_only=True)
    optional: bool | None = attrs.field(default=None, kw_only=True)
    mode: int | None = attrs.field(default=None, kw_only=True, converter=_mode)
    uid: IdLike | None = attrs.field(default=None, kw_only=True)
    gid: IdLike | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        kinds = [
            self.contents is not None,
            self.source is not None,
            bool(self.directory),
            self.symlink is not None,
            self.metadata is not None,
        ]
        if sum(kinds) != 1:
            given = [
                n
                for n, k in zip(
                    ("contents", "source", "directory", "symlink", "metadata"), kinds, strict=True
                )
                if k
            ]
            problem(
                validate.Problem(
                    "SK117",
                    f"file {self.path!r} needs exactly one of contents, source, directory, "
                    f"symlink, metadata (got {', '.join(given) or 'none'})",
                    "e.g. File('/etc/motd', contents='hello\\n')",
                )
            )
        if self.mode is not None:
            problem(validate.octal_mode(self.mode))
        if self.metadata is not None:
            problem(validate.metadata_kind(self.metadata))

    @classmethod
    def template(
        cls,
        path: str,
        template: str | os.PathLike[str],
        *,
        mode: int | None = None,
        uid: IdLike | None = None,
        gid: IdLike | None = None,
        **values: object,
    ) -> File:
        """A file whose ``contents`` are ``template`` rendered with ``values`` (jinja2).

        ``template`` is the template text (a ``str``), or a template file (a
        :class:`~pathlib.Path`, relative to the directory of the file making the call); a
        one-line ``str`` without jinja2 markup that ends like a template file name
        (``"motd.j2"``) is refused (SK140), since it would otherwise become the contents.
        Rendering is strict and plain: a variable the template uses but ``values`` lacks is
        an error (never an empty string), nothing is HTML-escaped, a trailing newline is
        kept, and the same values always give the same text. A template error is reported
        at this call's line, naming the template's line (SK140). ``mode``, ``uid`` and ``gid``
        are the file's; every other keyword is a template variable::

            File.template("/etc/motd", "Welcome to {{ host }}\n", host="edge-1", mode=0o644)
        """
        from systemkit.model.template import render

        source = template if isinstance(template, str) else Path(os.fspath(template))
        text = render(source, values)
        return cls(path, contents="" if text is None else text, mode=mode, uid=uid, gid=gid)


def _platforms(value: ListOf[str] | None) -> tuple[str, ...] | None:
    return to_tuple(value, "platforms")


@attrs.frozen
class Volume(Located):
    """A named volume shared between containers (``volumes``); bind it by name.

    Args:
        name: volume name (`^[a-z0-9_-]*$`)
        image: image whose content fills the volume, normalised
        readonly: read-only volume
        format: `filesystem` (default) or `oci`
        platforms: platforms kept for `format: oci`
    """

    name: str
    image: str | None = attrs.field(default=None, kw_only=True, converter=_opt_image)
    readonly: bool | None = attrs.field(default=None, kw_only=True)
    format: Literal["filesystem", "oci"] | None = attrs.field(default=None, kw_only=True)
    platforms: tuple[str, ...] | None = attrs.field(
        default=None, kw_only=True, converter=_platforms
    )

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        problem(validate.volume_name(self.name))
        if self.format is not None:
            problem(validate.volume_format(self.format))


@attrs.frozen
class Init(Located):
    """An init image (``init``): unpacked at ``/`` in list order, before the containers.

    ``System(init=[Init("linuxkit/init:<tag>")])`` lowers exactly as the plain string does;
    strings and ``Init`` objects may be mixed in one list.

    Args:
        image: image reference of the init image (``linuxkit/init:<tag>``)
    """

    image: str = attrs.field(converter=_image)

    def __str__(self) -> str:
        return self.image


InitLike = str | ImageRef | Init


def _init_item(value: InitLike) -> str:
    if isinstance(value, Init):
        return value.image
    if not isinstance(value, str | ImageRef):
        type_error("each entry of init", "a string or an Init", value)
        return str(value)
    return _image(value)


def _init(value: ListOf[InitLike]) -> tuple[str, ...]:
    return tuple(_init_item(v) for v in to_tuple(value, "init") or ())


def _check_items(items: tuple[object, ...], cls: type, what: str) -> None:
    for item in items:
        if not isinstance(item, cls):
            type_error(f"each entry of {what}", f"a {cls.__name__}", item)


def _onboot(value: ListOf[Onboot]) -> tuple[Onboot, ...]:
    items = to_tuple(value, "onboot") or ()
    _check_items(items, Onboot, "onboot")
    return items


def _onshutdown(value: ListOf[Onshutdown]) -> tuple[Onshutdown, ...]:
    items = to_tuple(value, "onshutdown") or ()
    _check_items(items, Onshutdown, "onshutdown")
    return items


def _services(value: ListOf[Service]) -> tuple[Service, ...]:
    items = to_tuple(value, "services") or ()
    _check_items(items, Service, "services")
    return items


def _files(value: ListOf[File]) -> tuple[File, ...]:
    items = to_tuple(value, "files") or ()
    _check_items(items, File, "files")
    return items


def _volumes(value: ListOf[Volume]) -> tuple[Volume, ...]:
    items = to_tuple(value, "volumes") or ()
    _check_items(items, Volume, "volumes")
    return items


def _kernel(value: Kernel | None) -> Kernel | None:
    if value is not None and not isinstance(value, Kernel):
        type_error("kernel", "a Kernel", value)
        return None
    return value


@attrs.frozen
class System(Located):
    """A whole bootable system.

    Combine systems with ``a + b`` (or :meth:`merge`): LinuxKit's multi-file meaning, where the
    later kernel's set fields override and every list is appended.

    Args:
        kernel: the kernel
        init: init images, unpacked at `/` in order
        onboot: containers run in order at boot
        onshutdown: containers run at shutdown
        services: long-running containers
        files: files added to the image
        volumes: shared volumes
    """

    kernel: Kernel | None = attrs.field(default=None, kw_only=True, converter=_kernel)
    init: tuple[str, ...] = attrs.field(default=(), kw_only=True, converter=_init)
    onboot: tuple[Onboot, ...] = attrs.field(default=(), kw_only=True, converter=_onboot)
    onshutdown: tuple[Onshutdown, ...] = attrs.field(
        default=(), kw_only=True, converter=_onshutdown
    )
    services: tuple[Service, ...] = attrs.field(default=(), kw_only=True, converter=_services)
    files: tuple[File, ...] = attrs.field(default=(), kw_only=True, converter=_files)
    volumes: tuple[Volume, ...] = attrs.field(default=(), kw_only=True, converter=_volumes)

    def containers(self) -> Iterable[tuple[str, int, Container]]:
        """Every container with its section name and index, in LinuxKit's order."""
        for section in ("onboot", "onshutdown", "services"):
            items: tuple[Container, ...] = getattr(self, section)
            for i, c in enumerate(items):
                yield section, i, c

    def merge(self, *others: System) -> System:
        """This system followed by ``others``, merged as ``linuxkit build a.yml b.yml`` does."""
        result = self
        for other in others:
            result = _merge_two(result, other)
        return result

    def __add__(self, other: System) -> System:
        if not isinstance(other, System):
            return NotImplemented
        return _merge_two(self, other)


def _merge_kernel(a: Kernel | None, b: Kernel | None) -> Kernel | None:
    if a is None or b is None:
        return b if a is None else a
    return attrs.evolve(
        a,
        image=b.image if b.image else a.image,
        cmdline=b.cmdline if b.cmdline else a.cmdline,
        binary=b.binary if b.binary else a.binary,
        tar=b.tar if b.tar is not None else a.tar,
        ucode=b.ucode if b.ucode is not None else a.ucode,
    )


def _merge_two(a: System, b: System) -> System:
    seen = {s.name: s for s in a.services}
    dups = [
        Diagnostic(
            "SK201",
            Severity.ERROR,
            f"duplicate service name {s.name!r} when merging systems",
            s.location,
            hint="rename one of them, or drop one with a list comprehension before merging",
            related=tuple(x for x in (seen[s.name].location,) if x),
        )
        for s in b.services
        if s.name in seen
    ]
    if dups:
        report_all(dups)  # raised together; under `systemkit check` collected, merging goes on
    merged = System(
        kernel=_merge_kernel(a.kernel, b.kernel),
        init=a.init + b.init,
        onboot=a.onboot + b.onboot,
        onshutdown=a.onshutdown + b.onshutdown,
        services=a.services + b.services,
        files=a.files + b.files,
        volumes=a.volumes + b.volumes,
    )
    object.__setattr__(merged, "_location", a.location)
    return merged
