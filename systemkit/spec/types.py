"""The canonical spec: plain, typed data that every backend consumes.

The spec has LinuxKit's shape. Each class mirrors one object of a LinuxKit system file and each
field carries, in its metadata, the LinuxKit key it is written under (``key``) and a one-line
description (``doc``). Python attribute names are snake_case; the JSON/YAML keys are LinuxKit's.

``None`` always means "not set" (the key is absent), which LinuxKit distinguishes from an empty
or zero value (``command: []`` gives no arguments, ``oomScoreAdj: 0`` is written out).

This module is the single declaration of LinuxKit's fields: the cattrs converter
(:mod:`systemkit.spec.codec`), the JSON Schema, the YAML emitter and parser, and the docs table
are all derived from it.
"""

from __future__ import annotations

from typing import Any, TypeVar

import attrs

T = TypeVar("T")

API_VERSION = "systemkit.dev/v1alpha1"
"""The ``apiVersion`` written into every spec document."""

IdRef = int | str
"""A uid/gid: a number, or the name of a container in the same system (``root``/``""`` = 0)."""


def lk(
    key: str,
    doc: str,
    default: Any = None,
    factory: Any = None,
    required: bool = False,
    *,
    linuxkit: bool = True,
    image_ref: bool = False,
    mode: bool = False,
) -> Any:
    """Declare a spec field, with every fact about it: its LinuxKit key, its documentation,
    its default; ``linuxkit=False`` for a field that exists only in systemkit (never read from
    or written to YAML); ``image_ref`` for a field holding image references (for a list: each
    item), normalised while parsing; ``mode`` for an octal mode string (canonicalised to
    ``%04o`` while parsing). The readers (:mod:`systemkit.linuxkit.fields`) derive from these."""
    meta = {"key": key, "doc": doc, "linuxkit": linuxkit, "image_ref": image_ref, "mode": mode}
    if required:
        return attrs.field(metadata=meta, kw_only=True)
    if factory is not None:
        return attrs.field(factory=factory, metadata=meta, kw_only=True)
    return attrs.field(default=default, metadata=meta, kw_only=True)


OCI_STRUCT = "__linuxkit_oci_struct__"
"""Class attribute set by :func:`oci_struct`."""


def oci_struct(cls: type[T]) -> type[T]:
    """Mark a spec class as an OCI runtime-spec struct inside LinuxKit (no ``yaml`` tags there).

    LinuxKit decodes such structs with yaml.v3's default field names (the Go name lower-cased),
    so a camelCase key the schema allows (``disableOOMKiller``) never reaches the struct: it is
    dropped (reference §1.5). :func:`dropped_by_linuxkit` derives from this mark.
    """
    setattr(cls, OCI_STRUCT, True)
    return cls


def dropped_by_linuxkit(cls: type[Any], key: str) -> bool:
    """True for a key LinuxKit accepts but silently drops while decoding (reference §1.5)."""
    return bool(getattr(cls, OCI_STRUCT, False)) and key != key.lower()


def key_of(field: attrs.Attribute[Any]) -> str:
    """The LinuxKit key of a spec field."""
    return str(field.metadata.get("key", field.name))


@oci_struct
@attrs.frozen
class IDMapping:
    """A user-namespace id mapping (OCI ``LinuxIDMapping``)."""

    host_id: int | None = lk("hostID", "first id on the host")
    container_id: int | None = lk("containerID", "first id in the container")
    size: int | None = lk("size", "number of ids mapped")


@oci_struct
@attrs.frozen
class MountSpec:
    """An OCI mount (``mounts`` of a container or of ``runtime``)."""

    destination: str | None = lk("destination", "absolute path in the container")
    type: str | None = lk("type", "filesystem type (bind, tmpfs, proc, cgroup, overlay ...)")
    source: str | None = lk("source", "device, path or volume name mounted")
    options: list[str] | None = lk("options", "mount options (ro, rbind, nosuid ...)")
    uid_mappings: list[IDMapping] | None = lk("uidmappings", "id-mapped mount: uid mappings")
    gid_mappings: list[IDMapping] | None = lk("gidmappings", "id-mapped mount: gid mappings")


