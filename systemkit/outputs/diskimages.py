"""Bootable disk and filesystem images made from the filesystem tar with Debian host tools:
``iso-efi``, ``iso-efi-initrd``, ``iso-bios``, ``raw-efi``, ``raw-bios``, ``qcow2-efi``,
``squashfs``, ``erofs`` and ``uki`` (see docs/formats.md for what each holds and how it boots).

They derive from the same assembled tar as the other formats, in two ways: the kernel formats
take the kernel, initrd and command line already split from it (:class:`InitrdParts`); the
root-filesystem formats (both ISOs with the filesystem on them, squashfs, erofs) unpack the tar
once into a scratch directory under ``fakeroot`` and build their filesystem from it.

Byte-reproducible: every id (FAT serial numbers, the ISO volume id, GPT disk and partition GUIDs,
the MBR disk id) is derived from the spec digest, every timestamp is the build's fixed time
(``SOURCE_DATE_EPOCH``, else LinuxKit's 2017-04-18T16:30Z), and the tools write in sorted
order. Scratch files live under the output directory and are removed whatever happens; outputs
go through :class:`AtomicOutputs`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import attrs

from systemkit.assemble.tarstream import DEFAULT_MTIME
from systemkit.outputs import hosttools
from systemkit.outputs.atomic import AtomicOutputs
from systemkit.outputs.bootinitrd import write_boot_initrd
from systemkit.outputs.hosttools import ToolFailed, path_of, run_tool
from systemkit.outputs.uki import make_uki
from systemkit.progress import Progress, ProgressEvent, silent, step

DISK_FORMATS: dict[str, str] = {
    "iso-efi": "NAME-efi.iso: the filesystem on an ISO, booted by GRUB (UEFI)",
    "iso-efi-initrd": "NAME-efi-initrd.iso: kernel and initrd on an ISO, booted by GRUB (UEFI)",
    "iso-bios": "NAME.iso: the filesystem on a hybrid ISO, booted by ISOLINUX (BIOS)",
    "raw-efi": "NAME-efi.img: a GPT disk whose EFI partition boots a UKI with systemd-boot",
    "raw-bios": "NAME-bios.img: an MBR disk whose FAT partition boots with SYSLINUX",
    "qcow2-efi": "NAME-efi.qcow2: a GPT disk (qcow2) whose EFI partition boots with GRUB",
    "squashfs": "NAME-squashfs.img, NAME-squashfs-{kernel,initrd.img,cmdline}: root squashfs",
    "erofs": "NAME-erofs.img, NAME-erofs-{kernel,initrd.img,cmdline}: root erofs",
    "uki": "NAME.efi: kernel, initrd and cmdline in one EFI executable (systemd-stub)",
}
"""The disk-image formats (merged into :data:`systemkit.outputs.formats.FORMATS`)."""

TREE_FORMATS = frozenset({"iso-efi", "iso-bios", "squashfs", "erofs"})
"""Formats built from the unpacked filesystem."""

ISO_ROOT = "/dev/sr0"
"""LinuxKit's root= for the x86_64 ISOs (added unless the command line has a root=)."""
DISK_ROOT = "/dev/vda"
"""root= of squashfs and erofs (the image attached as the first virtio disk)."""
SECTOR = 512
MIB = 1 << 20
PART_START = 2048
"""First partition sector (1 MiB), as LinuxKit."""
GRUB_MODULES = (
    "part_gpt",
    "part_msdos",
    "fat",
    "iso9660",
    "search",
    "search_label",
    "search_fs_uuid",
    "search_fs_file",
    "configfile",
    "normal",
    "linux",
    "echo",
    "test",
    "gzio",
    "boot",
)


@attrs.frozen
class KernelParts:
    """What the kernel formats need: the kernel, the initrd (ucode first), the command line."""

    kernel: Path
    initrd: Path
    cmdline: str


