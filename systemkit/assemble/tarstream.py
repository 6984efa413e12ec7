"""Streaming tar: a reader that keeps raw names, and a PAX writer laid out like Go's archive/tar.

LinuxKit writes its filesystem with Go's ``archive/tar`` in PAX format, every member carrying the
``LINUXKIT.source`` and ``LINUXKIT.location`` records. :class:`TarWriter` reproduces that layout
byte for byte: an ``x`` header named ``<dir>/PaxHeaders.0/<base>`` with the records sorted by key,
then a USTAR-magic header whose numeric fields are zero-padded octal with a NUL terminator.

:func:`iter_tar` reads a tar stream member by member without loading bodies into memory and
without rewriting names (Python's :mod:`tarfile` strips the trailing ``/`` of directories,
LinuxKit does not).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

import attrs

from systemkit.diagnostics import SystemkitError
from systemkit.limits import MAX_TAR_EXTENDED_HEADER

BLOCK = 512
DEFAULT_MTIME = 1492533000
"""2017-04-18T16:30:00Z: LinuxKit's mtime for every synthesised member."""

SOURCE = "LINUXKIT.source"
LOCATION = "LINUXKIT.location"

REG, LNK, SYM, CHR, BLK, DIR, FIFO = b"0", b"1", b"2", b"3", b"4", b"5", b"6"
TYPE_NAMES = {
    REG: "file",
    b"7": "file",
    LNK: "hardlink",
    SYM: "symlink",
    CHR: "char",
    BLK: "block",
    DIR: "dir",
    FIFO: "fifo",
}

_BASIC_KEYS = frozenset(
    {"path", "linkpath", "size", "uid", "gid", "uname", "gname", "mtime", "atime", "ctime"}
)


class TarFormatError(SystemkitError, ValueError):
    """A tar stream that cannot be read."""


@attrs.define
class TarHeader:
    """One tar member's header, with Go ``tar.Header`` semantics.

    ``pax`` holds the PAX records that are not basic fields (``LINUXKIT.*``, ``SCHILY.xattr.*``
    ...); basic records (path, size, ...) are derived from the fields when writing.
    ``mtime_text``/``atime``/``ctime`` keep sub-second or extra times as PAX decimal text.
    """

    name: str
    typeflag: bytes = REG
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    size: int = 0
    mtime: int = DEFAULT_MTIME
    linkname: str = ""
    uname: str = ""
    gname: str = ""
    devmajor: int = 0
    devminor: int = 0
    pax: dict[str, str] = attrs.field(factory=dict)
    mtime_text: str | None = None
    atime: str | None = None
    ctime: str | None = None

    @property
    def kind(self) -> str:
        return TYPE_NAMES.get(self.typeflag, "other")

    def is_dir(self) -> bool:
        return self.typeflag == DIR

    def has_body(self) -> bool:
        return self.typeflag in (REG, b"7") and self.size > 0

    def copy(self) -> TarHeader:
        return attrs.evolve(self, pax=dict(self.pax))


# --- Go path helpers ------------------------------------------------------------------------


def go_clean(path: str) -> str:
    """Go's ``path.Clean``: lexical cleaning, ``""`` -> ``"."``, ``"/.."`` -> ``"/"``."""
    if path == "":
        return "."
    rooted = path.startswith("/")
    out: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if out and out[-1] != "..":
                out.pop()
            elif not rooted:
                out.append("..")
            continue
        out.append(part)
    text = "/".join(out)
    if rooted:
        return "/" + text
    return text or "."


def go_join(*parts: str) -> str:
    """Go's ``path.Join``: join the non-empty parts and clean; all empty gives ``""``."""
    kept = [p for p in parts if p]
    if not kept:
        return ""
    return go_clean("/".join(kept))


def go_split(path: str) -> tuple[str, str]:
    """Go's ``path.Split``: everything up to and including the last ``/``, and the rest."""
    i = path.rfind("/")
    return path[: i + 1], path[i + 1 :]


# --- writing --------------------------------------------------------------------------------