@attrs.frozen
class DeviceSpec:
    """A device node created in the container, with a cgroup rule allowing it."""

    path: str | None = lk("path", "device path, or `all` for a whole class")
    type: str | None = lk("type", "`c` (char), `b` (block), `p` (fifo) or `u`")
    major: int | None = lk("major", "major number")
    minor: int | None = lk("minor", "minor number")
    mode: str | None = lk("mode", "file mode, an octal string such as `0666`", mode=True)


@oci_struct
@attrs.frozen
class DeviceCgroup:
    """A device cgroup rule (``resources.devices``)."""

    allow: bool | None = lk("allow", "allow (true) or deny (false)")
    type: str | None = lk("type", "`a`, `c` or `b`")
    major: int | None = lk("major", "major number (absent: any)")
    minor: int | None = lk("minor", "minor number (absent: any)")
    access: str | None = lk("access", "any of `r`, `w`, `m`")


@oci_struct
@attrs.frozen
class Memory:
    """Memory limits (``resources.memory``)."""

    limit: int | None = lk("limit", "memory limit in bytes")
    reservation: int | None = lk("reservation", "soft limit in bytes")
    swap: int | None = lk("swap", "memory+swap limit in bytes")
    kernel: int | None = lk("kernel", "kernel memory limit in bytes")
    kernel_tcp: int | None = lk("kernelTCP", "kernel TCP buffer limit in bytes")
    swappiness: int | None = lk("swappiness", "swappiness (0-100)")
    disable_oom_killer: bool | None = lk("disableOOMKiller", "disable the OOM killer")


@oci_struct
@attrs.frozen
class CPU:
    """CPU limits (``resources.cpu``)."""

    shares: int | None = lk("shares", "relative CPU weight")
    quota: int | None = lk("quota", "CPU time per period, microseconds")
    period: int | None = lk("period", "CFS period, microseconds")
    realtime_runtime: int | None = lk("realtimeRuntime", "realtime runtime, microseconds")
    realtime_period: int | None = lk("realtimePeriod", "realtime period, microseconds")
    cpus: str | None = lk("cpus", "CPUs allowed, e.g. `0-1`")
    mems: str | None = lk("mems", "memory nodes allowed, e.g. `0`")


@oci_struct
@attrs.frozen
class Pids:
    """Process-count limit (``resources.pids``)."""

    limit: int | None = lk("limit", "maximum number of processes")


@oci_struct
@attrs.frozen
class WeightDevice:
    """A per-device block IO weight."""

    major: int | None = lk("major", "major number")
    minor: int | None = lk("minor", "minor number")
    weight: int | None = lk("weight", "weight")
    leaf_weight: int | None = lk("leafWeight", "leaf weight")


@oci_struct
@attrs.frozen
class ThrottleDevice:
    """A per-device block IO rate limit."""

    major: int | None = lk("major", "major number")
    minor: int | None = lk("minor", "minor number")
    rate: int | None = lk("rate", "bytes or operations per second")


@oci_struct
@attrs.frozen
class BlockIO:
    """Block IO limits (``resources.blockio``)."""

    weight: int | None = lk("weight", "block IO weight")
    leaf_weight: int | None = lk("leafWeight", "leaf weight")
    weight_device: list[WeightDevice] | None = lk("weightDevice", "per-device weights")
    throttle_read_bps_device: list[ThrottleDevice] | None = lk(
        "throttleReadBpsDevice", "per-device read bytes/s"
    )
    throttle_write_bps_device: list[ThrottleDevice] | None = lk(
        "throttleWriteBpsDevice", "per-device write bytes/s"
    )
    throttle_read_iops_device: list[ThrottleDevice] | None = lk(
        "throttleReadIOPSDevice", "per-device read ops/s"
    )
    throttle_write_iops_device: list[ThrottleDevice] | None = lk(
        "throttleWriteIOPSDevice", "per-device write ops/s"
    )


@oci_struct
@attrs.frozen
class HugepageLimit:
    """A hugepage limit."""

    page_size: int | None = lk("pageSize", "page size")
    limit: int | None = lk("limit", "limit in bytes")


@oci_struct
@attrs.frozen
class InterfacePriority:
    """A network interface priority."""

    name: str | None = lk("name", "interface name")
    priority: int | None = lk("priority", "priority")


