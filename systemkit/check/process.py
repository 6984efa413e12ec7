"""The process of a container: env (SK250, SK251), command (SK260), rlimits (SK262, SK263),
devices (SK264) and init's runtime preparations (SK266-SK268)."""

from __future__ import annotations

from systemkit.check import values
from systemkit.check.context import Context


def check_env(ctx: Context) -> None:
    for e in ctx.containers():
        env = e.spec.env
        if env is None:
            continue
        seen: dict[str, int] = {}
        for j, entry in enumerate(env):
            key, sep, _ = entry.partition("=")
            if not sep:
                continue
            if key in seen:
                ctx.report(
                    "SK250",
                    f"{e.path}.env[{j}]",
                    f"environment variable {key} is already set by env[{seen[key]}]",
                    "set each variable once",
                    related=(f"{e.path}.env[{seen[key]}]",),
                )
            seen[key] = j
        if "PATH" not in seen:
            ctx.report(
                "SK251",
                f"{e.path}.env",
                "`env` replaces the image's whole environment and sets no PATH: the process "
                "runs without the image's PATH",
                "add PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            )


def check_command(ctx: Context) -> None:
    for e in ctx.containers():
        cmd = e.spec.command
        if not cmd:
            continue
        prog = cmd[0]
        if prog.strip() == "" or any(ch.isspace() for ch in prog):
            words = prog.split()
            hint = f"split it into words: {words!r}" if words else "name the program to run first"
            ctx.report(
                "SK260",
                f"{e.path}.command[0]",
                f"command word {prog!r} is the program to run: LinuxKit accepts it and the "
                "container fails at boot",
                hint,
            )


def _limit(value: str) -> int | None:
    return None if value == "unlimited" else int(value)


def check_rlimits(ctx: Context) -> None:
    for e in ctx.containers():
        seen: dict[str, int] = {}
        for j, text in enumerate(e.spec.rlimits or ()):
            if values.rlimit(text) is not None:
                continue
            name, soft, hard = (p.strip().lower() for p in text.split(","))
            key = name.upper().removeprefix("RLIMIT_")
            where = f"{e.path}.rlimits[{j}]"
            if key in seen:
                ctx.report(
                    "SK262",
                    where,
                    f"rlimit {key.lower()} is already set by rlimits[{seen[key]}]",
                    "set each rlimit once",
                    related=(f"{e.path}.rlimits[{seen[key]}]",),
                )
            seen[key] = j
            s, h = _limit(soft), _limit(hard)
            if h is not None and (s is None or s > h):
                ctx.report(
                    "SK263",
                    where,
                    f"rlimit {key.lower()}: soft limit {soft} is above the hard limit {hard}",
                    "the soft limit must be at most the hard limit",
                )


def check_devices(ctx: Context) -> None:
    for e in ctx.containers():
        for j, d in enumerate(e.spec.devices or ()):
            where = f"{e.path}.devices[{j}]"
            missing = []
            if d.path != "all" and d.type in ("c", "b"):
                missing += [k for k in ("major", "minor") if getattr(d, k) is None]
            if d.path != "all" and d.mode is None:
                missing.append("mode")
            if missing:
                ctx.report(
                    "SK264",
                    where,
                    f"device {d.path} has no {' and no '.join(missing)}",
                    'e.g. {path: /dev/fuse, type: c, major: 10, minor: 229, mode: "0666"}',
                )


INTERFACE_KINDS = ("veth", "wireguard")
"""The interface kinds LinuxKit's init can create (``runtime.interfaces[].add``)."""


def check_runtime(ctx: Context) -> None:
    for e in ctx.containers():
        rt = e.spec.runtime
        if rt is None:
            continue
        for j, itf in enumerate(rt.interfaces or ()):
            where = f"{e.path}.runtime.interfaces[{j}]"
            if not itf.name:
                ctx.report("SK266", where, "interface has no name", "add `name: eth1`")
            if itf.add and itf.add not in INTERFACE_KINDS:
                ctx.report(
                    "SK266",
                    f"{where}.add",
                    f"init cannot create interfaces of kind {itf.add!r}",
                    f"use one of {', '.join(INTERFACE_KINDS)}, or omit `add` to move an "
                    "existing interface",
                )
            if itf.add == "veth" and not itf.peer:
                ctx.report(
                    "SK266",
                    where,
                    f"veth interface {itf.name!r} needs a `peer` name",
                    "add `peer: <name of the other end>`",
                )
        if rt.bind_ns is not None:
            for ns in ("cgroup", "ipc", "mnt", "net", "pid", "user", "uts"):
                value = getattr(rt.bind_ns, ns)
                if value and not value.startswith("/"):
                    ctx.report(
                        "SK267",
                        f"{e.path}.runtime.bindNS.{ns}",
                        f"bindNS {ns} path {value!r} must be absolute",
                        f"write '/{value}'",
                    )
        if rt.namespace and e.section != "services":
            ctx.report(
                "SK268",
                f"{e.path}.runtime.namespace",
                f"`runtime.namespace` is ignored for {e.section} containers (services only)",
                "remove it, or make this container a service",
            )


RULES = (check_env, check_command, check_rlimits, check_devices, check_runtime)
