"""The small boot initrd of the formats whose root filesystem is a device (``iso-bios``,
``iso-efi``, ``squashfs``, ``erofs``).

LinuxKit's kernels have iso9660, squashfs, erofs and the disk drivers built in, so LinuxKit boots
these formats with ``root=/dev/sr0`` (or ``/dev/vda``) and no initrd. Distribution kernels (such
as Debian's, which the hello example uses) build them as modules, which the kernel cannot load
before its root is mounted. So systemkit adds an initrd: the host's static busybox (Debian
``busybox-static``), the modules that reach the root taken from the system's own
``lib/modules/<release>`` (with their dependencies from its ``modules.dep``; none when the
kernel has them built in), and an ``/init`` that loads them, waits for ``root=``, mounts it
read-only under a tmpfs overlay (the system sees a writable root, as from an initramfs) and
switches to the system's ``/init``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from systemkit.assemble.tarstream import DIR, REG, TarHeader
from systemkit.outputs.cpio import NewcWriter
from systemkit.outputs.fstree import _resolve
from systemkit.outputs.hosttools import MissingToolError
from systemkit.outputs.pgzip import ParallelGzipWriter

ROOT_MODULES: dict[str, tuple[str, ...]] = {
    "iso9660": ("isofs", "sr_mod", "ahci", "ata_piix", "virtio_scsi", "virtio_pci", "overlay"),
    "squashfs": ("squashfs", "virtio_blk", "virtio_pci", "overlay"),
    "erofs": ("erofs", "virtio_blk", "virtio_pci", "overlay"),
}
"""Root filesystem type -> the modules the boot initrd loads (when the system has them)."""

INIT = r"""#!/bin/busybox sh
# systemkit boot initrd: load the modules that reach the root, mount it read-only under a
# tmpfs overlay, switch to the system's init. Every line it prints starts with "systemkit-boot: ".
/bin/busybox mkdir -p /sbin /usr/bin /usr/sbin /proc /sys /dev /ro /rw /root
/bin/busybox --install -s
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t devtmpfs -o mode=0755 devtmpfs /dev
[ -c /dev/console ] && exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
say() { echo "systemkit-boot: $*"; }
root=@ROOT@
fstype=@FSTYPE@
init=/init
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    root=*) root=${arg#root=} ;;
    rootfstype=*) fstype=${arg#rootfstype=} ;;
    init=*) init=${arg#init=} ;;
    esac
done
while read -r m; do
    [ -n "$m" ] && insmod "/lib/modules/$m" 2>/dev/null
done </etc/modules
n=0
while [ ! -b "$root" ]; do
    n=$((n + 1))
    if [ "$n" -gt 300 ]; then
        say "FATAL: no root device $root after 30s"
        poweroff -f
    fi
    sleep 0.1
done
mount -t "$fstype" -o ro "$root" /ro || { say "FATAL: cannot mount $root ($fstype)"; poweroff -f; }
mount -t tmpfs -o mode=0755 rootrw /rw
mkdir -p /rw/upper /rw/work
if grep -qw overlay /proc/filesystems; then
    mount -t overlay -o lowerdir=/ro,upperdir=/rw/upper,workdir=/rw/work root /root
else
    say "no overlay filesystem: the root stays read-only"
    mount --move /ro /root
fi
say "root $root ($fstype) mounted"
umount /sys /proc
umount -l /dev
exec switch_root /root "$init"
"""


def is_static_elf(data: bytes) -> bool:
    """A 64-bit little-endian ELF executable without a program interpreter (PT_INTERP)."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return False
    phoff = int.from_bytes(data[0x20:0x28], "little")
    phentsize = int.from_bytes(data[0x36:0x38], "little")
    phnum = int.from_bytes(data[0x38:0x3A], "little")
    for i in range(phnum):
        off = phoff + i * phentsize
        if int.from_bytes(data[off : off + 4], "little") == 3:
            return False
    return True


def _module_closure(moddir: str, wanted: tuple[str, ...]) -> list[str]:
    """The module files (relative to ``moddir``) to load, dependencies first."""
    dep_file = os.path.join(moddir, "modules.dep")
    if not os.path.isfile(dep_file):
        return []
    deps: dict[str, list[str]] = {}
    mod: str | None
    by_name: dict[str, str] = {}
    with open(dep_file, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if ":" not in line:
                continue
            mod, _, rest = line.partition(":")
            mod = mod.strip()
            deps[mod] = rest.split()
            base = os.path.basename(mod).split(".ko")[0].replace("-", "_")
            by_name[base] = mod
    order: list[str] = []

    def visit(mod: str, depth: int = 0) -> None:
        if mod in order or depth > 50 or not os.path.isfile(os.path.join(moddir, mod)):
            return
        for dep in deps.get(mod, []):
            visit(dep, depth + 1)
        order.append(mod)

    for name in wanted:
        mod = by_name.get(name)
        if mod is not None:
            visit(mod)
    return order


def _modules_dir(tree: Path) -> tuple[str, str] | None:
    """(release, host path of lib/modules/<release>) of the extracted system, if it has one."""
    base = _resolve(str(tree), "lib/modules", True)
    if not os.path.isdir(base):
        return None
    releases = sorted(
        r for r in os.listdir(base) if os.path.isfile(os.path.join(base, r, "modules.dep"))
    )
    if not releases:
        return None
    return releases[-1], os.path.join(base, releases[-1])


def write_boot_initrd(
    tree: Path, fstype: str, root: str, busybox: Path, out: BinaryIO, epoch: int
) -> list[str]:
    """Write the gzip'd newc boot initrd for a root of type ``fstype`` at ``root`` (the
    default when the command line has no ``root=``). Returns the modules it loads."""
    found = _modules_dir(tree)
    modules: list[str] = []
    if found is not None:
        modules = _module_closure(found[1], ROOT_MODULES[fstype])
    init = INIT.replace("@ROOT@", root).replace("@FSTYPE@", fstype).encode()
    listing = "".join(m + "\n" for m in modules).encode()
    gz = ParallelGzipWriter(out, level=6)
    try:
        cpio = NewcWriter(gz)
        dirs = {"bin", "etc", "lib", "lib/modules"}
        for mod in modules:
            parts = mod.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                dirs.add("lib/modules/" + "/".join(parts[:i]))
        for d in sorted(dirs):
            cpio.add_tar_member(TarHeader(d, DIR, 0o755, mtime=epoch), None)
        data = busybox.read_bytes()
        if not is_static_elf(data):
            raise MissingToolError(
                f"{busybox} is not a static busybox (the boot initrd has no libraries); "
                "install the Debian package busybox-static"
            )
        cpio.add_tar_member(TarHeader("bin/busybox", REG, 0o755, size=len(data), mtime=epoch), data)
        cpio.add_tar_member(
            TarHeader("etc/modules", REG, 0o644, size=len(listing), mtime=epoch), listing
        )
        cpio.add_tar_member(TarHeader("init", REG, 0o755, size=len(init), mtime=epoch), init)
        assert found is not None or not modules
        for mod in modules:
            assert found is not None
            data = Path(found[1], mod).read_bytes()
            hdr = TarHeader("lib/modules/" + mod, REG, 0o644, size=len(data), mtime=epoch)
            cpio.add_tar_member(hdr, data)
        cpio.close()
    except BaseException:
        gz.abort()
        raise
    gz.close()
    return modules