@oci_struct
@attrs.frozen
class Network:
    """Network class and priorities (``resources.network``)."""

    class_id: int | None = lk("classID", "net_cls class id")
    priorities: list[InterfacePriority] | None = lk("priorities", "interface priorities")


@oci_struct
@attrs.frozen
class Resources:
    """OCI ``LinuxResources`` (``resources`` of a container)."""

    devices: list[DeviceCgroup] | None = lk("devices", "device cgroup rules")
    memory: Memory | None = lk("memory", "memory limits")
    cpu: CPU | None = lk("cpu", "CPU limits")
    pids: Pids | None = lk("pids", "process-count limit")
    blockio: BlockIO | None = lk("blockio", "block IO limits")
    hugepage_limits: list[HugepageLimit] | None = lk("hugepageLimits", "hugepage limits")
    network: Network | None = lk("network", "network class and priorities")


@attrs.frozen
class Interface:
    """A network interface prepared before the container starts (``runtime.interfaces``)."""

    name: str | None = lk("name", "interface name inside the container")
    add: str | None = lk("add", "interface type to create (veth, wireguard ...)")
    peer: str | None = lk("peer", "name of the veth peer")
    create_in_root: bool | None = lk("createInRoot", "create in the root namespace, then move")


@attrs.frozen
class BindNS:
    """Paths to bind-mount the container's new namespaces to (``runtime.bindNS``)."""

    cgroup: str | None = lk("cgroup", "cgroup namespace path")
    ipc: str | None = lk("ipc", "ipc namespace path")
    mnt: str | None = lk("mnt", "mount namespace path")
    net: str | None = lk("net", "network namespace path")
    pid: str | None = lk("pid", "pid namespace path")
    user: str | None = lk("user", "user namespace path")
    uts: str | None = lk("uts", "uts namespace path")


@attrs.frozen
class RuntimeSpec:
    """Actions LinuxKit's init performs before starting a container (``runtime``)."""

    cgroups: list[str] | None = lk("cgroups", "cgroups to create")
    mounts: list[MountSpec] | None = lk("mounts", "mounts made in the root namespace")
    mkdir: list[str] | None = lk("mkdir", "directories to create in the root namespace")
    interfaces: list[Interface] | None = lk("interfaces", "network interfaces to prepare")
    bind_ns: BindNS | None = lk("bindNS", "bind-mount new namespaces to these paths")
    namespace: str | None = lk("namespace", "containerd namespace (services only)")


@attrs.frozen
class ImageConfig:
    """Everything a container entry or an image's ``org.mobyproject.config`` label may set."""

    capabilities: list[str] | None = lk("capabilities", "capabilities, replacing the label's")
    capabilities_add: list[str] | None = lk(
        "capabilities.add", "capabilities appended to the label's"
    )
    ambient: list[str] | None = lk("ambient", "ambient capabilities")
    mounts: list[MountSpec] | None = lk("mounts", "OCI mounts")
    binds: list[str] | None = lk("binds", "bind mounts `src:dst[:opts]`, replacing the label's")
    binds_add: list[str] | None = lk("binds.add", "bind mounts appended to the label's")
    devices: list[DeviceSpec] | None = lk("devices", "device nodes")
    tmpfs: list[str] | None = lk("tmpfs", "tmpfs mounts `dst[:opts]`")
    command: list[str] | None = lk("command", "command, replacing Entrypoint and Cmd")
    env: list[str] | None = lk("env", "environment `KEY=VALUE`, replacing the image's")
    cwd: str | None = lk("cwd", "working directory")
    net: str | None = lk("net", "network namespace: host, new, none or a path")
    pid: str | None = lk("pid", "pid namespace: host, new or a path (default new)")
    ipc: str | None = lk("ipc", "ipc namespace: host, new or a path")
    uts: str | None = lk("uts", "uts namespace: host, new or a path")
    userns: str | None = lk("userns", "user namespace: host, new or a path")
    readonly: bool | None = lk("readonly", "read-only root filesystem")
    masked_paths: list[str] | None = lk("maskedPaths", "paths masked in the container")
    readonly_paths: list[str] | None = lk("readonlyPaths", "paths made read-only")
    uid: IdRef | None = lk("uid", "user id, or the name of a container")
    gid: IdRef | None = lk("gid", "group id, or the name of a container")
    additional_gids: list[IdRef] | None = lk("additionalGids", "supplementary group ids")
    no_new_privileges: bool | None = lk("noNewPrivileges", "set no_new_privs")
    hostname: str | None = lk("hostname", "hostname")
    oom_score_adj: int | None = lk("oomScoreAdj", "OOM score adjustment")
    rootfs_propagation: str | None = lk("rootfsPropagation", "rootfs mount propagation")
    cgroups_path: str | None = lk("cgroupsPath", "cgroups path")
    resources: Resources | None = lk("resources", "resource limits")
    sysctl: dict[str, str] | None = lk("sysctl", "sysctl settings")
    rlimits: list[str] | None = lk("rlimits", "rlimits `name,soft,hard`")
    uid_mappings: list[IDMapping] | None = lk("uidMappings", "user-namespace uid mappings")
    gid_mappings: list[IDMapping] | None = lk("gidMappings", "user-namespace gid mappings")
    annotations: dict[str, str] | None = lk("annotations", "OCI annotations")
    runtime: RuntimeSpec | None = lk("runtime", "init's preparations before start")


