"""A container's effective configuration: its image label's defaults merged with the system's
fields, as LinuxKit computes it (``systemkit explain FILE NAME``).

LinuxKit takes each key from the system when the system sets it, else from the image's
``org.mobyproject.config`` label; ``capabilities.add``/``binds.add`` append to the label's list
(unless the replacing key is set); ``command``, ``env`` and ``cwd`` fall back to the image
config's ``Entrypoint`` + ``Cmd``, ``Env`` and ``WorkingDir``. :func:`effective` says, key by
key, the value and where it comes from; :func:`oci_config` is the ``config.json`` LinuxKit
writes for the container (the same function the native build uses).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

from systemkit.assemble import ociconfig
from systemkit.spec import types as st
from systemkit.spec.codec import from_data, to_data

Origin = Literal["system", "label", "label + system", "image", "default"]


@attrs.frozen
class Setting:
    """One key of the effective configuration."""

    key: str
    """LinuxKit's key (``binds``, ``capabilities``, ``command`` ...)."""
    value: Any
    origin: Origin
    replaced: tuple[str, ...] = ()
    """What of the label's value the system's value replaces (drops)."""


def label_config(label: Mapping[str, Any] | None) -> dict[str, Any]:
    """A label as LinuxKit keys (validated as the build validates it)."""
    if not label:
        return {}
    clean = {k: v for k, v in label.items() if k not in ("name", "image")}
    data: dict[str, Any] = to_data(from_data(clean, st.ImageConfig))
    return data


def _words(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def effective(
    container: st.ImageSpec,
    label: Mapping[str, Any] | None,
    image_config: Mapping[str, Any] | None,
) -> list[Setting]:
    """Every key the container ends up with, sorted by key, each with its origin."""
    mine: dict[str, Any] = to_data(container)
    mine.pop("name", None)
    mine.pop("image", None)
    lab = label_config(label)
    out: dict[str, Setting] = {}
    for key in sorted(set(mine) | set(lab)):
        if key.endswith(".add"):
            continue
        if key in mine:
            dropped = tuple(v for v in _words(lab.get(key)) if v not in _words(mine[key]))
            out[key] = Setting(key, mine[key], "system", dropped)
        else:
            out[key] = Setting(key, lab[key], "label")
    for key in ("capabilities", "binds"):
        extra = mine.get(f"{key}.add")
        if extra and key not in mine:
            base = list(lab.get(key) or [])
            origin: Origin = "label + system" if base else "system"
            out[key] = Setting(key, base + [v for v in extra if v not in base], origin)
    img = image_config or {}
    if "command" not in out:
        command = list(img.get("Entrypoint") or []) + list(img.get("Cmd") or [])
        out["command"] = Setting("command", command, "image" if command else "default")
    if "env" not in out and img.get("Env"):
        out["env"] = Setting("env", list(img["Env"]), "image")
    if "cwd" not in out:
        cwd = img.get("WorkingDir") or ""
        out["cwd"] = Setting("cwd", cwd or "/", "image" if cwd else "default")
    return [out[k] for k in sorted(out)]


def oci_config(
    container: st.ImageSpec,
    label: Mapping[str, Any] | None,
    image_config: Mapping[str, Any] | None,
    id_map: Mapping[str, int],
) -> bytes:
    """The ``config.json`` LinuxKit writes for ``container`` (Go's JSON layout)."""
    mine: dict[str, Any] = to_data(container)
    mine.pop("name", None)
    mine.pop("image", None)
    oci, _runtime = ociconfig.config_to_oci(mine, label_config(label) or None, image_config, id_map)
    return ociconfig.go_json(oci)


def id_map(spec: st.Spec) -> dict[str, int]:
    """The uid/gid LinuxKit gives each container name (100, 101 ... in build order)."""
    out: dict[str, int] = {}
    next_id = 100
    for section in st.SECTIONS:
        for entry in getattr(spec, section):
            out[entry.name] = next_id  # as the build does: a repeated name takes the later id
            next_id += 1
    return out


def with_defaults(spec: st.Spec, source: Any) -> tuple[st.Spec, list[str]]:
    """``spec`` with each container's effective configuration written out (label defaults and
    image fallbacks made explicit), for reading; and the images that are not known.

    ``source`` is a :class:`systemkit.check.labels.LabelSource` (lock, then store). A container
    whose image is unknown is left as written.
    """
    unknown: list[str] = []
    changes: dict[str, Any] = {}
    for section in st.SECTIONS:
        out = []
        for c in getattr(spec, section):
            label, config = source.label(c.image), source.image_config(c.image)
            if label is None or config is None:
                unknown.append(c.image)
                out.append(c)
                continue
            data = {s.key: s.value for s in effective(c, label, config)}
            data.update(name=c.name, image=c.image)
            out.append(from_data(data, st.ImageSpec))
        changes[section] = out
    return attrs.evolve(spec, **changes), list(dict.fromkeys(unknown))
