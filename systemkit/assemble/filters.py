"""Per-image filtering (LinuxKit's ``ImageTar``) and the guard that keeps content in place.

For init images, volumes and bundles (not the kernel) LinuxKit drops a few members, rewrites
``etc/hosts`` and ``etc/resolv.conf`` and appends "touch" members (conformance README §5.3),
moving everything below a prefix and recording ``LINUXKIT.source``/``LINUXKIT.location``.

:class:`Guard` sees every member that goes into the output and refuses what would land outside
the destination when the tar (or the initrd) is unpacked in order (systemkit deviations):

* every symlink is tracked, and a member's path (and a hard link's target) is resolved
  through every earlier symlink on it, whether it stays inside or not, with a loop bound;
* a symlink leaves its destination if its target, resolved through the other symlinks, does (an
  absolute target, or a relative one that climbs out, directly or through a chain such as
  ``x -> y -> ../../..``);
* a member whose path goes through such a link is moved to where the links lead when resolved
  inside the destination (an absolute target starts at the destination's root, ``..`` stops
  there), which is where the booted system puts it: an in-order extractor would otherwise write
  through the link; a member whose path only goes through links that stay inside is written
  as it is (LinuxKit's output); links that loop make it dropped; image content that would
  replace a leaving link with a file is dropped (a ``files`` entry may replace it: that is the
  user's own intent);
* a hard link must name a non-directory written earlier by the same image, below the same
  prefix, not through a leaving symlink and not a leaving symlink itself (``os.link`` follows
  it); otherwise it is dropped.
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


MAX_LINKS = 40
"""Symlinks followed while resolving one path before it counts as a loop (Linux's ELOOP)."""


class _Loop(Exception):
    """The symlinks on a path loop (or chain more than :data:`MAX_LINKS` times)."""


def _parts(path: str) -> list[str]:
    return [c for c in path.split("/") if c and c != "."]


def _under(stack: list[str], root: list[str]) -> bool:
    return stack[: len(root)] == root


@attrs.define
class Guard:
    """Tracks every symlink of the output and keeps members from going through one that leaves
    its destination, directly or through other symlinks.

    ``links`` maps each symlink (its path with every symlink above it resolved) to its target
    and destination root.
    """

    warn: Warn
    links: dict[str, tuple[str, str]] = attrs.field(factory=dict)
    dropped: int = 0
    redirected: int = 0

    def _walk(self, stack: list[str], parts: list[str], root: list[str], budget: list[int]) -> bool:
        """Walk ``parts`` from the directory ``stack`` (changed in place) as a chroot at
        ``root`` would, following every known symlink (each resolved inside its own root: an
        absolute target starts there, ``..`` stops there). True if an unconfined walk would
        have left the destination; raises :class:`_Loop` past :data:`MAX_LINKS` links."""
        left = False
        for part in parts:
            if part == "..":
                if (_under(stack, root) and len(stack) <= len(root)) or not stack:
                    left = True  # clamped: an extractor would climb out here
                else:
                    stack.pop()
                continue
            stack.append(part)
            link = self.links.get("/".join(stack))
            if link is None:
                continue
            budget[0] -= 1
            if budget[0] < 0:
                raise _Loop
            stack.pop()
            target, link_root = link
            lroot = _parts(link_root)
            if target.startswith("/"):
                left = True
                stack[:] = lroot
            if self._walk(stack, _parts(target), lroot, budget) or not _under(stack, lroot):
                left = True
        return left

    def _resolve(self, path: str, root: str) -> tuple[str, bool]:
        """``path`` (canonical, no ``..``) with every symlink above its last component resolved
        inside the destination, and whether one of them (directly or through others) leads out
        of it; raises :class:`_Loop` if they loop."""
        parts = _parts(path)
        stack: list[str] = []
        left = self._walk(stack, parts[:-1], _parts(root), [MAX_LINKS])
        return "/".join([*stack, *parts[-1:]]) or ".", left

    def link_leaves(self, path: str) -> bool:
        """True if ``path`` (resolved) is a symlink whose target, resolved through the other
        symlinks, leaves its destination (or loops)."""
        link = self.links.get(path)
        if link is None:
            return False
        target, root = link
        lroot = _parts(root)
        stack = _parts(path)[:-1]
        if target.startswith("/"):
            return True
        try:
            return self._walk(stack, _parts(target), lroot, [MAX_LINKS]) or not _under(stack, lroot)
        except _Loop:
            return True

    def unsafe_link_target(self, target: str, root: str) -> bool:
        """True if a hard link to ``target`` (canonical) would go through a symlink that leaves
        the destination, or would link what such a symlink points at (``os.link`` follows
        it)."""
        if ".." in target.split("/"):
            return True
        try:
            resolved, left = self._resolve(target, root)
        except _Loop:
            return True
        return left or self.link_leaves(resolved)

    def admit(self, hdr: TarHeader, root: str) -> bool:
        """Decide on one output member (``root``: the destination it must stay in); a member
        below a symlink that leads out of the destination (directly or through other symlinks)
        is moved to where the links lead when resolved inside the destination."""
        path = canonical(hdr.name)
        if ".." in path.split("/"):
            self.dropped += 1
            self.warn(f"dropped {hdr.name!r}: its name leaves the destination")
            return False
        if hdr.typeflag == LNK and self.unsafe_link_target(canonical(hdr.linkname), root):
            self.dropped += 1
            self.warn(f"dropped hard link {hdr.name!r} -> {hdr.linkname!r}: unsafe target")
            return False
        try:
            resolved, left = self._resolve(path, root)
        except _Loop:
            self.dropped += 1
            self.warn(f"dropped {hdr.name!r}: the symlinks above it loop")
            return False
        if left:
            self.redirected += 1
            self.warn(
                f"placed {hdr.name!r} at {resolved!r}: a symlink on its path leads outside "
                f"{root or '/'!r}, so it is resolved inside it, as the booted system does"
            )
            hdr.name = resolved
        if resolved in self.links and hdr.typeflag != SYM:
            if hdr.typeflag == DIR:
                return True  # mkdir keeps the link: what follows below it is still resolved
            if self.link_leaves(resolved) and hdr.pax.get(SOURCE) != FILES_SOURCE:
                # Image content over a link that leaves: an extractor that opens the path
                # would write through the link.
                self.dropped += 1
                self.warn(
                    f"dropped {hdr.name!r}: it would replace symlink {resolved!r}, which "
                    f"leaves {root or '/'!r}"
                )
                return False
        if hdr.typeflag == SYM:
            self.links[resolved] = (hdr.linkname, root)
        # Another member over a symlink does not forget it: Python's tarfile opens the path
        # (writing through the link, which stays), and mkdir keeps it too.
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
            unsafe = guard.unsafe_link_target(canonical(prefix + target), root)
            if target not in files_here or unsafe:
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
