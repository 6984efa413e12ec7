"""The value rules (:mod:`systemkit.validate`, SK101-SK120) applied to every value of a spec.

The model constructors run the same functions on ``system.py`` values as they are created; this
module runs them again on the lowered spec, so LinuxKit YAML gets the same judgement and each
finding gets its exact spec path.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from systemkit import validate
from systemkit.check.context import Context
from systemkit.spec import types as st
from systemkit.validate import Problem

_NAMESPACES = ("net", "pid", "ipc", "uts", "userns")


def _emit(ctx: Context, path: str, p: Problem | None) -> None:
    if p is not None:
        ctx.report(p.code, path, p.message, p.hint)


def _each(
    ctx: Context, path: str, items: Sequence[str] | None, rule: Callable[[str], Problem | None]
) -> None:
    for j, item in enumerate(items or ()):
        _emit(ctx, f"{path}[{j}]", rule(item))


def _caps(ctx: Context, path: str, names: list[str] | None) -> None:
    if names is None:
        return
    for j, name in enumerate(names):
        _emit(ctx, f"{path}[{j}]", validate.capability(name))
    for p in validate.capability_list(names):
        if p.code == "SK102":
            _emit(ctx, path, p)


def _mounts(ctx: Context, path: str, mounts: list[st.MountSpec] | None) -> None:
    for j, m in enumerate(mounts or ()):
        if m.destination and not m.destination.startswith("/"):
            ctx.report(
                "SK225",
                f"{path}[{j}].destination",
                f"mount destination {m.destination!r} is relative: runc resolves it against "
                "the container's root, a deprecated form",
                f"write '/{m.destination}'",
            )


def rlimit(text: str) -> Problem | None:
    """:func:`validate.rlimit`, with LinuxKit's case-insensitive ``unlimited``
    (``" core , 0 , Unlimited "`` is accepted by LinuxKit)."""
    parts = text.split(",")
    if len(parts) == 3:
        text = ",".join([parts[0], *(p.strip().lower() for p in parts[1:])])
    return validate.rlimit(text)


def _ids(ctx: Context, path: str, c: st.ImageConfig) -> None:
    for key, value in (("uid", c.uid), ("gid", c.gid)):
        if value is not None:
            _emit(ctx, f"{path}.{key}", validate.nonnegative_id(value))
    for j, g in enumerate(c.additional_gids or ()):
        _emit(ctx, f"{path}.additionalGids[{j}]", validate.nonnegative_id(g))


def check_container_values(ctx: Context) -> None:
    """SK101-SK115, SK119 and SK225 on every container."""
    for e in ctx.containers():
        c, path = e.spec, e.path
        _emit(ctx, f"{path}.name", validate.container_name(c.name))
        _emit(ctx, f"{path}.image", validate.image_ref(c.image))
        _caps(ctx, f"{path}.capabilities", c.capabilities)
        _caps(ctx, f"{path}.capabilities.add", c.capabilities_add)
        _caps(ctx, f"{path}.ambient", c.ambient)
        _each(ctx, f"{path}.binds", c.binds, validate.bind)
        _each(ctx, f"{path}.binds.add", c.binds_add, validate.bind)
        _each(ctx, f"{path}.tmpfs", c.tmpfs, validate.tmpfs)
        _each(ctx, f"{path}.env", c.env, validate.env_entry)
        _each(ctx, f"{path}.rlimits", c.rlimits, rlimit)
        for ns in _NAMESPACES:
            value = getattr(c, ns)
            if value is not None:
                _emit(ctx, f"{path}.{ns}", validate.namespace(value, ns))
        for key in c.sysctl or {}:
            _emit(ctx, f"{path}.sysctl[{json.dumps(key)}]", validate.sysctl_key(key))
        if c.rootfs_propagation is not None:
            _emit(ctx, f"{path}.rootfsPropagation", validate.propagation(c.rootfs_propagation))
        if c.oom_score_adj is not None:
            _emit(ctx, f"{path}.oomScoreAdj", validate.oom_score_adj(c.oom_score_adj))
        _ids(ctx, path, c)
        _mounts(ctx, f"{path}.mounts", c.mounts)
        if c.cwd:
            _emit(ctx, f"{path}.cwd", validate.absolute_path(c.cwd, "cwd"))
        for key, paths in (("maskedPaths", c.masked_paths), ("readonlyPaths", c.readonly_paths)):
            for j, p in enumerate(paths or ()):
                _emit(ctx, f"{path}.{key}[{j}]", validate.absolute_path(p, key))
        for j, d in enumerate(c.devices or ()):
            dpath = f"{path}.devices[{j}]"
            if d.type is not None:
                _emit(ctx, f"{dpath}.type", validate.device_type(d.type))
            if d.path is not None and d.path != "all":
                _emit(ctx, f"{dpath}.path", validate.absolute_path(d.path, "device path"))
            if d.mode is not None:
                _emit(ctx, f"{dpath}.mode", validate.octal_mode(d.mode))


_KINDS = ("contents", "source", "directory", "symlink", "metadata")


def check_file_values(ctx: Context) -> None:
    """SK117, SK103, SK118, SK119 on every ``files`` entry."""
    for i, f in enumerate(ctx.spec.files):
        path = f"$.files[{i}]"
        kinds = [
            f.contents is not None,
            f.source is not None,
            bool(f.directory),
            f.symlink is not None,
            f.metadata is not None,
        ]
        if sum(kinds) != 1:
            given = [n for n, k in zip(_KINDS, kinds, strict=True) if k]
            ctx.report(
                "SK117",
                path,
                f"file {'/' + f.path!r} needs exactly one of contents, source, directory, "
                f"symlink, metadata (got {', '.join(given) or 'none'})",
                "keep one of them (a directory takes no contents)",
            )
        if f.mode is not None:
            _emit(ctx, f"{path}.mode", validate.octal_mode(f.mode))
        if f.metadata is not None:
            _emit(ctx, f"{path}.metadata", validate.metadata_kind(f.metadata))
        for key, value in (("uid", f.uid), ("gid", f.gid)):
            if value is not None:
                _emit(ctx, f"{path}.{key}", validate.nonnegative_id(value))


def check_system_values(ctx: Context) -> None:
    """SK105 on kernel and init, SK116/SK120/SK105 on volumes."""
    spec = ctx.spec
    if spec.kernel is not None and spec.kernel.image:
        _emit(ctx, "$.kernel.image", validate.image_ref(spec.kernel.image))
    _each(ctx, "$.init", spec.init, validate.image_ref)
    for i, v in enumerate(spec.volumes):
        path = f"$.volumes[{i}]"
        _emit(ctx, f"{path}.name", validate.volume_name(v.name))
        if v.format is not None:
            _emit(ctx, f"{path}.format", validate.volume_format(v.format))
        if v.image is not None:
            _emit(ctx, f"{path}.image", validate.image_ref(v.image))


RULES = (check_container_values, check_file_values, check_system_values)