def _octal(value: int, width: int) -> bytes:
    """Go's formatOctal: zero-padded octal leaving room for a NUL (0 if it does not fit)."""
    if value < 0 or value >= 8 ** (width - 1):
        value = 0
    digits = format(value, "o")
    return digits.rjust(width - 1, "0").encode("ascii")[: width - 1] + b"\0"


def _field(text: str, width: int) -> bytes:
    raw = _to_ascii(text).encode("ascii")
    if len(raw) >= width:
        raw = raw[:width]
        if len(text) > width and raw.endswith(b"/"):
            raw = raw.rstrip(b"/")
    return raw.ljust(width, b"\0")


def _to_ascii(text: str) -> str:
    return "".join(c for c in text if ord(c) < 0x80)


def _fits_octal(value: int, width: int) -> bool:
    return bool(0 <= value < 8 ** (width - 1))


def _is_ascii(text: str) -> bool:
    return all(ord(c) < 0x80 for c in text)


def _checksum(block: bytearray) -> None:
    block[148:156] = b" " * 8
    total = sum(block)
    block[148:155] = _octal(total, 7)
    block[155:156] = b" "


def pax_record(key: str, value: str) -> bytes:
    """One PAX record ``"%d %s=%s\\n"`` whose length counts itself."""
    body = f" {key}={value}\n".encode()
    size = len(body) + 1
    while len(str(size)) + len(body) != size:
        size = len(str(size)) + len(body)
    return str(size).encode() + body


def _pax_records(hdr: TarHeader) -> dict[str, str]:
    recs: dict[str, str] = {}
    for key, value in hdr.pax.items():
        if key not in _BASIC_KEYS and not key.startswith("GNU.sparse"):
            recs[key] = value
    if len(hdr.name) > 100 or not _is_ascii(hdr.name):
        recs["path"] = hdr.name
    if len(hdr.linkname) > 100 or not _is_ascii(hdr.linkname):
        recs["linkpath"] = hdr.linkname
    if len(hdr.uname) > 32 or not _is_ascii(hdr.uname):
        recs["uname"] = hdr.uname
    if len(hdr.gname) > 32 or not _is_ascii(hdr.gname):
        recs["gname"] = hdr.gname
    if not _fits_octal(hdr.uid, 8):
        recs["uid"] = str(hdr.uid)
    if not _fits_octal(hdr.gid, 8):
        recs["gid"] = str(hdr.gid)
    if not _fits_octal(hdr.size, 12):
        recs["size"] = str(hdr.size)
    if hdr.mtime_text is not None:
        recs["mtime"] = hdr.mtime_text
    elif not _fits_octal(hdr.mtime, 12):
        recs["mtime"] = str(hdr.mtime)
    if hdr.atime is not None:
        recs["atime"] = hdr.atime
    if hdr.ctime is not None:
        recs["ctime"] = hdr.ctime
    return recs


def _raw_header(
    name: str,
    typeflag: bytes,
    *,
    mode: int = 0,
    uid: int = 0,
    gid: int = 0,
    size: int = 0,
    mtime: int = 0,
    linkname: str = "",
    uname: str = "",
    gname: str = "",
    devmajor: int | None = None,
    devminor: int | None = None,
) -> bytes:
    blk = bytearray(BLOCK)
    blk[0:100] = _field(name, 100)
    blk[100:108] = _octal(mode, 8)
    blk[108:116] = _octal(uid, 8)
    blk[116:124] = _octal(gid, 8)
    blk[124:136] = _octal(size, 12)
    blk[136:148] = _octal(mtime, 12)
    blk[156:157] = typeflag
    blk[157:257] = _field(linkname, 100)
    blk[257:263] = b"ustar\0"
    blk[263:265] = b"00"
    blk[265:297] = _field(uname, 32)
    blk[297:329] = _field(gname, 32)
    if devmajor is not None:
        blk[329:337] = _octal(devmajor, 8)
    if devminor is not None:
        blk[337:345] = _octal(devminor, 8)
    _checksum(blk)
    return bytes(blk)


