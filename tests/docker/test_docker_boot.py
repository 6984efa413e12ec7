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

from systemkit.backends import available_backends
from systemkit.backends.base import BuildRequest
from systemkit.backends.docker import DockerBackend
from systemkit.cli import main
from systemkit.loader import load_lowered
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


def build_hello_with_docker(store_root: Path, out: Path) -> Path:
    """Like test_boot.build_hello, with the docker backend and no image store."""
    empty = out.parent / "empty-store"
    if "docker" in available_backends():
        code = main(
            [
                "build",
                str(test_boot.HELLO),
                "--backend",
                "docker",
                "--format",
                "kernel+initrd",
                "--dir",
                str(out),
                "--name",
                "hello",
                "--cache",
                str(empty),
                "--quiet",
            ]
        )
        assert code == 0
    else:  # until the entry point is registered in pyproject.toml
        lowered = load_lowered([test_boot.HELLO])
        DockerBackend().build(
            BuildRequest(
                spec=lowered.spec,
                base_dir=lowered.base_dir,
                formats=("kernel+initrd",),
                out_dir=out,
                name="hello",
                cache_dir=empty,
            )
        )
    assert not (empty / "blobs").exists()  # nothing came from a store
    assert sorted(p.name for p in out.iterdir()) == [
        "hello-cmdline",
        "hello-initrd.img",
        "hello-kernel",
    ]
    return out / "hello"


@pytest.mark.usefixtures("qemu_ready", "hello_in_engine")
def test_hello_built_with_docker_boots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(test_boot, "build_hello", build_hello_with_docker)
    test_boot.test_hello_boots_runs_its_containers_and_powers_off(tmp_path / "unused", tmp_path)


@pytest.mark.usefixtures("hello_in_engine")
def test_hello_docker_and_native_builds_are_identical(tmp_path: Path, hello_images: Path) -> None:
    from systemkit.images.archive import import_archive
    from systemkit.images.store import ImageStore

    store = ImageStore(tmp_path / "store")
    for archive in sorted(hello_images.glob("*.oci.tar")):
        import_archive(store, archive)
    (tmp_path / "native").mkdir()
    (tmp_path / "docker").mkdir()
    test_boot.build_hello(store.root, tmp_path / "native")
    build_hello_with_docker(store.root, tmp_path / "docker")
    for name in ("hello-cmdline", "hello-initrd.img", "hello-kernel"):
        a = (tmp_path / "native" / name).read_bytes()
        assert a == (tmp_path / "docker" / name).read_bytes(), name
