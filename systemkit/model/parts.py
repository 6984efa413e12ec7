"""Small typed parts of a container: binds, tmpfs, rlimits, mounts, devices, runtime."""

from __future__ import annotations

from typing import Any, Literal

import attrs

from systemkit import validate
from systemkit.model.base import ListOf, Located, problem, to_tuple
from systemkit.model.oci import (
    CPU,
    BindNS,
    BlockIO,
    DeviceCgroup,
    HugepageLimit,
    IDMapping,
    Interface,
    InterfacePriority,
    Memory,
    Network,
    OciValue,
    Pids,
    Resources,
    ThrottleDevice,
    WeightDevice,
)
from systemkit.spec import types as st

__all__ = [
    "CPU",
    "Bind",
    "BindNS",
    "BlockIO",
    "Device",
    "DeviceCgroup",
    "HugepageLimit",
    "IDMapping",
    "Interface",
    "InterfacePriority",
    "Memory",
    "Mount",
    "Network",
    "OciValue",
    "Pids",
    "Resources",
    "Rlimit",
    "Runtime",
    "ThrottleDevice",
    "Tmpfs",
    "WeightDevice",
]


def _opt_strs(value: ListOf[str] | None) -> tuple[str, ...] | None:
    return to_tuple(value, "options")


def _options(value: ListOf[str]) -> tuple[str, ...]:
    return to_tuple(value, "options") or ()


@attrs.frozen
class Bind(Located):
    """A bind mount, lowered to LinuxKit's ``source:destination[:options]`` string.

    Args:
        source: a host path, or the name of a declared :class:`~systemkit.Volume`
        destination: absolute path in the container
        options: mount options (``ro``, ``rbind`` ...); default ``rw,rbind,rshared``
    """

    source: str
    destination: str
    options: tuple[str, ...] = attrs.field(default=(), converter=_options)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        problem(validate.bind(str(self)))

    def __str__(self) -> str:
        text = f"{self.source}:{self.destination}"
        return text + (":" + ",".join(self.options) if self.options else "")


@attrs.frozen
class Tmpfs(Located):
    """A tmpfs mount, lowered to LinuxKit's ``destination[:options]`` string.

    Args:
        destination: absolute path in the container
        options: mount options (``size=64m``, ``mode=1777`` ...)
    """

    destination: str
    options: tuple[str, ...] = attrs.field(default=(), converter=_options)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        problem(validate.tmpfs(str(self)))

    def __str__(self) -> str:
        return self.destination + (":" + ",".join(self.options) if self.options else "")


@attrs.frozen
class Rlimit(Located):
    """A resource limit, lowered to LinuxKit's ``name,soft,hard`` string.

    Args:
        name: the limit (``nofile`` or ``RLIMIT_NOFILE``)
        soft: the soft limit, or ``"unlimited"``
        hard: the hard limit, or ``"unlimited"``
    """

    name: str
    soft: int | Literal["unlimited"]
    hard: int | Literal["unlimited"]

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        problem(validate.rlimit(str(self)))

    def __str__(self) -> str:
        return f"{self.name},{self.soft},{self.hard}"


def _idmaps(value: ListOf[IDMapping] | None) -> tuple[IDMapping, ...] | None:
    return to_tuple(value, "id mappings")


