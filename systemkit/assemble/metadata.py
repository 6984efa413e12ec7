"""The ``metadata: yaml|json`` file: the system's own config as LinuxKit serialises its ``Moby``.

YAML is written as Go's yaml.v2 does it (2-space indent, sequences not indented below their key,
zero-valued non-omitempty fields included, nil lists as ``[]``); JSON as Go's encoding/json with
a 4-space indent (nil lists as ``null``, ``"kernel": {"image": ""}`` when there is no kernel).
Image references come from the spec, which holds them normalised, so volume images are written
expanded too (LinuxKit leaves those as written: a documented deviation).
"""

from __future__ import annotations

from typing import Any

import yaml

from systemkit.assemble import ociconfig
from systemkit.assemble.ociconfig import go_json
from systemkit.spec.codec import to_data
from systemkit.spec.types import Spec

_IMAGE_KEYS = (
    "name",
    "image",
    "capabilities",
    "capabilities.add",
    "ambient",
    "mounts",
    "binds",
    "binds.add",
    "devices",
    "tmpfs",
    "command",
    "env",
    "cwd",
    "net",
    "pid",
    "ipc",
    "uts",
    "userns",
    "hostname",
    "readonly",
    "maskedPaths",
    "readonlyPaths",
    "uid",
    "gid",
    "additionalGids",
    "noNewPrivileges",
    "oomScoreAdj",
    "rootfsPropagation",
    "cgroupsPath",
    "resources",
    "sysctl",
    "rlimits",
    "uidMappings",
    "gidMappings",
    "annotations",
    "runtime",
)
_EMPTY_OMITTED = frozenset({"cwd", "net", "pid", "ipc", "uts", "userns", "hostname"})


def _go_mount(m: dict[str, Any], yaml_mode: bool) -> dict[str, Any]:
    """A ``specs.Mount``: yaml.v2 uses the lower-cased field names and omits nothing; JSON
    uses the json tags with omitempty. Mapping ids were dropped when LinuxKit decoded it."""
    if yaml_mode:
        return {
            "destination": m.get("destination", ""),
            "type": m.get("type", ""),
            "source": m.get("source", ""),
            "options": list(m.get("options") or []),
            "uidmappings": [],
            "gidmappings": [],
        }
    out: dict[str, Any] = {"destination": m.get("destination", "")}
    for key in ("type", "source", "options"):
        if m.get(key):
            out[key] = m[key]
    return out


_YAML_RESOURCES: dict[str, tuple[str, ...]] = {
    "memory": (
        "limit",
        "reservation",
        "swap",
        "kernel",
        "kerneltcp",
        "swappiness",
        "disableoomkiller",
        "usehierarchy",
        "checkbeforeupdate",
    ),
    "cpu": (
        "shares",
        "quota",
        "burst",
        "period",
        "realtimeruntime",
        "realtimeperiod",
        "cpus",
        "mems",
        "idle",
    ),
    "blockio": (
        "weight",
        "leafweight",
        "weightdevice",
        "throttlereadbpsdevice",
        "throttlewritebpsdevice",
        "throttlereadiopsdevice",
        "throttlewriteiopsdevice",
    ),
}
_YAML_EMPTY_LISTS = frozenset(
    {
        "weightdevice",
        "throttlereadbpsdevice",
        "throttlewritebpsdevice",
        "throttlereadiopsdevice",
        "throttlewriteiopsdevice",
    }
)


def _yaml_struct(src: dict[str, Any] | None, keys: tuple[str, ...]) -> dict[str, Any] | None:
    if src is None:
        return None
    lowered = {k.lower(): v for k, v in src.items()}
    out: dict[str, Any] = {}
    for key in keys:
        if key in lowered:
            out[key] = lowered[key]
        elif key in _YAML_EMPTY_LISTS:
            out[key] = []
        elif key in ("cpus", "mems"):
            out[key] = ""
        else:
            out[key] = None
    return out


def _go_resources(res: dict[str, Any], yaml_mode: bool) -> dict[str, Any]:
    """``specs.LinuxResources`` as LinuxKit re-serialises it (yaml: lower-cased field names,
    every field, nil pointers as null; JSON: the runtime-spec json tags)."""
    if not yaml_mode:
        return ociconfig.resources_json(res)
    devices = [
        {
            "allow": bool(d.get("allow", False)),
            "type": d.get("type", ""),
            "major": d.get("major"),
            "minor": d.get("minor"),
            "access": d.get("access", ""),
        }
        for d in res.get("devices") or []
    ]
    net = res.get("network")
    return {
        "devices": devices,
        "memory": _yaml_struct(res.get("memory"), _YAML_RESOURCES["memory"]),
        "cpu": _yaml_struct(res.get("cpu"), _YAML_RESOURCES["cpu"]),
        "pids": None if res.get("pids") is None else {"limit": res["pids"].get("limit", 0)},
        "blockio": _yaml_struct(res.get("blockio"), _YAML_RESOURCES["blockio"]),
        "hugepagelimits": [],
        "network": None
        if net is None
        else {
            "classid": None,
            "priorities": [
                {"name": p.get("name", ""), "priority": p.get("priority", 0)}
                for p in net.get("priorities") or []
            ],
        },
        "rdma": {},
        "unified": {},
    }


