"""Output formats derived from the filesystem tar: ``tar``, ``kernel+initrd``,
``tar-kernel-initrd``.

The initrd is a gzip'd newc cpio of the tar without the ``boot/...`` members (the ``boot``
directory member itself is kept), preceded by the raw microcode cpio when the kernel section
has ``ucode``. gzip is written with mtime 0 and no file name, so outputs are byte-reproducible.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import BinaryIO

import attrs

from systemkit.assemble.filters import FILES_SOURCE
from systemkit.assemble.tarstream import (
    DEFAULT_MTIME,
    LOCATION,
    REG,
    SOURCE,
    TarHeader,
    TarWriter,
    iter_tar,
)
from systemkit.diagnostics import SystemkitError
from systemkit.outputs.atomic import AtomicOutputs
from systemkit.outputs.cpio import NewcWriter
from systemkit.outputs.diskimages import DISK_FORMATS, write_disk_formats
from systemkit.outputs.pgzip import GzipState, ParallelGzipWriter
from systemkit.progress import Progress

FORMATS: dict[str, str] = {
    "tar": "NAME.tar: the filesystem tar",
    "kernel+initrd": "NAME-kernel, NAME-initrd.img and NAME-cmdline (when not empty)",
    "tar-kernel-initrd": "NAME-initrd.tar holding kernel, initrd.img, cmdline, ucode.cpio",
    **DISK_FORMATS,
}
NEEDS_KERNEL = frozenset({"kernel+initrd", "tar-kernel-initrd", *DISK_FORMATS})
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


def copy_range(src: BinaryIO, dst: BinaryIO, size: int) -> None:
    """Copy ``size`` bytes from the current position of ``src`` to that of ``dst`` (in the
    kernel when it can, else through Python)."""
    dst.flush()
    src_off, dst_off, left = src.tell(), dst.tell(), size
    try:
        while left:
            n = os.copy_file_range(src.fileno(), dst.fileno(), left, src_off, dst_off)
            if n == 0:
                raise OutputError("a cached file is shorter than recorded")
            src_off, dst_off, left = src_off + n, dst_off + n, left - n
    except (AttributeError, OSError):
        pass
    src.seek(src_off)
    dst.seek(dst_off)
    if left:
        _copy(src, dst, left)


@attrs.frozen
class InitrdCheckpoint:
    """The initrd writers' state just before the files section (see :func:`resume_initrd`)."""

    gzip: GzipState
    inode: int
    written: int


@attrs.define
class InitrdResult:
    cmdline: str
    checkpoint: InitrdCheckpoint | None = None
    checkpoints: dict[int, InitrdCheckpoint] = attrs.Factory(dict)
    """The writers' state at each of the ``marks`` found (by index)."""


def split_initrd(
    tar_path: Path,
    kernel_out: Path,
    initrd_out: Path,
    ucode_out: Path,
    marks: Sequence[str] = (),
) -> InitrdResult:
    """Read the filesystem tar once: write the kernel, the gzip'd cpio (padded to 4 bytes) and
    the microcode cpio (``ucode_out`` is removed when there is none); return the cmdline and
    the writers' state at the start of the files section.

    ``marks`` are resume points (``services[2]`` ..., ``files``: the ``LINUXKIT.location`` of
    the first member of a part of the stream); the writers' state just before each one is
    returned too, by index, so a later build can resume there.

    Raises :class:`OutputError` if the tar has no ``boot/kernel``.
    """
    cmdline = b""
    found_kernel = found_ucode = False
    checkpoint: InitrdCheckpoint | None = None
    index = {mark: i for i, mark in enumerate(marks) if mark != "files"}
    files_mark = list(marks).index("files") if "files" in marks else None
    checkpoints: dict[int, InitrdCheckpoint] = {}
    with tar_path.open("rb") as src, initrd_out.open("wb") as raw:
        gz = ParallelGzipWriter(raw, level=GZIP_LEVEL)
        try:
            cpio = NewcWriter(gz)
            for hdr, body in iter_tar(src):
                name = hdr.name
                if index:
                    at = index.pop(hdr.pax.get(LOCATION, ""), None)
                    if at is not None and hdr.pax.get(SOURCE) != FILES_SOURCE:
                        checkpoints[at] = InitrdCheckpoint(gz.checkpoint(), *cpio.state)
                if checkpoint is None and hdr.pax.get(SOURCE) == FILES_SOURCE:
                    checkpoint = InitrdCheckpoint(gz.checkpoint(), *cpio.state)
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
            if checkpoint is None:
                checkpoint = InitrdCheckpoint(gz.checkpoint(), *cpio.state)
            if files_mark is not None:
                checkpoints[files_mark] = checkpoint
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
    return InitrdResult(cmdline.decode("utf-8", "surrogateescape"), checkpoint, checkpoints)


