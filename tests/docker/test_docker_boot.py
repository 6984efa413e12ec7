"""The hello system built with ``--backend docker`` boots in the same qemu test as native.

The hello images (``examples/hello/make_images.py``, fixture ``hello_images`` of tests/run) are
loaded into the Docker Engine with ``skopeo copy oci-archive:X docker-daemon:REF``; the build
then reads them from the engine only (its image store argument is an empty directory). The boot
and its expectations are tests/run/test_boot.py's own test, run with the docker build.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.docker.dockerimages import skopeo
from tests.run import test_boot
from tests.run.conftest import HELLO_REFS, hello_images, qemu_ready

__all__ = ["hello_images", "qemu_ready"]  # fixtures shared with tests/run

pytestmark = [pytest.mark.slow, pytest.mark.qemu, pytest.mark.docker]


@pytest.fixture(scope="module")
def hello_in_engine(docker_engine: None, hello_images: Path) -> Iterator[None]:
    by_name = {ref.rsplit("/", 1)[1].split(":")[0]: ref for ref in HELLO_REFS}
    for name, ref in by_name.items():
        subprocess.run(["docker", "rmi", "-f", ref], capture_output=True, check=False)
        skopeo(
            "copy", "-q", f"oci-archive:{hello_images / f'{name}.oci.tar'}", f"docker-daemon:{ref}"
        )
    yield
    subprocess.run(["docker", "rmi", "-f", *HELLO_REFS], capture_output=True, check=False)


@pytest.mark.usefixtures("qemu_ready", "hello_in_engine")
def test_hello_built_with_docker_boots(tmp_path: Path) -> None:
    empty = tmp_path / "empty-store"
    prefix = test_boot.build_hello(tmp_path / "out", empty, "docker")
    assert not (empty / "blobs").exists()  # every image came from the engine
    test_boot.test_hello_boots_runs_its_containers_and_powers_off(prefix)


@pytest.mark.usefixtures("hello_in_engine")
def test_hello_docker_and_native_builds_are_identical(tmp_path: Path, hello_images: Path) -> None:
    from systemkit.images.archive import import_archive
    from systemkit.images.store import ImageStore

    store = ImageStore(tmp_path / "store")
    for archive in sorted(hello_images.glob("*.oci.tar")):
        import_archive(store, archive)
    native = test_boot.build_hello(tmp_path / "native", store.root)
    docker = test_boot.build_hello(tmp_path / "docker", tmp_path / "empty-store", "docker")
    for suffix in ("-cmdline", "-initrd.img", "-kernel"):
        a = Path(f"{native}{suffix}").read_bytes()
        assert a == Path(f"{docker}{suffix}").read_bytes(), suffix


@pytest.mark.usefixtures("hello_in_engine")
def test_disk_formats_built_with_docker_equal_native(tmp_path: Path, hello_images: Path) -> None:
    from systemkit.cli import main
    from systemkit.images.archive import import_archive
    from systemkit.images.store import ImageStore

    store = ImageStore(tmp_path / "store")
    for archive in sorted(hello_images.glob("*.oci.tar")):
        import_archive(store, archive)
    outs = {}
    for backend, cache in (("native", store.root), ("docker", tmp_path / "empty-store")):
        out = tmp_path / backend
        out.mkdir()
        args = ["build", str(test_boot.HELLO), "--backend", backend, "--format", "uki,squashfs"]
        assert main([*args, "--dir", str(out), "--name", "hello", "--cache", str(cache)]) == 0
        outs[backend] = {p.name: p.read_bytes() for p in out.iterdir()}
    assert sorted(outs["docker"]) == [
        "hello-squashfs-cmdline",
        "hello-squashfs-initrd.img",
        "hello-squashfs-kernel",
        "hello-squashfs.img",
        "hello.efi",
    ]
    assert outs["docker"] == outs["native"]
