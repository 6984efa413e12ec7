"""What the store holds, one row per name (for ``systemkit cache ls``)."""

from __future__ import annotations

from typing import Any

import attrs

from systemkit.images import mediatypes as mt
from systemkit.images.errors import ImageError
from systemkit.images.store import ImageStore


@attrs.frozen
class StoredImage:
    """One named image in the store."""

    ref: str
    digest: str
    media_type: str
    platforms: tuple[str, ...]
    """``os/arch`` of each platform whose manifest is stored (an index may be partial)."""
    size: int | None
    """Bytes of manifests, configs and layers stored for it; None if something is missing."""


def _manifest_size(store: ImageStore, desc: dict[str, Any]) -> int | None:
    if not store.has_blob(desc["digest"]):
        return None
    manifest = store.read_json(desc["digest"])
    total = int(desc.get("size") or 0)
    for blob in [manifest.get("config") or {}, *(manifest.get("layers") or [])]:
        if not store.has_blob(blob.get("digest", "")):
            return None
        total += int(blob.get("size") or 0)
    return total


def _summarise(store: ImageStore, ref: str, root: dict[str, Any]) -> StoredImage:
    media_type = root.get("mediaType", "")
    if media_type in mt.INDEXES:
        index = store.read_json(root["digest"])
        found: list[str] = []
        total = int(root.get("size") or 0)
        for child in index.get("manifests") or []:
            child_size = _manifest_size(store, child)
            if child_size is not None:
                plat = child.get("platform") or {}
                found.append(f"{plat.get('os')}/{plat.get('architecture')}")
                total += child_size
        return StoredImage(ref, root["digest"], media_type, tuple(found), total)
    size = _manifest_size(store, root)
    platforms: tuple[str, ...] = ()
    if size is not None:
        manifest = store.read_json(root["digest"])
        config = store.read_json(manifest["config"]["digest"])
        platforms = (f"{config.get('os')}/{config.get('architecture')}",)
    return StoredImage(ref, root["digest"], media_type, platforms, size)


def list_images(store: ImageStore) -> list[StoredImage]:
    """Every named image, sorted by ref. Broken entries are listed with ``size=None``."""
    rows = []
    for ref, root in store.refs():
        try:
            rows.append(_summarise(store, ref, root))
        except (ImageError, KeyError, TypeError, AttributeError):
            rows.append(StoredImage(ref, root.get("digest", "?"), "?", (), None))
    return rows
