"""A unified kernel image: systemd's EFI stub (Debian ``systemd-boot-efi``) with the kernel,
initrd, command line and an os-release added as PE sections by ``objcopy``.

The sections follow the stub's own, each aligned to 4 KiB, in systemd's order (``.osrel``,
``.cmdline``, ``.linux``, ``.initrd``). objcopy stamps the PE header with the current time;
that stamp is replaced by the build's fixed time and the PE checksum recomputed, so the image is
byte-reproducible.
"""

from __future__ import annotations

import array
import struct
from collections.abc import Mapping
from pathlib import Path

from systemkit.outputs.hosttools import ToolFailed, run_tool

ALIGN = 0x1000


def _pe_offsets(data: bytes) -> tuple[int, int, int]:
    """(offset of the PE signature, of the optional header, SizeOfImage + ImageBase)."""
    if data[:2] != b"MZ":
        raise ToolFailed("the EFI stub is not a PE image")
    pe = struct.unpack_from("<I", data, 0x3C)[0]
    if data[pe : pe + 4] != b"PE\0\0":
        raise ToolFailed("the EFI stub is not a PE image")
    opt = pe + 24
    if struct.unpack_from("<H", data, opt)[0] != 0x20B:
        raise ToolFailed("the EFI stub is not a PE32+ image")
    image_base = struct.unpack_from("<Q", data, opt + 24)[0]
    size_of_image = struct.unpack_from("<I", data, opt + 56)[0]
    return pe, opt, image_base + size_of_image


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def pe_checksum(path: Path) -> int:
    """The PE image checksum of ``path`` (as ``CheckSumMappedFile`` computes it), whose
    checksum field must be zero: 16-bit words summed with end-around carry, plus the length."""
    total = 0
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            size += len(chunk)
            if len(chunk) % 2:
                chunk += b"\0"
            total += sum(array.array("H", chunk))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (total + size) & 0xFFFFFFFF


def make_uki(
    stub: Path,
    sections: Mapping[str, Path],
    out: Path,
    epoch: int,
    env: Mapping[str, str],
) -> None:
    """Write ``stub`` plus ``sections`` (name -> file, in order) to ``out``."""
    _, _, end = _pe_offsets(stub.read_bytes())
    cmd = ["objcopy"]
    vma = _align(end)
    for name, path in sections.items():
        cmd += [f"--add-section=.{name}={path}", f"--change-section-vma=.{name}={vma:#x}"]
        vma = _align(vma + path.stat().st_size)
    cmd += [str(stub), str(out)]
    run_tool(cmd, env)
    with out.open("r+b") as fh:
        pe, opt, _ = _pe_offsets(fh.read(4096))
        fh.seek(pe + 8)
        fh.write(struct.pack("<I", epoch & 0xFFFFFFFF))
        fh.seek(opt + 64)
        fh.write(b"\0\0\0\0")
    checksum = pe_checksum(out)
    with out.open("r+b") as fh:
        fh.seek(opt + 64)
        fh.write(struct.pack("<I", checksum))
