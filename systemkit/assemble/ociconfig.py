"""config.json and runtime.json of a container bundle, as LinuxKit's ``ConfigToOCI`` makes them.

Inputs are plain dicts with LinuxKit keys: the container entry (``yaml``), the image's
``org.mobyproject.config`` label and the image config's ``config`` section. Precedence and
defaults follow conformance README §5.6/§5.7; the output dicts are ordered like the Go structs
of the OCI runtime-spec 1.2.1 so that :func:`go_json` gives LinuxKit's bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from systemkit.capabilities import KNOWN_CAPABILITIES
from systemkit.diagnostics import SystemkitError

OCI_VERSION = "1.2.1"
UNLIMITED = 18446744073709551615
RLIMITS = frozenset(
    "RLIMIT_" + n
    for n in [
        "CPU",
        "FSIZE",
        "DATA",
        "STACK",
        "CORE",
        "RSS",
        "NPROC",
        "NOFILE",
        "MEMLOCK",
        "AS",
        "LOCKS",
        "SIGPENDING",
        "MSGQUEUE",
        "NICE",
        "RTPRIO",
        "RTTIME",
    ]
)

Data = dict[str, Any]


class ConfigError(SystemkitError):
    """A container's configuration cannot be turned into an OCI spec."""


def go_json(value: Any) -> bytes:
    """Go ``json.MarshalIndent(v, "", "    ")``: 4-space indent, ``<>&`` escaped, no newline."""
    text = json.dumps(value, indent=4, ensure_ascii=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(ch, esc)
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return text.encode("utf-8")


# --- LinuxKit's silent drop of camelCase keys in embedded OCI structs --------------------------


def _mapping(m: Any) -> Data:
    out: Data = {"containerID": 0, "hostID": 0}
    if m.get("size") is not None:
        out["size"] = m["size"]
    return out


def lk_decoded(cfg: Mapping[str, Any]) -> Data:
    """What LinuxKit's yaml decoding keeps of an image config: camelCase keys inside embedded
    OCI structs are dropped (README §5.6), uid/gid mapping ids become 0."""
    out = dict(cfg)
    res = out.get("resources")
    if res is not None:
        res = dict(res)
        if res.get("memory") is not None:
            res["memory"] = {
                k: v for k, v in res["memory"].items() if k not in ("kernelTCP", "disableOOMKiller")
            }
        if res.get("cpu") is not None:
            res["cpu"] = {
                k: v
                for k, v in res["cpu"].items()
                if k not in ("realtimeRuntime", "realtimePeriod")
            }
        res.pop("hugepageLimits", None)
        if res.get("blockio") is not None:
            res["blockio"] = {k: v for k, v in res["blockio"].items() if k == "weight"}
        if res.get("network") is not None:
            res["network"] = {k: v for k, v in res["network"].items() if k != "classID"}
        out["resources"] = res
    for key in ("uidMappings", "gidMappings"):
        if out.get(key) is not None:
            out[key] = [_mapping(m) for m in out[key]]
    if out.get("mounts") is not None:
        out["mounts"] = [_plain_mount(m) for m in out["mounts"]]
    rt = out.get("runtime")
    if rt is not None and rt.get("mounts") is not None:
        out["runtime"] = {**rt, "mounts": [_plain_mount(m) for m in rt["mounts"]]}
    return out


def _plain_mount(m: Mapping[str, Any]) -> Data:
    return {k: v for k, v in m.items() if k not in ("uidmappings", "gidmappings")}


# --- precedence helpers -------------------------------------------------------------------------


def _pick(label: Data, yaml: Data, key: str, default: Any) -> Any:
    if yaml.get(key) is not None:
        return yaml[key]
    if label.get(key) is not None:
        return label[key]
    return default


def _nonempty(*values: Any) -> Any:
    """The last non-empty string (LinuxKit's assignStringEmptyN, highest priority last)."""
    result = values[0]
    for v in values[1:]:
        if v:
            result = v
    return result


def id_numeric(value: Any, id_map: Mapping[str, int]) -> int:
    """A uid/gid: a number, ``root``/``""`` (0) or a container name (its allocated id)."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise ConfigError("Bad type for uid or gid")
    if isinstance(value, int):
        return value & 0xFFFFFFFF
    if isinstance(value, str):
        if value in ("", "root"):
            return 0
        if value in id_map:
            return id_map[value]
        raise ConfigError(f"Cannot find id: {value}")
    raise ConfigError("Bad type for uid or gid")


def _caps(values: list[str]) -> list[str]:
    if len(values) == 1:
        low = values[0].lower()
        if low == "none":
            return []
        if low == "all":
            return list(KNOWN_CAPABILITIES)
    for cap in values:
        if cap not in KNOWN_CAPABILITIES:
            raise ConfigError(f"unknown capability: {cap}")
    return list(values)


def _mount(dest: str, typ: str | None, src: str | None, opts: list[str] | None) -> Data:
    m: Data = {"destination": dest}
    if typ:
        m["type"] = typ
    if src:
        m["source"] = src
    if opts:
        m["options"] = list(opts)
    return m


_DEFAULT_MOUNTPOINT = {
    "proc": "/proc",
    "devpts": "/dev/pts",
    "sysfs": "/sys",
    "cgroup": "/sys/fs/cgroup",
    "mqueue": "/dev/mqueue",
}


def _mounts(label: Data, yaml: Data, readonly: bool) -> list[Data]:
    dev_opts = ["nosuid", "strictatime", "mode=755", "size=65536k"] + (["ro"] if readonly else [])
    sys_opts = ["nosuid", "noexec", "nodev"] + (["ro"] if readonly else [])
    mounts: dict[str, Data] = {
        "/proc": _mount("/proc", "proc", "proc", ["nosuid", "nodev", "noexec", "relatime"]),
        "/dev": _mount("/dev", "tmpfs", "tmpfs", dev_opts),
        "/dev/pts": _mount(
            "/dev/pts",
            "devpts",
            "devpts",
            ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"],
        ),
        "/sys": _mount("/sys", "sysfs", "sysfs", sys_opts),
        "/sys/fs/cgroup": _mount(
            "/sys/fs/cgroup", "cgroup", "cgroup", ["nosuid", "noexec", "nodev", "relatime", "ro"]
        ),
    }
    for t in _pick(label, yaml, "tmpfs", []):
        parts = t.split(":")
        if len(parts) > 2:
            raise ConfigError(f"Cannot parse tmpfs, too many ':': {t}")
        opts = parts[1].split(",") if len(parts) == 2 else None
        mounts[parts[0]] = _mount(parts[0], "tmpfs", "tmpfs", opts)
    if yaml.get("binds") is not None:
        binds = yaml["binds"]
    else:
        binds = list(label.get("binds") or []) + list(yaml.get("binds.add") or [])
    for b in binds:
        parts = b.split(":")
        if len(parts) < 2:
            raise ConfigError(f"Cannot parse bind, missing ':': {b}")
        if len(parts) > 3:
            raise ConfigError(f"Cannot parse bind, too many ':': {b}")
        opts = [*parts[2].split(","), "rbind"] if len(parts) == 3 else ["rw", "rbind", "rshared"]
        mounts[parts[1]] = _mount(parts[1], "bind", parts[0], opts)
    for m in _pick(label, yaml, "mounts", []):
        typ, src, dest = m.get("type") or "", m.get("source") or "", m.get("destination") or ""
        if not typ and src in ("mqueue", "devpts", "proc", "sysfs", "cgroup"):
            typ = src
        if not typ and dest == "/dev":
            typ = "tmpfs"
        if not typ:
            raise ConfigError(f"Mount for destination {dest} is missing type")
        src = src or typ
        dest = dest or _DEFAULT_MOUNTPOINT.get(typ, "")
        if not dest:
            raise ConfigError(f"Mount type {typ} is missing destination")
        mounts[dest] = _mount(dest, typ, src, m.get("options"))
    return [mounts[k] for k in sorted(mounts, key=lambda d: d.encode())]


def _namespaces(label: Data, yaml: Data) -> list[Data]:
    out: list[Data] = []
    for key, typ, extra_new in (("net", "network", "none"), ("ipc", "ipc", ""), ("uts", "uts", "")):
        ns = _nonempty("root", label.get(key) or "", yaml.get(key) or "")
        if ns not in ("host", "root"):
            out.append(_ns(typ, "" if ns in ("new", extra_new) else ns))
    pid = _nonempty(label.get("pid") or "", yaml.get("pid") or "")
    if pid not in ("host", "root"):
        out.append(_ns("pid", "" if pid == "new" else pid))
    user = _nonempty("root", label.get("userns") or "", yaml.get("userns") or "")
    if user not in ("host", "root"):
        out.append(_ns("user", "" if user == "new" else user))
    out.append(_ns("mount", ""))
    return out


def _ns(typ: str, path: str) -> Data:
    return {"type": typ, "path": path} if path else {"type": typ}


def _rlimits(values: list[str]) -> list[Data]:
    out = []
    for text in values:
        parts = text.split(",", 2)
        if len(parts) != 3:
            raise ConfigError(f"Cannot parse rlimit: {values}")
        name = parts[0].strip().upper()
        if not name.startswith("RLIMIT_"):
            name = "RLIMIT_" + name
        nums = []
        for raw in parts[1:]:
            s = raw.strip()
            if s.lower() == "unlimited":
                nums.append(UNLIMITED)
                continue
            if not s.isdigit() or int(s) > UNLIMITED:
                raise ConfigError(f"Cannot parse {s} as uint64")
            nums.append(int(s))
        if name not in RLIMITS:
            raise ConfigError("Unknown limit: ")
        out.append({"type": name, "hard": nums[1], "soft": nums[0]})
    return out


def _ordered(src: Mapping[str, Any] | None, keys: tuple[str, ...], omit_zero: bool = False) -> Data:
    out: Data = {}
    if not src:
        return out
    for k in keys:
        v = src.get(k)
        if v is None:
            continue
        if omit_zero and v in ("", [], {}):
            continue
        out[k] = v
    return out


def _device_rule(d: Mapping[str, Any]) -> Data:
    out: Data = {"allow": bool(d.get("allow", False))}
    if d.get("type"):
        out["type"] = d["type"]
    if d.get("major") is not None:
        out["major"] = d["major"]
    if d.get("minor") is not None:
        out["minor"] = d["minor"]
    if d.get("access"):
        out["access"] = d["access"]
    return out


def _resources(res: Mapping[str, Any] | None, extra_rules: list[Data]) -> Data:
    res = res or {}
    out: Data = {}
    rules = [_device_rule(d) for d in res.get("devices") or []] + extra_rules
    if rules:
        out["devices"] = rules
    mem = _ordered(
        res.get("memory"),
        ("limit", "reservation", "swap", "kernel", "kernelTCP", "swappiness", "disableOOMKiller"),
    )
    if mem:
        out["memory"] = mem
    cpu = _ordered(
        res.get("cpu"),
        ("shares", "quota", "period", "realtimeRuntime", "realtimePeriod", "cpus", "mems"),
        omit_zero=False,
    )
    cpu = {k: v for k, v in cpu.items() if not (k in ("cpus", "mems") and v == "")}
    if cpu:
        out["cpu"] = cpu
    if res.get("pids") is not None:
        out["pids"] = {"limit": res["pids"].get("limit") or 0}
    bio = _ordered(res.get("blockio"), ("weight", "leafWeight"))
    if bio:
        out["blockIO"] = bio
    net = res.get("network")
    if net:
        n: Data = {}
        if net.get("classID") is not None:
            n["classID"] = net["classID"]
        if net.get("priorities"):
            n["priorities"] = [
                {"name": p.get("name") or "", "priority": p.get("priority") or 0}
                for p in net["priorities"]
            ]
        if n:
            out["network"] = n
    return out


def resources_json(res: Mapping[str, Any]) -> Data:
    """``specs.LinuxResources`` as Go's encoding/json writes it (json tags, omitempty)."""
    return _resources(res, [])


def config_to_oci(
    yaml: Mapping[str, Any],
    label: Mapping[str, Any] | None,
    image_config: Mapping[str, Any] | None,
    id_map: Mapping[str, int],
) -> tuple[Data, Data]:
    """The OCI spec and the runtime config of one container (LinuxKit key dicts in, ordered
    dicts out). ``image_config`` is the ``config`` object of the image's config blob."""
    y = lk_decoded(yaml)
    lab = lk_decoded(label or {})
    img = image_config or {}
    entry = list(img.get("Entrypoint") or []) + list(img.get("Cmd") or [])
    args = _pick(lab, y, "command", entry)
    env = _pick(lab, y, "env", list(img.get("Env") or []))
    cwd = _nonempty("/", img.get("WorkingDir") or "", lab.get("cwd") or "", y.get("cwd") or "")
    readonly = bool(_pick(lab, y, "readonly", False))
    mounts = _mounts(lab, y, readonly)

    if y.get("capabilities") is not None:
        caps = list(y["capabilities"])
    else:
        caps = list(lab.get("capabilities") or []) + list(y.get("capabilities.add") or [])
    caps = _caps(caps)
    ambient = _caps(list(_pick(lab, y, "ambient", [])))
    bounding = sorted(set(caps) | set(ambient))
    capabilities: Data = {}
    if bounding:
        capabilities["bounding"] = bounding
    if caps:
        capabilities["effective"] = caps
    if bounding:
        capabilities["inheritable"] = bounding
        capabilities["permitted"] = bounding
    if ambient:
        capabilities["ambient"] = ambient

    rlimits = _rlimits(list(_pick(lab, y, "rlimits", [])))
    uid = id_numeric(_pick(lab, y, "uid", 0), id_map)
    gid = id_numeric(_pick(lab, y, "gid", 0), id_map)
    agids = [id_numeric(g, id_map) for g in _pick(lab, y, "additionalGids", [])]

    user: Data = {"uid": uid, "gid": gid}
    if agids:
        user["additionalGids"] = agids
    process: Data = {"user": user}
    if args:
        process["args"] = list(args)
    if env:
        process["env"] = list(env)
    process["cwd"] = cwd
    process["capabilities"] = capabilities
    if rlimits:
        process["rlimits"] = rlimits
    if _pick(lab, y, "noNewPrivileges", False):
        process["noNewPrivileges"] = True
    oom = _pick(lab, y, "oomScoreAdj", None)
    if oom is not None:
        process["oomScoreAdj"] = oom

    root: Data = {"path": "rootfs"}
    if readonly:
        root["readonly"] = True
    oci: Data = {"ociVersion": OCI_VERSION, "process": process, "root": root}
    hostname = _nonempty(lab.get("hostname") or "", y.get("hostname") or "")
    if hostname:
        oci["hostname"] = hostname
    oci["mounts"] = mounts
    annotations = _pick(lab, y, "annotations", {})
    if annotations:
        oci["annotations"] = {k: annotations[k] for k in sorted(annotations)}

    devices: list[Data] = []
    rules: list[Data] = []
    for dev in _pick(lab, y, "devices", []):
        if dev.get("path") == "all":
            rule: Data = {"allow": True}
            if dev.get("type"):
                rule["type"] = dev["type"]
            rule["access"] = "rwm"
            rules.append(rule)
            continue
        try:
            mode = int(dev.get("mode") or "", 8)
        except ValueError:
            raise ConfigError(
                f"Cannot parse device mode as octal value: {dev.get('mode')!r}"
            ) from None
        major, minor = dev.get("major") or 0, dev.get("minor") or 0
        linux_dev: Data = {"path": dev.get("path") or "", "type": dev.get("type") or ""}
        linux_dev.update({"major": major, "minor": minor, "fileMode": mode})
        devices.append(linux_dev)
        rule = {"allow": True}
        if dev.get("type"):
            rule["type"] = dev["type"]
        rule.update({"major": major, "minor": minor, "access": "rwm"})
        rules.append(rule)

    linux: Data = {}
    for key in ("uidMappings", "gidMappings"):
        maps = _pick(lab, y, key, [])
        if maps:
            linux[key] = maps
    sysctl = _pick(lab, y, "sysctl", {})
    if sysctl:
        linux["sysctl"] = {k: sysctl[k] for k in sorted(sysctl)}
    linux["resources"] = _resources(_pick(lab, y, "resources", None), rules)
    cgroups_path = _pick(lab, y, "cgroupsPath", "")
    if cgroups_path:
        linux["cgroupsPath"] = cgroups_path
    linux["namespaces"] = _namespaces(lab, y)
    if devices:
        linux["devices"] = devices
    propagation = _pick(lab, y, "rootfsPropagation", "")
    if propagation:
        linux["rootfsPropagation"] = propagation
    for key in ("maskedPaths", "readonlyPaths"):
        paths = _pick(lab, y, key, [])
        if paths:
            linux[key] = list(paths)
    oci["linux"] = linux
    return oci, runtime_config(lab.get("runtime"), y.get("runtime"))


def runtime_config(label: Mapping[str, Any] | None, yaml: Mapping[str, Any] | None) -> Data:
    """runtime.json before the bundle's rootfs mounts are prepended (all keys always present)."""
    lab, y = dict(label or {}), dict(yaml or {})
    lns, yns = lab.get("bindNS") or {}, y.get("bindNS") or {}
    interfaces = []
    for itf in _pick(lab, y, "interfaces", []):
        out: Data = {}
        for k in ("name", "add", "peer"):
            if itf.get(k):
                out[k] = itf[k]
        out["createInRoot"] = bool(itf.get("createInRoot", False))
        interfaces.append(out)
    return {
        "cgroups": list(_pick(lab, y, "cgroups", [])),
        "mounts": [
            _mount(m.get("destination") or "", m.get("type"), m.get("source"), m.get("options"))
            for m in _pick(lab, y, "mounts", [])
        ],
        "mkdir": list(_pick(lab, y, "mkdir", [])),
        "interfaces": interfaces,
        "bindNS": {
            k: (yns.get(k) if yns.get(k) is not None else lns.get(k)) or ""
            for k in ("cgroup", "ipc", "mnt", "net", "pid", "user", "uts")
        },
        "namespace": _pick(lab, y, "namespace", ""),
    }
