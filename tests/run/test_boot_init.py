"""The hello init (examples/hello/init/init.sh) with runc, booted under qemu -accel tcg, on a
layout assembled here by hand (a stand-in for the native backend, so that these tests exercise
the init, runc and the qemu runner on their own: writable and read-only bundles, a failing
onboot container, a service that exits and one that has to be stopped, kernel panics and
timeouts). The boot through the real store and the native backend is in test_boot.py."""

from __future__ import annotations

import copy
import gzip
import io
import json
import subprocess
import tarfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from systemkit.run import ExpectTimeout, QemuSession, run_qemu
from tests.support.tarextract import extract_all

pytestmark = [pytest.mark.slow, pytest.mark.qemu, pytest.mark.usefixtures("qemu_ready")]

BOOT_TIMEOUT = 180.0
"""Seconds a boot may take under TCG (it takes about 7 here)."""
STEP = 90.0
"""Seconds one step of a boot may take (generous: the machine may be busy)."""

# The five default mounts as `linuxkit build` writes them into config.json (reference §5.6).
_DEFAULT_MOUNTS: list[dict[str, Any]] = [
    {
        "destination": "/dev",
        "type": "tmpfs",
        "source": "tmpfs",
        "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
        "destination": "/dev/pts",
        "type": "devpts",
        "source": "devpts",
        "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"],
    },
    {
        "destination": "/proc",
        "type": "proc",
        "source": "proc",
        "options": ["nosuid", "nodev", "noexec", "relatime"],
    },
    {
        "destination": "/sys",
        "type": "sysfs",
        "source": "sysfs",
        "options": ["nosuid", "noexec", "nodev"],
    },
    {
        "destination": "/sys/fs/cgroup",
        "type": "cgroup",
        "source": "cgroup",
        "options": ["nosuid", "noexec", "nodev", "relatime", "ro"],
    },
]


Bundle = tuple[str, list[str], bool]
"""A bundle to lay out: name, process args, read-only."""


def _config(args: list[str], readonly: bool) -> dict[str, Any]:
    mounts = copy.deepcopy(_DEFAULT_MOUNTS)
    if readonly:
        for m in mounts:
            if m["destination"] in ("/dev", "/sys"):
                m["options"].append("ro")
    root: dict[str, Any] = {"path": "rootfs"}
    if readonly:
        root["readonly"] = True
    return {
        "ociVersion": "1.2.1",
        "process": {
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "cwd": "/",
            "capabilities": {},
        },
        "root": root,
        "mounts": mounts,
        "linux": {
            "resources": {},
            "namespaces": [{"type": "pid"}, {"type": "mount"}],
        },
    }


def _runtime(bundle: str, readonly: bool) -> dict[str, Any]:
    if readonly:
        mounts: list[dict[str, Any]] = [
            {"destination": f"{bundle}/rootfs", "source": f"{bundle}/rootfs", "options": ["bind"]}
        ]
    else:
        mounts = [
            {"destination": f"{bundle}/tmp", "type": "tmpfs", "source": "tmpfs"},
            {"destination": f"{bundle}/tmp", "options": ["remount", "private"]},
            {
                "destination": f"{bundle}/rootfs",
                "type": "overlay",
                "source": "overlay",
                "options": [
                    f"lowerdir={bundle}/lower",
                    f"upperdir={bundle}/tmp/upper",
                    f"workdir={bundle}/tmp/work",
                ],
            },
        ]
    return {
        "cgroups": [],
        "mounts": mounts,
        "mkdir": [],
        "interfaces": [],
        "bindNS": {k: "" for k in ("cgroup", "ipc", "mnt", "net", "pid", "user", "uts")},
        "namespace": "",
    }


def _layer(archive: Path) -> tarfile.TarFile:
    """The single layer of a one-image OCI archive written by make_images.py."""
    with tarfile.open(archive) as outer:

        def read(name: str) -> bytes:
            member = outer.extractfile(name)
            assert member is not None
            return member.read()

        index = json.loads(read("index.json"))
        manifest_digest = index["manifests"][0]["digest"].split(":", 1)[1]
        manifest = json.loads(read(f"blobs/sha256/{manifest_digest}"))
        layer_digest = manifest["layers"][0]["digest"].split(":", 1)[1]
        data = gzip.decompress(read(f"blobs/sha256/{layer_digest}"))
    return tarfile.open(fileobj=io.BytesIO(data))