def encode_header(hdr: TarHeader) -> bytes:
    """The bytes Go's ``tar.Writer.WriteHeader`` writes for ``hdr`` in PAX format."""
    out = b""
    recs = _pax_records(hdr)
    if recs:
        data = b"".join(pax_record(k, recs[k]) for k in sorted(recs))
        directory, base = go_split(hdr.name)
        xname = go_join(directory, "PaxHeaders.0", base)
        xname = _to_ascii(xname)[:100].rstrip("/")
        out += _raw_header(xname, b"x", size=len(data))
        out += data + b"\0" * (-len(data) % BLOCK)
    out += _raw_header(
        hdr.name,
        hdr.typeflag,
        mode=hdr.mode,
        uid=hdr.uid,
        gid=hdr.gid,
        size=hdr.size,
        mtime=hdr.mtime,
        linkname=hdr.linkname,
        uname=hdr.uname,
        gname=hdr.gname,
        devmajor=hdr.devmajor,
        devminor=hdr.devminor,
    )
    return out


class TarWriter:
    """Write members to a binary stream; bodies are copied in chunks, never held whole."""

    CHUNK = 1 << 20

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self.count = 0
        self.bytes_written = 0

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self.bytes_written += len(data)

    def add(self, hdr: TarHeader, body: bytes | BinaryIO | Body | None = None) -> None:
        """Write one member; ``body`` supplies exactly ``hdr.size`` bytes for a regular file."""
        size = hdr.size if hdr.typeflag in (REG, b"7") else 0
        if hdr.typeflag not in (REG, b"7"):
            hdr = attrs.evolve(hdr, size=0)
        self._write(encode_header(hdr))
        self.count += 1
        if size == 0:
            return
        if body is None:
            raise ValueError(f"tar member {hdr.name}: {size} bytes of content are missing")
        if isinstance(body, bytes | bytearray | memoryview):
            if len(body) != size:
                raise ValueError(f"tar member {hdr.name}: content is not {size} bytes")
            self._write(bytes(body))
        else:
            left = size
            while left:
                chunk = body.read(min(self.CHUNK, left))
                if not chunk:
                    raise TarFormatError(f"tar member {hdr.name}: content ends early")
                self._write(chunk)
                left -= len(chunk)
            closer = getattr(body, "close", None)
            if closer is not None:
                closer()
        pad = -size % BLOCK
        if pad:
            self._write(b"\0" * pad)

    def close(self) -> None:
        """Write the end-of-archive marker (two zero blocks), as Go's Close does."""
        self._write(b"\0" * (2 * BLOCK))


# --- reading --------------------------------------------------------------------------------


def _parse_number(field: bytes) -> int:
    if field and field[0] & 0x80:
        value = int.from_bytes(field[1:], "big")
        if field[0] & 0x40:
            value -= 1 << (8 * len(field) - 2)
        return value
    text = field.split(b"\0", 1)[0].strip(b" ")
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise TarFormatError(f"bad numeric field {field!r} in tar header") from None


def _parse_pax(data: bytes) -> dict[str, str]:
    recs: dict[str, str] = {}
    i = 0
    while i < len(data):
        if data[i] == 0:
            break
        sp = data.index(b" ", i)
        length = int(data[i:sp])
        if length <= 0:
            raise TarFormatError("bad PAX record length")
        rec = data[sp + 1 : i + length - 1].decode("utf-8", "surrogateescape")
        key, _, value = rec.partition("=")
        recs[key] = value
        i += length
    return recs


