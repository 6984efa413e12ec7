"""The local image store: an OCI layout whose blobs are verified and whose names are atomic."""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest

from systemkit.images import synth
from systemkit.images.mediatypes import OCI_MANIFEST
from systemkit.images.store import (
    DigestMismatch,
    ImageError,
    ImageNotFound,
    ImageStore,
    PlatformMismatch,
)


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_new_store_is_an_oci_layout(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "s")
    assert json.loads((store.root / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    assert json.loads((store.root / "index.json").read_text())["manifests"] == []
    assert (store.root / "blobs" / "sha256").is_dir()


def test_default_location_follows_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYSTEMKIT_CACHE", str(tmp_path / "explicit"))
    assert ImageStore.default().root == tmp_path / "explicit"
    monkeypatch.delenv("SYSTEMKIT_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert ImageStore.default().root == tmp_path / "xdg" / "systemkit" / "images"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert ImageStore.default().root == tmp_path / "home" / ".cache" / "systemkit" / "images"


def test_put_blob_stores_under_its_digest(tmp_path: Path) -> None:
    store = ImageStore(tmp_path)
    data = b"hello blob"
    digest, size = store.put_blob(io.BytesIO(data), sha(data), len(data))
    assert (digest, size) == (sha(data), len(data))
    assert store.has_blob(digest)
    assert store.blob_path(digest).read_bytes() == data
    with store.open_blob(digest) as f:
        assert f.read() == data
    assert list((tmp_path / ".tmp").iterdir()) == []


def test_wrong_digest_is_refused_and_nothing_is_left(tmp_path: Path) -> None:
    store = ImageStore(tmp_path)
    claimed = sha(b"something else")
    with pytest.raises(DigestMismatch):
        store.put_blob(io.BytesIO(b"actual bytes"), claimed)
    assert not store.has_blob(claimed)
    assert not store.has_blob(sha(b"actual bytes"))
    assert list((tmp_path / ".tmp").iterdir()) == []


def test_wrong_size_is_refused(tmp_path: Path) -> None:
    store = ImageStore(tmp_path)
    data = b"0123456789"
    with pytest.raises(DigestMismatch):
        store.put_blob(io.BytesIO(data), sha(data), 5)
    with pytest.raises(DigestMismatch):
        store.put_blob(io.BytesIO(data), sha(data), 11)
    assert not store.has_blob(sha(data))


class _Exploding(io.RawIOBase):
    """A stream that fails after some bytes, as an interrupted download does."""

    def __init__(self, good: bytes) -> None:
        self.good = good

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self.good:
            out, self.good = self.good, b""
            return out
        raise ConnectionError("connection dropped")


def test_interrupted_write_leaves_no_blob(tmp_path: Path) -> None:
    store = ImageStore(tmp_path)
    with pytest.raises(ConnectionError):
        store.put_blob(_Exploding(b"partial"))  # type: ignore[arg-type]
    assert list(store.blob_path(sha(b"x")).parent.iterdir()) == []
    assert list((tmp_path / ".tmp").iterdir()) == []


def test_read_json_detects_corruption_on_disk(tmp_path: Path) -> None:
    store = ImageStore(tmp_path)
    digest, _ = store.put_bytes(b'{"a": 1}')
    assert store.read_json(digest) == {"a": 1}
    store.blob_path(digest).write_bytes(b'{"a": 2}')
    with pytest.raises(DigestMismatch):
        store.read_json(digest)


def test_malformed_digest_cannot_escape_the_store(tmp_path: Path) -> None:
    store = ImageStore(tmp_path)
    with pytest.raises(ImageError):
        store.blob_path("sha256:../../etc/passwd")
    with pytest.raises(ImageNotFound):
        store.open_blob(sha(b"absent"))


def test_tag_lookup_untag(tmp_path: Path) -> None:
    store = ImageStore(tmp_path)
    desc = synth.put_image(store, [{"etc/hello": "hi\n"}])
    store.tag("sktest/one:1", desc)
    store.tag("docker.io/sktest/two:1", desc)
    assert [r for r, _ in store.refs()] == ["docker.io/sktest/one:1", "docker.io/sktest/two:1"]
    found = store.lookup("sktest/one:1")
    assert found is not None and found["digest"] == desc["digest"]
    assert found["annotations"]["org.opencontainers.image.ref.name"] == "docker.io/sktest/one:1"
    # replacing a name keeps one entry
    other = synth.put_image(store, [{"etc/hello": "bye\n"}])
    store.tag("sktest/one:1", other)
    assert len(store.refs()) == 2
    assert store.lookup("sktest/one:1") == {**other, "annotations": found["annotations"]}
    assert store.untag("sktest/one:1") is True
    assert store.untag("sktest/one:1") is False
    assert store.lookup("sktest/one:1") is None
    # pinned by digest: found by content even without a name
    pinned = store.lookup(f"sktest/nameless@{desc['digest']}")
    assert pinned is not None and pinned["digest"] == desc["digest"]


def test_tag_refuses_a_name_without_content(tmp_path: Path) -> None:
    store = ImageStore(tmp_path)
    with pytest.raises(ImageNotFound):
        store.tag("sktest/x:1", {"mediaType": OCI_MANIFEST, "digest": sha(b"no")})
    assert store.refs() == []
    desc = synth.put_image(store, [{"a": "b"}])
    layer = store.read_json(desc["digest"])["layers"][0]["digest"]
    store.blob_path(layer).unlink()
    with pytest.raises(ImageNotFound, match=layer):
        store.tag("sktest/x:1", desc)
    arm = synth.put_image(store, [{"arm": "b"}], arch="arm64")
    index = synth.put_index(store, [desc, arm])
    with pytest.raises(ImageNotFound, match=layer):
        store.tag("sktest/x:1", index)
    store.blob_path(desc["digest"]).unlink()
    store.tag("sktest/x:1", index)  # an index may hold only some platforms
    assert store.resolve("sktest/x:1", "arm64").manifest_digest == arm["digest"]
    assert [r for r, _ in store.refs()] == ["docker.io/sktest/x:1"]


def test_resolve_reads_manifest_config_layers_and_label(tmp_path: Path) -> None:
    store = ImageStore(tmp_path)
    label = '{"capabilities": ["CAP_SYS_ADMIN"], "net": "host"}'
    desc = synth.put_image(
        store,
        [{"bin/tool": b"\x7fELF"}, {"etc/conf": "x=1\n"}],
        config={"Env": ["A=1"], "Labels": {"org.mobyproject.config": label}},
    )
    store.tag("sktest/labelled:1", desc)
    img = store.resolve("sktest/labelled:1", "amd64")
    assert img.ref == "docker.io/sktest/labelled:1"
    assert img.manifest_digest == desc["digest"]
    assert img.config["config"]["Env"] == ["A=1"]
    assert len(img.layers) == 2
    assert img.label == {"capabilities": ["CAP_SYS_ADMIN"], "net": "host"}
    with store.open_layer(img.layers[0]) as f, tarfile.open(fileobj=f, mode="r|") as tar:
        assert [m.name for m in tar] == ["bin", "bin/tool"]


def test_resolve_without_label(tmp_path: Path) -> None:
    store = ImageStore(tmp_path)
    store.tag("sktest/plain:1", synth.put_image(store, [{"a": "b"}]))
    assert store.resolve("sktest/plain:1", "amd64").label is None


def test_resolve_picks_platform_from_index(tmp_path: Path) -> None:
    store = ImageStore(tmp_path)
    arm = synth.put_image(store, [{"etc/arch": "arm64\n"}], arch="arm64")
    amd = synth.put_image(store, [{"etc/arch": "amd64\n"}], arch="amd64")
    store.tag("sktest/multi:1", synth.put_index(store, [arm, amd]))
    assert store.resolve("sktest/multi:1", "amd64").manifest_digest == amd["digest"]
    assert store.resolve("sktest/multi:1", "aarch64").manifest_digest == arm["digest"]
    with pytest.raises(PlatformMismatch, match="riscv64"):
        store.resolve("sktest/multi:1", "riscv64")


def test_single_arch_image_is_checked_against_arch(tmp_path: Path) -> None:
    """Deliberate fix: LinuxKit uses an amd64-only image for --arch arm64; systemkit refuses."""
    store = ImageStore(tmp_path)
    store.tag("sktest/amd:1", synth.put_image(store, [{"a": "b"}], arch="amd64"))
    with pytest.raises(PlatformMismatch, match="amd64"):
        store.resolve("sktest/amd:1", "arm64")


def test_resolve_missing_image_or_layer(tmp_path: Path) -> None:
    store = ImageStore(tmp_path)
    with pytest.raises(ImageNotFound):
        store.resolve("sktest/absent:1")
    desc = synth.put_image(store, [{"a": "b"}])
    store.tag("sktest/holey:1", desc)
    layer = store.read_json(desc["digest"])["layers"][0]
    store.blob_path(layer["digest"]).unlink()
    with pytest.raises(ImageNotFound, match="layer"):
        store.resolve("sktest/holey:1", "amd64")


def test_open_layer_plain_tar_and_unknown_type(tmp_path: Path) -> None:
    store = ImageStore(tmp_path)
    desc = synth.put_layer(store, {"x/y": "z"}, compress=False)
    assert desc["mediaType"] == "application/vnd.oci.image.layer.v1.tar"
    with store.open_layer(desc) as f, tarfile.open(fileobj=f, mode="r|") as tar:
        assert [m.name for m in tar] == ["x", "x/y"]
    with pytest.raises(ImageError, match="unsupported media type"):
        store.open_layer({**desc, "mediaType": "application/x-unknown"})


def test_store_is_readable_by_skopeo(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "s")
    store.tag("sktest/plain:1", synth.put_image(store, [{"etc/hello": "hi\n"}]))
    out = subprocess.run(
        ["skopeo", "inspect", "--raw", f"oci:{store.root}:docker.io/sktest/plain:1"],
        check=True,
        capture_output=True,
    )
    assert json.loads(out.stdout)["mediaType"] == "application/vnd.oci.image.manifest.v1+json"


def _writer(root: str, worker: int, rounds: int) -> None:
    store = ImageStore(Path(root))
    for i in range(rounds):
        shared = synth.put_image(store, [{"shared": "same in every process"}])
        own = synth.put_image(store, [{"own": f"{worker}-{i}"}])
        store.tag(f"sktest/shared:{i}", shared)
        store.tag(f"sktest/w{worker}:{i}", own)


def test_concurrent_writers_from_two_processes(tmp_path: Path) -> None:
    root = tmp_path / "s"
    ImageStore(root)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(root), w, 15)) for w in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    store = ImageStore(root)
    refs = [r for r, _ in store.refs()]
    expected = {f"docker.io/sktest/{n}:{i}" for n in ("shared", "w1", "w2") for i in range(15)}
    assert set(refs) == expected and len(refs) == len(expected)
    for ref in refs:
        store.resolve(ref, "amd64")
    for blob in store.blob_path(sha(b"")).parent.iterdir():
        assert sha(blob.read_bytes()) == "sha256:" + blob.name
    assert list((root / ".tmp").iterdir()) == []


def _check_tempfiles(root: Path) -> list[Any]:
    return [p for p in root.iterdir() if p.name.startswith(".index.json-")]


def test_index_rewrite_leaves_no_temp_files(tmp_path: Path) -> None:
    store = ImageStore(tmp_path)
    store.tag("sktest/a:1", synth.put_image(store, [{"a": "b"}]))
    assert _check_tempfiles(tmp_path) == []
    assert os.stat(tmp_path / "index.json").st_mode & 0o777 == 0o644


REPO = Path(__file__).resolve().parents[2]
CONFORMANCE = Path("/work/shared/conformance/images")


def test_killed_writer_leaves_no_blob_and_no_name(tmp_path: Path) -> None:
    """SIGKILL in the middle of a blob write: nothing corrupt appears under blobs/ or names."""
    root = tmp_path / "s"
    ImageStore(root)
    code = (
        "import sys; from pathlib import Path; from systemkit.images.store import ImageStore\n"
        f"s = ImageStore(Path({str(root)!r}))\n"
        "d = s.put_blob(sys.stdin.buffer)\n"
        "s.tag('sktest/never:1', {'mediaType': 'application/vnd.oci.image.manifest.v1+json',"
        " 'digest': d[0], 'size': d[1]})\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, env=env)
    assert proc.stdin is not None
    proc.stdin.write(b"x" * (3 << 20))
    proc.stdin.flush()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        partial = list((root / ".tmp").iterdir())
        if partial and partial[0].stat().st_size >= 1 << 20:
            break
        time.sleep(0.02)
    else:
        pytest.fail("the writer never started writing")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    store = ImageStore(root)
    assert list(store.blob_path(sha(b"")).parent.iterdir()) == []
    assert store.refs() == []
    # the abandoned temp file is harmless and cleaned once it is old
    leftovers = list((root / ".tmp").iterdir())
    assert leftovers
    for leftover in leftovers:
        os.utime(leftover, (0, 0))
    ImageStore(root)
    assert list((root / ".tmp").iterdir()) == []


def _import_all(root: str) -> None:
    from systemkit.images.archive import import_archive

    store = ImageStore(Path(root))
    for archive in sorted(CONFORMANCE.glob("*.oci.tar")):
        import_archive(store, archive)


def test_concurrent_imports_from_two_processes(tmp_path: Path) -> None:
    root = tmp_path / "s"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_import_all, args=(str(root),)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    store = ImageStore(root)
    images = json.loads((CONFORMANCE / "images.json").read_text())
    assert [r for r, _ in store.refs()] == sorted(i["ref"] for i in images.values())
    for info in images.values():
        root_desc = store.lookup(info["ref"])
        assert root_desc is not None and root_desc["digest"] == info["digest"]
        store.resolve(info["ref"], "amd64")
    for blob in store.blob_path(sha(b"")).parent.iterdir():
        assert sha(blob.read_bytes()) == "sha256:" + blob.name
