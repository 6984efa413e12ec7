"""The shape of an image's JSON documents (descriptors, manifests, indexes, configs), checked
before anything is read from them, within the limits of :mod:`systemkit.limits`.

Archives, registries and the store all read these documents through here, so a document of
the wrong shape (a manifest that is a list, layers given as strings, an index whose entries are
not objects, a config that is a list) or too large, too deep or with too many layers is one
clear :class:`ImageError`, wherever it comes from.
"""

from __future__ import annotations

import re
from typing import Any, cast

from systemkit.images.errors import ImageError
from systemkit.limits import (
    MAX_CONFIG_BYTES,
    MAX_INDEX_MANIFESTS,
    MAX_LAYERS,
    LimitExceeded,
    load_json,
)

_DIGEST_RE = re.compile(r"^sha256:[a-f0-9]{64}$")


def check_digest(digest: Any) -> str:
    """Return ``digest`` if it is a well-formed sha256 digest, else raise :class:`ImageError`."""
    if not isinstance(digest, str) or not _DIGEST_RE.match(digest):
        raise ImageError(f"unsupported or malformed digest {digest!r} (expected sha256:<64 hex>)")
    return digest


def parse(data: bytes, what: str, max_bytes: int = MAX_CONFIG_BYTES) -> Any:
    """A JSON document within the size and depth limits; :class:`ImageError` otherwise."""
    try:
        return load_json(data, what, max_bytes)
    except (LimitExceeded, ValueError) as exc:
        raise ImageError(str(exc)) from None


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return "null" if value is None else type(value).__name__


def obj(value: Any, what: str) -> dict[str, Any]:
    """``value`` when it is a JSON object."""
    if not isinstance(value, dict):
        raise ImageError(f"{what} is {_kind(value)}, not a JSON object")
    return cast(dict[str, Any], value)


def descriptor(value: Any, what: str) -> dict[str, Any]:
    """A content descriptor: an object with a sha256 ``digest``, an integer ``size`` (when
    given) and a string ``mediaType`` (when given)."""
    desc = obj(value, what)
    if not isinstance(desc.get("digest"), str):
        raise ImageError(f"{what} has no 'digest'")
    try:
        check_digest(desc["digest"])
    except ImageError as exc:
        raise ImageError(f"{what}: {exc}") from None
    size = desc.get("size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 0):
        raise ImageError(f"{what} has an invalid 'size' {size!r}")
    if not isinstance(desc.get("mediaType", ""), str):
        raise ImageError(f"{what} has a 'mediaType' that is not a string")
    return desc


def _list(doc: dict[str, Any], key: str, what: str, limit: int, unit: str) -> list[Any]:
    value = doc.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ImageError(f"{what}: '{key}' is {_kind(value)}, not a list")
    if len(value) > limit:
        raise ImageError(
            f"{what} has {len(value)} {unit}; at most {limit} are accepted (the limit)"
        )
    return value


def manifest(doc: Any, what: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``(config descriptor, layer descriptors)`` of an image manifest."""
    doc = obj(doc, what)
    if "config" not in doc:
        raise ImageError(f"{what} has no 'config'")
    config = descriptor(doc["config"], f"{what}: config")
    layers = _list(doc, "layers", what, MAX_LAYERS, "layers")
    return config, [descriptor(layer, f"{what}: layer {i}") for i, layer in enumerate(layers)]


def index(doc: Any, what: str) -> list[dict[str, Any]]:
    """The entry descriptors of an image index (or an OCI layout's ``index.json``)."""
    doc = obj(doc, what)
    if not isinstance(doc.get("manifests"), list):
        raise ImageError(f"{what} has no 'manifests' list")
    entries = _list(doc, "manifests", what, MAX_INDEX_MANIFESTS, "entries")
    return [descriptor(entry, f"{what}: entry {i}") for i, entry in enumerate(entries)]


def config(doc: Any, what: str) -> dict[str, Any]:
    """An image config: an object whose ``rootfs.diff_ids`` (when present) are digests, no
    more than the layer limit."""
    checked = obj(doc, what)
    rootfs = checked.get("rootfs")
    if rootfs is not None:
        rootfs = obj(rootfs, f"{what}: rootfs")
        for i, diff_id in enumerate(_list(rootfs, "diff_ids", what, MAX_LAYERS, "diff_ids")):
            if not isinstance(diff_id, str):
                raise ImageError(f"{what}: diff_id {i} is {_kind(diff_id)}, not a digest")
    inner = checked.get("config")
    if inner is not None:
        obj(inner, f"{what}: config")
    return checked


def diff_ids(doc: dict[str, Any]) -> list[str]:
    """The ``rootfs.diff_ids`` of a config already checked by :func:`config`."""
    rootfs = doc.get("rootfs") or {}
    return [str(d) for d in rootfs.get("diff_ids") or []]
