"""Containers: ``Onboot``, ``Onshutdown`` and ``Service`` entries of a system."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

import attrs

from systemkit import validate
from systemkit.capabilities import Capability, CapabilityName
from systemkit.images.ref import ImageRef
from systemkit.model.base import (
    FrozenDict,
    ListOf,
    Located,
    problem,
    to_str_map,
    to_tuple,
    type_error,
)
from systemkit.model.parts import Bind, Device, IDMapping, Mount, Resources, Rlimit, Runtime, Tmpfs

CapabilityLike = Capability | CapabilityName
IdLike = int | str


def _caps(value: ListOf[CapabilityLike] | None) -> tuple[str, ...] | None:
    items = to_tuple(value, "capabilities")
    if items is None:
        return None
    out = tuple(str(c.value) if isinstance(c, Capability) else str(c) for c in items)
    for p in validate.capability_list(out):
        problem(p)
    return out


def _strs(value: ListOf[str] | None) -> tuple[str, ...] | None:
    return to_tuple(value, "value")


def _binds(value: ListOf[str | Bind] | None) -> tuple[str, ...] | None:
    items = to_tuple(value, "binds")
    if items is None:
        return None
    out = tuple(str(b) for b in items)
    for b in items:
        if not isinstance(b, Bind):
            problem(validate.bind(str(b)))
    return out


def _tmpfs(value: ListOf[str | Tmpfs] | None) -> tuple[str, ...] | None:
    items = to_tuple(value, "tmpfs")
    if items is None:
        return None
    for t in items:
        if not isinstance(t, Tmpfs):
            problem(validate.tmpfs(str(t)))
    return tuple(str(t) for t in items)


def _rlimits(value: ListOf[str | Rlimit] | None) -> tuple[str, ...] | None:
    items = to_tuple(value, "rlimits")
    if items is None:
        return None
    for r in items:
        if not isinstance(r, Rlimit):
            problem(validate.rlimit(str(r)))
    return tuple(str(r) for r in items)


def _env(value: Mapping[str, str] | ListOf[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return tuple(f"{k}={v}" for k, v in value.items())
    items = to_tuple(value, "env") or ()
    for e in items:
        problem(validate.env_entry(str(e)))
    return tuple(str(e) for e in items)


def _mounts(value: ListOf[Mount] | None) -> tuple[Mount, ...] | None:
    items = to_tuple(value, "mounts")
    for m in items or ():
        if not isinstance(m, Mount):
            type_error("each mount", "a Mount", m)
    return items


def _devices(value: ListOf[Device] | None) -> tuple[Device, ...] | None:
    items = to_tuple(value, "devices")
    for d in items or ():
        if not isinstance(d, Device):
            type_error("each device", "a Device", d)
    return items


def _ids(value: ListOf[IdLike] | None) -> tuple[IdLike, ...] | None:
    items = to_tuple(value, "additional_gids")
    for i in items or ():
        problem(validate.nonnegative_id(i))
    return items


def _idmaps(value: ListOf[IDMapping] | None) -> tuple[IDMapping, ...] | None:
    return to_tuple(value, "id mappings")


def _map(value: Mapping[str, str | int | bool] | None) -> FrozenDict | None:
    return to_str_map(value, "mapping")


def _image(value: str | ImageRef) -> str:
    if isinstance(value, ImageRef):
        return str(value)
    if not isinstance(value, str):
        type_error("image", "a string", value)
        return str(value)
    problem(validate.image_ref(value))
    return value


def _ns(kind: str) -> Any:
    def check(_inst: object, _attr: object, value: str | None) -> None:
        if isinstance(value, str):  # other types are reported by the type check
            problem(validate.namespace(value, kind))

    return check


@attrs.frozen
class Container(Located):
    """A container of a system. Use :class:`Onboot`, :class:`Onshutdown` or :class:`Service`.

    ``name`` and ``image`` are positional; every other field is keyword-only, named as LinuxKit's
    key in snake_case (``binds.add`` -> ``binds_add``, ``maskedPaths`` -> ``masked_paths``). An
    unset field (``None``) leaves the image label's value (see docs/model.md).

    Args:
        name: container name (a directory name in the image)
        image: image reference, normalised
        capabilities: capabilities, replacing the label's
        capabilities_add: capabilities appended to the label's (LinuxKit ``capabilities.add``)
        ambient: ambient capabilities
        mounts: OCI mounts
        binds: bind mounts `src:dst[:opts]`, replacing the label's
        binds_add: bind mounts appended to the label's (LinuxKit ``binds.add``)
        devices: device nodes
        tmpfs: tmpfs mounts `dst[:opts]`
        command: command, replacing Entrypoint and Cmd
        env: environment `KEY=VALUE`, replacing the image's
        cwd: working directory
        net: network namespace: host, new, none or a path
        pid: pid namespace: host, new or a path (default new)
        ipc: ipc namespace: host, new or a path
        uts: uts namespace: host, new or a path
        userns: user namespace: host, new or a path
        readonly: read-only root filesystem
        masked_paths: paths masked in the container (LinuxKit ``maskedPaths``)
        readonly_paths: paths made read-only (LinuxKit ``readonlyPaths``)
        uid: user id, or the name of a container
        gid: group id, or the name of a container
        additional_gids: supplementary group ids (LinuxKit ``additionalGids``)
        no_new_privileges: set no_new_privs (LinuxKit ``noNewPrivileges``)
        hostname: hostname
        oom_score_adj: OOM score adjustment (LinuxKit ``oomScoreAdj``)
        rootfs_propagation: rootfs mount propagation (LinuxKit ``rootfsPropagation``)
        cgroups_path: cgroups path (LinuxKit ``cgroupsPath``)
        resources: resource limits
        sysctl: sysctl settings
        rlimits: rlimits `name,soft,hard`
        uid_mappings: user-namespace uid mappings (LinuxKit ``uidMappings``)
        gid_mappings: user-namespace gid mappings (LinuxKit ``gidMappings``)
        annotations: OCI annotations
        runtime: init's preparations before start
    """

    name: str
    image: str = attrs.field(converter=_image)
    capabilities: tuple[str, ...] | None = attrs.field(default=None, kw_only=True, converter=_caps)
    capabilities_add: tuple[str, ...] | None = attrs.field(
        default=None, kw_only=True, converter=_caps
    )
    ambient: tuple[str, ...] | None = attrs.field(default=None, kw_only=True, converter=_caps)
    mounts: tuple[Mount, ...] | None = attrs.field(default=None, kw_only=True, converter=_mounts)
    binds: tuple[str, ...] | None = attrs.field(default=None, kw_only=True, converter=_binds)
    binds_add: tuple[str, ...] | None = attrs.field(default=None, kw_only=True, converter=_binds)
    devices: tuple[Device, ...] | None = attrs.field(default=None, kw_only=True, converter=_devices)
    tmpfs: tuple[str, ...] | None = attrs.field(default=None, kw_only=True, converter=_tmpfs)
    command: tuple[str, ...] | None = attrs.field(default=None, kw_only=True, converter=_strs)
    env: tuple[str, ...] | None = attrs.field(default=None, kw_only=True, converter=_env)
    cwd: str | None = attrs.field(default=None, kw_only=True)
    net: str | None = attrs.field(default=None, kw_only=True, validator=_ns("net"))
    pid: str | None = attrs.field(default=None, kw_only=True, validator=_ns("pid"))
    ipc: str | None = attrs.field(default=None, kw_only=True, validator=_ns("ipc"))
    uts: str | None = attrs.field(default=None, kw_only=True, validator=_ns("uts"))
    userns: str | None = attrs.field(default=None, kw_only=True, validator=_ns("userns"))
    readonly: bool | None = attrs.field(default=None, kw_only=True)
    masked_paths: tuple[str, ...] | None = attrs.field(default=None, kw_only=True, converter=_strs)
    readonly_paths: tuple[str, ...] | None = attrs.field(
        default=None, kw_only=True, converter=_strs
    )
    uid: IdLike | None = attrs.field(default=None, kw_only=True)
    gid: IdLike | None = attrs.field(default=None, kw_only=True)
    additional_gids: tuple[IdLike, ...] | None = attrs.field(
        default=None, kw_only=True, converter=_ids
    )
    no_new_privileges: bool | None = attrs.field(default=None, kw_only=True)
    hostname: str | None = attrs.field(default=None, kw_only=True)
    oom_score_adj: int | None = attrs.field(default=None, kw_only=True)
    rootfs_propagation: str | None = attrs.field(default=None, kw_only=True)
    cgroups_path: str | None = attrs.field(default=None, kw_only=True)
    resources: Resources | None = attrs.field(default=None, kw_only=True)
    sysctl: FrozenDict | None = attrs.field(default=None, kw_only=True, converter=_map)
    rlimits: tuple[str, ...] | None = attrs.field(default=None, kw_only=True, converter=_rlimits)
    uid_mappings: tuple[IDMapping, ...] | None = attrs.field(
        default=None, kw_only=True, converter=_idmaps
    )
    gid_mappings: tuple[IDMapping, ...] | None = attrs.field(
        default=None, kw_only=True, converter=_idmaps
    )
    annotations: FrozenDict | None = attrs.field(default=None, kw_only=True, converter=_map)
    runtime: Runtime | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        problem(validate.container_name(self.name))
        if self.oom_score_adj is not None:
            problem(validate.oom_score_adj(self.oom_score_adj))
        if self.rootfs_propagation is not None:
            problem(validate.propagation(self.rootfs_propagation))
        for key in self.sysctl or ():
            problem(validate.sysctl_key(key))
        for ident in (self.uid, self.gid):
            if ident is not None:
                problem(validate.nonnegative_id(ident))


class ContainerOptions(TypedDict, total=False):
    """Every keyword a container accepts: for subclasses that set their own defaults.

    ``def __init__(self, name: str = "getty", image: str = IMAGE, **options:
    Unpack[ContainerOptions])`` keeps full type checking of the overrides.
    """

    capabilities: ListOf[CapabilityLike] | None
    capabilities_add: ListOf[CapabilityLike] | None
    ambient: ListOf[CapabilityLike] | None
    mounts: ListOf[Mount] | None
    binds: ListOf[str | Bind] | None
    binds_add: ListOf[str | Bind] | None
    devices: ListOf[Device] | None
    tmpfs: ListOf[str | Tmpfs] | None
    command: ListOf[str] | None
    env: Mapping[str, str] | ListOf[str] | None
    cwd: str | None
    net: str | None
    pid: str | None
    ipc: str | None
    uts: str | None
    userns: str | None
    readonly: bool | None
    masked_paths: ListOf[str] | None
    readonly_paths: ListOf[str] | None
    uid: IdLike | None
    gid: IdLike | None
    additional_gids: ListOf[IdLike] | None
    no_new_privileges: bool | None
    hostname: str | None
    oom_score_adj: int | None
    rootfs_propagation: str | None
    cgroups_path: str | None
    resources: Resources | None
    sysctl: Mapping[str, str | int | bool] | None
    rlimits: ListOf[str | Rlimit] | None
    uid_mappings: ListOf[IDMapping] | None
    gid_mappings: ListOf[IDMapping] | None
    annotations: Mapping[str, str | int | bool] | None
    runtime: Runtime | None


@attrs.frozen
class Onboot(Container):
    """A container run at boot, in list order; each must exit before the next starts.

    Args:
        name: container name (a directory name in the image)
        image: image reference, normalised
        capabilities: capabilities, replacing the label's
        capabilities_add: capabilities appended to the label's (LinuxKit ``capabilities.add``)
        ambient: ambient capabilities
        mounts: OCI mounts
        binds: bind mounts `src:dst[:opts]`, replacing the label's
        binds_add: bind mounts appended to the label's (LinuxKit ``binds.add``)
        devices: device nodes
        tmpfs: tmpfs mounts `dst[:opts]`
        command: command, replacing Entrypoint and Cmd
        env: environment `KEY=VALUE`, replacing the image's
        cwd: working directory
        net: network namespace: host, new, none or a path
        pid: pid namespace: host, new or a path (default new)
        ipc: ipc namespace: host, new or a path
        uts: uts namespace: host, new or a path
        userns: user namespace: host, new or a path
        readonly: read-only root filesystem
        masked_paths: paths masked in the container (LinuxKit ``maskedPaths``)
        readonly_paths: paths made read-only (LinuxKit ``readonlyPaths``)
        uid: user id, or the name of a container
        gid: group id, or the name of a container
        additional_gids: supplementary group ids (LinuxKit ``additionalGids``)
        no_new_privileges: set no_new_privs (LinuxKit ``noNewPrivileges``)
        hostname: hostname
        oom_score_adj: OOM score adjustment (LinuxKit ``oomScoreAdj``)
        rootfs_propagation: rootfs mount propagation (LinuxKit ``rootfsPropagation``)
        cgroups_path: cgroups path (LinuxKit ``cgroupsPath``)
        resources: resource limits
        sysctl: sysctl settings
        rlimits: rlimits `name,soft,hard`
        uid_mappings: user-namespace uid mappings (LinuxKit ``uidMappings``)
        gid_mappings: user-namespace gid mappings (LinuxKit ``gidMappings``)
        annotations: OCI annotations
        runtime: init's preparations before start
    """


@attrs.frozen
class Onshutdown(Container):
    """A container run on a clean shutdown, in list order.

    Args:
        name: container name (a directory name in the image)
        image: image reference, normalised
        capabilities: capabilities, replacing the label's
        capabilities_add: capabilities appended to the label's (LinuxKit ``capabilities.add``)
        ambient: ambient capabilities
        mounts: OCI mounts
        binds: bind mounts `src:dst[:opts]`, replacing the label's
        binds_add: bind mounts appended to the label's (LinuxKit ``binds.add``)
        devices: device nodes
        tmpfs: tmpfs mounts `dst[:opts]`
        command: command, replacing Entrypoint and Cmd
        env: environment `KEY=VALUE`, replacing the image's
        cwd: working directory
        net: network namespace: host, new, none or a path
        pid: pid namespace: host, new or a path (default new)
        ipc: ipc namespace: host, new or a path
        uts: uts namespace: host, new or a path
        userns: user namespace: host, new or a path
        readonly: read-only root filesystem
        masked_paths: paths masked in the container (LinuxKit ``maskedPaths``)
        readonly_paths: paths made read-only (LinuxKit ``readonlyPaths``)
        uid: user id, or the name of a container
        gid: group id, or the name of a container
        additional_gids: supplementary group ids (LinuxKit ``additionalGids``)
        no_new_privileges: set no_new_privs (LinuxKit ``noNewPrivileges``)
        hostname: hostname
        oom_score_adj: OOM score adjustment (LinuxKit ``oomScoreAdj``)
        rootfs_propagation: rootfs mount propagation (LinuxKit ``rootfsPropagation``)
        cgroups_path: cgroups path (LinuxKit ``cgroupsPath``)
        resources: resource limits
        sysctl: sysctl settings
        rlimits: rlimits `name,soft,hard`
        uid_mappings: user-namespace uid mappings (LinuxKit ``uidMappings``)
        gid_mappings: user-namespace gid mappings (LinuxKit ``gidMappings``)
        annotations: OCI annotations
        runtime: init's preparations before start
    """


@attrs.frozen
class Service(Container):
    """A long-running container, started after every onboot container has finished.

    Args:
        name: container name (a directory name in the image)
        image: image reference, normalised
        capabilities: capabilities, replacing the label's
        capabilities_add: capabilities appended to the label's (LinuxKit ``capabilities.add``)
        ambient: ambient capabilities
        mounts: OCI mounts
        binds: bind mounts `src:dst[:opts]`, replacing the label's
        binds_add: bind mounts appended to the label's (LinuxKit ``binds.add``)
        devices: device nodes
        tmpfs: tmpfs mounts `dst[:opts]`
        command: command, replacing Entrypoint and Cmd
        env: environment `KEY=VALUE`, replacing the image's
        cwd: working directory
        net: network namespace: host, new, none or a path
        pid: pid namespace: host, new or a path (default new)
        ipc: ipc namespace: host, new or a path
        uts: uts namespace: host, new or a path
        userns: user namespace: host, new or a path
        readonly: read-only root filesystem
        masked_paths: paths masked in the container (LinuxKit ``maskedPaths``)
        readonly_paths: paths made read-only (LinuxKit ``readonlyPaths``)
        uid: user id, or the name of a container
        gid: group id, or the name of a container
        additional_gids: supplementary group ids (LinuxKit ``additionalGids``)
        no_new_privileges: set no_new_privs (LinuxKit ``noNewPrivileges``)
        hostname: hostname
        oom_score_adj: OOM score adjustment (LinuxKit ``oomScoreAdj``)
        rootfs_propagation: rootfs mount propagation (LinuxKit ``rootfsPropagation``)
        cgroups_path: cgroups path (LinuxKit ``cgroupsPath``)
        resources: resource limits
        sysctl: sysctl settings
        rlimits: rlimits `name,soft,hard`
        uid_mappings: user-namespace uid mappings (LinuxKit ``uidMappings``)
        gid_mappings: user-namespace gid mappings (LinuxKit ``gidMappings``)
        annotations: OCI annotations
        runtime: init's preparations before start
    """
