"""scripts/demo.sh, the README's first command: images from Debian packages, import, native
build, qemu boot. Run here with its set-up step skipped (the test suite's own set-up ran it)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.qemu, pytest.mark.usefixtures("qemu_ready")]

DEMO = Path(__file__).resolve().parents[2] / "scripts" / "demo.sh"


def test_demo_builds_and_boots_hello(tmp_path: Path) -> None:
    env = dict(os.environ)
    env.update(
        DEMO_SKIP_SETUP="1",
        DEMO_DIR=str(tmp_path / "demo"),
        DEMO_OUT=str(tmp_path / "hello"),
        DEMO_TIMEOUT="180",
    )
    proc = subprocess.run(
        ["bash", str(DEMO)], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for line in (
        "imported systemkit.local/hello/kernel:6.1",
        "hello: onboot container says hello",
        "motd: built with systemkit",
        "greeter: goodbye",
        "systemkit-init: powering off",
        "== done: the system booted",
    ):
        assert line in proc.stdout, line
    assert "systemkit: the guest powered off after" in proc.stderr
    assert sorted(p.name for p in (tmp_path / "hello").iterdir()) == [
        "hello-cmdline",
        "hello-initrd.img",
        "hello-kernel",
    ]