def fixed_epoch() -> int:
    """The build's timestamp: ``SOURCE_DATE_EPOCH`` when set, else LinuxKit's fixed date."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return int(value) if value.isdigit() else DEFAULT_MTIME


def derived_id(seed: str, purpose: str, nbytes: int) -> bytes:
    """``nbytes`` bytes determined by the spec digest ``seed`` and ``purpose``."""
    return hashlib.sha256(f"systemkit\0{seed}\0{purpose}".encode()).digest()[:nbytes]


def derived_uuid(seed: str, purpose: str) -> str:
    return str(uuid.UUID(bytes=derived_id(seed, purpose, 16), version=4))


def fat_serial(seed: str, purpose: str) -> str:
    """A FAT volume serial number (8 hex digits), as ``mkfs.vfat -i`` takes it."""
    return derived_id(seed, purpose, 4).hex()


def grub_fs_uuid(serial: str) -> str:
    """How GRUB names a FAT volume with serial ``serial`` (``XXXX-XXXX``)."""
    return f"{serial[:4]}-{serial[4:]}".upper()


def iso_volume_id(seed: str) -> str:
    return "SYSTEMKIT_" + derived_id(seed, "iso", 4).hex().upper()


def with_root(cmdline: str, root: str) -> str:
    """``cmdline`` with ``root=ROOT`` appended unless it names a root (as LinuxKit)."""
    if any(arg.startswith("root=") for arg in cmdline.split()):
        return cmdline
    return f"{cmdline} root={root}".strip()


def _iso_date(epoch: int) -> str:
    return time.strftime("%Y%m%d%H%M%S00", time.gmtime(epoch))


class Workspace:
    """A scratch directory under the output directory for one build's disk images (an
    :meth:`AtomicOutputs.scratch_dir`, so a killed build's is reclaimed by the next one),
    removed at the end whatever happens."""

    def __init__(self, outs: AtomicOutputs, name: str) -> None:
        self.root = outs.scratch_dir(f"{name}.disk")
        self.tree: Path | None = None
        self.fakeroot_state = self.root / "fakeroot.state"

    def path(self, name: str) -> Path:
        return self.root / name

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@attrs.define
class DiskBuild:
    """One build's disk formats: shared inputs and the scratch workspace."""

    name: str
    seed: str
    epoch: int
    outs: AtomicOutputs
    tar_path: Path
    parts: KernelParts
    work: Workspace
    env: dict[str, str]
    _boot_initrds: dict[str, Path] = attrs.field(factory=dict)

    # -- shared pieces ---------------------------------------------------------------------

    def tree(self) -> Path:
        """The filesystem unpacked under fakeroot (once)."""
        if self.work.tree is None:
            tree = self.work.path("tree")
            tree.mkdir()
            run_tool(
                [
                    "fakeroot",
                    "-s",
                    str(self.work.fakeroot_state),
                    "--",
                    sys.executable,
                    "-m",
                    "systemkit.outputs.fstree",
                    str(self.tar_path),
                    str(tree),
                    str(self.epoch),
                ],
                _with_package_path(self.env),
                name="unpacking the filesystem (under fakeroot)",
            )
            self.work.tree = tree
        return self.work.tree

    def in_fakeroot(self, cmd: list[str]) -> None:
        """Run ``cmd`` in the fakeroot session the tree was unpacked in."""
        state = str(self.work.fakeroot_state)
        run_tool(["fakeroot", "-i", state, "-s", state, "--", *cmd], self.env, name=cmd[0])

    def boot_initrd(self, fstype: str, root: str) -> Path:
        """The boot initrd for a root of type ``fstype`` (see :mod:`bootinitrd`)."""
        if fstype not in self._boot_initrds:
            path = self.work.path(f"boot-{fstype}.img")
            with path.open("wb") as fh:
                write_boot_initrd(
                    self.tree(), fstype, root, Path(path_of("busybox")), fh, self.epoch
                )
            os.utime(path, (self.epoch, self.epoch))
            self._boot_initrds[fstype] = path
        return self._boot_initrds[fstype]

    def text_file(self, name: str, text: str) -> Path:
        path = self.work.path(name)
        path.write_text(text)
        os.utime(path, (self.epoch, self.epoch))
        return path

    def fat(self, label: str, files: Mapping[str, Path], purpose: str) -> tuple[Path, str]:
        """A FAT image holding ``files`` (path in the image -> source), sized to fit with
        1 MiB to spare; returns it and its serial number."""
        total = sum(src.stat().st_size + 4096 for src in files.values())
        size_mib = max(2, -(-(total + MIB) // MIB))
        image = self.work.path(f"{purpose}.fat")
        serial = fat_serial(self.seed, purpose)
        run_tool(
            [
                "mkfs.vfat",
                "--invariant",
                "-i",
                serial,
                "-n",
                label,
                "-C",
                str(image),
                str(size_mib * 1024),
            ],
            self.env,
        )
        dirs = sorted(
            {"/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/") + 1)}
        )
        if dirs:
            run_tool(["mmd", "-i", str(image), *(f"::/{d}" for d in dirs)], self.env)
        for dest in sorted(files):
            run_tool(["mcopy", "-i", str(image), str(files[dest]), f"::/{dest}"], self.env)
        os.utime(image, (self.epoch, self.epoch))
        return image, serial

    def grub_efi(self, search: str) -> Path:
        """GRUB for x86_64 UEFI (Debian's modules) with an embedded configuration that finds
        its volume with ``search`` and reads ``/EFI/BOOT/grub.cfg`` there."""
        early = self.text_file(
            f"grub-early-{hashlib.sha256(search.encode()).hexdigest()[:8]}.cfg",
            f"{search}\nset prefix=($root)/EFI/BOOT\nconfigfile ($root)/EFI/BOOT/grub.cfg\n",
        )
        out = self.work.path(f"grub-{early.stem}.efi")
        run_tool(
            [
                "grub-mkimage",
                "-O",
                "x86_64-efi",
                "-c",
                str(early),
                "-p",
                "/EFI/BOOT",
                "-o",
                str(out),
                *GRUB_MODULES,
            ],
            self.env,
        )
        return out

    def grub_cfg(self, kernel: str, initrd: str, cmdline: str) -> Path:
        """LinuxKit's grub.cfg: one entry, no timeout, ``text`` after the command line."""
        return self.text_file(
            f"grub-{hashlib.sha256((kernel + initrd + cmdline).encode()).hexdigest()[:8]}.cfg",
            "set timeout=0\n"
            "set gfxpayload=text\n"
            "menuentry 'systemkit' {\n"
            f"\tlinux {kernel} {cmdline} text\n"
            f"\tinitrd {initrd}\n"
            "}\n",
        )

    def gpt_disk(self, esp: Path, out: Path) -> None:
        """A GPT disk with ``esp`` as its only partition (EFI System, from sector 2048)."""
        esp_sectors = esp.stat().st_size // SECTOR
        total = PART_START * SECTOR + esp.stat().st_size + MIB
        with out.open("wb") as fh:
            fh.truncate(total)
        run_tool(
            [
                "sgdisk",
                "--clear",
                f"--disk-guid={derived_uuid(self.seed, 'gpt-disk')}",
                f"--new=1:{PART_START}:{PART_START + esp_sectors - 1}",
                "--typecode=1:ef00",
                "--change-name=1:EFI System",
                f"--partition-guid=1:{derived_uuid(self.seed, 'gpt-esp')}",
                "--attributes=1:set:2",
                str(out),
            ],
            self.env,
        )
        _splice(esp, out, PART_START * SECTOR)

    def xorriso(self, out: Path, volid: str, args: list[str], fake: bool) -> None:
        date = _iso_date(self.epoch)
        cmd = [
            "xorriso",
            "-report_about",
            "SORRY",
            "-volume_date",
            "c",
            date,
            "-volume_date",
            "m",
            date,
            "-volume_date",
            "uuid",
            date,
            "-volume_date",
            "all_file_dates",
            date,
            "-as",
            "mkisofs",
            "-R",
            "-V",
            volid,
            "-o",
            str(out),
            *args,
            "--",
        ]
        if fake:
            self.in_fakeroot(cmd)
        else:
            run_tool(cmd, self.env)

    # -- formats ---------------------------------------------------------------------------

    def uki(self, out: Path, cmdline: str) -> None:
        osrel = self.text_file(
            "os-release", f'NAME="systemkit"\nID=systemkit\nPRETTY_NAME="{self.name}"\n'
        )
        cmd = self.text_file(
            f"uki-cmdline-{hashlib.sha256(cmdline.encode()).hexdigest()[:8]}", cmdline
        )
        make_uki(
            Path(path_of("efi-stub")),
            {
                "osrel": osrel,
                "cmdline": cmd,
                "linux": self.parts.kernel,
                "initrd": self.parts.initrd,
            },
            out,
            self.epoch,
            self.env,
        )

    def build_uki(self) -> None:
        self.uki(self.outs.temp(f"{self.name}.efi"), self.parts.cmdline)

    def build_raw_efi(self) -> None:
        uki = self.work.path("raw-efi.efi")
        self.uki(uki, f"{self.parts.cmdline} text".strip())
        loader = self.text_file("loader.conf", "timeout 0\n")
        esp, _ = self.fat(
            "ESP",
            {
                "EFI/BOOT/BOOTX64.EFI": Path(path_of("systemd-boot")),
                "EFI/Linux/linuxkit.efi": uki,
                "loader/loader.conf": loader,
            },
            "raw-efi-esp",
        )
        self.gpt_disk(esp, self.outs.temp(f"{self.name}-efi.img"))

    def build_qcow2_efi(self) -> None:
        serial = fat_serial(self.seed, "qcow2-efi-esp")
        grub = self.grub_efi(f"search --no-floppy --set=root --fs-uuid {grub_fs_uuid(serial)}")
        cfg = self.grub_cfg("/kernel", "/initrd.img", self.parts.cmdline)
        esp, _ = self.fat(
            "ESP",
            {
                "EFI/BOOT/BOOTX64.EFI": grub,
                "EFI/BOOT/grub.cfg": cfg,
                "kernel": self.parts.kernel,
                "initrd.img": self.parts.initrd,
            },
            "qcow2-efi-esp",
        )
        raw = self.work.path("qcow2-efi.raw")
        self.gpt_disk(esp, raw)
        run_tool(
            [
                "qemu-img",
                "convert",
                "-q",
                "-f",
                "raw",
                "-O",
                "qcow2",
                str(raw),
                str(self.outs.temp(f"{self.name}-efi.qcow2")),
            ],
            self.env,
        )

    def build_raw_bios(self) -> None:
        cfg = self.text_file(
            "syslinux.cfg",
            "DEFAULT linux\nLABEL linux\n    KERNEL /kernel\n    INITRD /initrd.img\n"
            f"    APPEND {self.parts.cmdline}\n",
        )
        part, _ = self.fat(
            "SYSTEMKIT",
            {"syslinux.cfg": cfg, "kernel": self.parts.kernel, "initrd.img": self.parts.initrd},
            "raw-bios-boot",
        )
        run_tool(["syslinux", "--install", str(part)], self.env)
        out = self.outs.temp(f"{self.name}-bios.img")
        sectors = part.stat().st_size // SECTOR
        with out.open("wb") as fh:
            fh.truncate(PART_START * SECTOR + part.stat().st_size + MIB)
        disk_id = derived_id(self.seed, "mbr-disk-id", 4).hex()
        table = (
            f"label: dos\nlabel-id: 0x{disk_id}\n"
            f"start={PART_START}, size={sectors}, type=c, bootable\n"
        )
        run_tool(["sfdisk", "--quiet", "--no-reread", str(out)], self.env, input=table.encode())
        mbr = Path(path_of("mbr.bin")).read_bytes()[:440]
        with out.open("r+b") as fh:
            fh.write(mbr)
        _splice(part, out, PART_START * SECTOR)

    def build_iso_efi_initrd(self) -> None:
        volid = iso_volume_id(self.seed + "/efi-initrd")
        grub = self.grub_efi(f"search --no-floppy --set=root --label {volid}")
        boot, _ = self.fat("EFIBOOT", {"EFI/BOOT/BOOTX64.EFI": grub}, "iso-efi-initrd-boot")
        stage = self.work.path("iso-efi-initrd")
        (stage / "EFI" / "BOOT").mkdir(parents=True)
        shutil.copyfile(self.parts.kernel, stage / "kernel")
        shutil.copyfile(self.parts.initrd, stage / "initrd.img")
        shutil.copyfile(
            self.grub_cfg("/kernel", "/initrd.img", self.parts.cmdline), stage / "EFI/BOOT/grub.cfg"
        )
        shutil.copyfile(boot, stage / "boot.img")
        out = self.outs.temp(f"{self.name}-efi-initrd.iso")
        self.xorriso(
            out,
            volid,
            [
                "-e",
                "boot.img",
                "-no-emul-boot",
                "-hide",
                "boot.img",
                "-hide",
                "boot.catalog",
                str(stage),
            ],
            fake=False,
        )

    def build_iso_efi(self) -> None:
        tree = self.tree()
        volid = iso_volume_id(self.seed)
        cmdline = with_root(self.parts.cmdline, ISO_ROOT)
        initrd = self.boot_initrd("iso9660", ISO_ROOT)
        grub = self.grub_efi(f"search --no-floppy --set=root --label {volid}")
        boot, _ = self.fat("EFIBOOT", {"EFI/BOOT/BOOTX64.EFI": grub}, "iso-efi-boot")
        cfg = self.grub_cfg("/boot/kernel", "/boot/initrd.img", cmdline)
        out = self.outs.temp(f"{self.name}-efi.iso")
        self.xorriso(
            out,
            volid,
            [
                "-graft-points",
                "-e",
                "boot.img",
                "-no-emul-boot",
                "-hide",
                "boot.img",
                "-hide",
                "boot.catalog",
                f"/={tree}",
                f"/boot.img={boot}",
                f"/boot/initrd.img={initrd}",
                f"/EFI/BOOT/grub.cfg={cfg}",
            ],
            fake=True,
        )

    def build_iso_bios(self) -> None:
        tree = self.tree()
        volid = iso_volume_id(self.seed)
        cmdline = with_root(self.parts.cmdline, ISO_ROOT)
        initrd = self.boot_initrd("iso9660", ISO_ROOT)
        cfg = self.text_file(
            "isolinux.cfg",
            "DEFAULT linux\nLABEL linux\n    KERNEL /boot/kernel\n    INITRD /boot/initrd.img\n"
            f"    APPEND {cmdline}\n",
        )
        loaders = self.work.path("isolinux")
        loaders.mkdir()
        for item in ("isolinux.bin", "ldlinux.c32"):
            shutil.copyfile(path_of(item), loaders / item)
        shutil.copyfile(cfg, loaders / "isolinux.cfg")
        out = self.outs.temp(f"{self.name}.iso")
        self.xorriso(
            out,
            volid,
            [
                "-graft-points",
                "-b",
                "isolinux/isolinux.bin",
                "-c",
                "isolinux/boot.cat",
                "-no-emul-boot",
                "-boot-load-size",
                "4",
                "-boot-info-table",
                "-isohybrid-mbr",
                path_of("isohdpfx.bin"),
                f"/={tree}",
                f"/isolinux={loaders}",
                f"/boot/initrd.img={initrd}",
            ],
            fake=True,
        )

    def _rootfs_companions(self, fmt: str, fstype: str) -> None:
        """NAME-FMT-kernel, NAME-FMT-initrd.img (the boot initrd), NAME-FMT-cmdline."""
        initrd = self.boot_initrd(fstype, DISK_ROOT)
        for suffix, src in (("kernel", self.parts.kernel), ("initrd.img", initrd)):
            shutil.copyfile(src, self.outs.temp(f"{self.name}-{fmt}-{suffix}"))
        self.outs.temp(f"{self.name}-{fmt}-cmdline").write_text(
            with_root(self.parts.cmdline, DISK_ROOT)
        )

    def build_squashfs(self) -> None:
        tree = self.tree()
        out = self.outs.temp(f"{self.name}-squashfs.img")
        out.unlink()
        self.in_fakeroot(
            [
                "mksquashfs",
                str(tree),
                str(out),
                "-noappend",
                "-quiet",
                "-no-progress",
            ]
        )
        self._rootfs_companions("squashfs", "squashfs")

    def build_erofs(self) -> None:
        tree = self.tree()
        out = self.outs.temp(f"{self.name}-erofs.img")
        self.in_fakeroot(
            [
                "mkfs.erofs",
                f"-T{self.epoch}",
                "-U",
                derived_uuid(self.seed, "erofs"),
                str(out),
                str(tree),
            ]
        )
        self._rootfs_companions("erofs", "erofs")


