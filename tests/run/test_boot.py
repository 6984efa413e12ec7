"""Boot the hello system for real: images made from Debian packages (make_images.py), imported
into the real image store, built into kernel+initrd by systemkit, booted under qemu -accel tcg.
The onboot container and the service print through runc inside the guest, so this proves that
the generated config.json and runtime.json run under a real runc."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from systemkit.cli import main
from systemkit.run import find_kernel_initrd, run_qemu

pytestmark = [pytest.mark.slow, pytest.mark.qemu, pytest.mark.usefixtures("qemu_ready")]

HELLO = Path(__file__).resolve().parents[2] / "examples" / "hello" / "system.py"
BOOT_TIMEOUT = 180.0
"""Seconds the boot may take under TCG (about 8 here)."""


def build_hello(out: Path, cache: Path, backend: str = "native") -> Path:
    """The hello system's kernel+initrd build in ``out`` (``systemkit build --backend
    BACKEND``; the native backend reads the image store ``cache``); returns its NAME prefix."""
    out.mkdir(parents=True, exist_ok=True)
    code = main(
        [
            "build",
            str(HELLO),
            "--backend",
            backend,
            "--format",
            "kernel+initrd",
            "--dir",
            str(out),
            "--name",
            "hello",
            "--cache",
            str(cache),
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


@pytest.fixture(scope="module")
def hello_build(hello_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hello system's kernel+initrd build (native backend, reading the store the images
    were imported into); returns its NAME prefix."""
    return build_hello(tmp_path_factory.mktemp("hello-build"), hello_store)


def test_hello_boots_runs_its_containers_and_powers_off(hello_build: Path) -> None:
    build = find_kernel_initrd(hello_build)
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


def _systemkit_run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "systemkit", "run", "qemu", *args],
        capture_output=True,
        text=True,
        timeout=BOOT_TIMEOUT + 30,
        check=False,
    )


def test_cli_boots_with_the_console_on_stdout_and_exits_0(hello_build: Path) -> None:
    proc = _systemkit_run(
        str(hello_build.parent),
        "--timeout",
        str(BOOT_TIMEOUT),
        "--mem",
        "384M",
        "--cmdline-append",
        "systemkit.test=cli",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "systemkit-init: kernel command line: console=ttyS0 quiet systemkit.test=cli" in (
        proc.stdout
    )
    assert "hello: onboot container says hello" in proc.stdout
    assert "greeter: goodbye" in proc.stdout
    assert "systemkit: the guest powered off after" in proc.stderr


def test_cli_exits_1_when_the_timeout_passes(hello_build: Path) -> None:
    # the boot takes about 6 seconds, so after 2 it is still going
    proc = _systemkit_run(str(hello_build), "--timeout", "2")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "systemkit: timed out after 2s; qemu stopped" in proc.stderr
