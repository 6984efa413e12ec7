"""``format: oci`` volumes: LinuxKit's exact ``oci-layout`` bytes, and a valid layout written for an
image that is a single manifest (LinuxKit refuses it with ``no image index found``; systemkit
accepts it: docs/deviations-build.md, deviation 7)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import tarfile
from pathlib import Path

from systemkit.assemble.ociimage import OCI_LAYOUT
from systemkit.backends import build
from systemkit.images import synth
from systemkit.images.store import ImageStore
from systemkit.spec import types as st

PREFIX = "containers/volumes/data/lower/"


def test_oci_layout_is_linuxkits_constant() -> None:
    # cache/imagesource.go: layoutFile = `{\n\t\t"imageLayoutVersion": "1.0.0"\n\t}`
    assert OCI_LAYOUT == b'{\n\t\t"imageLayoutVersion": "1.0.0"\n\t}'
    assert len(OCI_LAYOUT) == 36


def test_single_manifest_volume_is_a_valid_layout(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "store")
    desc = synth.put_image(store, [{"srv/data.txt": "hello\n"}])
    ref = "docker.io/sktest/single:1"
    store.tag(ref, {k: v for k, v in desc.items() if k != "platform"})
    spec = st.Spec(volumes=[st.VolumeSpec(name="data", image=ref, format="oci")])
    out = tmp_path / "out"
    out.mkdir()
    build(
        spec,
        base_dir=tmp_path,
        formats=("tar",),
        out_dir=out,
        name="system",
        arch="amd64",
        cache_dir=tmp_path / "store",
    )
    members: dict[str, bytes] = {}
    with tarfile.open(out / "system.tar") as tar:
        for m in tar.getmembers():
            if m.name.startswith(PREFIX) and m.isfile():
                f = tar.extractfile(m)
                assert f is not None
                members[m.name[len(PREFIX) :]] = f.read()
    assert members["oci-layout"] == OCI_LAYOUT
    # Every blob is stored under its own digest.
    blobs = {k: v for k, v in members.items() if k.startswith("blobs/sha256/")}
    for name, data in blobs.items():
        assert hashlib.sha256(data).hexdigest() == name.rsplit("/", 1)[1]
    index = json.loads(members["index.json"])
    assert index["schemaVersion"] == 2
    assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
    (root,) = index["manifests"]
    assert root["digest"] == desc["digest"]
    assert root["annotations"]["org.opencontainers.image.ref.name"] == ref
    manifest = json.loads(blobs["blobs/sha256/" + root["digest"].split(":")[1]])
    needed = [manifest["config"], *manifest["layers"]]
    for d in needed:
        data = blobs["blobs/sha256/" + d["digest"].split(":")[1]]
        assert len(data) == d["size"]
    assert len(blobs) == 1 + len(needed)
    # An independent reader agrees: skopeo (Debian package, see scripts/setup.sh) opens it.
    layout = tmp_path / "layout"
    for name, data in members.items():
        (layout / name).parent.mkdir(parents=True, exist_ok=True)
        (layout / name).write_bytes(data)
    proc = subprocess.run(
        ["skopeo", "inspect", "--raw", f"oci:{layout}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == manifest