def _extract(tar: tarfile.TarFile, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    extract_all(tar, dest, "tar")


def handmade_build(
    images: Path,
    out: Path,
    *,
    onboot: Sequence[Bundle],
    services: Sequence[Bundle],
    onshutdown: Sequence[Bundle] = (),
    cmdline: str,
) -> tuple[Path, Path]:
    """Lay out kernel modules, the init image and bundles under
    ``out/root`` and pack them as a kernel+initrd build; returns (kernel, initrd)."""
    root = out / "root"
    kernel_image = _layer(images / "kernel.oci.tar")
    kernel = out / "hello-kernel"
    member = kernel_image.extractfile("kernel")
    assert member is not None
    kernel.write_bytes(member.read())
    modules = kernel_image.extractfile("kernel.tar")
    assert modules is not None
    with tarfile.open(fileobj=io.BytesIO(modules.read())) as modules_tar:
        _extract(modules_tar, root)
    _extract(_layer(images / "init.oci.tar"), root)
    sections = [("onboot", f"{i:03d}-{n}", a, r) for i, (n, a, r) in enumerate(onboot)]
    sections += [("services", n, a, r) for n, a, r in services]
    sections += [("onshutdown", f"{i:03d}-{n}", a, r) for i, (n, a, r) in enumerate(onshutdown)]
    for section, name, args, readonly in sections:
        bundle = f"/containers/{section}/{name}"
        path = root / bundle.lstrip("/")
        if readonly:
            _extract(_layer(images / "busybox.oci.tar"), path / "rootfs")
        else:
            _extract(_layer(images / "busybox.oci.tar"), path / "lower")
            (path / "tmp").mkdir()
            (path / "rootfs").mkdir()
        (path / "config.json").write_text(json.dumps(_config(args, readonly), indent=4))
        (path / "runtime.json").write_text(json.dumps(_runtime(bundle, readonly), indent=4))
    initrd = out / "hello-initrd.img"
    names = sorted(
        "." if p == root else "./" + str(p.relative_to(root)) for p in [root, *root.rglob("*")]
    )
    cpio = subprocess.run(
        ["cpio", "-o", "-H", "newc", "-R", "0:0", "--quiet"],
        cwd=root,
        input="\n".join(names).encode() + b"\n",
        capture_output=True,
        check=True,
    )
    initrd.write_bytes(gzip.compress(cpio.stdout, 6, mtime=0))
    (out / "hello-cmdline").write_text(cmdline + "\n")
    return kernel, initrd


def sh(script: str) -> list[str]:
    return ["/bin/sh", "-c", script]


def test_init_runs_bundles_in_order_and_stops_lingering_services(
    hello_images: Path, tmp_path: Path
) -> None:
    kernel, initrd = handmade_build(
        hello_images,
        tmp_path,
        onboot=[
            (
                "first",
                sh("echo 'first: writable bundle'; echo scratch > /written && cat /written"),
                False,
            ),
            ("fails", sh("echo 'fails: exiting 3'; exit 3"), False),
            (
                "ro",
                sh("echo 'ro: read-only bundle'; touch /nope 2>/dev/null || echo 'ro: EROFS'"),
                True,
            ),
        ],
        services=[
            ("quick", sh("echo 'quick: service up'; exit 0"), False),
            ("ticker", sh("while :; do echo 'ticker: tick'; sleep 1; done"), False),
        ],
        onshutdown=[("bye", sh("echo 'bye: onshutdown container'"), True)],
        cmdline="console=ttyS0 quiet",
    )
    with QemuSession(kernel, initrd, "console=ttyS0 quiet systemkit.linger=5", console=None) as vm:
        vm.expect("systemkit-init: started", timeout=BOOT_TIMEOUT)
        vm.expect("systemkit-init: loaded the overlay module", timeout=STEP)
        vm.expect("systemkit-init: onboot 000-first: starting", timeout=STEP)
        vm.expect("first: writable bundle", timeout=STEP)
        vm.expect("scratch", timeout=STEP)
        vm.expect("systemkit-init: onboot 000-first: exited with status 0", timeout=STEP)
        vm.expect("fails: exiting 3", timeout=STEP)
        vm.expect("systemkit-init: onboot 001-fails: exited with status 3", timeout=STEP)
        vm.expect("ro: read-only bundle", timeout=STEP)
        vm.expect("ro: EROFS", timeout=STEP)
        vm.expect("systemkit-init: all onboot containers done", timeout=STEP)
        vm.expect("systemkit-init: all services started", timeout=STEP)
        with pytest.raises(ExpectTimeout, match=r"'never printed' within 0\.5s(.|\n)*\| "):
            vm.expect("never printed", timeout=0.5)
        # a failed expect leaves the position alone: a line already printed is still found
        vm.expect("ticker: tick", timeout=STEP)
        vm.expect("systemkit-init: stopping services after 5s", timeout=STEP)
        vm.expect("systemkit-init: onshutdown 000-bye: starting", timeout=STEP)
        vm.expect("bye: onshutdown container", timeout=STEP)
        vm.expect("systemkit-init: all onshutdown containers done", timeout=STEP)
        vm.expect("systemkit-init: powering off", timeout=STEP)
        result = vm.wait(BOOT_TIMEOUT)
    assert result.powered_off, result.output()
    text = result.output()
    assert "quick: service up" in text
    assert "systemkit-init: service quick: exited with status 0" in text
    assert "ticker: tick" in text
    assert "WARNING" not in text
    assert "FATAL" not in text


def test_timeout_stops_a_guest_that_keeps_running(hello_images: Path, tmp_path: Path) -> None:
    kernel, initrd = handmade_build(
        hello_images,
        tmp_path,
        onboot=[],
        services=[("forever", sh("while :; do sleep 1; done"), False)],
        cmdline="console=ttyS0",
    )
    result = run_qemu(
        kernel, initrd, "console=ttyS0 quiet systemkit.linger=forever", timeout=4, console=None
    )
    assert result.timed_out
    assert not result.powered_off
    assert result.returncode is None
    assert 4 <= result.seconds < 20


def test_kernel_panic_is_reported_and_stops_qemu(hello_images: Path, tmp_path: Path) -> None:
    kernel, initrd = handmade_build(
        hello_images, tmp_path, onboot=[], services=[], cmdline="console=ttyS0"
    )
    # no such init in the initramfs, and no root device: the kernel panics
    result = run_qemu(
        kernel,
        initrd,
        "console=ttyS0 rdinit=/no-such-init",
        timeout=BOOT_TIMEOUT,
        console=None,
        expect=["Kernel panic"],
    )
    assert result.panicked
    assert not result.powered_off
    assert not result.timed_out
    assert result.missing == ()
