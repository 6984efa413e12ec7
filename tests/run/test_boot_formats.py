"""The hello system in every disk-image format: built twice (byte-identical), then booted with
``systemkit run qemu ARTIFACT`` (format detected from the file; OVMF for EFI, SeaBIOS for BIOS,
-accel tcg), which must run the onboot container and the service and power off."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from systemkit.cli import main
from systemkit.outputs.diskimages import DISK_FORMATS
from systemkit.run.detect import boot_plan

pytestmark = [pytest.mark.slow, pytest.mark.qemu, pytest.mark.usefixtures("qemu_ready")]

HELLO = Path(__file__).resolve().parents[2] / "examples" / "hello" / "system.py"
BOOT_TIMEOUT = 420.0
"""Seconds a boot may take under TCG on a loaded machine (15-40 s here; OVMF adds some)."""

ARTIFACT: dict[str, str] = {
    "iso-efi": "hello-efi.iso",
    "iso-efi-initrd": "hello-efi-initrd.iso",
    "iso-bios": "hello.iso",
    "raw-efi": "hello-efi.img",
    "raw-bios": "hello-bios.img",
    "qcow2-efi": "hello-efi.qcow2",
    "squashfs": "hello-squashfs.img",
    "erofs": "hello-erofs.img",
    "uki": "hello.efi",
}
"""Format -> the file ``systemkit run qemu`` is given."""

DETECTED: dict[str, tuple[str, bool]] = {
    "iso-efi": ("iso", True),
    "iso-efi-initrd": ("iso", True),
    "iso-bios": ("iso", False),
    "raw-efi": ("raw", True),
    "raw-bios": ("raw", False),
    "qcow2-efi": ("qcow2", True),
    "squashfs": ("squashfs", False),
    "erofs": ("erofs", False),
    "uki": ("uki", True),
}
"""Format -> what boot_plan detects (kind, UEFI)."""

ROOT_LINE: dict[str, str] = {
    "iso-efi": "systemkit-boot: root /dev/sr0 (iso9660) mounted",
    "iso-bios": "systemkit-boot: root /dev/sr0 (iso9660) mounted",
    "squashfs": "systemkit-boot: root /dev/vda (squashfs) mounted",
    "erofs": "systemkit-boot: root /dev/vda (erofs) mounted",
}
"""The boot initrd's line for the formats whose root is a device."""


def _build(out: Path, store: Path) -> dict[str, str]:
    """Build hello in every disk format into ``out``; sha256 of every file written."""
    out.mkdir(parents=True)
    args = ["build", str(HELLO), "--dir", str(out), "--name", "hello", "--cache", str(store)]
    for fmt in DISK_FORMATS:
        args += ["--format", fmt]
    assert main([*args, "--quiet"]) == 0
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())}


@pytest.fixture(scope="module")
def disk_builds(hello_store: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two independent builds of hello in every disk format (shared by the tests below)."""
    root = tmp_path_factory.mktemp("hello-disks")
    return [root / "first", root / "second"]


@pytest.fixture(scope="module")
def disk_sums(disk_builds: list[Path], hello_store: Path) -> list[dict[str, str]]:
    sums = []
    for out in disk_builds:
        # each build from scratch: no resume from the other's rebuild-cache entries
        shutil.rmtree(hello_store / ".build-cache", ignore_errors=True)
        sums.append(_build(out, hello_store))
    return sums


def test_every_format_writes_its_files_and_nothing_else(
    disk_builds: list[Path], disk_sums: list[dict[str, str]]
) -> None:
    expected = set(ARTIFACT.values()) | {
        f"hello-{fmt}-{part}"
        for fmt in ("squashfs", "erofs")
        for part in ("kernel", "initrd.img", "cmdline")
    }
    assert set(disk_sums[0]) == expected
    assert (disk_builds[0] / "hello-squashfs-cmdline").read_text() == (
        "console=ttyS0 quiet root=/dev/vda"
    )


@pytest.mark.parametrize("fmt", sorted(DISK_FORMATS))
def test_two_builds_are_byte_identical(fmt: str, disk_sums: list[dict[str, str]]) -> None:
    first, second = disk_sums
    names = [n for n in first if n == ARTIFACT[fmt] or n.startswith(f"hello-{fmt}-")]
    assert names
    for name in names:
        assert first[name] == second[name], f"{name} differs between two builds"


@pytest.mark.parametrize("fmt", sorted(DISK_FORMATS))
def test_boots_runs_the_hello_services_and_powers_off(
    fmt: str, disk_builds: list[Path], disk_sums: list[dict[str, str]]
) -> None:
    artifact = disk_builds[0] / ARTIFACT[fmt]
    with boot_plan(artifact) as plan:
        assert (plan.format, plan.uefi) == DETECTED[fmt]
        assert ("-bios" in plan.args) == plan.uefi
    cmd = [sys.executable, "-m", "systemkit", "run", "qemu", str(artifact)]
    proc = subprocess.run(
        [*cmd, "--timeout", str(BOOT_TIMEOUT)],
        capture_output=True,
        text=True,
        timeout=BOOT_TIMEOUT + 60,
        check=False,
    )
    console = proc.stdout
    assert proc.returncode == 0, console + proc.stderr
    expected = [
        "systemkit-init: onboot 000-hello: starting",
        "hello: onboot container says hello",
        "motd: built with systemkit",
        "systemkit-init: all onboot containers done",
        "greeter: service running as pid 1 on 6.1.0-",
        "systemkit-init: powering off",
    ]
    if fmt in ROOT_LINE:
        expected.insert(0, ROOT_LINE[fmt])
    at = 0
    for text in expected:
        found = console.find(text, at)
        assert found >= 0, f"{text!r} not on the console (in order):\n{console}"
        at = found + len(text)
    assert "systemkit: the guest powered off after" in proc.stderr


def test_a_failing_tool_leaves_nothing_behind(hello_store: Path, tmp_path: Path) -> None:
    # a stand-in xorriso that fails (named as such: a fake, to make the tool fail mid-build)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "xorriso"
    fake.write_text("#!/bin/sh\necho 'xorriso: stand-in failure' >&2\nexit 3\n")
    fake.chmod(0o755)
    out = tmp_path / "out"
    out.mkdir()
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")
    cmd = [sys.executable, "-m", "systemkit", "build", str(HELLO), "--format", "iso-efi-initrd"]
    cmd += ["--format", "kernel+initrd", "--dir", str(out), "--cache", str(hello_store)]
    proc = subprocess.run(
        [*cmd, "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "error: xorriso failed (status 3): xorriso: stand-in failure"
    ]
    assert list(out.iterdir()) == []
