"""Linux capabilities as LinuxKit knows them (its vendored moby/sys/capability list).

The names are written once, as the ``CapabilityName`` literal type that mypy checks user code
against; ``KNOWN_CAPABILITIES`` is derived from it. The ``Capability`` enum must spell its
members out for mypy too; a test holds it to the same list.
"""

from __future__ import annotations

import enum
import typing
from typing import Literal

CapabilityName = Literal[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
    "all",
    "none",
    "ALL",
    "NONE",
]
"""A capability as a string literal (``"CAP_NET_ADMIN"``), or ``"all"``/``"none"`` alone."""

KNOWN_CAPABILITIES: tuple[str, ...] = tuple(
    name for name in typing.get_args(CapabilityName) if name.startswith("CAP_")
)
"""The 41 capabilities `all` expands to, in kernel number order."""


class Capability(enum.StrEnum):
    """A capability name for ``capabilities=`` / ``capabilities_add=`` / ``ambient=``.

    ``Capability.ALL`` and ``Capability.NONE`` are only valid as the single element of a list.
    """

    CHOWN = "CAP_CHOWN"
    DAC_OVERRIDE = "CAP_DAC_OVERRIDE"
    DAC_READ_SEARCH = "CAP_DAC_READ_SEARCH"
    FOWNER = "CAP_FOWNER"
    FSETID = "CAP_FSETID"
    KILL = "CAP_KILL"
    SETGID = "CAP_SETGID"
    SETUID = "CAP_SETUID"
    SETPCAP = "CAP_SETPCAP"
    LINUX_IMMUTABLE = "CAP_LINUX_IMMUTABLE"
    NET_BIND_SERVICE = "CAP_NET_BIND_SERVICE"
    NET_BROADCAST = "CAP_NET_BROADCAST"
    NET_ADMIN = "CAP_NET_ADMIN"
    NET_RAW = "CAP_NET_RAW"
    IPC_LOCK = "CAP_IPC_LOCK"
    IPC_OWNER = "CAP_IPC_OWNER"
    SYS_MODULE = "CAP_SYS_MODULE"
    SYS_RAWIO = "CAP_SYS_RAWIO"
    SYS_CHROOT = "CAP_SYS_CHROOT"
    SYS_PTRACE = "CAP_SYS_PTRACE"
    SYS_PACCT = "CAP_SYS_PACCT"
    SYS_ADMIN = "CAP_SYS_ADMIN"
    SYS_BOOT = "CAP_SYS_BOOT"
    SYS_NICE = "CAP_SYS_NICE"
    SYS_RESOURCE = "CAP_SYS_RESOURCE"
    SYS_TIME = "CAP_SYS_TIME"
    SYS_TTY_CONFIG = "CAP_SYS_TTY_CONFIG"
    MKNOD = "CAP_MKNOD"
    LEASE = "CAP_LEASE"
    AUDIT_WRITE = "CAP_AUDIT_WRITE"
    AUDIT_CONTROL = "CAP_AUDIT_CONTROL"
    SETFCAP = "CAP_SETFCAP"
    MAC_OVERRIDE = "CAP_MAC_OVERRIDE"
    MAC_ADMIN = "CAP_MAC_ADMIN"
    SYSLOG = "CAP_SYSLOG"
    WAKE_ALARM = "CAP_WAKE_ALARM"
    BLOCK_SUSPEND = "CAP_BLOCK_SUSPEND"
    AUDIT_READ = "CAP_AUDIT_READ"
    PERFMON = "CAP_PERFMON"
    BPF = "CAP_BPF"
    CHECKPOINT_RESTORE = "CAP_CHECKPOINT_RESTORE"
    ALL = "all"
    NONE = "none"