@attrs.frozen
class Mount(Located):
    """An OCI mount. Missing ``type``/``source``/``destination`` are inferred as LinuxKit does.

    A container's mount destination must be absolute; a ``Runtime`` mount may be relative to
    the container's bundle directory (as LinuxKit allows). ``systemkit check`` judges which.

    Args:
        destination: absolute path in the container
        type: filesystem type (bind, tmpfs, proc, cgroup, overlay ...)
        source: device, path or volume name mounted
        options: mount options (ro, rbind, nosuid ...)
        uid_mappings: id-mapped mount: uid mappings (LinuxKit ``uidmappings``)
        gid_mappings: id-mapped mount: gid mappings (LinuxKit ``gidmappings``)
    """

    destination: str | None = None
    type: str | None = attrs.field(default=None, kw_only=True)
    source: str | None = attrs.field(default=None, kw_only=True)
    options: tuple[str, ...] | None = attrs.field(default=None, kw_only=True, converter=_opt_strs)
    uid_mappings: tuple[IDMapping, ...] | None = attrs.field(
        default=None, kw_only=True, converter=_idmaps
    )
    gid_mappings: tuple[IDMapping, ...] | None = attrs.field(
        default=None, kw_only=True, converter=_idmaps
    )

    def to_spec(self) -> st.MountSpec:
        return st.MountSpec(
            destination=self.destination,
            type=self.type,
            source=self.source,
            options=None if self.options is None else list(self.options),
            uid_mappings=_specs(self.uid_mappings),
            gid_mappings=_specs(self.gid_mappings),
        )


@attrs.frozen
class Device(Located):
    """A device node created in the container (plus a cgroup rule allowing it).

    Args:
        path: device path, or `all` for a whole class
        type: `c` (char), `b` (block), `p` (fifo) or `u`
        major: major number
        minor: minor number
        mode: file mode, an octal string such as `0666`
    """

    path: str
    type: str | None = attrs.field(default=None, kw_only=True)
    major: int | None = attrs.field(default=None, kw_only=True)
    minor: int | None = attrs.field(default=None, kw_only=True)
    mode: int | str | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        if self.type is not None:
            problem(validate.device_type(self.type))
        if self.path != "all":
            problem(validate.absolute_path(self.path, "device path"))
        if self.mode is not None:
            problem(validate.octal_mode(self.mode))

    def to_spec(self) -> st.DeviceSpec:
        mode = None
        if self.mode is not None and validate.octal_mode(self.mode) is None:
            mode = validate.mode_string(self.mode)
        elif self.mode is not None:
            mode = str(self.mode)
        return st.DeviceSpec(
            path=self.path, type=self.type, major=self.major, minor=self.minor, mode=mode
        )


def _mounts(value: ListOf[Mount] | None) -> tuple[Mount, ...] | None:
    return to_tuple(value, "mounts")


def _strs(value: ListOf[str] | None) -> tuple[str, ...] | None:
    return to_tuple(value, "value")


def _interfaces(value: ListOf[Interface] | None) -> tuple[Interface, ...] | None:
    return to_tuple(value, "interfaces")


@attrs.frozen
class Runtime(Located):
    """What LinuxKit's init prepares before starting the container (``runtime``).

    Args:
        cgroups: cgroups to create
        mounts: mounts made in the root namespace
        mkdir: directories to create in the root namespace
        interfaces: network interfaces to prepare
        bind_ns: bind-mount new namespaces to these paths (LinuxKit ``bindNS``)
        namespace: containerd namespace (services only)
    """

    cgroups: tuple[str, ...] | None = attrs.field(default=None, kw_only=True, converter=_strs)
    mounts: tuple[Mount, ...] | None = attrs.field(default=None, kw_only=True, converter=_mounts)
    mkdir: tuple[str, ...] | None = attrs.field(default=None, kw_only=True, converter=_strs)
    interfaces: tuple[Interface, ...] | None = attrs.field(
        default=None, kw_only=True, converter=_interfaces
    )
    bind_ns: BindNS | None = attrs.field(default=None, kw_only=True)
    namespace: str | None = attrs.field(default=None, kw_only=True)

    def to_spec(self) -> st.RuntimeSpec:
        return st.RuntimeSpec(
            cgroups=_list(self.cgroups),
            mounts=None if self.mounts is None else [m.to_spec() for m in self.mounts],
            mkdir=_list(self.mkdir),
            interfaces=_specs(self.interfaces),
            bind_ns=None if self.bind_ns is None else self.bind_ns.to_spec(),
            namespace=self.namespace,
        )


def _specs(values: tuple[OciValue, ...] | None) -> list[Any] | None:
    return None if values is None else [v.to_spec() for v in values]


def _list(value: tuple[Any, ...] | None) -> list[Any] | None:
    return None if value is None else list(value)
