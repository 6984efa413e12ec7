"""Blobs verified while they stream: nothing unverified reaches an output.

:class:`VerifiedBlob` hashes a blob's stored bytes as they are read and, when closed, reads
whatever is left and compares digest and size with the descriptor; a mismatch raises
:class:`CorruptBlob`, which fails the build before any output is renamed into place.
:class:`GunzipStream` decompresses a verified gzip layer on the fly (multi-member aware).
"""

from __future__ import annotations

import hashlib
import sys
import zlib
from typing import Any, BinaryIO

from systemkit.diagnostics import SystemkitError

CHUNK = 1 << 20


class CorruptBlob(SystemkitError):
    """Stored content does not match the digest that names it."""


class VerifiedBlob:
    """A read-only stream over a blob that checks its sha256 and size at the end."""

    def __init__(self, raw: BinaryIO, digest: str, size: int | None) -> None:
        if not digest.startswith("sha256:"):
            raise CorruptBlob(f"cannot verify blob {digest!r}: only sha256 digests are supported")
        self._raw = raw
        self._digest = digest
        self._size = size
        self._hash = hashlib.sha256()
        self._read = 0
        self._closed = False
        # The exception a caller was handling when the blob was opened (a build run from an
        # ``except`` block): still there at close, it is not one on its way through here.
        self._handled = sys.exc_info()[1]

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        self._hash.update(data)
        self._read += len(data)
        return data

    def verify(self) -> None:
        """Read the rest and compare; raises :class:`CorruptBlob`."""
        while chunk := self.read(CHUNK):
            del chunk
        actual = "sha256:" + self._hash.hexdigest()
        if actual != self._digest or (self._size is not None and self._read != self._size):
            raise CorruptBlob(
                f"blob {self._digest} is corrupt: its content hashes to {actual} "
                f"({self._read} bytes, expected {self._size})"
            )

    def close(self) -> None:
        """Verify (unless an exception is already on its way: then just close) and close."""
        if self._closed:
            return
        self._closed = True
        try:
            on_its_way = sys.exc_info()[1]
            if on_its_way is None or on_its_way is self._handled:
                self.verify()
        finally:
            self._raw.close()


class GunzipStream:
    """Decompress a gzip stream (possibly several members) from ``src`` as it is read; closing
    closes (and so verifies) ``src``."""

    def __init__(self, src: Any) -> None:
        self._src = src
        self._d: Any = None
        self._in = b""
        self._buf = bytearray()
        self._pos = 0
        self._eof = False

    def _fill(self, want: int) -> None:
        while not self._eof and len(self._buf) - self._pos < want:
            if self._d is None:
                if not self._in:
                    self._in = self._src.read(CHUNK)
                    if not self._in:
                        self._eof = True
                        break
                self._in = self._in.lstrip(b"\0")  # tolerate zero padding between members
                if not self._in:
                    continue
                self._d = zlib.decompressobj(31)
            if not self._in:
                self._in = self._src.read(CHUNK)
                if not self._in:
                    raise CorruptBlob("a gzip layer ends early")
            try:
                out = self._d.decompress(self._in, CHUNK)
            except zlib.error as exc:
                raise CorruptBlob(f"a gzip layer cannot be decompressed: {exc}") from None
            if self._pos > CHUNK:
                del self._buf[: self._pos]
                self._pos = 0
            self._buf += out
            if self._d.eof:
                self._in, self._d = self._d.unused_data, None
            else:
                self._in = self._d.unconsumed_tail

    def read(self, n: int = -1) -> bytes:
        if n < 0:
            self._fill(1 << 62)
            n = len(self._buf) - self._pos
        else:
            self._fill(n)
        data = bytes(self._buf[self._pos : self._pos + n])
        self._pos += len(data)
        return data

    def close(self) -> None:
        self._src.close()
