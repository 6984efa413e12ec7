"""newc cpio writing, as LinuxKit's initrd writer (gocpio) does it."""

from __future__ import annotations

import os.path
from typing import Protocol

from systemkit.assemble.tarstream import BLK, CHR, DIR, FIFO, LNK, REG, SYM, Body, TarHeader

S_IFMT = {
    REG: 0o100000,
    b"7": 0o100000,
    DIR: 0o040000,
    SYM: 0o120000,
    LNK: 0o120000,
    CHR: 0o020000,
    BLK: 0o060000,
    FIFO: 0o010000,
}
FIRST_INODE = 721
TRAILER = "TRAILER!!!"


class Writable(Protocol):
    def write(self, data: bytes, /) -> int: ...


class CpioError(ValueError):
    """A tar member that has no cpio equivalent."""


def _pad4(n: int) -> bytes:
    return b"\0" * (-n % 4)


class NewcWriter:
    """Writes newc entries to a binary stream; inodes count up from 721, directories have
    nlink 2; :meth:`close` writes the trailer and pads the archive to 512 bytes."""

    def __init__(self, out: Writable, inode: int = FIRST_INODE, written: int = 0) -> None:
        self._out = out
        self._inode = inode
        self._written = written

    @property
    def state(self) -> tuple[int, int]:
        """(next inode, bytes written): pass them back to continue the same archive."""
        return self._inode, self._written

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._written += len(data)

    def _header(
        self,
        name: str,
        mode: int,
        uid: int,
        gid: int,
        nlink: int,
        mtime: int,
        size: int,
        rmajor: int,
        rminor: int,
        ino: int,
    ) -> None:
        raw = name.encode("utf-8", "surrogateescape") + b"\0"
        fields = (ino, mode, uid, gid, nlink, mtime, size, 0, 0, rmajor, rminor, len(raw), 0)
        text = b"070701" + b"".join(b"%08X" % (f & 0xFFFFFFFF) for f in fields)
        self._write(text + raw + _pad4(110 + len(raw)))

    def add_tar_member(self, hdr: TarHeader, body: Body | bytes | None) -> None:
        """Convert one tar member (hard links become relative symlinks)."""
        kind = S_IFMT.get(hdr.typeflag)
        if kind is None:
            raise CpioError(f"cannot convert tar member {hdr.name!r} (type {hdr.typeflag!r})")
        data: bytes | None = None
        size = hdr.size if hdr.typeflag in (REG, b"7") else 0
        if hdr.typeflag == LNK:
            directory = os.path.dirname(hdr.name) or "."
            data = os.path.relpath(hdr.linkname or ".", directory).encode()
        elif hdr.typeflag == SYM:
            data = hdr.linkname.encode("utf-8", "surrogateescape")
        if data is not None:
            size = len(data)
        nlink = 2 if hdr.typeflag == DIR else 1
        devices = hdr.typeflag in (CHR, BLK)
        self._header(
            hdr.name,
            kind | (hdr.mode & 0o7777),
            hdr.uid,
            hdr.gid,
            nlink,
            hdr.mtime,
            size,
            hdr.devmajor if devices else 0,
            hdr.devminor if devices else 0,
            self._inode,
        )
        self._inode += 1
        if data is not None:
            self._write(data)
        elif size:
            if isinstance(body, bytes):
                self._write(body)
            else:
                assert body is not None
                left = size
                while left:
                    chunk = body.read(min(left, 1 << 20))
                    if not chunk:
                        raise CpioError(f"tar member {hdr.name!r} ends early")
                    self._write(chunk)
                    left -= len(chunk)
        self._write(_pad4(size))

    def close(self) -> None:
        self._header(TRAILER, 0, 0, 0, 1, 0, 0, 0, 0, 0)
        self._write(b"\0" * (-self._written % 512))
