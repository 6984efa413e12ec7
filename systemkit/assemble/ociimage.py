"""A ``format: oci`` volume: the image written as an OCI image layout below the volume's lower/.

Members, all with mtime 0: ``oci-layout``, ``blobs/``, ``blobs/sha256/``, then for each selected
platform manifest its config, layers and manifest blobs, then the index blob itself, then
``index.json`` naming the whole root (go-containerregistry's layout writer: 3-space indent).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from systemkit.assemble.tarstream import DIR, LOCATION, REG, SOURCE, TarHeader

OCI_LAYOUT = b'{\n\t\t"imageLayoutVersion": "1.0.0"\n\t}'
"""The ``oci-layout`` file, byte for byte as LinuxKit writes it: the constant ``layoutFile`` of
its ``src/cmd/linuxkit/cache/imagesource.go`` (36 bytes: two tabs before the key, one before
the closing brace, no final newline)."""
REF_NAME = "org.opencontainers.image.ref.name"
_INDEXES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)


def _platform_ok(desc: dict[str, Any], platforms: Sequence[str] | None) -> bool:
    if not platforms:
        return True
    plat = desc.get("platform") or {}
    text = f"{plat.get('os', '')}/{plat.get('architecture', '')}"
    with_variant = text + (f"/{plat['variant']}" if plat.get("variant") else "")
    return text in platforms or with_variant in platforms


def oci_layout_members(
    images: Any,
    img: Any,
    *,
    prefix: str,
    source: str,
    location: str,
    platforms: Sequence[str] | None = None,
) -> Iterator[tuple[TarHeader, Any]]:
    """The members of the OCI layout of ``img`` (a resolved image) below ``prefix``."""
    records = {SOURCE: source, LOCATION: location}

    def member(name: str, typ: bytes, size: int = 0, mode: int = 0o644) -> TarHeader:
        return TarHeader(prefix + name, typ, mode, size=size, mtime=0, pax=dict(records))

    def blob(desc: dict[str, Any]) -> tuple[TarHeader, Any]:
        digest = desc["digest"]
        size = int(desc["size"])
        return member("blobs/sha256/" + digest.split(":", 1)[1], REG, size), images.open_blob(
            digest, size
        )

    yield member("oci-layout", REG, len(OCI_LAYOUT)), OCI_LAYOUT
    yield member("blobs/", DIR, mode=0o755), None
    yield member("blobs/sha256/", DIR, mode=0o755), None
    root = dict(img.root)

    def image_blobs(desc: dict[str, Any]) -> Iterator[tuple[TarHeader, Any]]:
        manifest = images.read_json(desc["digest"])
        yield blob(manifest["config"])
        for layer in manifest.get("layers") or []:
            yield blob(layer)
        yield blob(desc)

    if root.get("mediaType") in _INDEXES:
        index = images.read_json(root["digest"])
        for desc in index.get("manifests") or []:
            if _platform_ok(desc, platforms):
                yield from image_blobs(desc)
        yield blob(root)
    else:
        yield from image_blobs(root)
    desc = {
        "mediaType": root.get("mediaType"),
        "size": int(root["size"]),
        "digest": root["digest"],
        "annotations": {REF_NAME: img.ref},
    }
    data = json.dumps(
        {"schemaVersion": 2, "mediaType": _INDEXES[0], "manifests": [desc]}, indent=3
    ).encode()
    yield member("index.json", REG, len(data)), data
