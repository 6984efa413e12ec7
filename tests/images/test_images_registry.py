"""Pulling from OCI registries: Debian's real docker-registry on 127.0.0.1, plus a fake faulty
registry (FakeFaultyRegistry) for the failures a real one does not produce on demand."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import subprocess
import tarfile
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from systemkit.images import mediatypes as mt
from systemkit.images import synth
from systemkit.images.archive import import_archive
from systemkit.images.credentials import credentials_for
from systemkit.images.registry import RegistryClient, RetryPolicy, ensure_image, is_loopback, pull
from systemkit.images.store import (
    DigestMismatch,
    ImageError,
    ImageNotFound,
    ImageStore,
    PlatformMismatch,
)
from systemkit.progress import ProgressEvent, format_size
from tests.support.push import push

CONFORMANCE = Path("/work/shared/conformance/images")
FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05, timeout=5)

pytestmark = pytest.mark.registry


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def source(tmp_path: Path) -> ImageStore:
    return ImageStore(tmp_path / "source")


@pytest.fixture
def store(tmp_path: Path) -> ImageStore:
    return ImageStore(tmp_path / "store")


def _files(store: ImageStore, layer: dict[str, Any]) -> dict[str, bytes]:
    out = {}
    with store.open_layer(layer) as f, tarfile.open(fileobj=f, mode="r|") as tar:
        for member in tar:
            data = tar.extractfile(member)
            if data is not None:
                out[member.name] = data.read()
    return out


def _store_is_valid(store: ImageStore) -> None:
    for blob in store.blob_path(sha(b"")).parent.iterdir():
        assert sha(blob.read_bytes()) == "sha256:" + blob.name
    assert list((store.root / ".tmp").iterdir()) == []
    for ref, _ in store.refs():
        store.resolve(ref, "amd64")


# -- the real registry -----------------------------------------------------------------------


def test_pull_single_image(registry: str, source: ImageStore, store: ImageStore) -> None:
    desc = synth.put_image(
        source,
        [{"etc/hello": "hello\n"}, {"usr/bin/tool": b"\x7fELF" + bytes(range(256)) * 64}],
        config={"Env": ["A=1"], "Labels": {"org.mobyproject.config": '{"net": "host"}'}},
    )
    push(registry, "sktest/single", "1", source, desc)
    events: list[ProgressEvent] = []
    img = pull(store, f"{registry}/sktest/single:1", "amd64", progress=events.append)
    assert img.ref == f"{registry}/sktest/single:1"
    assert img.manifest_digest == desc["digest"]
    assert img.label == {"net": "host"}
    assert _files(store, img.layers[1])["usr/bin/tool"].startswith(b"\x7fELF")
    assert store.lookup(f"{registry}/sktest/single:1") is not None
    assert {e.phase for e in events} == {"pull"}
    assert events[0].kind == "step" and events[0].subject == img.ref
    assert events[-1].kind == "done" and events[-1].subject == img.ref
    layer, size = img.layers[1]["digest"], img.layers[1]["size"]
    moved = [e for e in events if e.kind == "advance" and e.subject == layer]
    assert moved and moved[-1].current == moved[-1].total == size and moved[-1].unit == "bytes"
    fetched = [e for e in events if e.kind == "done" and e.subject == layer]
    assert [str(e) for e in fetched] == [f"  fetched {layer} ({format_size(size)})"]
    # a second pull finds every blob in the store
    events.clear()
    pull(store, f"{registry}/sktest/single:1", "amd64", progress=events.append)
    assert not [e for e in events if e.kind == "advance" and e.subject == layer]
    assert f"  present {layer}" in [str(e) for e in events]
    _store_is_valid(store)


def test_pull_index_selects_platform(registry: str, source: ImageStore, store: ImageStore) -> None:
    arm = synth.put_image(source, [{"etc/arch": "arm64\n"}], arch="arm64")
    amd = synth.put_image(source, [{"etc/arch": "amd64\n"}], arch="amd64")
    index = synth.put_index(source, [arm, amd])
    push(registry, "sktest/multi", "1", source, index)
    ref = f"{registry}/sktest/multi:1"
    img = pull(store, ref, "arm64")
    assert img.manifest_digest == arm["digest"]
    assert _files(store, img.layers[0])["etc/arch"] == b"arm64\n"
    assert store.lookup(ref) == {**index, "annotations": {mt.REF_NAME: ref}}
    # only the requested platform was stored
    assert not store.has_blob(amd["digest"])
    with pytest.raises(ImageNotFound):
        store.resolve(ref, "amd64")
    # ensure_image fetches the missing platform
    img = ensure_image(store, ref, "amd64")
    assert _files(store, img.layers[0])["etc/arch"] == b"amd64\n"
    with pytest.raises(PlatformMismatch, match="linux/s390x"):
        pull(store, ref, "s390x")


def test_single_arch_mismatch_is_refused(
    registry: str, source: ImageStore, store: ImageStore
) -> None:
    """Deliberate fix: LinuxKit uses an amd64-only image for arm64; systemkit refuses it."""
    desc = synth.put_image(source, [{"big": b"x" * 10000}], arch="amd64")
    push(registry, "sktest/amdonly", "1", source, desc)
    with pytest.raises(PlatformMismatch, match="amd64"):
        pull(store, f"{registry}/sktest/amdonly:1", "arm64")
    assert store.refs() == []
    layer = source.read_json(desc["digest"])["layers"][0]
    assert not store.has_blob(layer["digest"])  # refused before the layers were fetched


def test_pull_docker_media_types(registry: str, source: ImageStore, store: ImageStore) -> None:
    layer = synth.put_layer(source, {"etc/docker": "yes\n"})
    config = synth.put_json(
        source,
        mt.DOCKER_CONFIG,
        {"architecture": "amd64", "os": "linux", "config": {}, "rootfs": {"type": "layers"}},
    )
    manifest = synth.put_json(
        source,
        mt.DOCKER_MANIFEST,
        {
            "schemaVersion": 2,
            "mediaType": mt.DOCKER_MANIFEST,
            "config": {**config, "mediaType": mt.DOCKER_CONFIG},
            "layers": [{**layer, "mediaType": mt.DOCKER_LAYER_GZIP}],
        },
    )
    manifest["platform"] = {"architecture": "amd64", "os": "linux"}
    listing = synth.put_json(
        source,
        mt.DOCKER_LIST,
        {"schemaVersion": 2, "mediaType": mt.DOCKER_LIST, "manifests": [manifest]},
    )
    push(registry, "sktest/docker", "list", source, listing)
    push(registry, "sktest/docker", "single", source, manifest)
    for tag in ("list", "single"):
        img = pull(store, f"{registry}/sktest/docker:{tag}", "amd64")
        assert img.manifest_digest == manifest["digest"]
        assert img.layers[0]["mediaType"] == mt.DOCKER_LAYER_GZIP
        assert _files(store, img.layers[0]) == {"etc/docker": b"yes\n"}


def test_pull_by_digest(registry: str, source: ImageStore, store: ImageStore) -> None:
    desc = synth.put_image(source, [{"pinned": "1"}])
    push(registry, "sktest/pinned", "1", source, desc)
    ref = f"{registry}/sktest/pinned@{desc['digest']}"
    assert pull(store, ref, "amd64").manifest_digest == desc["digest"]
    assert store.resolve(ref, "amd64").manifest_digest == desc["digest"]


def test_pull_missing_image(registry: str, store: ImageStore) -> None:
    with pytest.raises(ImageNotFound, match="not found in registry"):
        pull(store, f"{registry}/sktest/absent:1", "amd64", retry=FAST)


def test_ensure_image_prefers_the_store(
    registry: str, source: ImageStore, store: ImageStore
) -> None:
    desc = synth.put_image(source, [{"v": "1"}])
    push(registry, "sktest/moving", "1", source, desc)
    ref = f"{registry}/sktest/moving:1"
    assert ensure_image(store, ref, "amd64").manifest_digest == desc["digest"]
    newer = synth.put_image(source, [{"v": "2"}])
    push(registry, "sktest/moving", "1", source, newer)
    assert ensure_image(store, ref, "amd64").manifest_digest == desc["digest"]
    assert ensure_image(store, ref, "amd64", pull=True).manifest_digest == newer["digest"]
    assert store.resolve(ref, "amd64").manifest_digest == newer["digest"]


def _docker_config(tmp_path: Path, host: str, user: str, password: str) -> Path:
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    cfg = tmp_path / "docker"
    cfg.mkdir(exist_ok=True)
    (cfg / "config.json").write_text(json.dumps({"auths": {f"http://{host}": {"auth": auth}}}))
    return cfg


def test_basic_auth_with_docker_config(
    auth_registry: str,
    registry_login: tuple[str, str],
    source: ImageStore,
    store: ImageStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    desc = synth.put_image(source, [{"secret": "s"}])
    USER, PASSWORD = registry_login
    push(auth_registry, "sktest/private", "1", source, desc, auth=(USER, PASSWORD))
    ref = f"{auth_registry}/sktest/private:1"
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "nothing-here"))
    with pytest.raises(ImageError, match="denied"):
        pull(store, ref, "amd64", retry=FAST)
    monkeypatch.setenv("DOCKER_CONFIG", str(_docker_config(tmp_path, auth_registry, USER, "bad")))
    with pytest.raises(ImageError, match="denied"):
        pull(store, ref, "amd64", retry=FAST)
    assert store.refs() == []
    monkeypatch.setenv(
        "DOCKER_CONFIG", str(_docker_config(tmp_path, auth_registry, USER, PASSWORD))
    )
    assert pull(store, ref, "amd64").manifest_digest == desc["digest"]


# -- credentials and transport choice --------------------------------------------------------


def test_credentials_from_docker_config(tmp_path: Path) -> None:
    cfg = tmp_path / "config.json"
    hub = base64.b64encode(b"hubuser:hubpass").decode()
    cfg.write_text(
        json.dumps(
            {
                "auths": {
                    "https://index.docker.io/v1/": {"auth": hub},
                    "registry.example:5000": {"username": "u", "password": "p"},
                }
            }
        )
    )
    assert credentials_for("docker.io", cfg) == ("hubuser", "hubpass")
    assert credentials_for("registry-1.docker.io", cfg) == ("hubuser", "hubpass")
    assert credentials_for("registry.example:5000", cfg) == ("u", "p")
    assert credentials_for("other.example", cfg) is None
    assert credentials_for("docker.io", tmp_path / "absent.json") is None


def test_plain_http_only_for_loopback_or_insecure(monkeypatch: pytest.MonkeyPatch) -> None:
    for host in ("127.0.0.1:5000", "127.8.9.1", "localhost:5000", "[::1]:5000", "localhost"):
        assert is_loopback(host), host
    for host in ("10.0.0.1:5000", "registry.example", "docker.io"):
        assert not is_loopback(host), host
    monkeypatch.delenv("SYSTEMKIT_INSECURE_REGISTRIES", raising=False)
    assert RegistryClient("registry.example:5000").base == "https://registry.example:5000"
    assert RegistryClient("docker.io").base == "https://registry-1.docker.io"
    assert RegistryClient("127.0.0.1:5000").base == "http://127.0.0.1:5000"
    insecure = RegistryClient("registry.example:5000", insecure=["registry.example:5000"])
    assert insecure.base == "http://registry.example:5000"
    monkeypatch.setenv("SYSTEMKIT_INSECURE_REGISTRIES", "a.example, registry.example:5000")
    assert RegistryClient("registry.example:5000").base == "http://registry.example:5000"


# -- a fake faulty registry ------------------------------------------------------------------


class FakeFaultyRegistry:
    """A FAKE registry (not the real thing): serves one image from a store over HTTP and
    misbehaves on request, as a real registry or network does now and then.

    ``faults`` maps a digest (or ``"manifest"``) to a list of faults used one per request:
    ``"503"``, ``"drop"`` (send half the body, then close), ``"wrong"`` (other bytes).
    With ``token=True`` it asks for a bearer token as Docker Hub does (fake token service).
    """

    def __init__(self, source: ImageStore, root: dict[str, Any], token: bool = False) -> None:
        self.source, self.root, self.token = source, root, token
        self.faults: dict[str, list[str]] = {}
        self.requests: list[str] = []
        self.token_requests: list[dict[str, str]] = []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake.handle(self)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _send(
        self,
        h: http.server.BaseHTTPRequestHandler,
        code: int,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> None:
        h.send_response(code)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def handle(self, h: http.server.BaseHTTPRequestHandler) -> None:
        path = h.path.split("?", 1)[0]
        self.requests.append(path)
        if path == "/token":
            query = dict(urllib.parse.parse_qsl(h.path.split("?", 1)[1]))
            self.token_requests.append({**query, "auth": h.headers.get("Authorization", "")})
            self._send(h, 200, json.dumps({"token": "fake-token"}).encode())
            return
        if self.token and h.headers.get("Authorization") != "Bearer fake-token":
            challenge = (
                f'Bearer realm="http://{self.host}/token",service="fake",'
                'scope="repository:sktest/faulty:pull"'
            )
            self._send(h, 401, b"{}", {"WWW-Authenticate": challenge})
            return
        if "/manifests/" in path:
            key, digest = "manifest", self.root["digest"]
            ctype = self.root["mediaType"]
        elif "/blobs/" in path:
            key = digest = path.rsplit("/", 1)[1]
            ctype = "application/octet-stream"
        else:
            self._send(h, 404)
            return
        if not self.source.has_blob(digest):
            self._send(h, 404)
            return
        with self.source.open_blob(digest) as f:
            body = f.read()
        fault = self.faults.get(key, []).pop(0) if self.faults.get(key) else None
        if fault == "503":
            self._send(h, 503, b"busy")
        elif fault == "drop":
            h.send_response(200)
            h.send_header("Content-Length", str(len(body)))
            h.send_header("Content-Type", ctype)
            h.end_headers()
            h.wfile.write(body[: len(body) // 2])
            h.wfile.flush()
            h.close_connection = True
            h.connection.shutdown(2)
        elif fault == "wrong":
            wrong = json.dumps({"tampered": True}).encode() if key == "manifest" else None
            wrong = wrong or bytes(b ^ 0x55 for b in body)
            headers = {"Content-Type": ctype, "Docker-Content-Digest": digest}
            self._send(h, 200, wrong, headers)
        else:
            headers = {"Content-Type": ctype, "Docker-Content-Digest": digest}
            self._send(h, 200, body, headers)


@pytest.fixture
def faulty(source: ImageStore) -> Iterator[FakeFaultyRegistry]:
    desc = synth.put_image(source, [{"data/blob": bytes(range(256)) * 400}])
    fake = FakeFaultyRegistry(source, desc)
    yield fake
    fake.close()


def _layer(fake: FakeFaultyRegistry) -> str:
    digest: str = fake.source.read_json(fake.root["digest"])["layers"][0]["digest"]
    return digest


def test_fake_wrong_digest_blob_is_refused(faulty: FakeFaultyRegistry, store: ImageStore) -> None:
    layer = _layer(faulty)
    faulty.faults[layer] = ["wrong"]
    with pytest.raises(DigestMismatch, match=layer):
        pull(store, f"{faulty.host}/sktest/faulty:1", "amd64", retry=FAST)
    assert not store.has_blob(layer)
    assert store.refs() == []
    assert faulty.requests.count(f"/v2/sktest/faulty/blobs/{layer}") == 1  # not retried
    _store_is_valid(store)


def test_fake_wrong_manifest_is_refused(faulty: FakeFaultyRegistry, store: ImageStore) -> None:
    digest = faulty.root["digest"]
    for ref in (f"{faulty.host}/sktest/faulty:1", f"{faulty.host}/sktest/faulty@{digest}"):
        faulty.faults["manifest"] = ["wrong"]
        with pytest.raises(DigestMismatch, match=digest):
            pull(store, ref, "amd64", retry=FAST)
    assert store.refs() == []
    assert list(store.blob_path(digest).parent.iterdir()) == []
    _store_is_valid(store)


def test_fake_dropped_connection_is_retried(faulty: FakeFaultyRegistry, store: ImageStore) -> None:
    layer = _layer(faulty)
    faulty.faults[layer] = ["drop"]
    img = pull(store, f"{faulty.host}/sktest/faulty:1", "amd64", retry=FAST)
    assert faulty.requests.count(f"/v2/sktest/faulty/blobs/{layer}") == 2
    assert _files(store, img.layers[0])["data/blob"] == bytes(range(256)) * 400
    _store_is_valid(store)


def test_fake_always_dropping_gives_a_clear_error(
    faulty: FakeFaultyRegistry, store: ImageStore
) -> None:
    layer = _layer(faulty)
    faulty.faults[layer] = ["drop"] * 10
    with pytest.raises(ImageError, match=r"downloading blob .* failed after 3 attempts"):
        pull(store, f"{faulty.host}/sktest/faulty:1", "amd64", retry=FAST)
    assert not store.has_blob(layer)
    assert store.refs() == []
    _store_is_valid(store)


def test_fake_503_then_success(faulty: FakeFaultyRegistry, store: ImageStore) -> None:
    layer = _layer(faulty)
    faulty.faults["manifest"] = ["503", "503"]
    faulty.faults[layer] = ["503"]
    img = pull(store, f"{faulty.host}/sktest/faulty:1", "amd64", retry=FAST)
    assert img.manifest_digest == faulty.root["digest"]
    assert faulty.requests.count("/v2/sktest/faulty/manifests/1") == 3
    assert faulty.requests.count(f"/v2/sktest/faulty/blobs/{layer}") == 2


def test_fake_503_forever_gives_up(faulty: FakeFaultyRegistry, store: ImageStore) -> None:
    faulty.faults["manifest"] = ["503"] * 10
    with pytest.raises(ImageError, match="failed after 3 attempts: HTTP 503"):
        pull(store, f"{faulty.host}/sktest/faulty:1", "amd64", retry=FAST)
    assert faulty.requests.count("/v2/sktest/faulty/manifests/1") == 3


def test_fake_bearer_token_flow(
    source: ImageStore, store: ImageStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    desc = synth.put_image(source, [{"t": "token"}])
    fake = FakeFaultyRegistry(source, desc, token=True)
    try:
        monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "none"))
        pull(store, f"{fake.host}/sktest/faulty:1", "amd64", retry=FAST)
        assert fake.token_requests[0]["scope"] == "repository:sktest/faulty:pull"
        assert fake.token_requests[0]["service"] == "fake"
        assert fake.token_requests[0]["auth"] == ""  # anonymous
        assert len(fake.token_requests) == 1  # the token is reused for every blob
        monkeypatch.setenv("DOCKER_CONFIG", str(_docker_config(tmp_path, fake.host, "me", "pw")))
        pull(ImageStore(tmp_path / "other"), f"{fake.host}/sktest/faulty:1", "amd64", retry=FAST)
        sent = fake.token_requests[-1]["auth"]
        assert sent == "Basic " + base64.b64encode(b"me:pw").decode()
    finally:
        fake.close()


def test_pull_what_skopeo_pushed(registry: str, tmp_path: Path, store: ImageStore) -> None:
    """Interop with a real pusher: skopeo copies the conformance multiarch index from an OCI
    archive to the registry; the pulled manifest is byte-identical to the archive's."""
    images = json.loads((CONFORMANCE / "images.json").read_text())
    archive = CONFORMANCE / images["multiarch"]["file"]
    subprocess.run(
        [
            "skopeo",
            "copy",
            "--quiet",
            "--all",
            "--preserve-digests",
            "--dest-tls-verify=false",
            f"oci-archive:{archive}:docker.io/sktest/multiarch:1",
            f"docker://{registry}/sktest/multiarch:1",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    reference = ImageStore(tmp_path / "reference")
    import_archive(reference, archive)
    for arch in ("amd64", "arm64"):
        img = pull(store, f"{registry}/sktest/multiarch:1", arch)
        assert img.root["digest"] == images["multiarch"]["digest"]
        assert img.manifest_digest == reference.resolve("sktest/multiarch:1", arch).manifest_digest
