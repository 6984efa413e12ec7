"""The OCI runtime-spec values of a container, as model objects.

``Resources`` (with ``Memory``, ``CPU``, ``Pids``, ``BlockIO``, ``WeightDevice``,
``ThrottleDevice``, ``HugepageLimit``, ``Network``, ``InterfacePriority``, ``DeviceCgroup``),
``IDMapping``, and the ``runtime`` parts ``Interface`` and ``BindNS``. Like every model class
they remember where the user made them, check their values when they are made (a wrong type is
SK121 at the user's line: ``Memory(limit="lots")``), are immutable all the way down (lists are
tuples, so nothing can be appended to a frozen object) and hashable (a ``Service`` holding
``Resources`` can be a set member or a dict key). :meth:`OciValue.to_spec` gives the plain spec
value (:mod:`systemkit.spec.types`), whose fields these mirror one to one (a test holds them to
it).
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from systemkit.model.base import ListOf, Located, to_tuple
from systemkit.spec import types as st


def _spec_value(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_spec_value(v) for v in value]
    if isinstance(value, OciValue):
        return value.to_spec()
    return value


@attrs.frozen
class OciValue(Located):
    """Base of the OCI values: ``to_spec()`` gives the spec class ``SPEC`` with the same fields."""

    SPEC: ClassVar[type[Any]]

    def to_spec(self) -> Any:
        """The plain spec value (lists for tuples, spec objects for model objects)."""
        fields = attrs.fields(type(self))
        kwargs = {f.name: _spec_value(getattr(self, f.name)) for f in fields if f.init}
        return self.SPEC(**kwargs)


@attrs.frozen
class IDMapping(OciValue):
    """A user-namespace id mapping (OCI ``LinuxIDMapping``).

    Args:
        host_id: first id on the host (LinuxKit ``hostID``)
        container_id: first id in the container (LinuxKit ``containerID``)
        size: number of ids mapped
    """

    SPEC = st.IDMapping

    host_id: int | None = attrs.field(default=None, kw_only=True)
    container_id: int | None = attrs.field(default=None, kw_only=True)
    size: int | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class DeviceCgroup(OciValue):
    """A device cgroup rule (``resources.devices``).

    Args:
        allow: allow (true) or deny (false)
        type: `a`, `c` or `b`
        major: major number (absent: any)
        minor: minor number (absent: any)
        access: any of `r`, `w`, `m`
    """

    SPEC = st.DeviceCgroup

    allow: bool | None = attrs.field(default=None, kw_only=True)
    type: str | None = attrs.field(default=None, kw_only=True)
    major: int | None = attrs.field(default=None, kw_only=True)
    minor: int | None = attrs.field(default=None, kw_only=True)
    access: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class Memory(OciValue):
    """Memory limits (``resources.memory``).

    Args:
        limit: memory limit in bytes
        reservation: soft limit in bytes
        swap: memory+swap limit in bytes
        kernel: kernel memory limit in bytes
        kernel_tcp: kernel TCP buffer limit in bytes (LinuxKit ``kernelTCP``)
        swappiness: swappiness (0-100)
        disable_oom_killer: disable the OOM killer (LinuxKit ``disableOOMKiller``)
    """

    SPEC = st.Memory

    limit: int | None = attrs.field(default=None, kw_only=True)
    reservation: int | None = attrs.field(default=None, kw_only=True)
    swap: int | None = attrs.field(default=None, kw_only=True)
    kernel: int | None = attrs.field(default=None, kw_only=True)
    kernel_tcp: int | None = attrs.field(default=None, kw_only=True)
    swappiness: int | None = attrs.field(default=None, kw_only=True)
    disable_oom_killer: bool | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class CPU(OciValue):
    """CPU limits (``resources.cpu``).

    Args:
        shares: relative CPU weight
        quota: CPU time per period, microseconds
        period: CFS period, microseconds
        realtime_runtime: realtime runtime, microseconds (LinuxKit ``realtimeRuntime``)
        realtime_period: realtime period, microseconds (LinuxKit ``realtimePeriod``)
        cpus: CPUs allowed, e.g. `0-1`
        mems: memory nodes allowed, e.g. `0`
    """

    SPEC = st.CPU

    shares: int | None = attrs.field(default=None, kw_only=True)
    quota: int | None = attrs.field(default=None, kw_only=True)
    period: int | None = attrs.field(default=None, kw_only=True)
    realtime_runtime: int | None = attrs.field(default=None, kw_only=True)
    realtime_period: int | None = attrs.field(default=None, kw_only=True)
    cpus: str | None = attrs.field(default=None, kw_only=True)
    mems: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class Pids(OciValue):
    """Process-count limit (``resources.pids``).

    Args:
        limit: maximum number of processes
    """

    SPEC = st.Pids

    limit: int | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class WeightDevice(OciValue):
    """A per-device block IO weight.

    Args:
        major: major number
        minor: minor number
        weight: weight
        leaf_weight: leaf weight (LinuxKit ``leafWeight``)
    """

    SPEC = st.WeightDevice

    major: int | None = attrs.field(default=None, kw_only=True)
    minor: int | None = attrs.field(default=None, kw_only=True)
    weight: int | None = attrs.field(default=None, kw_only=True)
    leaf_weight: int | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class ThrottleDevice(OciValue):
    """A per-device block IO rate limit.

    Args:
        major: major number
        minor: minor number
        rate: bytes or operations per second
    """

    SPEC = st.ThrottleDevice

    major: int | None = attrs.field(default=None, kw_only=True)
    minor: int | None = attrs.field(default=None, kw_only=True)
    rate: int | None = attrs.field(default=None, kw_only=True)


def _weight_devices(value: ListOf[WeightDevice] | None) -> tuple[WeightDevice, ...] | None:
    return to_tuple(value, "weight_device")


def _throttle_devices(value: ListOf[ThrottleDevice] | None) -> tuple[ThrottleDevice, ...] | None:
    return to_tuple(value, "throttle devices")


@attrs.frozen
class BlockIO(OciValue):
    """Block IO limits (``resources.blockio``).

    Args:
        weight: block IO weight
        leaf_weight: leaf weight (LinuxKit ``leafWeight``)
        weight_device: per-device weights (LinuxKit ``weightDevice``)
        throttle_read_bps_device: per-device read bytes/s (LinuxKit ``throttleReadBpsDevice``)
        throttle_write_bps_device: per-device write bytes/s (LinuxKit ``throttleWriteBpsDevice``)
        throttle_read_iops_device: per-device read ops/s (LinuxKit ``throttleReadIOPSDevice``)
        throttle_write_iops_device: per-device write ops/s (LinuxKit ``throttleWriteIOPSDevice``)
    """

    SPEC = st.BlockIO

    weight: int | None = attrs.field(default=None, kw_only=True)
    leaf_weight: int | None = attrs.field(default=None, kw_only=True)
    weight_device: tuple[WeightDevice, ...] | None = attrs.field(
        default=None, kw_only=True, converter=_weight_devices
    )
    throttle_read_bps_device: tuple[ThrottleDevice, ...] | None = attrs.field(
        default=None, kw_only=True, converter=_throttle_devices
    )
    throttle_write_bps_device: tuple[ThrottleDevice, ...] | None = attrs.field(
        default=None, kw_only=True, converter=_throttle_devices
    )
    throttle_read_iops_device: tuple[ThrottleDevice, ...] | None = attrs.field(
        default=None, kw_only=True, converter=_throttle_devices
    )
    throttle_write_iops_device: tuple[ThrottleDevice, ...] | None = attrs.field(
        default=None, kw_only=True, converter=_throttle_devices
    )


@attrs.frozen
class HugepageLimit(OciValue):
    """A hugepage limit.

    Args:
        page_size: page size (LinuxKit ``pageSize``)
        limit: limit in bytes
    """

    SPEC = st.HugepageLimit

    page_size: int | None = attrs.field(default=None, kw_only=True)
    limit: int | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class InterfacePriority(OciValue):
    """A network interface priority.

    Args:
        name: interface name
        priority: priority
    """

    SPEC = st.InterfacePriority

    name: str | None = attrs.field(default=None, kw_only=True)
    priority: int | None = attrs.field(default=None, kw_only=True)


def _priorities(value: ListOf[InterfacePriority] | None) -> tuple[InterfacePriority, ...] | None:
    return to_tuple(value, "priorities")


@attrs.frozen
class Network(OciValue):
    """Network class and priorities (``resources.network``).

    Args:
        class_id: net_cls class id (LinuxKit ``classID``)
        priorities: interface priorities
    """

    SPEC = st.Network

    class_id: int | None = attrs.field(default=None, kw_only=True)
    priorities: tuple[InterfacePriority, ...] | None = attrs.field(
        default=None, kw_only=True, converter=_priorities
    )


def _device_rules(value: ListOf[DeviceCgroup] | None) -> tuple[DeviceCgroup, ...] | None:
    return to_tuple(value, "devices")


def _hugepages(value: ListOf[HugepageLimit] | None) -> tuple[HugepageLimit, ...] | None:
    return to_tuple(value, "hugepage_limits")


@attrs.frozen
class Resources(OciValue):
    """OCI ``LinuxResources`` (``resources`` of a container).

    Args:
        devices: device cgroup rules
        memory: memory limits
        cpu: CPU limits
        pids: process-count limit
        blockio: block IO limits
        hugepage_limits: hugepage limits (LinuxKit ``hugepageLimits``)
        network: network class and priorities
    """

    SPEC = st.Resources

    devices: tuple[DeviceCgroup, ...] | None = attrs.field(
        default=None, kw_only=True, converter=_device_rules
    )
    memory: Memory | None = attrs.field(default=None, kw_only=True)
    cpu: CPU | None = attrs.field(default=None, kw_only=True)
    pids: Pids | None = attrs.field(default=None, kw_only=True)
    blockio: BlockIO | None = attrs.field(default=None, kw_only=True)
    hugepage_limits: tuple[HugepageLimit, ...] | None = attrs.field(
        default=None, kw_only=True, converter=_hugepages
    )
    network: Network | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class Interface(OciValue):
    """A network interface prepared before the container starts (``runtime.interfaces``).

    Args:
        name: interface name inside the container
        add: interface type to create (veth, wireguard ...)
        peer: name of the veth peer
        create_in_root: create in the root namespace, then move (LinuxKit ``createInRoot``)
    """

    SPEC = st.Interface

    name: str | None = attrs.field(default=None, kw_only=True)
    add: str | None = attrs.field(default=None, kw_only=True)
    peer: str | None = attrs.field(default=None, kw_only=True)
    create_in_root: bool | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class BindNS(OciValue):
    """Paths to bind-mount the container's new namespaces to (``runtime.bindNS``).

    Args:
        cgroup: cgroup namespace path
        ipc: ipc namespace path
        mnt: mount namespace path
        net: network namespace path
        pid: pid namespace path
        user: user namespace path
        uts: uts namespace path
    """

    SPEC = st.BindNS

    cgroup: str | None = attrs.field(default=None, kw_only=True)
    ipc: str | None = attrs.field(default=None, kw_only=True)
    mnt: str | None = attrs.field(default=None, kw_only=True)
    net: str | None = attrs.field(default=None, kw_only=True)
    pid: str | None = attrs.field(default=None, kw_only=True)
    user: str | None = attrs.field(default=None, kw_only=True)
    uts: str | None = attrs.field(default=None, kw_only=True)


OCI_VALUES: tuple[type[OciValue], ...] = (
    IDMapping,
    DeviceCgroup,
    Memory,
    CPU,
    Pids,
    WeightDevice,
    ThrottleDevice,
    BlockIO,
    HugepageLimit,
    InterfacePriority,
    Network,
    Resources,
    Interface,
    BindNS,
)
"""Every OCI value class of the model (each mirrors its ``SPEC``)."""
