"""Per-image filtering (LinuxKit's ``ImageTar``) and the guard that keeps content in place.

For init images, volumes and bundles (not the kernel) LinuxKit drops a few members, rewrites
``etc/hosts`` and ``etc/resolv.conf`` and appends "touch" members (conformance README §5.3),
moving everything below a prefix and recording ``LINUXKIT.source``/``LINUXKIT.location``.

:class:`Guard` sees every member that goes into the output and refuses what would land outside
the destination when the tar (or the initrd) is unpacked in order (systemkit deviations):

* a member below a symlink that points outside its destination (an absolute target or a relative
  one that climbs out) is moved to where the link leads when resolved inside the destination
  (an absolute target starts at the destination's root, ``..`` stops there), which is where the
  booted system puts it: an in-order extractor would otherwise write through the link; image
  content that would replace such a link with a file is dropped (a ``files`` entry may replace
  it: that is the user's own intent);
* a hard link must name a non-directory written earlier by the same image, below the same
  prefix, and not through such a symlink; otherwise it is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import attrs

from systemkit.assemble.tarstream import (
    DEFAULT_MTIME,
    DIR,
    LNK,
    LOCATION,
    REG,
    SOURCE,
    SYM,
    Body,
    TarHeader,
    go_clean,
)

EXCLUDE = frozenset(
    {".dockerenv", "Dockerfile", "dev/console", "dev/pts", "dev/shm", "etc/hostname"}
)

HOSTS = (
    "127.0.0.1       localhost\n"
    "::1     localhost ip6-localhost ip6-loopback\n"
    "fe00::0 ip6-localnet\n"
    "ff00::0 ip6-mcastprefix\n"
    "ff02::1 ip6-allnodes\n"
    "ff02::2 ip6-allrouters\n"
)
RESOLV = "\n# no resolv.conf configured\n"
RESOLV_SYMLINK = "/run/resolvconf/resolv.conf"
FILES_SOURCE = "linuxkit.files"
REPLACE = {"etc/hosts": HOSTS, "etc/resolv.conf": RESOLV}

# LinuxKit's touch table, keyed as it is (directories with a trailing "/", so an image's cleaned
# "dev" never matches "dev/"); iterated in sorted key order.
_TOUCH: dict[str, TarHeader] = {
    "dev/": TarHeader("dev", DIR, 0o755),
    "dev/pts/": TarHeader("dev/pts", DIR, 0o755),
    "dev/shm/": TarHeader("dev/shm", DIR, 0o755),
    "etc/": TarHeader("etc", DIR, 0o755),
    "etc/mtab": TarHeader("etc/mtab", SYM, 0o755, linkname="/proc/mounts"),
    "etc/resolv.conf": TarHeader("etc/resolv.conf", REG, 0o644),
    "etc/hosts": TarHeader("etc/hosts", REG, 0o644),
    "proc/": TarHeader("proc", DIR, 0o755),
    "sys/": TarHeader("sys", DIR, 0o755),
}

Member = tuple[TarHeader, bytes | Body | None]
Warn = Callable[[str], None]


def canonical(name: str) -> str:
    """The path a member lands on: no leading ``/`` or ``./``, ``.`` components dropped."""
    parts = [c for c in name.split("/") if c not in ("", ".")]
    return "/".join(parts) if parts else "."


def _escapes(root: str, link_path: str, target: str) -> bool:
    """True if symlink ``link_path`` (canonical) -> ``target`` resolves outside ``root``."""
    if target.startswith("/"):
        return True
    base = link_path.rsplit("/", 1)[0] if "/" in link_path else ""
    resolved = go_clean(f"{base}/{target}" if base else target)
    if resolved == ".." or resolved.startswith("../"):
        return True
    if not root:
        return False
    return not (resolved == root or resolved.startswith(root + "/"))


def resolve_in_root(root: str, link_path: str, target: str) -> str:
    """Where ``link_path`` -> ``target`` leads when resolved inside ``root`` as a chroot would:
    an absolute target starts at ``root``, and ``..`` never climbs above it."""
    base = link_path.rsplit("/", 1)[0] if "/" in link_path else ""
    if root and (base == root or base.startswith(root + "/")):
        stack = [c for c in base[len(root) :].split("/") if c]
    else:
        stack = [c for c in base.split("/") if c] if not root else []
    if target.startswith("/"):
        stack = []
    for part in target.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if stack:
                stack.pop()
            continue
        stack.append(part)
    inner = "/".join(stack)
    if root:
        return f"{root}/{inner}" if inner else root
    return inner or "."


@attrs.define
class Guard:
    """Tracks symlinks that leave their destination and keeps members from going through them.

    ``escaping`` maps each such symlink (canonical path) to its target and destination root.
    """

    warn: Warn
    escaping: dict[str, tuple[str, str]] = attrs.field(factory=dict)
    dropped: int = 0
    redirected: int = 0

    def below_escaping_link(self, path: str) -> str | None:
        if not self.escaping:
            return None
        current = path
        while "/" in current:
            current = current.rsplit("/", 1)[0]
            if current in self.escaping:
                return current
        return None

    def _redirect(self, path: str) -> str | None:
        """``path`` with every escaping symlink on the way resolved inside its root (as the
        booted system resolves it); None if the links loop."""
        for _ in range(40):
            link = self.below_escaping_link(path)
            if link is None:
                return path
            target, root = self.escaping[link]
            path = resolve_in_root(root, link, target) + path[len(link) :]
            path = canonical(path)
        return None

    def admit(self, hdr: TarHeader, root: str) -> bool:
        """Decide on one output member (``root``: the destination it must stay in); a member
        below an escaping symlink is moved to where that link leads inside the destination."""
        path = canonical(hdr.name)
        if ".." in path.split("/"):
            self.dropped += 1
            self.warn(f"dropped {hdr.name!r}: its name leaves the destination")
            return False
        if hdr.typeflag == LNK:
            target = canonical(hdr.linkname)
            if ".." in target.split("/") or self.below_escaping_link(target) is not None:
                self.dropped += 1
                self.warn(f"dropped hard link {hdr.name!r} -> {hdr.linkname!r}: unsafe target")
                return False
        link = self.below_escaping_link(path)
        if link is not None:
            moved = self._redirect(path)
            if moved is None:
                self.dropped += 1
                self.warn(f"dropped {hdr.name!r}: the symlinks above it loop")
                return False
            self.redirected += 1
            self.warn(
                f"placed {hdr.name!r} at {moved!r}: symlink {link!r} points outside "
                f"{root or '/'!r}, so it is resolved inside it, as the booted system does"
            )
            hdr.name = moved
            path = moved
        if path in self.escaping and hdr.typeflag != SYM:
            if hdr.typeflag == DIR:
                return True  # mkdir keeps the link: what follows below it is still moved
            if hdr.pax.get(SOURCE) != FILES_SOURCE:
                # Image content over an escaping link: an extractor that opens the path
                # would write through the link.
                self.dropped += 1
                self.warn(
                    f"dropped {hdr.name!r}: it would replace symlink {path!r}, which leaves "
                    f"{root or '/'!r}"
                )
                return False
        if hdr.typeflag == SYM and _escapes(root, path, hdr.linkname):
            self.escaping[path] = (hdr.linkname, root)
        else:
            self.escaping.pop(path, None)
        return True


def image_members(
    members: Iterable[tuple[TarHeader, Body]],
    *,
    prefix: str,
    source: str,
    location: str,
    resolv: str = "",
    guard: Guard,
) -> Iterator[Member]:
    """LinuxKit's filtering of one flattened image placed below ``prefix`` (``""`` or ending
    in ``/``); ``resolv`` non-empty turns ``etc/resolv.conf`` into a symlink to it."""
    root = prefix.rstrip("/")
    records = {SOURCE: source, LOCATION: location}
    found: set[str] = set()
    files_here: set[str] = set()
    for hdr, body in members:
        name = hdr.name
        if name in EXCLUDE:
            continue
        hdr.pax.update(records)
        if name in REPLACE:
            out = hdr.copy()
            out.name = prefix + name
            out.mtime, out.mtime_text = DEFAULT_MTIME, None
            if name == "etc/resolv.conf" and resolv:
                out.typeflag, out.size, out.linkname = SYM, 0, resolv
                yield from _guarded(out, None, guard, root)
            else:
                data = REPLACE[name].encode()
                out.typeflag, out.size, out.linkname = REG, len(data), ""
                yield from _guarded(out, data, guard, root)
            files_here.add(name)
            continue
        if name in _TOUCH:
            hdr.mtime, hdr.mtime_text = _TOUCH[name].mtime, None
            found.add(name)
        hdr.name = prefix + name
        if hdr.typeflag == LNK:
            target = go_clean(hdr.linkname.lstrip("/") or ".")
            through = guard.below_escaping_link(canonical(prefix + target))
            if target not in files_here or through is not None:
                guard.dropped += 1
                guard.warn(
                    f"{source}: dropped hard link {name!r} -> {hdr.linkname!r}: the target is "
                    "not a file of the same image"
                )
                continue
            hdr.linkname = prefix + hdr.linkname.lstrip("/")
        if hdr.typeflag != DIR:
            files_here.add(name)
        else:
            files_here.discard(name)
        yield from _guarded(hdr, body, guard, root)
    for key in sorted(_TOUCH):
        if key in found:
            continue
        touch = _TOUCH[key].copy()
        touch.pax.update(records)
        touch.name = prefix + touch.name
        content: bytes | None = None
        if key == "etc/resolv.conf" and resolv:
            touch.typeflag, touch.linkname = SYM, resolv
        elif key in REPLACE:
            content = REPLACE[key].encode()
            touch.size = len(content)
        yield from _guarded(touch, content, guard, root)


def _guarded(
    hdr: TarHeader, body: bytes | Body | None, guard: Guard, root: str
) -> Iterator[Member]:
    if guard.admit(hdr, root):
        yield hdr, body
