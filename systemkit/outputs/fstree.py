"""Unpack the filesystem tar into a directory, for the tools that build a filesystem from one
(xorriso, mksquashfs, mkfs.erofs).

It runs under ``fakeroot`` (``python -m systemkit.outputs.fstree TAR DIR``) so that a normal
user can give files their owners and make device nodes; the tool that reads the directory runs
in the same fakeroot session afterwards (``fakeroot -i STATE``) and sees them. Later members
replace earlier ones at the same path, as on extraction by LinuxKit's tools. Paths are resolved
inside ``DIR`` as a chroot would (an absolute symlink leads to ``DIR``'s root, ``..`` stops at
it), so nothing is written outside ``DIR``. Modification times come from the tar; directories
get theirs after their contents are written.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tarfile
from pathlib import Path

_MAX_LINKS = 40


class TreeError(Exception):
    pass


def _resolve(root: str, rel: str, follow_last: bool) -> str:
    """The host path of ``rel`` inside ``root``, following symlinks as in a chroot."""
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    done: list[str] = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if done:
                done.pop()
            continue
        cand = os.path.join(root, *done, part)
        if (parts or follow_last) and os.path.islink(cand):
            hops += 1
            if hops > _MAX_LINKS:
                raise TreeError(f"too many levels of symbolic links at {rel}")
            target = os.readlink(cand)
            if target.startswith("/"):
                done = []
            parts = [p for p in target.split("/") if p not in ("", ".")] + parts
            continue
        done.append(part)
    return os.path.join(root, *done)


def _clear(path: str, keep_dir: bool) -> None:
    if os.path.islink(path) or (os.path.exists(path) and not os.path.isdir(path)):
        os.unlink(path)
    elif os.path.isdir(path) and not keep_dir:
        shutil.rmtree(path)


def extract(tar_path: Path, root: Path, epoch: int) -> None:
    """Unpack ``tar_path`` into ``root`` (which exists); directories the tar does not list
    (and ``root`` itself) get the time ``epoch``."""
    top = str(root)
    dir_times: dict[str, int] = {}
    with tarfile.open(tar_path, mode="r|") as tf:
        for m in tf:
            name = m.name.strip("/")
            if not name or name == ".":
                continue
            parent, _, base = name.rpartition("/")
            if base in ("..", "."):
                continue
            host_parent = _resolve(top, parent, True)
            os.makedirs(host_parent, exist_ok=True)
            path = os.path.join(host_parent, base)
            mode = m.mode & 0o7777
            if m.isdir():
                _clear(path, keep_dir=True)
                os.makedirs(path, exist_ok=True)
            elif m.isreg():
                _clear(path, keep_dir=False)
                src = tf.extractfile(m)
                assert src is not None
                with open(path, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
            elif m.issym():
                _clear(path, keep_dir=False)
                os.symlink(m.linkname, path)
            elif m.islnk():
                target = _resolve(top, m.linkname.strip("/"), False)
                if not os.path.lexists(target) or os.path.isdir(target):
                    continue
                _clear(path, keep_dir=False)
                os.link(target, path, follow_symlinks=False)
                continue
            elif m.ischr() or m.isblk() or m.isfifo():
                _clear(path, keep_dir=False)
                kind = stat.S_IFCHR if m.ischr() else stat.S_IFBLK if m.isblk() else stat.S_IFIFO
                os.mknod(path, kind | mode, os.makedev(m.devmajor, m.devminor))
            else:
                continue
            os.lchown(path, m.uid, m.gid)
            if not m.issym():
                os.chmod(path, mode)
            if m.isdir():
                dir_times[path] = int(m.mtime)
            else:
                os.utime(path, (int(m.mtime), int(m.mtime)), follow_symlinks=False)
    dirs = [top] + [
        os.path.join(d, n)
        for d, names, _ in os.walk(top)
        for n in names
        if not os.path.islink(os.path.join(d, n))
    ]
    for path in sorted(dirs, key=lambda p: -p.count("/")):
        when = dir_times.get(path, epoch)
        os.utime(path, (when, when), follow_symlinks=False)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python -m systemkit.outputs.fstree TAR DIR EPOCH", file=sys.stderr)
        return 2
    try:
        extract(Path(argv[0]), Path(argv[1]), int(argv[2]))
    except (OSError, TreeError, tarfile.TarError) as exc:
        print(f"unpacking the filesystem failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
