"""Write small synthetic OCI images from Python data (for tests and examples).

Each layer is a mapping of path -> file content; parent directories are added. Layers are
streamed through a temporary file into the store, never held whole in memory.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

from systemkit.images import mediatypes as mt
from systemkit.images.store import ImageStore

Layer = Mapping[str, bytes | str]
"""path -> content of one layer (a path ending in ``/`` is a directory)."""

CREATED = "2024-01-01T00:00:00Z"


def _tar_into(out: Any, files: Layer) -> None:
    names: dict[str, bytes | None] = {}
    for path, data in files.items():
        path = path.strip("/") + ("/" if path.endswith("/") else "")
        parts = path.rstrip("/").split("/")
        for i in range(1, len(parts)):
            names.setdefault("/".join(parts[:i]) + "/", None)
        names[path] = (
            None if path.endswith("/") else (data.encode() if isinstance(data, str) else data)
        )
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(names):
            content = names[name]
            info = tarfile.TarInfo(name.rstrip("/"))
            info.mtime = 0
            if content is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.size, info.mode = len(content), 0o644
                tar.addfile(info, io.BytesIO(content))


def put_layer(store: ImageStore, files: Layer, compress: bool = True) -> dict[str, Any]:
    """Store one layer; return its descriptor (gzip or plain tar media type)."""
    with tempfile.TemporaryFile() as tmp:
        if compress:
            with gzip.GzipFile(fileobj=tmp, mode="wb", mtime=0) as gz:
                _tar_into(gz, files)
        else:
            _tar_into(tmp, files)
        tmp.seek(0)
        digest, size = store.put_blob(tmp)
    media_type = mt.OCI_LAYER_GZIP if compress else mt.OCI_LAYER_TAR
    return {"mediaType": media_type, "digest": digest, "size": size}


def put_json(store: ImageStore, media_type: str, doc: Any) -> dict[str, Any]:
    """Store a JSON document (canonical bytes); return its descriptor."""
    data = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    digest, size = store.put_bytes(data)
    return {"mediaType": media_type, "digest": digest, "size": size}


def put_image(
    store: ImageStore,
    layers: Sequence[Layer],
    *,
    arch: str = "amd64",
    config: Mapping[str, Any] | None = None,
    compress: bool = True,
) -> dict[str, Any]:
    """Store an image (layers, config, manifest); return the manifest descriptor with platform.

    ``config`` is the ``config`` section of the image config (Env, Cmd, Labels, ...).
    """
    descs = [put_layer(store, files, compress) for files in layers]
    return _put_manifest(store, descs, arch, config)


def put_tar_layers(
    store: ImageStore,
    tars: Sequence[bytes],
    *,
    arch: str = "amd64",
    config: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Store an image whose layers are the given tar archives, as they are (gzip'd): for
    layers :func:`put_image`'s mappings cannot express (whiteouts, links, devices, hostile
    names). Returns the manifest descriptor with platform."""
    descs = []
    for data in tars:
        digest, size = store.put_bytes(gzip.compress(data, mtime=0))
        descs.append({"mediaType": mt.OCI_LAYER_GZIP, "digest": digest, "size": size})
    return _put_manifest(store, descs, arch, config)


def _put_manifest(
    store: ImageStore,
    descs: list[dict[str, Any]],
    arch: str,
    config: Mapping[str, Any] | None,
) -> dict[str, Any]:
    diff_ids = []
    for desc in descs:
        with store.open_layer(desc) as f:
            digest, _ = _hash_stream(f)
        diff_ids.append(digest)
    image_config = {
        "architecture": arch,
        "os": "linux",
        "created": CREATED,
        "config": dict(config or {}),
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }
    config_desc = put_json(store, mt.OCI_CONFIG, image_config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": config_desc,
        "layers": descs,
    }
    desc = put_json(store, mt.OCI_MANIFEST, manifest)
    desc["platform"] = {"architecture": arch, "os": "linux"}
    return desc


def put_index(store: ImageStore, manifests: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Store an image index over manifest descriptors (each with its ``platform``)."""
    index = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": list(manifests)}
    return put_json(store, mt.OCI_INDEX, index)


def _hash_stream(f: Any) -> tuple[str, int]:
    h = hashlib.sha256()
    n = 0
    while chunk := f.read(1 << 20):
        h.update(chunk)
        n += len(chunk)
    return "sha256:" + h.hexdigest(), n
