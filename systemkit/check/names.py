"""Names: service names unique (SK201), every container name unique across onboot, onshutdown
and services (SK203), volume names unique (SK202)."""

from __future__ import annotations

from systemkit.check.context import Context


def check_container_names(ctx: Context) -> None:
    first: dict[str, tuple[str, str]] = {}
    for e in ctx.containers():
        name = e.spec.name
        if name not in first:
            first[name] = (e.section, e.path)
            continue
        section, other = first[name]
        where = other[2:]
        if e.section == section == "services":
            ctx.report(
                "SK201",
                f"{e.path}.name",
                f"service name {name!r} is already used by {where}: services are directories "
                "and containerd ids named after the service",
                "rename one of them",
                related=(f"{other}.name",),
            )
        else:
            ctx.report(
                "SK203",
                f"{e.path}.name",
                f"container name {name!r} is already used by {where}: a `uid`/`gid` that names "
                "it is ambiguous, and messages naming the container cannot tell the two apart",
                "give each container its own name",
                related=(f"{other}.name",),
            )


def check_volume_names(ctx: Context) -> None:
    first: dict[str, int] = {}
    for i, v in enumerate(ctx.spec.volumes):
        if v.name not in first:
            first[v.name] = i
            continue
        ctx.report(
            "SK202",
            f"$.volumes[{i}].name",
            f"volume name {v.name!r} is already declared by volumes[{first[v.name]}]",
            "give each volume its own name",
            related=(f"$.volumes[{first[v.name]}].name",),
        )


RULES = (check_container_names, check_volume_names)
