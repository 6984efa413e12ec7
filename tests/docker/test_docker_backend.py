"""The docker backend against a real Docker Engine (started by the ``docker_engine`` fixture).

The central check: the same images built with ``native`` (imported from OCI layouts written in
Python) and with ``docker`` (loaded into the engine by skopeo, exported again by the backend)
give byte-identical ``tar`` and ``kernel+initrd`` outputs.
"""

from __future__ import annotations

import base64
import gzip
import json
import tarfile
from pathlib import Path
from typing import Any

import attrs
import pytest

from systemkit.backends.base import BuildRequest
from systemkit.backends.docker import (
    ENGINE_UNREACHABLE,
    IMAGE_MISSING,
    MIRROR_DIR,
    PLATFORM_MISMATCH,
    PULL_FAILED,
    DockerBackend,
    EngineEndpoint,
    spec_images,
)
from systemkit.backends.native import NativeBackend
from systemkit.diagnostics import UserError
from systemkit.images import synth
from systemkit.images.store import ImageStore
from systemkit.spec.codec import from_data
from systemkit.spec.types import Spec
from tests.docker.dockerimages import (
    DATA,
    IMAGES,
    INIT,
    KERNEL,
    LABELLED,
    TOOLS,
    docker,
    remove_images,
    skopeo,
    system_spec,
)
from tests.support.progress import collect
from tests.support.registry import REGISTRY_PASSWORD, REGISTRY_USER

pytestmark = [pytest.mark.docker, pytest.mark.slow]

FORMATS = ("tar", "kernel+initrd")


def _request(spec: Spec, out: Path, **kw: Any) -> BuildRequest:
    out.mkdir(parents=True, exist_ok=True)
    base = BuildRequest(
        spec=spec, base_dir=out, formats=FORMATS, out_dir=out, name="sys", arch="amd64"
    )
    return attrs.evolve(base, **kw)


def _members(tar_path: Path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(tar_path) as tar:
        return {m.name: m for m in tar.getmembers()}


def test_native_and_docker_outputs_are_byte_identical(
    engine_images: list[str], native_store: Path, tmp_path: Path
) -> None:
    spec = system_spec()
    native = NativeBackend().build(_request(spec, tmp_path / "native", cache_dir=native_store))
    empty_cache = tmp_path / "unused-cache"
    lines: list[str] = []
    dock = DockerBackend().build(
        _request(
            spec,
            tmp_path / "docker",
            cache_dir=empty_cache,
            progress=collect(lines),
        )
    )
    assert [p.name for p in native] == [p.name for p in dock]
    assert {p.name for p in dock} >= {"sys.tar", "sys-kernel", "sys-initrd.img", "sys-cmdline"}
    for a, b in zip(native, dock, strict=True):
        assert a.read_bytes() == b.read_bytes(), f"{a.name} differs between native and docker"
    # The docker side really went through the engine (and not through a store).
    assert any("exporting" in line for line in lines)
    assert not (empty_cache / "blobs").exists()
    # ... and the content is the images' content, config and labels included.
    members = _members(tmp_path / "docker" / "sys.tar")
    assert "etc/old" not in members and "usr/lib/gone/file" not in members  # whiteouts
    with tarfile.open(tmp_path / "docker" / "sys.tar") as tar:
        f = tar.extractfile("containers/onboot/001-labelled/config.json")
        assert f is not None
        config = json.load(f)
        g = tar.extractfile("containers/onboot/001-labelled/lower/var/lib/daemon/state")
        assert g is not None and g.read() == b"0\n"
    assert "CAP_SYS_ADMIN" in config["process"]["capabilities"]["bounding"]
    assert "pid" not in {ns["type"] for ns in config["linux"]["namespaces"]}  # label: pid host


def test_locally_built_images_are_used_without_pulling(docker_engine: None, tmp_path: Path) -> None:
    """Images made with ``docker build`` FROM scratch exist only in the engine: no registry has
    them, so the build proves the engine's local images are used first."""
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "kernel").write_bytes(b"\x00fake kernel\x00" * 100)
    (ctx / "hello").write_text("hello from docker build\n")
    (ctx / "Dockerfile.kernel").write_text("FROM scratch\nCOPY kernel /kernel\n")
    label = json.dumps({"capabilities": ["CAP_NET_ADMIN"], "readonly": True})
    (ctx / "Dockerfile.app").write_text(
        "FROM scratch\nCOPY hello /etc/hello\n"
        f"LABEL org.mobyproject.config='{label}'\n"
        'CMD ["/bin/app"]\n'
    )
    kernel, app = "skdocker-local/kernel:1", "skdocker-local/app:1"
    try:
        docker("build", "-q", "-f", str(ctx / "Dockerfile.kernel"), "-t", kernel, str(ctx))
        docker("build", "-q", "-f", str(ctx / "Dockerfile.app"), "-t", app, str(ctx))
        spec: Spec = from_data(
            {
                "kernel": {"image": kernel, "tar": "none"},
                "init": [app],
                "onboot": [{"name": "app", "image": app}],
            }
        )
        out = tmp_path / "out"
        paths = DockerBackend().build(attrs.evolve(_request(spec, out), formats=("tar",)))
        assert [p.name for p in paths] == ["sys.tar"]
        with tarfile.open(paths[0]) as tar:
            assert tar.extractfile("boot/kernel").read() == b"\x00fake kernel\x00" * 100  # type: ignore[union-attr]
            assert tar.extractfile("etc/hello").read() == b"hello from docker build\n"  # type: ignore[union-attr]
            cfg = json.load(tar.extractfile("containers/onboot/000-app/config.json"))  # type: ignore[arg-type]
        assert cfg["process"]["args"] == ["/bin/app"]
        assert cfg["root"]["readonly"] is True
        assert "CAP_NET_ADMIN" in cfg["process"]["capabilities"]["bounding"]
    finally:
        remove_images([kernel, app])


