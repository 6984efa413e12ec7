"""boot_plan on small hand-made artifacts: what is detected from the bytes, and --uefi where the
artifact does not say (the real formats are detected and booted in test_boot_formats.py)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from systemkit.run.artifacts import ArtifactNotFound
from systemkit.run.detect import OVMF, boot_plan


def _mbr(part_type: int) -> bytes:
    sector = bytearray(512)
    sector[446 + 4] = part_type
    sector[510:512] = b"\x55\xaa"
    return bytes(sector)


def test_an_mbr_disk_boots_with_seabios_unless_uefi_is_asked(tmp_path: Path) -> None:
    disk = tmp_path / "x.img"
    disk.write_bytes(_mbr(0x0C) + bytes(4096))
    with boot_plan(disk) as plan:
        assert (plan.format, plan.uefi, plan.direct) == ("raw", False, False)
        assert plan.args == ("-drive", f"file={disk},format=raw,if=virtio,snapshot=on")
    with boot_plan(disk, uefi=True) as plan:
        assert plan.uefi and plan.args[:2] == ("-bios", str(OVMF))


def test_a_gpt_disk_boots_with_ovmf(tmp_path: Path) -> None:
    disk = tmp_path / "odd,name.img"
    disk.write_bytes(_mbr(0xEE) + bytes(4096))
    with boot_plan(disk) as plan:
        assert plan.format == "raw" and plan.uefi
        assert plan.args[-1] == f"file={tmp_path}/odd,,name.img,format=raw,if=virtio,snapshot=on"


def test_a_kernel_initrd_build_boots_directly_and_uefi_adds_ovmf(tmp_path: Path) -> None:
    for suffix, data in (("-kernel", b"k"), ("-initrd.img", b"i"), ("-cmdline", b"console=ttyS0")):
        (tmp_path / f"hello{suffix}").write_bytes(data)
    with boot_plan(tmp_path / "hello") as plan:
        assert (plan.format, plan.uefi, plan.args) == ("kernel+initrd", False, ())
        assert plan.kernel == tmp_path / "hello-kernel" and plan.cmdline == "console=ttyS0"
    with boot_plan(tmp_path / "hello", uefi=True) as plan:
        assert plan.direct and plan.args == ("-bios", str(OVMF))


def test_erofs_is_found_with_its_companions(tmp_path: Path) -> None:
    image = tmp_path / "hello-erofs.img"
    image.write_bytes(bytes(1024) + struct.pack("<I", 0xE0F5E1E2) + bytes(4096))
    with (
        pytest.raises(ArtifactNotFound, match=r"no kernel at .*hello-erofs-kernel"),
        boot_plan(image),
    ):
        pass
    for suffix in ("kernel", "initrd.img"):
        (tmp_path / f"hello-erofs-{suffix}").write_bytes(b"x")
    (tmp_path / "hello-erofs-cmdline").write_text("console=ttyS0 root=/dev/vda\n")
    with boot_plan(image) as plan:
        assert plan.format == "erofs" and plan.direct and not plan.uefi
        assert plan.cmdline == "console=ttyS0 root=/dev/vda"
        assert plan.args[-1].endswith(",format=raw,if=virtio,readonly=on")


def test_an_unknown_file_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("hello\n" * 200)
    with (
        pytest.raises(ArtifactNotFound, match="not a bootable artifact systemkit knows"),
        boot_plan(junk),
    ):
        pass
