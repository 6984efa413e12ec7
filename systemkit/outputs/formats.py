"""Output formats derived from the filesystem tar: ``tar``, ``kernel+initrd``,
``tar-kernel-initrd``.

The initrd is a gzip'd newc cpio of the tar without the ``boot/...`` members (the ``boot``
directory member itself is kept), preceded by the raw microcode cpio when the kernel section
has ``ucode``. gzip is written with mtime 0 and no file name, so outputs are byte-reproducible.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from systemkit.assemble.tarstream import DEFAULT_MTIME, REG, TarHeader, TarWriter, iter_tar
from systemkit.diagnostics import SystemkitError
from systemkit.outputs.atomic import AtomicOutputs
from systemkit.outputs.cpio import NewcWriter
from systemkit.outputs.pgzip import ParallelGzipWriter

FORMATS: dict[str, str] = {
    "tar": "NAME.tar: the filesystem tar",
    "kernel+initrd": "NAME-kernel, NAME-initrd.img and NAME-cmdline (when not empty)",
    "tar-kernel-initrd": "NAME-initrd.tar holding kernel, initrd.img, cmdline (and ucode.cpio)",
}
NEEDS_KERNEL = frozenset({"kernel+initrd", "tar-kernel-initrd"})
GZIP_LEVEL = 6


class OutputError(SystemkitError):
    """An output cannot be made from the built filesystem."""


def _copy(src: BinaryIO, dst: BinaryIO, size: int) -> None:
    left = size
    while left:
        chunk = src.read(min(left, 1 << 20))
        if not chunk:
            raise OutputError("the filesystem tar ends early")
        dst.write(chunk)
        left -= len(chunk)


def split_initrd(tar_path: Path, kernel_out: Path, initrd_out: Path, ucode_out: Path) -> str:
    """Read the filesystem tar once: write the kernel, the gzip'd cpio (padded to 4 bytes) and
    the microcode cpio (``ucode_out`` is removed when there is none); return the cmdline.

    Raises :class:`OutputError` if the tar has no ``boot/kernel``.
    """
    cmdline = b""
    found_kernel = found_ucode = False
    with tar_path.open("rb") as src, initrd_out.open("wb") as raw:
        gz = ParallelGzipWriter(raw, level=GZIP_LEVEL)
        try:
            cpio = NewcWriter(gz)
            for hdr, body in iter_tar(src):
                name = hdr.name
                if name == "boot/kernel":
                    found_kernel = True
                    with kernel_out.open("wb") as kf:
                        _copy(body, kf, hdr.size)  # type: ignore[arg-type]
                elif name == "boot/cmdline":
                    cmdline = body.read()
                elif name == "boot/ucode.cpio":
                    found_ucode = True
                    with ucode_out.open("wb") as uf:
                        _copy(body, uf, hdr.size)  # type: ignore[arg-type]
                elif name.startswith("boot/"):
                    continue
                else:
                    cpio.add_tar_member(hdr, body)
            cpio.close()
        except BaseException:
            gz.abort()
            raise
        gz.close()
        raw.write(b"\0" * (-raw.tell() % 4))
    if not found_kernel:
        raise OutputError("the system has no kernel (boot/kernel), which this format needs")
    if not found_ucode:
        ucode_out.unlink(missing_ok=True)
    return cmdline.decode("utf-8", "surrogateescape")


def write_formats(tar_path: Path, formats: Iterable[str], outs: AtomicOutputs, name: str) -> None:
    """Derive every non-tar format from ``tar_path``; files go through ``outs``."""
    for fmt in formats:
        if fmt == "tar":
            continue
        if fmt == "kernel+initrd":
            kernel = outs.temp(f"{name}-kernel")
            gz = outs.scratch("initrd")
            ucode = outs.scratch("ucode")
            cmdline = split_initrd(tar_path, kernel, gz, ucode)
            if ucode.exists():
                with outs.open(f"{name}-initrd.img") as fh:
                    for part in (ucode, gz):
                        with part.open("rb") as src:
                            shutil.copyfileobj(src, fh, 1 << 20)
            else:
                outs.promote(gz, f"{name}-initrd.img")
            if cmdline:
                with outs.open(f"{name}-cmdline") as fh:
                    fh.write(cmdline.encode("utf-8", "surrogateescape"))
        elif fmt == "tar-kernel-initrd":
            kernel = outs.scratch("kernel")
            initrd = outs.scratch("initrd")
            ucode = outs.scratch("ucode")
            cmdline = split_initrd(tar_path, kernel, initrd, ucode)
            with outs.open(f"{name}-initrd.tar") as fh:
                tw = TarWriter(fh)
                parts: list[tuple[str, Path | bytes]] = [
                    ("kernel", kernel),
                    ("initrd.img", initrd),
                    ("cmdline", cmdline.encode("utf-8", "surrogateescape")),
                ]
                if ucode.exists():
                    parts.append(("ucode.cpio", ucode))
                for member, content in parts:
                    if isinstance(content, bytes):
                        tw.add(TarHeader(member, REG, 0o644, size=len(content)), content)
                    else:
                        size = content.stat().st_size
                        with content.open("rb") as cf:
                            tw.add(
                                TarHeader(member, REG, 0o644, size=size, mtime=DEFAULT_MTIME), cf
                            )
                tw.close()
        else:
            raise OutputError(f"unknown output format {fmt!r}")


def copy_file(src: Path, dst: Path) -> None:
    with src.open("rb") as a, dst.open("wb") as b:
        shutil.copyfileobj(a, b, 1 << 20)