def _cstr(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    chunks = []
    left = n
    while left:
        chunk = stream.read(left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _pax_time(text: str) -> tuple[int, str | None]:
    """Seconds of a PAX time, and the text to re-emit when it has a fraction (Go keeps nanos)."""
    sec, _, frac = text.partition(".")
    frac = frac[:9].rstrip("0")
    seconds = int(sec or "0")
    if frac:
        return seconds, f"{seconds}.{frac}"
    return seconds, None


class Body:
    """The content of the current member: a bounded reader over the tar stream."""

    def __init__(self, stream: BinaryIO, size: int) -> None:
        self._stream = stream
        self.left = size

    def read(self, n: int = -1) -> bytes:
        if n < 0 or n > self.left:
            n = self.left
        if n == 0:
            return b""
        data = self._stream.read(n)
        if len(data) < n:
            data += _read_exact(self._stream, n - len(data))
            if len(data) < n:
                raise TarFormatError("tar stream ends inside a member")
        self.left -= len(data)
        return data

    def drain(self) -> None:
        while self.left:
            self.read(min(self.left, 1 << 20))


def iter_tar(stream: BinaryIO) -> Iterator[tuple[TarHeader, Body]]:
    """Yield each member's header and body reader; the body must be used before the next step."""
    pax: dict[str, str] = {}
    gnu_name: str | None = None
    gnu_link: str | None = None
    while True:
        blk = _read_exact(stream, BLOCK)
        if len(blk) < BLOCK or blk == b"\0" * BLOCK:
            return
        stored = _parse_number(blk[148:156])
        unsigned = sum(blk[:148]) + 256 + sum(blk[156:])
        if stored != unsigned:
            signed = sum(b - 256 if b > 127 else b for b in blk[:148] + blk[156:]) + 256
            if stored != signed:
                raise TarFormatError("tar header checksum mismatch")
        typeflag = blk[156:157]
        size = _parse_number(blk[124:136])
        if typeflag in (b"x", b"g", b"L", b"K"):
            if size > MAX_TAR_EXTENDED_HEADER:
                raise TarFormatError(
                    f"a tar extended header of {size} bytes (the limit is "
                    f"{MAX_TAR_EXTENDED_HEADER >> 20} MiB, as Go's archive/tar)"
                )
            data = _read_exact(stream, size + (-size % BLOCK))[:size]
            if typeflag == b"x":
                pax.update(_parse_pax(data))
            elif typeflag == b"L":
                gnu_name = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            elif typeflag == b"K":
                gnu_link = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            continue
        magic = blk[257:265]
        name = _cstr(blk[0:100])
        if magic == b"ustar\x0000":
            prefix = _cstr(blk[345:500])
            if prefix:
                name = prefix + "/" + name
        if typeflag == b"\0":
            typeflag = DIR if name.endswith("/") else REG
        hdr = TarHeader(
            name=name,
            typeflag=typeflag,
            mode=_parse_number(blk[100:108]),
            uid=_parse_number(blk[108:116]),
            gid=_parse_number(blk[116:124]),
            size=size,
            mtime=_parse_number(blk[136:148]),
            linkname=_cstr(blk[157:257]),
            uname=_cstr(blk[265:297]),
            gname=_cstr(blk[297:329]),
            devmajor=_parse_number(blk[329:337]) if magic.startswith(b"ustar") else 0,
            devminor=_parse_number(blk[337:345]) if magic.startswith(b"ustar") else 0,
        )
        if magic == b"ustar  \0":
            atime, ctime = blk[345:357], blk[357:369]
            if atime[0]:
                hdr.atime = str(_parse_number(atime))
            if ctime[0]:
                hdr.ctime = str(_parse_number(ctime))
        if gnu_name is not None:
            hdr.name = gnu_name
        if gnu_link is not None:
            hdr.linkname = gnu_link
        for key, value in pax.items():
            if key == "path":
                hdr.name = value
            elif key == "linkpath":
                hdr.linkname = value
            elif key == "uname":
                hdr.uname = value
            elif key == "gname":
                hdr.gname = value
            elif key in ("uid", "gid", "size"):
                setattr(hdr, key, int(value))
            elif key == "mtime":
                hdr.mtime, hdr.mtime_text = _pax_time(value)
            elif key in ("atime", "ctime"):
                seconds, text = _pax_time(value)
                setattr(hdr, key, text or str(seconds))
            else:
                hdr.pax[key] = value
        pax, gnu_name, gnu_link = {}, None, None
        body_size = hdr.size
        if typeflag in (LNK, SYM, DIR, CHR, BLK, FIFO):
            hdr.size = 0
            body_size = 0
        body = Body(stream, body_size)
        yield hdr, body
        body.drain()
        pad = -body_size % BLOCK
        if pad:
            _read_exact(stream, pad)