def resume_initrd(
    tar_path: Path,
    files_offset: int,
    gz_prefix: Path,
    checkpoint: InitrdCheckpoint,
    initrd_out: Path,
) -> None:
    """Write the gzip'd cpio of a tar whose part before ``files_offset`` is unchanged since
    ``checkpoint`` was taken: copy the compressed prefix, continue with the files section.
    The bytes equal those :func:`split_initrd` would write."""
    with initrd_out.open("wb") as raw:
        with gz_prefix.open("rb") as prefix:
            copy_range(prefix, raw, checkpoint.gzip.position)
        gz = ParallelGzipWriter(raw, level=GZIP_LEVEL, resume=checkpoint.gzip)
        try:
            cpio = NewcWriter(gz, checkpoint.inode, checkpoint.written)
            with tar_path.open("rb") as src:
                src.seek(files_offset)
                for hdr, body in iter_tar(src):
                    if hdr.name.startswith("boot/"):
                        continue
                    cpio.add_tar_member(hdr, body)
            cpio.close()
        except BaseException:
            gz.abort()
            raise
        gz.close()
        raw.write(b"\0" * (-raw.tell() % 4))


@attrs.define
class InitrdParts:
    """What the kernel formats are made of (scratch files of the current build)."""

    kernel: Path
    gz: Path
    ucode: Path | None
    cmdline: str
    checkpoint: InitrdCheckpoint | None = None
    checkpoints: dict[int, InitrdCheckpoint] = attrs.Factory(dict)
    """The writers' state at each resume point asked for (see :func:`split_initrd`)."""


def initrd_parts(tar_path: Path, outs: AtomicOutputs, marks: Sequence[str] = ()) -> InitrdParts:
    """Split the filesystem tar into kernel, gzip'd cpio, ucode and cmdline (one pass)."""
    kernel, gz, ucode = outs.scratch("kernel"), outs.scratch("initrd"), outs.scratch("ucode")
    result = split_initrd(tar_path, kernel, gz, ucode, marks)
    return InitrdParts(
        kernel,
        gz,
        ucode if ucode.exists() else None,
        result.cmdline,
        result.checkpoint,
        result.checkpoints,
    )


def write_formats(
    tar_path: Path,
    formats: Iterable[str],
    outs: AtomicOutputs,
    name: str,
    parts: InitrdParts | None = None,
    seed: str = "",
    progress: Progress | None = None,
) -> InitrdParts | None:
    """Derive every non-tar format from ``tar_path`` (or from ``parts`` when given); files go
    through ``outs``. Returns the initrd parts used, if any format needed them; their files
    stay readable until ``outs`` commits. ``seed`` (the spec digest) determines the ids in
    the disk images."""
    formats = list(formats)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise OutputError(f"unknown output format {unknown[0]!r}")
    if not NEEDS_KERNEL & set(formats):
        return None
    if parts is None:
        parts = initrd_parts(tar_path, outs)
    for fmt in formats:
        if fmt == "kernel+initrd":
            # The kernel scratch itself becomes the output (a full build's is then hard-linked
            # into the rebuild cache instead of copied; see systemkit.backends.buildcache)
            outs.promote(parts.kernel, f"{name}-kernel")
            if parts.ucode is None and "tar-kernel-initrd" not in formats:
                outs.promote(parts.gz, f"{name}-initrd.img")
            else:
                _copy_into(outs, f"{name}-initrd.img", [p for p in (parts.ucode, parts.gz) if p])
            if parts.cmdline:
                with outs.open(f"{name}-cmdline") as fh:
                    fh.write(parts.cmdline.encode("utf-8", "surrogateescape"))
        elif fmt == "tar-kernel-initrd":
            with outs.open(f"{name}-initrd.tar") as fh:
                tw = TarWriter(fh)
                # LinuxKit writes each part only when it is not empty, in this order.
                members: list[tuple[str, Path | bytes]] = [
                    ("kernel", parts.kernel),
                    ("initrd.img", parts.gz),
                ]
                if parts.cmdline:
                    members.append(("cmdline", parts.cmdline.encode("utf-8", "surrogateescape")))
                if parts.ucode is not None:
                    members.append(("ucode.cpio", parts.ucode))
                for member, content in members:
                    if isinstance(content, bytes):
                        tw.add(TarHeader(member, REG, 0o644, size=len(content)), content)
                    else:
                        size = content.stat().st_size
                        with content.open("rb") as cf:
                            tw.add(
                                TarHeader(member, REG, 0o644, size=size, mtime=DEFAULT_MTIME), cf
                            )
                tw.close()
    write_disk_formats(
        tar_path,
        formats,
        outs,
        name,
        parts.kernel,
        [p for p in (parts.ucode, parts.gz) if p],
        parts.cmdline,
        seed,
        progress,
    )
    return parts


def _copy_into(outs: AtomicOutputs, final_name: str, sources: list[Path]) -> None:
    with outs.open(final_name) as fh:
        for src in sources:
            with src.open("rb") as sf:
                copy_range(sf, fh, os.fstat(sf.fileno()).st_size)


def copy_file(src: Path, dst: Path) -> None:
    with src.open("rb") as a, dst.open("wb") as b:
        copy_range(a, b, os.fstat(a.fileno()).st_size)