BUILDERS: dict[str, Callable[[DiskBuild], None]] = {
    "iso-efi": DiskBuild.build_iso_efi,
    "iso-efi-initrd": DiskBuild.build_iso_efi_initrd,
    "iso-bios": DiskBuild.build_iso_bios,
    "raw-efi": DiskBuild.build_raw_efi,
    "raw-bios": DiskBuild.build_raw_bios,
    "qcow2-efi": DiskBuild.build_qcow2_efi,
    "squashfs": DiskBuild.build_squashfs,
    "erofs": DiskBuild.build_erofs,
    "uki": DiskBuild.build_uki,
}


def _with_package_path(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` with this systemkit's parent directory first on ``PYTHONPATH``, so that
    ``python -m systemkit.outputs.fstree`` finds the same package however it was imported."""
    root = str(Path(__file__).resolve().parents[2])
    rest = env.get("PYTHONPATH", "")
    return {**env, "PYTHONPATH": f"{root}{os.pathsep}{rest}" if rest else root}


def _splice(src: Path, dst: Path, offset: int) -> None:
    """Copy ``src`` into ``dst`` at byte ``offset`` (``dst`` keeps its size)."""
    with src.open("rb") as a, dst.open("r+b") as b:
        b.seek(offset)
        shutil.copyfileobj(a, b, MIB)


def write_disk_formats(
    tar_path: Path,
    formats: Iterable[str],
    outs: AtomicOutputs,
    name: str,
    kernel: Path,
    initrd_parts: list[Path],
    cmdline: str,
    seed: str,
    progress: Progress | None = None,
) -> None:
    """Write every disk-image format of ``formats`` through ``outs``. ``initrd_parts`` are
    concatenated into the initrd (the microcode cpio first, when there is one). Each format
    is reported as a ``step`` and a ``done`` event (phase ``build``, subject the format)."""
    report = progress or silent
    wanted = [f for f in formats if f in DISK_FORMATS]
    if not wanted:
        return
    hosttools.require_for(wanted)
    epoch = fixed_epoch()
    work = Workspace(outs, name)
    try:
        if len(initrd_parts) == 1:
            initrd = initrd_parts[0]
        else:
            initrd = work.path("initrd.img")
            with initrd.open("wb") as fh:
                for part in initrd_parts:
                    with part.open("rb") as src:
                        shutil.copyfileobj(src, fh, MIB)
        build = DiskBuild(
            name=name,
            seed=seed,
            epoch=epoch,
            outs=outs,
            tar_path=tar_path,
            parts=KernelParts(kernel, initrd, cmdline),
            work=work,
            env=hosttools.tool_env(epoch),
        )
        for fmt in wanted:
            started = time.monotonic()
            report(step(f"Make {fmt}", "build", fmt))
            BUILDERS[fmt](build)
            elapsed = time.monotonic() - started
            report(ProgressEvent("done", f"Made {fmt} in {elapsed:.1f}s", "build", fmt))
    finally:
        work.close()


__all__ = [
    "DISK_FORMATS",
    "TREE_FORMATS",
    "ToolFailed",
    "derived_uuid",
    "fixed_epoch",
    "write_disk_formats",
]
