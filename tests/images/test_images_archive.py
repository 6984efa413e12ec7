"""Importing OCI archives, OCI layout directories and docker-archive tars into the store."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pytest

from systemkit.images import synth
from systemkit.images.archive import import_archive
from systemkit.images.listing import list_images
from systemkit.images.store import DigestMismatch, ImageError, ImageStore
from tests.support.tarextract import extract_all

CONFORMANCE = Path("/work/shared/conformance/images")
IMAGES: dict[str, Any] = json.loads((CONFORMANCE / "images.json").read_text())


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("key", sorted(IMAGES))
def test_import_conformance_image(tmp_path: Path, key: str) -> None:
    info = IMAGES[key]
    store = ImageStore(tmp_path / "s")
    assert import_archive(store, CONFORMANCE / info["file"]) == [info["ref"]]
    root = store.lookup(info["ref"])
    assert root is not None and root["digest"] == info["digest"]
    img = store.resolve(info["ref"], "amd64")
    assert img.config["architecture"] == "amd64"
    for layer in img.layers:
        with store.open_layer(layer) as f, tarfile.open(fileobj=f, mode="r|") as tar:
            assert sum(1 for _ in tar) > 0
    for blob in store.blob_path(info["digest"]).parent.iterdir():
        assert sha(blob.read_bytes()) == "sha256:" + blob.name


def test_import_all_conformance_images_into_one_store(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "s")
    for info in IMAGES.values():
        import_archive(store, CONFORMANCE / info["file"])
    assert [r for r, _ in store.refs()] == sorted(i["ref"] for i in IMAGES.values())
    plain = store.resolve("sktest/plain:1")
    alias = store.resolve("sktest/plain:alias")
    assert plain.manifest_digest == alias.manifest_digest
    assert plain.label is None
    labelled = store.resolve("sktest/labelled:1").label
    assert labelled is not None and labelled["net"] == "new"
    rows = {row.ref: row for row in list_images(store)}
    assert rows["docker.io/sktest/plain:1"].platforms == ("linux/amd64",)
    assert rows["docker.io/sktest/multiarch:1"].platforms == ("linux/arm64", "linux/amd64")
    assert all(row.size for row in rows.values())


def test_multiarch_resolves_to_amd64_manifest(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "s")
    import_archive(store, CONFORMANCE / "multiarch.oci.tar")
    index = store.read_json(IMAGES["multiarch"]["digest"])
    by_arch = {m["platform"]["architecture"]: m["digest"] for m in index["manifests"]}
    img = store.resolve("sktest/multiarch:1", "amd64")
    assert img.manifest_digest == by_arch["amd64"]
    assert store.resolve("sktest/multiarch:1", "arm64").manifest_digest == by_arch["arm64"]
    with store.open_layer(img.layers[0]) as f, tarfile.open(fileobj=f, mode="r|") as tar:
        for member in tar:
            if member.name.endswith("etc/arch"):
                data = tar.extractfile(member)
                assert data is not None and b"amd64" in data.read()
                break
        else:
            pytest.fail("etc/arch not in the amd64 layer")


def test_import_oci_layout_directory(tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    with tarfile.open(CONFORMANCE / "patched.oci.tar") as tar:
        extract_all(tar, layout, "data")
    store = ImageStore(tmp_path / "s")
    assert import_archive(store, layout) == ["docker.io/sktest/patched:1"]
    assert len(store.resolve("sktest/patched:1").layers) == 2


def test_store_itself_is_an_importable_layout(tmp_path: Path) -> None:
    first = ImageStore(tmp_path / "a")
    first.tag("sktest/own:1", synth.put_image(first, [{"f": "x"}]))
    second = ImageStore(tmp_path / "b")
    assert import_archive(second, first.root) == ["docker.io/sktest/own:1"]
    assert (
        second.resolve("sktest/own:1").manifest_digest
        == first.resolve("sktest/own:1").manifest_digest
    )


def _retar(src: Path, dest: Path, edit: dict[str, bytes | None]) -> None:
    """Copy a tar, replacing (or, with None, dropping) some members."""
    with tarfile.open(src) as tin, tarfile.open(dest, "w") as tout:
        for member in tin.getmembers():
            if member.name in edit:
                data = edit[member.name]
                if data is None:
                    continue
                member.size = len(data)
                tout.addfile(member, io.BytesIO(data))
            else:
                tout.addfile(member, tin.extractfile(member) if member.isfile() else None)


def _layer_member(archive: Path) -> str:
    with tarfile.open(archive) as tar:
        return max(
            (m for m in tar.getmembers() if m.name.startswith("blobs/")), key=lambda m: m.size
        ).name


def test_corrupt_blob_is_refused_and_not_named(tmp_path: Path) -> None:
    src = CONFORMANCE / "plain.oci.tar"
    member = _layer_member(src)
    with tarfile.open(src) as tar:
        f = tar.extractfile(member)
        assert f is not None
        data = bytearray(f.read())
    data[-1] ^= 0xFF
    bad = tmp_path / "bad.oci.tar"
    _retar(src, bad, {member: bytes(data)})
    store = ImageStore(tmp_path / "s")
    with pytest.raises(DigestMismatch, match=member.rsplit("/", 1)[1]):
        import_archive(store, bad)
    assert store.refs() == []
    assert not store.has_blob("sha256:" + member.rsplit("/", 1)[1])
    assert list((store.root / ".tmp").iterdir()) == []


def test_missing_blob_is_an_error_and_not_named(tmp_path: Path) -> None:
    src = CONFORMANCE / "plain.oci.tar"
    member = _layer_member(src)
    bad = tmp_path / "holey.oci.tar"
    _retar(src, bad, {member: None})
    store = ImageStore(tmp_path / "s")
    with pytest.raises(ImageError, match="missing from the archive"):
        import_archive(store, bad)
    assert store.refs() == []


def test_unnamed_oci_archive_needs_a_name(tmp_path: Path) -> None:
    src = CONFORMANCE / "data.oci.tar"
    with tarfile.open(src) as tar:
        f = tar.extractfile("index.json")
        assert f is not None
        index = json.load(f)
    for desc in index["manifests"]:
        desc["annotations"] = {"org.opencontainers.image.ref.name": "latest"}
    unnamed = tmp_path / "unnamed.tar"
    _retar(src, unnamed, {"index.json": json.dumps(index).encode()})
    store = ImageStore(tmp_path / "s")
    with pytest.raises(ImageError, match="no image name"):
        import_archive(store, unnamed)
    assert import_archive(store, unnamed, name="sktest/named:2") == ["docker.io/sktest/named:2"]


def test_not_an_archive(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "s")
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"this is not a tar file at all" * 100)
    with pytest.raises(ImageError, match="not a readable tar"):
        import_archive(store, junk)
    with pytest.raises(ImageError, match="no such file"):
        import_archive(store, tmp_path / "absent.tar")
    empty = tmp_path / "empty.tar"
    with tarfile.open(empty, "w"):
        pass
    with pytest.raises(ImageError, match="neither an OCI layout"):
        import_archive(store, empty)


# -- docker archive --------------------------------------------------------------------------


def _layer_tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def make_docker_archive(
    path: Path,
    tags: list[str],
    *,
    gzip_second: bool = False,
    wrong_diff_id: bool = False,
    legacy_paths: bool = True,
) -> dict[str, Any]:
    """Write a tar as ``docker save`` does: manifest.json, the config json, layer tars."""
    layers = [_layer_tar({"etc/one": b"1\n"}), _layer_tar({"etc/two": b"2\n"})]
    diff_ids = [sha(layer) for layer in layers]
    if gzip_second:
        layers[1] = gzip.compress(layers[1], mtime=0)
    if wrong_diff_id:
        diff_ids[0] = sha(b"something else")
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": ["PATH=/bin"], "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }
    config_bytes = json.dumps(config).encode()
    config_name = sha(config_bytes).split(":")[1] + ".json"
    if legacy_paths:
        layer_names = [f"{sha(layer).split(':')[1][:12]}/layer.tar" for layer in layers]
    else:
        layer_names = [f"blobs/sha256/{sha(layer).split(':')[1]}" for layer in layers]
        config_name = "blobs/sha256/" + sha(config_bytes).split(":")[1]
    manifest = [{"Config": config_name, "RepoTags": tags, "Layers": layer_names}]
    with tarfile.open(path, "w") as tar:
        members = {
            config_name: config_bytes,
            **dict(zip(layer_names, layers, strict=True)),
            "repositories": b"{}",
            "manifest.json": json.dumps(manifest).encode(),
        }
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return {"config": sha(config_bytes), "layers": [sha(layer) for layer in layers]}


@pytest.mark.parametrize("legacy_paths", [True, False])
def test_import_docker_archive(tmp_path: Path, legacy_paths: bool) -> None:
    archive = tmp_path / "saved.tar"
    made = make_docker_archive(
        archive,
        ["sktest/docker:1", "example.org/x/y:2"],
        gzip_second=True,
        legacy_paths=legacy_paths,
    )
    store = ImageStore(tmp_path / "s")
    refs = import_archive(store, archive)
    assert refs == ["docker.io/sktest/docker:1", "example.org/x/y:2"]
    img = store.resolve("sktest/docker:1", "amd64")
    assert img.manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert img.manifest["config"]["digest"] == made["config"]
    assert [layer["digest"] for layer in img.layers] == made["layers"]  # bytes kept as they are
    assert [layer["mediaType"] for layer in img.layers] == [
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
    ]
    assert img.config["config"]["Cmd"] == ["/bin/sh"]
    names = []
    for layer in img.layers:
        with store.open_layer(layer) as f, tarfile.open(fileobj=f, mode="r|") as tar:
            names += [m.name for m in tar]
    assert names == ["etc/one", "etc/two"]
    assert store.resolve("example.org/x/y:2").manifest_digest == img.manifest_digest


def test_docker_archive_layer_must_match_diff_id(tmp_path: Path) -> None:
    archive = tmp_path / "saved.tar"
    make_docker_archive(archive, ["sktest/docker:1"], wrong_diff_id=True)
    store = ImageStore(tmp_path / "s")
    with pytest.raises(DigestMismatch, match="does not match"):
        import_archive(store, archive)
    assert store.refs() == []


def test_docker_archive_without_tags_needs_a_name(tmp_path: Path) -> None:
    archive = tmp_path / "saved.tar"
    make_docker_archive(archive, [])
    store = ImageStore(tmp_path / "s")
    with pytest.raises(ImageError, match="no RepoTags"):
        import_archive(store, archive)
    assert import_archive(store, archive, name="sktest/n:1") == ["docker.io/sktest/n:1"]


def test_docker_archive_corrupt_digest_named_member(tmp_path: Path) -> None:
    archive = tmp_path / "saved.tar"
    make_docker_archive(archive, ["sktest/docker:1"], legacy_paths=False)
    bad = tmp_path / "bad.tar"
    with tarfile.open(archive) as tar:
        first_layer = [m.name for m in tar.getmembers() if m.name.startswith("blobs/")][1]
    _retar(archive, bad, {first_layer: _layer_tar({"etc/evil": b"x"})})
    store = ImageStore(tmp_path / "s")
    with pytest.raises(DigestMismatch):
        import_archive(store, bad)
    assert store.refs() == []


def test_reimport_is_idempotent(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "s")
    import_archive(store, CONFORMANCE / "plain.oci.tar")
    before = sorted(p.name for p in store.blob_path(IMAGES["plain"]["digest"]).parent.iterdir())
    import_archive(store, CONFORMANCE / "plain.oci.tar")
    after = sorted(p.name for p in store.blob_path(IMAGES["plain"]["digest"]).parent.iterdir())
    assert before == after and len(store.refs()) == 1
    shutil.rmtree(store.root / ".tmp")
    ImageStore(store.root)  # a store recreates what it needs
