"""The host programs and files the disk-image formats use, and the Debian package of each.

Every disk-image format is made by Debian tools run as subprocesses (no daemon, no VM, no
loop mount). Before a build starts, :func:`require_for` checks that everything the requested
formats need is installed; a missing piece fails the build with one line naming it and its
Debian package, before anything is written.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from systemkit.diagnostics import SystemkitError

PROGRAMS: dict[str, str] = {
    "fakeroot": "fakeroot",
    "mkfs.vfat": "dosfstools",
    "mmd": "mtools",
    "mcopy": "mtools",
    "xorriso": "xorriso",
    "grub-mkimage": "grub-common",
    "syslinux": "syslinux",
    "sgdisk": "gdisk",
    "sfdisk": "fdisk",
    "qemu-img": "qemu-utils",
    "mksquashfs": "squashfs-tools",
    "mkfs.erofs": "erofs-utils",
    "objcopy": "binutils",
}
"""Program -> the Debian package that installs it."""

FILES: dict[str, tuple[str, str]] = {
    "grub-efi": ("/usr/lib/grub/x86_64-efi/linux.mod", "grub-efi-amd64-bin"),
    "isolinux.bin": ("/usr/lib/ISOLINUX/isolinux.bin", "isolinux"),
    "isohdpfx.bin": ("/usr/lib/ISOLINUX/isohdpfx.bin", "isolinux"),
    "ldlinux.c32": ("/usr/lib/syslinux/modules/bios/ldlinux.c32", "syslinux-common"),
    "mbr.bin": ("/usr/lib/syslinux/mbr/mbr.bin", "syslinux-common"),
    "systemd-boot": ("/usr/lib/systemd/boot/efi/systemd-bootx64.efi", "systemd-boot-efi"),
    "efi-stub": ("/usr/lib/systemd/boot/efi/linuxx64.efi.stub", "systemd-boot-efi"),
    "busybox": ("/bin/busybox", "busybox-static"),
}
"""Data file -> (its path, the Debian package that installs it)."""

_ISO_TREE = ("fakeroot", "xorriso", "busybox")
_GRUB_EFI = ("grub-mkimage", "grub-efi", "mkfs.vfat", "mmd", "mcopy")
_UKI = ("objcopy", "efi-stub")
NEEDS: dict[str, tuple[str, ...]] = {
    "iso-efi": (*_ISO_TREE, *_GRUB_EFI),
    "iso-efi-initrd": ("xorriso", *_GRUB_EFI),
    "iso-bios": (*_ISO_TREE, "isolinux.bin", "isohdpfx.bin", "ldlinux.c32"),
    "raw-efi": (*_UKI, "systemd-boot", "mkfs.vfat", "mmd", "mcopy", "sgdisk"),
    "raw-bios": ("mkfs.vfat", "mcopy", "syslinux", "mbr.bin", "sfdisk"),
    "qcow2-efi": (*_GRUB_EFI, "sgdisk", "qemu-img"),
    "squashfs": ("fakeroot", "mksquashfs", "busybox"),
    "erofs": ("fakeroot", "mkfs.erofs", "busybox"),
    "uki": _UKI,
}
"""Format -> the programs and files (keys of PROGRAMS / FILES) it needs."""


class MissingToolError(SystemkitError):
    """A host program or file a format needs is not installed."""


class ToolFailed(SystemkitError):
    """A host program exited with an error."""


def _missing(item: str) -> str | None:
    """The one-line complaint about ``item``, or None when it is installed."""
    if item in PROGRAMS:
        if shutil.which(item) is None:
            return f"{item} (Debian package {PROGRAMS[item]})"
        return None
    path, package = FILES[item]
    if not Path(path).exists():
        return f"{path} (Debian package {package})"
    return None


def require_for(formats: Iterable[str]) -> None:
    """Raise :class:`MissingToolError` naming the first missing program or file (and its
    Debian package) that ``formats`` need."""
    for fmt in formats:
        for item in NEEDS.get(fmt, ()):
            problem = _missing(item)
            if problem is not None:
                raise MissingToolError(
                    f"format {fmt!r} needs {problem}, which is not installed; "
                    "scripts/setup.sh installs it"
                )


def path_of(item: str) -> str:
    """The path of a data file of :data:`FILES`."""
    return FILES[item][0]


def tool_env(epoch: int, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment the tools run in: C locale, UTC, ``SOURCE_DATE_EPOCH`` (mtools and
    syslinux date what they write by it), mtools' image checks off."""
    env = dict(os.environ)
    env.update(
        {
            "LC_ALL": "C",
            "TZ": "UTC",
            "SOURCE_DATE_EPOCH": str(epoch),
            "MTOOLS_SKIP_CHECK": "1",
        }
    )
    if extra:
        env.update(extra)
    return env


def run_tool(
    cmd: Sequence[str],
    env: Mapping[str, str],
    *,
    input: bytes | None = None,
    name: str | None = None,
) -> None:
    """Run ``cmd``; a failure raises :class:`ToolFailed` naming it (``name``, else the
    program) with its last error lines."""
    try:
        proc = subprocess.run(
            list(cmd), env=dict(env), input=input, capture_output=True, check=False
        )
    except FileNotFoundError:
        raise MissingToolError(f"{cmd[0]} is not installed") from None
    if proc.returncode != 0:
        err = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip().splitlines()
        tail = "; ".join(err[-3:]) if err else "no output"
        what = name or Path(cmd[0]).name
        raise ToolFailed(f"{what} failed (status {proc.returncode}): {tail}")
