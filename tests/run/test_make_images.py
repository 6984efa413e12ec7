"""examples/hello/make_images.py: OCI archives made from Debian packages, byte-reproducible,
with the content the hello system needs (checked by reading them, and with skopeo)."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

MAKE_IMAGES = Path(__file__).resolve().parents[2] / "examples" / "hello" / "make_images.py"


def _read(archive: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, bytes]]:
    """(index.json, image config, layer files by name) of a one-image OCI archive."""
    with tarfile.open(archive) as outer:

        def blob(digest: str) -> bytes:
            member = outer.extractfile("blobs/sha256/" + digest.split(":", 1)[1])
            assert member is not None
            return member.read()

        index_file = outer.extractfile("index.json")
        assert index_file is not None
        index = json.loads(index_file.read())
        manifest = json.loads(blob(index["manifests"][0]["digest"]))
        config = json.loads(blob(manifest["config"]["digest"]))
        assert len(manifest["layers"]) == 1
        layer = manifest["layers"][0]
        assert layer["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"
        data = blob(layer["digest"])
    assert data[4:8] == b"\0\0\0\0", "gzip mtime must be 0"
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == sorted(m.name for m in members)
        for m in members:
            assert m.mtime == 0 and m.uid == 0 and m.gid == 0, m.name
            if m.issym():
                files[m.name] = b"-> " + m.linkname.encode()
            elif m.isfile():
                f = tar.extractfile(m)
                assert f is not None
                files[m.name] = f.read()
    return index, config, files


def test_archives_are_named_images(hello_images: Path) -> None:
    for name, ref in (
        ("kernel", "systemkit.local/hello/kernel:6.1"),
        ("init", "systemkit.local/hello/init:1"),
        ("busybox", "systemkit.local/hello/busybox:1"),
    ):
        index, config, _ = _read(hello_images / f"{name}.oci.tar")
        (manifest,) = index["manifests"]
        assert manifest["annotations"] == {
            "io.containerd.image.name": ref,
            "org.opencontainers.image.ref.name": ref,
        }
        assert (config["architecture"], config["os"]) == ("amd64", "linux")


def test_skopeo_reads_the_archives(hello_images: Path) -> None:
    skopeo = shutil.which("skopeo")
    if skopeo is None:
        pytest.fail("skopeo is not installed (run scripts/setup.sh)")
    out = subprocess.run(
        [skopeo, "inspect", f"oci-archive:{hello_images / 'busybox.oci.tar'}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    info = json.loads(out)
    assert info["Architecture"] == "amd64"
    assert len(info["Layers"]) == 1


def test_kernel_image_has_vmlinuz_and_only_the_modules_hello_needs(hello_images: Path) -> None:
    _, config, files = _read(hello_images / "kernel.oci.tar")
    assert set(files) == {"kernel", "kernel.tar"}
    assert files["kernel"][0x202:0x206] == b"HdrS", "not a bzImage"
    release = config["config"]["Labels"]["org.systemkit.kernel.release"]
    assert release.startswith("6.1.0-") and release.endswith("-cloud-amd64")
    with tarfile.open(fileobj=io.BytesIO(files["kernel.tar"])) as tar:
        names = {m.name for m in tar.getmembers() if m.isfile()}
        base = f"lib/modules/{release}"
        modules = {n.rsplit("/", 1)[1] for n in names if n.endswith(".ko")}
        # DEFAULT_MODULES (overlay for the containers; the drivers and filesystems the boot
        # initrd of the iso, squashfs and erofs formats loads) and their dependencies
        assert modules == {
            "overlay.ko",
            "isofs.ko",
            "sr_mod.ko",
            "cdrom.ko",
            "ata_piix.ko",
            "libata.ko",
            "scsi_mod.ko",
            "scsi_common.ko",
            "squashfs.ko",
            "erofs.ko",
            "libcrc32c.ko",
            "virtio_blk.ko",
            "virtio.ko",
            "virtio_ring.ko",
            "virtio_pci.ko",
            "virtio_pci_modern_dev.ko",
            "virtio_pci_legacy_dev.ko",
        }
        dep = tar.extractfile(f"{base}/modules.dep")
        assert dep is not None
        assert b"kernel/fs/overlayfs/overlay.ko:\n" in dep.read()


def test_init_image_has_init_busybox_runc_and_its_libraries(hello_images: Path) -> None:
    _, _, files = _read(hello_images / "init.oci.tar")
    assert files["init"].startswith(b"#!/bin/busybox sh\n")
    assert "usr/lib/systemkit/runtime-json.awk" in files
    assert files["bin/sh"] == b"-> /bin/busybox"
    assert files["usr/sbin/runc"][:4] == b"\x7fELF"
    for lib in (
        "lib64/ld-linux-x86-64.so.2",
        "lib/x86_64-linux-gnu/libc.so.6",
        "lib/x86_64-linux-gnu/libseccomp.so.2",
    ):
        assert files[lib][:4] == b"\x7fELF", lib


def test_busybox_image_has_applet_links(hello_images: Path) -> None:
    _, config, files = _read(hello_images / "busybox.oci.tar")
    assert files["bin/busybox"][:4] == b"\x7fELF"
    for applet in ("bin/sh", "bin/cat", "bin/sleep", "bin/uname"):
        assert files[applet] == b"-> /bin/busybox"
    assert config["config"]["Cmd"] == ["/bin/sh"]


def test_rerun_gives_the_same_bytes(hello_images: Path, tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(MAKE_IMAGES), str(tmp_path)], check=True)
    for name in ("kernel", "init", "busybox"):
        again = (tmp_path / f"{name}.oci.tar").read_bytes()
        assert again == (hello_images / f"{name}.oci.tar").read_bytes(), name
