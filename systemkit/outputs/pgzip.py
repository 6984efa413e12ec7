"""Deterministic parallel gzip (pigz-style): one gzip member, blocks deflated on threads.

The input is cut into fixed-size blocks; each block is deflated with the previous 32 KiB as its
preset dictionary and ended with a sync flush, so the raw deflate pieces concatenate into one
valid stream. zlib releases the GIL while compressing, so threads give real parallelism. The
output depends only on the block size and the level, never on the number of threads, so builds
stay byte-reproducible. Header: no file name, mtime 0.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import BinaryIO

import attrs

BLOCK = 1 << 20
WINDOW = 32 * 1024


def _deflate(block: bytes, zdict: bytes, level: int, last: bool) -> bytes:
    comp = (
        zlib.compressobj(level, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, zdict)
        if zdict
        else zlib.compressobj(level, zlib.DEFLATED, -15, 9)
    )
    out = comp.compress(block)
    return out + comp.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


@attrs.frozen
class GzipState:
    """Where a :class:`ParallelGzipWriter` stood: everything needed to continue the same stream
    (``position``: bytes of output written, header included, all of them final)."""

    position: int
    crc: int
    size: int
    pending: bytes
    window: bytes


class ParallelGzipWriter:
    """A write-only binary stream that gzips into ``out`` using ``threads`` threads."""

    def __init__(
        self,
        out: BinaryIO,
        level: int = 6,
        threads: int | None = None,
        block: int = BLOCK,
        resume: GzipState | None = None,
    ) -> None:
        self._out = out
        self._level = level
        self._block = block
        self._threads = max(1, threads or min(8, os.cpu_count() or 1))
        self._pool = ThreadPoolExecutor(max_workers=self._threads)
        self._pending: deque[Future[bytes]] = deque()
        self._buf = bytearray()
        self._prev_tail = b""
        self._crc = 0
        self._size = 0
        self._closed = False
        self._position = 0
        if resume is not None:
            self._crc, self._size = resume.crc, resume.size
            self._buf = bytearray(resume.pending)
            self._prev_tail = resume.window
            self._position = resume.position
            return
        xfl = 2 if level == 9 else (4 if level == 1 else 0)
        self._emit(b"\x1f\x8b\x08\x00" + struct.pack("<I", 0) + bytes([xfl, 255]))

    def _emit(self, data: bytes) -> None:
        self._out.write(data)
        self._position += len(data)

    def checkpoint(self) -> GzipState:
        """Wait for every submitted block and return the state to resume from (the output
        up to ``position`` is final; continuing from it gives the same bytes as not stopping)."""
        while self._pending:
            self._emit(self._pending.popleft().result())
        return GzipState(self._position, self._crc, self._size, bytes(self._buf), self._prev_tail)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        view = bytes(data)
        self._crc = zlib.crc32(view, self._crc)
        self._size += len(view)
        self._buf += view
        while len(self._buf) > self._block:
            block = bytes(self._buf[: self._block])
            del self._buf[: self._block]
            self._submit(block, last=False)
        return len(view)

    def _submit(self, block: bytes, last: bool) -> None:
        zdict = self._prev_tail
        self._prev_tail = block[-WINDOW:] if len(block) >= WINDOW else (zdict + block)[-WINDOW:]
        self._pending.append(self._pool.submit(_deflate, block, zdict, self._level, last))
        while len(self._pending) > 2 * self._threads:
            self._emit(self._pending.popleft().result())

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._submit(bytes(self._buf), last=True)
            self._buf.clear()
            while self._pending:
                self._emit(self._pending.popleft().result())
            self._emit(struct.pack("<II", self._crc & 0xFFFFFFFF, self._size & 0xFFFFFFFF))
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def abort(self) -> None:
        """Stop without writing the rest (the output is incomplete)."""
        self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ParallelGzipWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