def test_missing_image_is_a_located_one_line_error(
    engine_images: list[str], local_registry: str, tmp_path: Path
) -> None:
    missing = f"{local_registry}/skdocker/missing:1"
    also = f"{local_registry}/skdocker/missing-too:1"
    data = {
        "kernel": {"image": KERNEL},
        "init": [INIT],
        "onboot": [{"name": "ok", "image": TOOLS}, {"name": "gone", "image": missing}],
        "services": [{"name": "gone-too", "image": also}],
    }
    spec: Spec = from_data(data)
    with pytest.raises(UserError) as info:
        DockerBackend().build(_request(spec, tmp_path / "out"))
    diag, other = info.value.diagnostics  # every missing image, in one run
    assert other.spec_path == "$.services[0].image" and also in other.message
    assert diag.code == PULL_FAILED
    assert diag.spec_path == "$.onboot[1].image"
    assert missing in diag.message and "pulling it failed" in diag.message
    assert "\n" not in diag.render()
    assert list((tmp_path / "out").iterdir()) == []  # nothing half-written


def test_pull_through_the_engine_from_a_local_registry(
    engine_images: list[str], layouts: dict[str, Path], local_registry: str, tmp_path: Path
) -> None:
    """An image the engine lacks is pulled by the engine (127.0.0.0/8 registries are insecure
    by default for dockerd), then exported like a local one."""
    remote = f"{local_registry}/skdocker/data:1"
    skopeo(
        "copy", "-q", "--dest-tls-verify=false", f"oci:{layouts[DATA]}:{DATA}", f"docker://{remote}"
    )
    remove_images([remote])
    spec: Spec = from_data({"volumes": [{"name": "v", "image": remote}]})
    try:
        lines: list[str] = []
        paths = DockerBackend().build(
            attrs.evolve(
                _request(spec, tmp_path / "out"),
                formats=("tar",),
                progress=collect(lines),
            )
        )
        assert any("pulling" in line for line in lines)
        docker("image", "inspect", remote)  # the engine has it now
        members = _members(paths[0])
        assert "containers/volumes/v/lower/data/a.txt" in members
    finally:
        remove_images([remote])


