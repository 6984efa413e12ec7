"""The model: what users write in ``system.py``."""

from systemkit.capabilities import Capability
from systemkit.model.base import Located
from systemkit.model.containers import Container, ContainerOptions, Onboot, Onshutdown, Service
from systemkit.model.lower import lower
from systemkit.model.parts import (
    CPU,
    Bind,
    BindNS,
    BlockIO,
    Device,
    DeviceCgroup,
    HugepageLimit,
    IDMapping,
    Interface,
    InterfacePriority,
    Memory,
    Mount,
    Network,
    Pids,
    Resources,
    Rlimit,
    Runtime,
    ThrottleDevice,
    Tmpfs,
    WeightDevice,
)
from systemkit.model.system import File, Kernel, System, Volume

__all__ = [
    "CPU",
    "Bind",
    "BindNS",
    "BlockIO",
    "Capability",
    "Container",
    "ContainerOptions",
    "Device",
    "DeviceCgroup",
    "File",
    "HugepageLimit",
    "IDMapping",
    "Interface",
    "InterfacePriority",
    "Kernel",
    "Located",
    "Memory",
    "Mount",
    "Network",
    "Onboot",
    "Onshutdown",
    "Pids",
    "Resources",
    "Rlimit",
    "Runtime",
    "Service",
    "System",
    "ThrottleDevice",
    "Tmpfs",
    "Volume",
    "WeightDevice",
    "lower",
]
