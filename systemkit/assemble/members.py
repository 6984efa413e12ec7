"""Small members of LinuxKit's layout: directories and files it synthesises, tar prefixes."""

from __future__ import annotations

from collections.abc import Iterator

from systemkit.assemble.filters import Member
from systemkit.assemble.tarstream import DIR, LOCATION, REG, SOURCE, TarHeader


def dir_member(name: str, source: str, location: str, *, mode: int = 0o755) -> TarHeader:
    """A directory with LinuxKit's ``source``/``location`` records."""
    return TarHeader(name, DIR, mode, pax={SOURCE: source, LOCATION: location})


def file_member(name: str, data: bytes, source: str, location: str, mode: int = 0o644) -> TarHeader:
    """A regular file of ``data`` with LinuxKit's records."""
    return TarHeader(name, REG, mode, size=len(data), pax={SOURCE: source, LOCATION: location})


def tar_prefix(path: str, source: str, location: str) -> Iterator[Member]:
    """LinuxKit's ``tarPrefix``: one directory member per component of ``path`` (ends in /)."""
    if not path:
        return
    parts = path[:-1].split("/")
    for i in range(len(parts)):
        yield dir_member("/".join(parts[: i + 1]), source, location), None
