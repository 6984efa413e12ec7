"""``files``: collisions (SK240, SK241), unreadable sources (SK122), paths hidden by tmpfs at
boot (SK242) and parent directories a default mode locks (SK243)."""

from __future__ import annotations

import os

from systemkit.check.context import Context
from systemkit.spec import types as st

HIDDEN_AT_BOOT = ("var", "run", "tmp")
"""Top-level directories that init mounts a tmpfs on at boot."""

_PUBLIC = (
    "bin boot etc home lib lib64 media mnt opt sbin srv usr usr/bin usr/lib usr/lib64 "
    "usr/libexec usr/local usr/local/bin usr/local/lib usr/local/sbin usr/local/share "
    "usr/sbin usr/share etc/ssl etc/ssl/certs var var/lib var/log var/cache"
)
PUBLIC_DIRS = frozenset(_PUBLIC.split())
"""Standard directories that everyone must be able to traverse (never 0700)."""


def _norm(path: str) -> str:
    return "/".join(p for p in path.split("/") if p and p != ".")


def _kind(f: st.FileSpec) -> str:
    return "directory" if f.directory else "symlink" if f.symlink is not None else "file"


def _input_file(ctx: Context, index: int) -> str | None:
    """The input file that wrote ``files[index]`` (None when unknown)."""
    loc = ctx.lowered.locations.get(f"$.files[{index}]")
    return loc.file if loc is not None else None


def check_collisions(ctx: Context) -> None:
    """SK240 for two entries at one path written by the same input file (a later input file
    replacing an earlier file's entry is LinuxKit's multi-file override: the later one wins);
    SK241 for a path that is a directory in one entry and not in another."""
    first: dict[str, int] = {}
    files = ctx.spec.files
    for i, f in enumerate(files):
        p = _norm(f.path)
        if p in first:
            j = first[p]
            kinds = {_kind(f), _kind(files[j])}
            if "directory" in kinds and len(kinds) > 1:
                ctx.report(
                    "SK241",
                    f"$.files[{i}].path",
                    f"/{p} is a {_kind(f)} here and a {_kind(files[j])} in files[{j}]",
                    "a path is either a directory or a file",
                    related=(f"$.files[{j}].path",),
                )
            elif _input_file(ctx, i) == _input_file(ctx, j) or _input_file(ctx, i) is None:
                ctx.report(
                    "SK240",
                    f"$.files[{i}].path",
                    f"/{p} is already written by files[{j}]: this entry silently replaces it",
                    "keep one entry per path",
                    related=(f"$.files[{j}].path",),
                )
            continue
        first[p] = i
    for i, f in enumerate(files):
        parts = _norm(f.path).split("/")
        for k in range(1, len(parts)):
            parent = "/".join(parts[:k])
            owner = first.get(parent)
            if owner is not None and _kind(files[owner]) != "directory":
                j = owner
                ctx.report(
                    "SK241",
                    f"$.files[{i}].path",
                    f"/{_norm(f.path)} needs /{parent} to be a directory, but files[{j}] makes "
                    f"it a {_kind(files[j])}",
                    f"make files[{j}] `directory: true`, or move this file",
                    related=(f"$.files[{j}].path",),
                )
                break


def check_sources(ctx: Context) -> None:
    for i, f in enumerate(ctx.spec.files):
        if f.source is None or f.source_digest is not None or f.optional:
            continue
        raw = os.path.expanduser(f.source)
        full = raw if os.path.isabs(raw) else os.path.join(ctx.lowered.base_dir, raw)
        if os.access(full, os.R_OK) and os.path.isfile(full):
            continue
        ctx.report(
            "SK122",
            f"$.files[{i}].source",
            f"source {f.source!r} of file '/{_norm(f.path)}' cannot be read",
            "fix the path (relative to the system file's directory), or mark it optional",
        )


def check_hidden(ctx: Context) -> None:
    for i, f in enumerate(ctx.spec.files):
        top = _norm(f.path).split("/")[0]
        if top in HIDDEN_AT_BOOT and _norm(f.path) != top:
            ctx.report(
                "SK242",
                f"$.files[{i}].path",
                f"/{_norm(f.path)} is hidden at boot: init mounts a tmpfs on /{top}",
                "put it elsewhere (e.g. under /etc) and bind or copy it at boot",
            )


def _dir_mode(mode: int) -> int:
    """LinuxKit's mode for a missing parent: each rwx triplet with any bit also gets x."""
    out = mode & 0o777
    for shift in (6, 3, 0):
        if (mode >> shift) & 0o7:
            out |= 1 << shift
    return out


def check_parent_modes(ctx: Context) -> None:
    """Each standard parent directory that a file creates 0700-like, reported once: at the
    file that creates it (the first to need it, as the build writes parents once)."""
    files = ctx.spec.files
    declared = {_norm(f.path) for f in files if f.directory}
    created: set[str] = set()
    for i, f in enumerate(files):
        parts = _norm(f.path).split("/")
        parents = ["/".join(parts[:k]) for k in range(1, len(parts))]
        new = [p for p in parents if p not in created]
        created.update(new)
        created.add(_norm(f.path))
        default = 0o700 if f.directory else 0o600
        try:
            mode = int(f.mode, 8) if f.mode is not None else default
        except ValueError:
            continue
        dmode = _dir_mode(mode)
        if dmode & 0o001:
            continue
        missing = [p for p in new if p not in declared and p in PUBLIC_DIRS]
        if not missing:
            continue
        shown = ", ".join("/" + m for m in missing)
        why = "the default mode" if f.mode is None else f"mode {f.mode}"
        ctx.report(
            "SK243",
            f"$.files[{i}].mode" if f.mode is not None else f"$.files[{i}]",
            f"{why} of /{_norm(f.path)} makes its parent {shown} {dmode:04o} in the image "
            "(LinuxKit creates missing parents from the mode of the first file below them, "
            "after everything else)",
            "give the file a mode readable by others such as '0644', or declare the parent "
            "directory with its mode",
        )


RULES = (check_collisions, check_sources, check_hidden, check_parent_modes)