@attrs.frozen
class ImageSpec(ImageConfig):
    """A container: an entry of ``onboot``, ``onshutdown`` or ``services``."""

    name: str = lk("name", "container name (a directory name in the image)", required=True)
    image: str = lk("image", "image reference, normalised", required=True, image_ref=True)


@attrs.frozen
class KernelSpec:
    """The ``kernel`` section."""

    image: str | None = lk("image", "image holding the kernel, normalised", image_ref=True)
    cmdline: str | None = lk("cmdline", "kernel command line")
    binary: str | None = lk("binary", "kernel file name in the image (default `kernel`)")
    tar: str | None = lk("tar", "modules tarball in the image (default `kernel.tar`; `none`)")
    ucode: str | None = lk("ucode", "CPU microcode cpio in the image")


@attrs.frozen
class FileSpec:
    """An entry of ``files``."""

    path: str = lk("path", "path in the image, without the leading `/`", required=True)
    directory: bool | None = lk("directory", "create a directory")
    symlink: str | None = lk("symlink", "create a symlink to this target")
    contents: str | None = lk("contents", "inline contents")
    source: str | None = lk("source", "host file, relative to the system file's directory")
    source_digest: str | None = lk(
        "sourceDigest",
        "sha256 of the source's content (systemkit); absent: optional, missing",
        linuxkit=False,
    )
    metadata: str | None = lk("metadata", "`yaml` or `json`: the system's own config")
    optional: bool | None = lk("optional", "skip a `source` that cannot be read")
    mode: str | None = lk("mode", "octal mode string (default 0600 files, 0700 dirs)", mode=True)
    uid: IdRef | None = lk("uid", "owner: a number or a container name")
    gid: IdRef | None = lk("gid", "group: a number or a container name")


@attrs.frozen
class VolumeSpec:
    """An entry of ``volumes``."""

    name: str = lk("name", "volume name (`^[a-z0-9_-]*$`)", required=True)
    image: str | None = lk(
        "image", "image whose content fills the volume, normalised", image_ref=True
    )
    readonly: bool | None = lk("readonly", "read-only volume")
    format: str | None = lk("format", "`filesystem` (default) or `oci`")
    platforms: list[str] | None = lk("platforms", "platforms kept for `format: oci`")


@attrs.frozen
class Spec:
    """A whole system, lowered: the document every backend builds."""

    api_version: str = lk("apiVersion", "spec format version", default=API_VERSION, linuxkit=False)
    kernel: KernelSpec | None = lk("kernel", "the kernel")
    init: list[str] = lk(
        "init", "init images, unpacked at `/` in order", factory=list, image_ref=True
    )
    onboot: list[ImageSpec] = lk("onboot", "containers run in order at boot", factory=list)
    onshutdown: list[ImageSpec] = lk("onshutdown", "containers run at shutdown", factory=list)
    services: list[ImageSpec] = lk("services", "long-running containers", factory=list)
    files: list[FileSpec] = lk("files", "files added to the image", factory=list)
    volumes: list[VolumeSpec] = lk("volumes", "shared volumes", factory=list)


SECTIONS = ("onboot", "onshutdown", "services")
"""The container sections, in LinuxKit's processing order."""