def _go_runtime(rt: dict[str, Any], yaml_mode: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("cgroups", "mounts", "mkdir", "interfaces"):
        if rt.get(key) is None:
            continue
        value = rt[key]
        if key == "mounts":
            value = [_go_mount(m, yaml_mode) for m in value]
        if key == "interfaces":
            value = [
                {
                    **{k: i[k] for k in ("name", "add", "peer") if i.get(k)},
                    "createInRoot": bool(i.get("createInRoot", False)),
                }
                for i in value
            ]
        out[key] = value
    bind = {k: v for k, v in (rt.get("bindNS") or {}).items() if v is not None}
    if bind or not yaml_mode:
        out["bindNS"] = bind
    if rt.get("namespace") is not None:
        out["namespace"] = rt["namespace"]
    return out


def _image(entry: dict[str, Any], yaml_mode: bool) -> dict[str, Any]:
    decoded = ociconfig.lk_decoded(entry)
    out: dict[str, Any] = {}
    for key in _IMAGE_KEYS:
        if key not in decoded:
            continue
        value = decoded[key]
        if key in _EMPTY_OMITTED and value == "":
            continue
        if key == "devices":
            value = [
                {
                    "path": d.get("path", ""),
                    "type": d.get("type", ""),
                    "major": d.get("major", 0),
                    "minor": d.get("minor", 0),
                    **({"mode": d["mode"]} if d.get("mode") else {}),
                }
                for d in value
            ]
        elif key == "mounts":
            value = [_go_mount(m, yaml_mode) for m in value]
        elif key in ("uidMappings", "gidMappings"):
            value = [{k.lower() if yaml_mode else k: v for k, v in m.items()} for m in value]
        elif key == "resources":
            value = _go_resources(value, yaml_mode)
        elif key == "runtime":
            value = _go_runtime(value, yaml_mode)
        out[key] = value
    return out


def _file(entry: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"path": entry["path"], "directory": bool(entry.get("directory"))}
    for key in ("symlink", "contents", "source", "metadata"):
        if key in entry and (entry[key] != "" or key == "contents"):
            out[key] = entry[key]
    out["optional"] = bool(entry.get("optional"))
    for key in ("mode", "uid", "gid"):
        if key in entry and entry[key] not in ("", None):
            out[key] = entry[key]
    return out


def _volume(entry: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": entry["name"]}
    for key in ("image", "readonly", "format", "platforms"):
        if entry.get(key):
            out[key] = entry[key]
    return out


def moby_data(spec: Spec, *, nil: Any) -> dict[str, Any]:
    """The Moby struct as ordered data; ``nil`` is what an unset list becomes."""
    data = to_data(spec)
    kernel = data.get("kernel") or {}
    k: dict[str, Any] = {"image": kernel.get("image", "")}
    for key in ("cmdline", "binary"):
        if kernel.get(key):
            k[key] = kernel[key]
    for key in ("tar", "ucode"):
        if key in kernel:
            k[key] = kernel[key]

    yaml_mode = nil is not None

    def section(name: str, conv: Any) -> Any:
        items = data.get(name) or []
        if conv is _image:
            return [_image(i, yaml_mode) for i in items] if items else nil
        return [conv(i) for i in items] if items else nil

    return {
        "kernel": k,
        "init": list(data["init"]) if data.get("init") else nil,
        "onboot": section("onboot", _image),
        "onshutdown": section("onshutdown", _image),
        "services": section("services", _image),
        "files": section("files", _file),
        "volumes": section("volumes", _volume),
    }


class _V2Dumper(yaml.SafeDumper):
    """PyYAML tuned towards yaml.v2: double quotes for strings that need quoting, literal
    blocks for multi-line text, no key sorting."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    node = dumper.represent_scalar("tag:yaml.org,2002:str", value)
    implicit = dumper.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    if value == "" or implicit != "tag:yaml.org,2002:str":
        node.style = '"'
    return node


_V2Dumper.add_representer(str, _str)
_V2Dumper.ignore_aliases = lambda self, data: True  # type: ignore[method-assign]


def metadata_bytes(spec: Spec, kind: str) -> bytes:
    """The content of a ``metadata: yaml|json`` file for ``spec``."""
    if kind == "json":
        return go_json(moby_data(spec, nil=None))
    if kind == "yaml":
        text = yaml.dump(
            moby_data(spec, nil=[]),
            Dumper=_V2Dumper,
            default_flow_style=False,
            sort_keys=False,
            allow_unicode=True,
            indent=2,
            width=80,
        )
        return text.encode("utf-8")
    raise ValueError(f"unsupported metadata type: {kind}")
