"""Fixtures for the boot tests: the hello system's images, made from Debian packages by
``examples/hello/make_images.py`` once per session (the .deb files stay cached between runs in
``$XDG_CACHE_HOME/systemkit/debs``), and an image store they are imported into."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from systemkit.images.archive import import_archive
from systemkit.images.store import ImageStore

REPO = Path(__file__).resolve().parents[2]
MAKE_IMAGES = REPO / "examples" / "hello" / "make_images.py"
HELLO_REFS = (
    "systemkit.local/hello/busybox:1",
    "systemkit.local/hello/init:1",
    "systemkit.local/hello/kernel:6.1",
)


def _require(*programs: str) -> None:
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        pytest.fail(f"not installed: {', '.join(missing)} (run scripts/setup.sh)")


@pytest.fixture(scope="session")
def hello_images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with kernel.oci.tar, init.oci.tar and busybox.oci.tar."""
    _require("apt-get", "apt-cache", "dpkg-deb", "ldd")
    out = tmp_path_factory.mktemp("hello-images")
    proc = subprocess.run(
        [sys.executable, str(MAKE_IMAGES), str(out)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, f"make_images.py failed:\n{proc.stderr}"
    for name in ("kernel", "init", "busybox"):
        assert (out / f"{name}.oci.tar").is_file()
    return out


@pytest.fixture(scope="session")
def hello_store(hello_images: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An image store (root directory) holding the three hello images."""
    root = tmp_path_factory.mktemp("hello-store")
    store = ImageStore(root)
    refs: list[str] = []
    for archive in sorted(hello_images.glob("*.oci.tar")):
        refs += import_archive(store, archive)
    assert sorted(refs) == sorted(HELLO_REFS)
    return root


@pytest.fixture(scope="session")
def qemu_ready() -> None:
    _require("qemu-system-x86_64", "cpio")
