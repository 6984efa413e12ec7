"""Find out what a build artifact is and how qemu boots it.

:func:`boot_plan` looks at the bytes of the file it is given (not at its name) and returns a
:class:`BootPlan`: the kernel, initrd and command line for a direct kernel boot (``kernel+initrd``,
and ``squashfs``/``erofs`` with their companion files), or the qemu arguments that attach a disk
image and the firmware that boots it:

==================  ==============================================  =========================
artifact            recognised by                                   boots with
==================  ==============================================  =========================
ISO 9660            ``CD001`` at 32769; El Torito catalog entries    SeaBIOS when it has a BIOS
                    (platform 0 = BIOS, 0xEF = UEFI)                entry, else OVMF
raw disk            MBR signature; a protective 0xEE partition       OVMF for GPT, else SeaBIOS
                    means GPT
qcow2               ``QFI\\xfb``; its first sectors read with        as a raw disk
                    ``qemu-img dd``
UKI                 a PE image with a ``.linux`` section             OVMF (on a virtual FAT disk)
squashfs / erofs    ``hsqs`` at 0 / 0xE0F5E1E2 at 1024               the NAME-FMT-kernel and
                                                                    -initrd.img beside it
==================  ==============================================  =========================

``uefi=True`` boots with OVMF where detection says BIOS or cannot tell. Disk images are
attached with ``snapshot=on`` (or read-only), so a boot never changes the artifact.
"""

from __future__ import annotations

import contextlib
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import attrs

from systemkit.run.artifacts import ArtifactNotFound, find_kernel_initrd

OVMF = Path("/usr/share/ovmf/OVMF.fd")
"""UEFI firmware for qemu (Debian package ``ovmf``)."""
ISO_SECTOR = 2048
_EROFS_MAGIC = 0xE0F5E1E2


@attrs.frozen
class BootPlan:
    """How to boot one artifact."""

    format: str
    """What the artifact is: kernel+initrd, iso, raw, qcow2, uki, squashfs or erofs."""
    uefi: bool
    """Boot with OVMF (else qemu's default SeaBIOS)."""
    args: tuple[str, ...] = ()
    """qemu arguments for the firmware and the disk."""
    kernel: Path | None = None
    initrd: Path | None = None
    cmdline: str = ""
    """For direct kernel boots: the command line the build wrote."""

    @property
    def direct(self) -> bool:
        """qemu loads the kernel itself (-kernel/-initrd/-append)."""
        return self.kernel is not None


def _read(path: Path, offset: int, size: int) -> bytes:
    with path.open("rb") as fh:
        fh.seek(offset)
        return fh.read(size)


def _iso_platforms(path: Path) -> set[int]:
    """The El Torito platform ids of an ISO's bootable entries (0 BIOS, 0xEF UEFI)."""
    record = _read(path, 17 * ISO_SECTOR, ISO_SECTOR)
    if record[1:6] != b"CD001" or b"EL TORITO" not in record[7:39]:
        return set()
    catalog = _read(path, struct.unpack_from("<I", record, 0x47)[0] * ISO_SECTOR, ISO_SECTOR)
    platforms: set[int] = set()
    platform = catalog[1]
    for off in range(32, len(catalog), 32):
        entry = catalog[off : off + 32]
        if entry[0] in (0x90, 0x91):
            platform = entry[1]
        elif entry[0] == 0x88:
            platforms.add(platform)
        elif entry[0] == 0 and off > 32:
            break
    return platforms


def _mbr_kind(first: bytes) -> str | None:
    """ "gpt", "mbr", or None when ``first`` (sector 0) has no partition table."""
    if len(first) < 512 or first[510:512] != b"\x55\xaa":
        return None
    types = [first[446 + 16 * i + 4] for i in range(4)]
    if 0xEE in types:
        return "gpt"
    return "mbr" if any(types) else None


def _qcow2_first_sector(path: Path) -> bytes:
    if shutil.which("qemu-img") is None:
        raise ArtifactNotFound(
            f"{path} is a qcow2 image; reading it needs qemu-img (Debian package qemu-utils)"
        )
    with tempfile.TemporaryDirectory(prefix="systemkit-qcow2-") as tmp:
        raw = Path(tmp) / "sector0"
        cmd = ["qemu-img", "dd", "-f", "qcow2", "-O", "raw", "bs=512", "count=1"]
        proc = subprocess.run(
            [*cmd, f"if={path}", f"of={raw}"],
            capture_output=True,
            check=False,
        )
        if proc.returncode != 0 or not raw.is_file():
            raise ArtifactNotFound(f"{path}: qemu-img cannot read it as qcow2")
        return raw.read_bytes()