def test_stopped_engine_is_a_one_line_error(tmp_path: Path) -> None:
    spec = system_spec()
    for host in (f"unix://{tmp_path}/no-docker.sock", "tcp://127.0.0.1:9"):
        backend = DockerBackend(EngineEndpoint(host, origin="DOCKER_HOST"))
        with pytest.raises(UserError) as info:
            backend.build(_request(spec, tmp_path / "out"))
        (diag,) = info.value.diagnostics
        assert diag.code == ENGINE_UNREACHABLE
        assert host in diag.message and "is dockerd running?" in diag.message
        assert "\n" not in diag.render()


def test_docker_host_from_the_environment_is_honoured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = f"unix://{tmp_path}/elsewhere.sock"
    monkeypatch.setenv("DOCKER_HOST", host)
    with pytest.raises(UserError) as info:
        DockerBackend().build(_request(system_spec(), tmp_path / "out"))
    assert f"{host} (DOCKER_HOST)" in info.value.diagnostics[0].message


def test_spec_images_lists_each_ref_once_with_its_first_path() -> None:
    found = spec_images(system_spec())
    refs = [ref for ref, _ in found]
    assert len(refs) == len(set(refs)) == len(IMAGES)
    assert dict(found)[LABELLED] == "$.onboot[1].image"
    assert dict(found)[DATA] == "$.volumes[0].image"
    assert IMAGE_MISSING != PULL_FAILED


