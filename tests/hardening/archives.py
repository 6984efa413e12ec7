"""Writing image archives of any shape, well-formed or not: OCI archives (a tar of an OCI
layout) and docker-archive tars, with arbitrary JSON documents and extra members (links)."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import requests

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def doc(value: Any) -> bytes:
    """A JSON document's bytes (``bytes`` pass through: JSON written by hand)."""
    return value if isinstance(value, bytes) else json.dumps(value).encode()


def desc(data: bytes, media_type: str, **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": sha(data), "size": len(data), **extra}


def named(data: bytes, media_type: str, ref: str) -> dict[str, Any]:
    return desc(data, media_type, annotations={"io.containerd.image.name": ref})


def tar_layer(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def config_json(diff_ids: list[str], arch: str = "amd64", **config: Any) -> bytes:
    return doc(
        {
            "architecture": arch,
            "os": "linux",
            "config": config,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }
    )


Link = tuple[str, str, str]
"""(member name, "sym" or "hard", link target)."""


def write_tar(
    path: Path, files: dict[str, bytes], links: Iterable[Link] = (), compress: bool = False
) -> Path:
    with tarfile.open(path, "w:gz" if compress else "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
        for name, kind, target in links:
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE if kind == "sym" else tarfile.LNKTYPE
            info.linkname = target
            tar.addfile(info)
    return path


def oci_archive(
    path: Path,
    index: Any,
    blobs: Iterable[bytes] = (),
    links: Iterable[Link] = (),
) -> Path:
    """An OCI archive with ``index`` as index.json and ``blobs`` under blobs/sha256."""
    files = {"oci-layout": b'{"imageLayoutVersion": "1.0.0"}', "index.json": doc(index)}
    for blob in blobs:
        files["blobs/sha256/" + sha(blob).split(":", 1)[1]] = blob
    return write_tar(path, files, links)


def oci_image(
    path: Path,
    ref: str,
    manifest: Any,
    blobs: Iterable[bytes] = (),
    links: Iterable[Link] = (),
) -> Path:
    """An OCI archive whose one named root is ``manifest`` (any JSON value or bytes)."""
    data = doc(manifest)
    return oci_archive(path, {"manifests": [named(data, OCI_MANIFEST, ref)]}, [data, *blobs], links)


def good_manifest(layers: list[bytes], arch: str = "amd64") -> tuple[dict[str, Any], list[bytes]]:
    """A valid manifest for gzip'd ``layers`` (given compressed) and the blobs it needs."""
    import gzip

    diff_ids = [sha(gzip.decompress(layer)) for layer in layers]
    config = config_json(diff_ids, arch)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": desc(config, OCI_CONFIG),
        "layers": [desc(layer, OCI_LAYER_GZIP) for layer in layers],
    }
    return manifest, [config, *layers]


def docker_archive(
    path: Path,
    entries: Any,
    members: dict[str, bytes],
    links: Iterable[Link] = (),
) -> Path:
    """A docker-archive with ``entries`` as manifest.json and the given members."""
    return write_tar(path, {"manifest.json": doc(entries), **members}, links)


def push(
    host: str,
    repo: str,
    tag: str,
    manifest: dict[str, Any],
    blobs: Iterable[bytes],
    auth: tuple[str, str] | None = None,
) -> None:
    """Push blobs and a manifest to a registry on 127.0.0.1 (plain HTTP)."""
    base = f"http://{host}/v2/{repo}"
    for blob in blobs:
        start = requests.post(f"{base}/blobs/uploads/", auth=auth, timeout=30)
        assert start.status_code == 202, start.text
        location = start.headers["Location"]
        if location.startswith("/"):
            location = f"http://{host}{location}"
        done = requests.put(
            location,
            params={"digest": sha(blob)},
            data=blob,
            headers={"Content-Type": "application/octet-stream"},
            auth=auth,
            timeout=30,
        )
        assert done.status_code == 201, done.text
    resp = requests.put(
        f"{base}/manifests/{tag}",
        data=json.dumps(manifest).encode(),
        headers={"Content-Type": OCI_MANIFEST},
        auth=auth,
        timeout=30,
    )
    assert resp.status_code == 201, resp.text
