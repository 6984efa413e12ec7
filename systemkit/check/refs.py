"""References between parts: ids naming containers (SK230), volumes bound but not declared
(SK231) and declared but never bound (SK232)."""

from __future__ import annotations

from systemkit.check.context import Context
from systemkit.spec.types import IdRef


def _id_names(ctx: Context) -> set[str]:
    return {e.spec.name for e in ctx.containers()} | {"root", ""}


def _check_id(ctx: Context, names: set[str], path: str, value: IdRef | None) -> None:
    if not isinstance(value, str) or value in names:
        return
    hint = (
        f"write the number unquoted: {value}"
        if value.isdigit()
        else "name a container of this system (its allocated id is used), `root`, or a number"
    )
    ctx.report(
        "SK230",
        path,
        f"{path.rsplit('.', 1)[-1]} {value!r} names no container of this system",
        hint,
    )


def check_ids(ctx: Context) -> None:
    names = _id_names(ctx)
    for e in ctx.containers():
        c = e.spec
        _check_id(ctx, names, f"{e.path}.uid", c.uid)
        _check_id(ctx, names, f"{e.path}.gid", c.gid)
        for j, g in enumerate(c.additional_gids or ()):
            _check_id(ctx, names, f"{e.path}.additionalGids[{j}]", g)
    for i, f in enumerate(ctx.spec.files):
        _check_id(ctx, names, f"$.files[{i}].uid", f.uid)
        _check_id(ctx, names, f"$.files[{i}].gid", f.gid)


def check_volume_refs(ctx: Context) -> None:
    volumes = ctx.volume_names()
    used: set[str] = set()
    for e in ctx.containers():
        c = e.spec
        for key, binds in (("binds", c.binds), ("binds.add", c.binds_add)):
            for j, b in enumerate(binds or ()):
                src = b.split(":", 1)[0]
                if not src or src.startswith("/"):
                    continue
                used.add(src)
                if src not in volumes:
                    ctx.report(
                        "SK231",
                        f"{e.path}.{key}[{j}]",
                        f"bind source {src!r} is not an absolute path, so it names a volume, "
                        "but no volume of that name is declared",
                        f"declare it (volumes: - name: {src}), or write an absolute host path",
                    )
        for m in c.mounts or ():
            if m.source:
                used.add(m.source)
    for i, v in enumerate(ctx.spec.volumes):
        if v.name not in used:
            ctx.report(
                "SK232",
                f"$.volumes[{i}]",
                f"volume {v.name!r} is declared but no container binds it",
                f"bind it with `binds.add: ['{v.name}:/some/path']`, or remove it",
            )


RULES = (check_ids, check_volume_refs)
