"""Mounts: option words and types (SK220, SK221), one destination twice (SK222), volumes bound
through ``mounts`` (SK223) and read-only volumes bound writable (SK224)."""

from __future__ import annotations

import difflib

from systemkit.check.context import Context, Entry


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


KNOWN_OPTION_WORDS = _words(
    "defaults ro rw bind rbind suid nosuid dev nodev exec noexec sync async dirsync remount "
    "mand nomand atime noatime diratime nodiratime relatime norelatime strictatime "
    "nostrictatime lazytime nolazytime silent loud auto noauto user nouser "
    "shared rshared slave rslave private rprivate unbindable runbindable "
    "rro rrw rsuid rnosuid rdev rnodev rexec rnoexec ratime rnoatime rdiratime rnodiratime "
    "rrelatime rnorelatime rstrictatime rnostrictatime tmpcopyup idmap ridmap "
    # filesystem-specific flags in common use (devpts, cgroup2, ext4, xfs, overlay, tmpfs ...)
    "newinstance nsdelegate memory_recursiveprot favordynmods acl noacl user_xattr "
    "nouser_xattr discard nodiscard barrier nobarrier noload norecovery inode64 "
    "userxattr volatile _netdev nofail"
)
"""Mount option words (without ``=``) that the kernel or mount(8) know."""

KNOWN_MOUNT_TYPES = _words(
    "bind rbind tmpfs ramfs proc sysfs devpts devtmpfs mqueue cgroup cgroup2 overlay "
    "securityfs debugfs tracefs configfs fusectl hugetlbfs pstore bpf efivarfs binfmt_misc "
    "ext2 ext3 ext4 xfs btrfs vfat exfat ntfs ntfs3 f2fs squashfs erofs iso9660 udf nfs "
    "nfs4 cifs smb3 9p virtiofs fuse zfs autofs rpc_pipefs nsfs none"
)
"""Filesystem types a mount may name."""


def _options(ctx: Context, path: str, words: list[str]) -> None:
    for word in words:
        if not word or "=" in word or word in KNOWN_OPTION_WORDS or word.startswith("x-"):
            continue
        close = difflib.get_close_matches(word, sorted(KNOWN_OPTION_WORDS), n=1, cutoff=0.6)
        ctx.report(
            "SK220",
            path,
            f"unknown mount option {word!r}",
            f"did you mean {close[0]!r}?" if close else "filesystem data options are key=value",
        )


def _bind_parts(text: str) -> tuple[str, str, list[str]] | None:
    parts = text.split(":")
    if len(parts) < 2 or len(parts) > 3:
        return None
    return parts[0], parts[1], parts[2].split(",") if len(parts) == 3 else []


def _check_entry(ctx: Context, e: Entry) -> None:
    c = e.spec
    volumes = ctx.volume_names()
    seen: dict[str, str] = {}

    def dest(where: str, d: str) -> None:
        d = d.rstrip("/") or "/"
        if d in seen:
            ctx.report(
                "SK222",
                where,
                f"a mount at {d} is already made by {seen[d].removeprefix(e.path + '.')}: "
                "the later mount replaces it",
                "keep one mount per destination",
                related=(seen[d],),
            )
        seen[d] = where

    for j, t in enumerate(c.tmpfs or ()):
        where = f"{e.path}.tmpfs[{j}]"
        d, _, opt_text = t.partition(":")
        _options(ctx, where, opt_text.split(",") if opt_text else [])
        if d.startswith("/"):
            dest(where, d)
    binds = c.binds if c.binds is not None else c.binds_add
    key = "binds" if c.binds is not None else "binds.add"
    for j, b in enumerate(binds or ()):
        where = f"{e.path}.{key}[{j}]"
        parts = _bind_parts(b)
        if parts is None:
            continue
        src, d, opts = parts
        _options(ctx, where, opts)
        if d.startswith("/"):
            dest(where, d)
        vol = volumes.get(src)
        if vol is not None and vol.readonly and "ro" not in opts:
            ctx.report(
                "SK224",
                where,
                f"volume {src!r} is read-only: LinuxKit requires `:ro` on its binds",
                f"write '{src}:{d}:{','.join([*opts, 'ro'])}'",
            )
    for j, m in enumerate(c.mounts or ()):
        where = f"{e.path}.mounts[{j}]"
        _mount(ctx, where, m.type, m.options)
        if m.destination and m.destination.startswith("/"):
            dest(where, m.destination)
        if m.type in ("bind", "rbind") and m.source in volumes:
            ctx.report(
                "SK223",
                f"{where}.source",
                f"mount source {m.source!r} is a volume name, but LinuxKit rewrites volume names "
                "only in `binds`: this mount would look for a host path named "
                f"{m.source!r}",
                f"bind the volume with `binds.add: ['{m.source}:{m.destination}']`",
            )
    if c.runtime is not None:
        for j, m in enumerate(c.runtime.mounts or ()):
            _mount(ctx, f"{e.path}.runtime.mounts[{j}]", m.type, m.options)


def _mount(ctx: Context, where: str, mtype: str | None, options: list[str] | None) -> None:
    if mtype is not None and mtype not in KNOWN_MOUNT_TYPES:
        close = difflib.get_close_matches(mtype, sorted(KNOWN_MOUNT_TYPES), n=1, cutoff=0.6)
        ctx.report(
            "SK221",
            f"{where}.type",
            f"unknown mount type {mtype!r}",
            f"did you mean {close[0]!r}?" if close else None,
        )
    for j, word in enumerate(options or ()):
        _options(ctx, f"{where}.options[{j}]", [word])


def check_mounts(ctx: Context) -> None:
    for e in ctx.containers():
        _check_entry(ctx, e)


RULES = (check_mounts,)
