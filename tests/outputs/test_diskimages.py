"""Disk-image formats without booting: derived ids, root= handling, the UKI's PE fix-up, the
boot initrd's module list, and the build failing cleanly when a host tool is missing."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from systemkit.outputs import FORMATS, NEEDS_KERNEL
from systemkit.outputs.bootinitrd import _module_closure, is_static_elf
from systemkit.outputs.diskimages import (
    DISK_FORMATS,
    derived_uuid,
    fat_serial,
    fixed_epoch,
    grub_fs_uuid,
    iso_volume_id,
    with_root,
)
from systemkit.outputs.hosttools import NEEDS, PROGRAMS, require_for
from systemkit.outputs.uki import pe_checksum

HELLO = Path(__file__).resolve().parents[2] / "examples" / "hello" / "system.py"


def test_the_formats_are_registered_with_linuxkits_names() -> None:
    names = {
        "iso-efi",
        "iso-efi-initrd",
        "iso-bios",
        "raw-efi",
        "raw-bios",
        "qcow2-efi",
        "squashfs",
        "erofs",
        "uki",
    }
    assert set(DISK_FORMATS) == names
    assert names <= set(FORMATS)
    assert names <= NEEDS_KERNEL
    assert set(NEEDS) == names


def test_ids_derive_from_the_spec_digest_only() -> None:
    a, b = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    assert derived_uuid(a, "gpt-disk") == derived_uuid(a, "gpt-disk")
    assert derived_uuid(a, "gpt-disk") != derived_uuid(b, "gpt-disk")
    assert derived_uuid(a, "gpt-disk") != derived_uuid(a, "gpt-esp")
    serial = fat_serial(a, "esp")
    assert len(serial) == 8 and int(serial, 16) >= 0
    assert grub_fs_uuid("0badcafe") == "0BAD-CAFE"
    volid = iso_volume_id(a)
    assert volid.startswith("SYSTEMKIT_") and len(volid) <= 32 and volid == volid.upper()


def test_fixed_epoch_is_source_date_epoch_or_linuxkits_date(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert fixed_epoch() == 1492533000
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert fixed_epoch() == 1700000000


def test_root_is_added_unless_the_cmdline_names_one() -> None:
    assert with_root("console=ttyS0", "/dev/sr0") == "console=ttyS0 root=/dev/sr0"
    assert with_root("", "/dev/vda") == "root=/dev/vda"
    assert with_root("root=/dev/sda2 quiet", "/dev/sr0") == "root=/dev/sda2 quiet"


def test_pe_checksum_matches_the_reference_algorithm(tmp_path: Path) -> None:
    data = bytes(range(256)) * 40 + b"\x07"
    path = tmp_path / "pe"
    path.write_bytes(data)
    padded = data + b"\0"
    total = 0
    for (word,) in struct.iter_unpack("<H", padded):
        total += word
        total = (total & 0xFFFF) + (total >> 16)
    assert pe_checksum(path) == total + len(data)


def test_module_closure_puts_dependencies_first(tmp_path: Path) -> None:
    (tmp_path / "modules.dep").write_text(
        "kernel/fs/isofs/isofs.ko:\n"
        "kernel/drivers/scsi/sr_mod.ko: kernel/drivers/cdrom/cdrom.ko "
        "kernel/drivers/scsi/scsi_mod.ko\n"
        "kernel/drivers/cdrom/cdrom.ko:\n"
        "kernel/drivers/scsi/scsi_mod.ko:\n"
    )
    for mod in ("fs/isofs/isofs", "drivers/scsi/sr_mod", "drivers/cdrom/cdrom"):
        path = tmp_path / "kernel" / f"{mod}.ko"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\x7fELF")
    # scsi_mod.ko is listed but absent (built in): it is skipped
    assert _module_closure(str(tmp_path), ("isofs", "sr_mod", "ahci")) == [
        "kernel/fs/isofs/isofs.ko",
        "kernel/drivers/cdrom/cdrom.ko",
        "kernel/drivers/scsi/sr_mod.ko",
    ]


def _path_without(tmp_path: Path, missing: str) -> str:
    """A PATH directory with every program the formats use except ``missing``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for program in PROGRAMS:
        found = subprocess.run(
            ["sh", "-c", f"command -v {program}"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if program != missing and found:
            os.symlink(found, bin_dir / program)
    return str(bin_dir)


def test_require_for_names_the_program_and_its_debian_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", _path_without(tmp_path, "xorriso"))
    with pytest.raises(Exception, match=r"needs xorriso \(Debian package xorriso\)"):
        require_for(["uki", "iso-bios"])
    require_for(["uki", "raw-efi"])


def test_a_missing_tool_fails_the_build_in_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    env = dict(os.environ, PATH=_path_without(tmp_path, "mksquashfs"))
    cmd = [sys.executable, "-m", "systemkit", "build", str(HELLO), "--format", "squashfs"]
    proc = subprocess.run(
        [*cmd, "--dir", str(out), "--cache", str(tmp_path / "store"), "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert lines == [
        "error: format 'squashfs' needs mksquashfs (Debian package squashfs-tools), which is "
        "not installed; scripts/setup.sh installs it"
    ]
    assert list(out.iterdir()) == []
    assert not (tmp_path / "store").exists()


def test_unpacking_stays_inside_and_later_members_win(tmp_path: Path) -> None:
    import io
    import tarfile

    from systemkit.outputs.fstree import extract

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:

        def add(
            name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", link: str = ""
        ) -> None:
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.size, info.mtime = kind, link, len(data), 1000
            info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o640
            tf.addfile(info, io.BytesIO(data))

        add("lib", tarfile.SYMTYPE, link="/usr/lib")  # absolute: inside the root, not the host's
        add("usr/lib/", tarfile.DIRTYPE)
        add("lib/mod.ko", data=b"module")
        add("etc/x", data=b"first")
        add("etc/x", data=b"second")
        add("etc/hard", tarfile.LNKTYPE, link="etc/x")
    tar = tmp_path / "fs.tar"
    tar.write_bytes(raw.getvalue())
    root = tmp_path / "root"
    root.mkdir()
    extract(tar, root, 1492533000)
    assert (root / "usr/lib/mod.ko").read_bytes() == b"module"
    assert (root / "etc/x").read_bytes() == b"second"
    assert (root / "etc/hard").read_bytes() == b"second"
    assert oct((root / "etc/x").stat().st_mode & 0o777) == oct(0o640)
    assert (root / "etc/x").stat().st_mtime == 1000
    assert (root / "etc").stat().st_mtime == 1492533000  # not in the tar: the build's time
    assert root.stat().st_mtime == 1492533000


def test_the_boot_initrd_needs_a_static_busybox() -> None:
    assert is_static_elf(Path("/bin/busybox").read_bytes())  # Debian busybox-static
    assert not is_static_elf(Path(sys.executable).resolve().read_bytes())  # dynamic
    assert not is_static_elf(b"#!/bin/sh\n")