def _is_uki(head: bytes) -> bool:
    if head[:2] != b"MZ" or len(head) < 0x40:
        return False
    pe = struct.unpack_from("<I", head, 0x3C)[0]
    if head[pe : pe + 4] != b"PE\0\0":
        return False
    count = struct.unpack_from("<H", head, pe + 6)[0]
    table = pe + 24 + struct.unpack_from("<H", head, pe + 20)[0]
    names = {head[table + 40 * i : table + 40 * i + 8].rstrip(b"\0") for i in range(count)}
    return b".linux" in names


def _companions(path: Path, fmt: str) -> tuple[Path, Path, str]:
    """NAME-FMT-kernel, NAME-FMT-initrd.img and the NAME-FMT-cmdline text beside ``path``
    (NAME-FMT.img)."""
    suffix = f"-{fmt}.img"
    if not path.name.endswith(suffix):
        raise ArtifactNotFound(
            f"{path} is a {fmt} image but not named NAME{suffix}, so its kernel "
            f"(NAME-{fmt}-kernel) cannot be found"
        )
    prefix = path.name[: -len(suffix)] + f"-{fmt}"
    kernel = path.with_name(prefix + "-kernel")
    initrd = path.with_name(prefix + "-initrd.img")
    cmdline = path.with_name(prefix + "-cmdline")
    for what, f in (("kernel", kernel), ("initrd", initrd)):
        if not f.is_file():
            raise ArtifactNotFound(f"no {what} at {f} (written beside {path.name} by the build)")
    return kernel, initrd, cmdline.read_text().strip() if cmdline.is_file() else ""


def _drive(path: Path, options: str) -> tuple[str, ...]:
    """``-drive file=PATH,OPTIONS`` (commas in the path doubled, as qemu wants)."""
    return ("-drive", f"file={str(path).replace(',', ',,')},{options}")


def _firmware(uefi: bool) -> tuple[str, ...]:
    if not uefi:
        return ()
    if not OVMF.is_file():
        raise ArtifactNotFound(f"booting with UEFI needs {OVMF} (Debian package ovmf)")
    return ("-bios", str(OVMF))


@contextlib.contextmanager
def boot_plan(path: str | Path, *, uefi: bool = False) -> Iterator[BootPlan]:
    """The :class:`BootPlan` of the artifact at ``path`` (a disk or filesystem image, a UKI,
    or a kernel+initrd build as :func:`find_kernel_initrd` takes it). Scratch files it needs
    (the virtual FAT directory of a UKI) exist until the ``with`` block ends."""
    p = Path(path)
    if not p.is_file() or p.name.endswith(("-kernel", "-initrd.img", "-cmdline")):
        build = find_kernel_initrd(p)
        yield BootPlan(
            "kernel+initrd",
            uefi,
            _firmware(uefi),
            build.kernel,
            build.initrd,
            build.cmdline,
        )
        return
    head = _read(p, 0, 65536)
    if _read(p, 16 * ISO_SECTOR + 1, 5) == b"CD001":
        platforms = _iso_platforms(p)
        if not platforms:
            raise ArtifactNotFound(f"{p} is an ISO image without an El Torito boot entry")
        boot_uefi = uefi or 0 not in platforms
        disk = _drive(p, "media=cdrom,readonly=on")
        yield BootPlan("iso", boot_uefi, _firmware(boot_uefi) + disk)
    elif head[:4] == b"QFI\xfb":
        kind = _mbr_kind(_qcow2_first_sector(p))
        boot_uefi = uefi or kind == "gpt"
        disk = _drive(p, "format=qcow2,if=virtio,snapshot=on")
        yield BootPlan("qcow2", boot_uefi, _firmware(boot_uefi) + disk)
    elif _is_uki(head):
        with tempfile.TemporaryDirectory(prefix="systemkit-uki-") as tmp:
            boot = Path(tmp, "EFI", "BOOT")
            boot.mkdir(parents=True)
            (boot / "BOOTX64.EFI").symlink_to(p.resolve())
            disk = _drive(Path(f"fat:{tmp}"), "format=raw,if=virtio,readonly=on")
            yield BootPlan("uki", True, _firmware(True) + disk)
    elif head[:4] == b"hsqs" or head[1024:1028] == struct.pack("<I", _EROFS_MAGIC):
        fmt = "squashfs" if head[:4] == b"hsqs" else "erofs"
        kernel, initrd, cmdline = _companions(p, fmt)
        disk = _drive(p, "format=raw,if=virtio,readonly=on")
        yield BootPlan(fmt, uefi, _firmware(uefi) + disk, kernel, initrd, cmdline)
    else:
        kind = _mbr_kind(head[:512])
        if kind is None:
            raise ArtifactNotFound(
                f"{p} is not a bootable artifact systemkit knows (ISO, raw or qcow2 disk, "
                "UKI, squashfs, erofs, or a kernel+initrd build)"
            )
        boot_uefi = uefi or kind == "gpt"
        disk = _drive(p, "format=raw,if=virtio,snapshot=on")
        yield BootPlan("raw", boot_uefi, _firmware(boot_uefi) + disk)
