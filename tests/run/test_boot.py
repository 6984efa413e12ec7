"""Boot the hello system for real: images made from Debian packages (make_images.py), imported
into the real image store, built into kernel+initrd by systemkit, booted under qemu -accel tcg.
The onboot container and the service print through runc inside the guest, so this proves that
the generated config.json and runtime.json run under a real runc."""

from __future__ import annotations

from pathlib import Path

import pytest

from systemkit.cli import main
from systemkit.run import find_kernel_initrd, run_qemu

pytestmark = [pytest.mark.slow, pytest.mark.qemu, pytest.mark.usefixtures("qemu_ready")]

HELLO = Path(__file__).resolve().parents[2] / "examples" / "hello" / "system.py"
BOOT_TIMEOUT = 180.0
"""Seconds the boot may take under TCG (about 8 here)."""


def build_hello(store_root: Path, out: Path) -> Path:
    """The hello system's kernel+initrd build in ``out`` (``systemkit build``, native backend,
    reading the store at ``store_root``); returns its NAME prefix."""
    code = main(
        [
            "build",
            str(HELLO),
            "--backend",
            "native",
            "--format",
            "kernel+initrd",
            "--dir",
            str(out),
            "--name",
            "hello",
            "--cache",
            str(store_root),
            "--quiet",
        ]
    )
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "hello-cmdline",
        "hello-initrd.img",
        "hello-kernel",
    ]
    return out / "hello"


def test_hello_boots_runs_its_containers_and_powers_off(hello_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    build = find_kernel_initrd(build_hello(hello_store, out))
    assert build.cmdline == "console=ttyS0 quiet"
    result = run_qemu(
        build.kernel,
        build.initrd,
        build.cmdline,
        timeout=BOOT_TIMEOUT,
        accel="tcg",
        console=None,
        expect=[
            "systemkit-init: onboot 000-hello: starting",
            "hello: onboot container says hello",
            # /etc/motd comes from `files` and reaches the container through its bind
            "motd: built with systemkit",
            "systemkit-init: onboot 000-hello: exited with status 0",
            "systemkit-init: all onboot containers done",
            "greeter: service running as pid 1 on 6.1.0-",
            "greeter: goodbye",
            "systemkit-init: service greeter: exited with status 0",
            "systemkit-init: powering off",
        ],
    )
    assert result.missing == (), result.output()
    assert result.powered_off, result.output()
    assert not result.timed_out
    print(f"hello booted and powered off in {result.seconds:.1f}s under TCG")
