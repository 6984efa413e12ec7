"""Sysctls runc refuses (SK265): the namespaced-sysctl reference as data, and the rule.

A container can only set sysctls that belong to a namespace of its own; runc refuses the rest
when the container starts (``libcontainer/configs/validate/validator.go``, ``sysctl``), so the
service never runs. The reference is the kernel's own list of namespaced sysctls:

- IPC namespace (``ipc/ipc_sysctl.c``, ``ipc/mq_sysctl.c``): :data:`IPC_SYSCTLS` and every
  ``fs.mqueue.*`` key;
- network namespace (``net/``, per-netns tables registered with ``register_net_sysctl``): every
  ``net.*`` key;
- UTS namespace (``kernel/utsname_sysctl.c``): ``kernel.domainname``; ``kernel.hostname`` is
  namespaced too, but runc refuses it in favour of the OCI ``hostname`` field.

Everything else (``vm.*``, ``fs.*`` outside ``fs.mqueue``, ``kernel.*`` except the keys above,
``dev.*``, ``abi.*`` ...) is global to the machine and refused in any container. LinuxKit's
default for ``net``, ``ipc`` and ``uts`` is the host's namespace (``root``), so a ``net.*``
sysctl needs ``net: new`` (or a namespace path).
"""

from __future__ import annotations

import json

from systemkit.check.context import Context, Entry

IPC_SYSCTLS = frozenset(
    {
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    }
)
"""The IPC namespace's sysctls (``ipc/ipc_sysctl.c``), besides ``fs.mqueue.*``."""

IPC_PREFIXES = ("fs.mqueue.",)
NET_PREFIXES = ("net.",)
UTS_SYSCTLS = frozenset({"kernel.domainname"})
HOSTNAME_SYSCTL = "kernel.hostname"


def namespace_of(key: str) -> str | None:
    """The namespace (``ipc``, ``net``, ``uts``) a sysctl belongs to; None when it is global."""
    key = key.replace("/", ".")
    if key in IPC_SYSCTLS or key.startswith(IPC_PREFIXES):
        return "ipc"
    if key.startswith(NET_PREFIXES):
        return "net"
    if key in UTS_SYSCTLS or key == HOSTNAME_SYSCTL:
        return "uts"
    return None


def _shares_host(ctx: Context, e: Entry, ns: str) -> bool:
    """True when the container surely runs in the host's ``ns`` namespace (LinuxKit's default
    unless the entry, or the image label, asks for another)."""
    value = getattr(e.spec, ns)
    if value is None:
        label = ctx.labels.label(e.spec.image)
        if label is None:
            return False  # the image label may set it: unknown
        value = label.get(ns)
    return value in (None, "", "host", "root")


def check_sysctls(ctx: Context) -> None:
    for e in ctx.containers():
        for key in e.spec.sysctl or {}:
            path = f"{e.path}.sysctl[{json.dumps(key)}]"
            ns = namespace_of(key)
            if ns is None:
                ctx.report(
                    "SK265",
                    path,
                    f"sysctl {key!r} is not namespaced: it is global to the machine, and runc "
                    "refuses it in any container",
                    "set it for the whole system instead (e.g. a `files` entry in "
                    "/etc/sysctl.d, applied by an onboot sysctl container)",
                )
            elif key.replace("/", ".") == HOSTNAME_SYSCTL:
                ctx.report(
                    "SK265",
                    path,
                    "sysctl 'kernel.hostname' is refused by runc",
                    "use the container's `hostname` field",
                )
            elif _shares_host(ctx, e, ns):
                ctx.report(
                    "SK265",
                    path,
                    f"sysctl {key!r} belongs to the {ns} namespace, but the container shares "
                    f"the host's (LinuxKit's default): runc refuses it",
                    f"give the container its own namespace ({ns}: new)",
                )


RULES = (check_sysctls,)