def test_private_registry_credentials_come_from_the_docker_config(
    engine_images: list[str],
    layouts: dict[str, Path],
    auth_registry: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The pull goes through the engine with the credentials of $DOCKER_CONFIG/config.json,
    as ``docker pull`` would send them; without them the registry refuses (SK603)."""
    remote = f"{auth_registry}/skdocker/private:1"
    creds = f"{REGISTRY_USER}:{REGISTRY_PASSWORD}"
    skopeo(
        "copy", "-q", "--dest-tls-verify=false", "--dest-creds", creds,
        f"oci:{layouts[DATA]}:{DATA}", f"docker://{remote}",
    )  # fmt: skip
    remove_images([remote])
    spec: Spec = from_data({"volumes": [{"name": "v", "image": remote}]})
    no_creds = tmp_path / "no-creds"
    no_creds.mkdir()
    (no_creds / "config.json").write_text("{}")
    monkeypatch.setenv("DOCKER_CONFIG", str(no_creds))
    with pytest.raises(UserError) as info:
        DockerBackend().build(attrs.evolve(_request(spec, tmp_path / "o1"), formats=("tar",)))
    assert info.value.diagnostics[0].code == PULL_FAILED
    assert info.value.diagnostics[0].spec_path == "$.volumes[0].image"

    with_creds = tmp_path / "with-creds"
    with_creds.mkdir()
    auth = base64.b64encode(creds.encode()).decode()
    (with_creds / "config.json").write_text(json.dumps({"auths": {auth_registry: {"auth": auth}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(with_creds))
    try:
        paths = DockerBackend().build(
            attrs.evolve(_request(spec, tmp_path / "o2"), formats=("tar",))
        )
        assert "containers/volumes/v/lower/data/a.txt" in _members(paths[0])
    finally:
        remove_images([remote])


def test_oci_format_volume_differs_only_in_layer_encoding(
    engine_images: list[str], native_store: Path, tmp_path: Path
) -> None:
    """The documented difference: a ``format: oci`` volume holds blobs; from the engine the
    layers are uncompressed (so layer and manifest digests differ) while the image config and
    the uncompressed layer content are the same."""
    spec: Spec = from_data({"volumes": [{"name": "v", "image": DATA, "format": "oci"}]})
    built = {}
    for name, backend, cache in (
        ("native", NativeBackend(), native_store),
        ("docker", DockerBackend(), tmp_path / "unused"),
    ):
        req = attrs.evolve(_request(spec, tmp_path / name, cache_dir=cache), formats=("tar",))
        (path,) = backend.build(req)
        built[name] = _oci_volume(path)
    (n_config, n_layers), (d_config, d_layers) = built["native"], built["docker"]
    assert n_config == d_config
    assert n_layers == d_layers


def _oci_volume(tar_path: Path) -> tuple[bytes, list[bytes]]:
    """(config bytes, uncompressed layer tars) of the image in the volume's OCI layout."""
    prefix = "containers/volumes/v/lower/"
    with tarfile.open(tar_path) as tar:

        def blob(digest: str) -> bytes:
            f = tar.extractfile(prefix + "blobs/sha256/" + digest.split(":", 1)[1])
            assert f is not None
            return f.read()

        index_file = tar.extractfile(prefix + "index.json")
        assert index_file is not None
        index = json.load(index_file)
        manifest = json.loads(blob(index["manifests"][0]["digest"]))
        layers = []
        for layer in manifest["layers"]:
            data = blob(layer["digest"])
            layers.append(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)
        return blob(manifest["config"]["digest"]), layers


def test_local_image_first_and_pull_forces_the_registry(
    engine_images: list[str], layouts: dict[str, Path], local_registry: str, tmp_path: Path
) -> None:
    """The engine's local image wins over the registry's unless ``pull`` is asked for."""
    ref = f"{local_registry}/skdocker/which:1"
    skopeo(
        "copy", "-q", "--dest-tls-verify=false", f"oci:{layouts[DATA]}:{DATA}", f"docker://{ref}"
    )
    docker("tag", TOOLS, ref)  # locally, the same name is another image
    spec: Spec = from_data({"volumes": [{"name": "v", "image": ref}]})
    try:
        base = attrs.evolve(_request(spec, tmp_path / "local"), formats=("tar",))
        local = _members(DockerBackend().build(base)[0])
        assert "containers/volumes/v/lower/bin/tool" in local
        assert "containers/volumes/v/lower/data/a.txt" not in local
        pulled_req = attrs.evolve(_request(spec, tmp_path / "pulled"), formats=("tar",), pull=True)
        pulled = _members(DockerBackend().build(pulled_req)[0])
        assert "containers/volumes/v/lower/data/a.txt" in pulled
        assert "containers/volumes/v/lower/bin/tool" not in pulled
    finally:
        remove_images([ref])


def test_local_image_of_another_platform_is_refused(docker_engine: None, tmp_path: Path) -> None:
    ref = "systemkit.test/skdocker/arm-only:1"
    store = ImageStore(tmp_path / "layout")
    store.tag(ref, synth.put_image(store, [{"etc/arm": "arm64\n"}], arch="arm64"))
    skopeo("copy", "-q", f"oci:{store.root}:{ref}", f"docker-daemon:{ref}")
    spec: Spec = from_data({"init": [ref]})
    try:
        with pytest.raises(UserError) as info:
            DockerBackend().build(attrs.evolve(_request(spec, tmp_path / "out"), formats=("tar",)))
        (diag,) = info.value.diagnostics
        assert diag.code == PLATFORM_MISMATCH and diag.spec_path == "$.init[0]"
        assert "linux/arm64" in diag.message and "linux/amd64" in diag.message
    finally:
        remove_images([ref])


def test_unchanged_images_are_not_exported_again_and_changed_ones_are(
    engine_images: list[str], layouts: dict[str, Path], tmp_path: Path
) -> None:
    """The mirror follows the engine: same image id -> no export, same bytes; the reference
    moved to another image -> exported again, and the build shows the new content."""
    ref = "systemkit.test/skdocker/moving:1"
    docker("tag", DATA, ref)
    spec: Spec = from_data({"volumes": [{"name": "v", "image": ref}]})
    cache = tmp_path / "cache"
    try:
        outs = []
        for i in range(3):
            if i == 2:
                docker("tag", TOOLS, ref)  # the reference now names another image
            lines: list[str] = []
            req = attrs.evolve(
                _request(spec, tmp_path / f"out{i}", cache_dir=cache),
                formats=("tar",),
                progress=collect(lines),
            )
            (path,) = DockerBackend().build(req)
            outs.append((path.read_bytes(), any("exporting" in line for line in lines)))
        (first, exported1), (second, exported2), (third, exported3) = outs
        assert exported1 and not exported2 and exported3
        assert first == second
        assert first != third
        assert "containers/volumes/v/lower/bin/tool" in _members(tmp_path / "out2" / "sys.tar")
        assert (cache / MIRROR_DIR / "index.json").is_file()
        assert not (cache / "blobs").exists()  # the user's store itself is not touched
    finally:
        remove_images([ref])
