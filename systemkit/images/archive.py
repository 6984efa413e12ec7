"""Import images from archives: OCI archives (tar of an OCI layout), OCI layout directories,
and docker-archive tars (``docker save`` output).

Names come from the root descriptors' ``io.containerd.image.name`` annotation (what
``linuxkit cache import`` reads) or, failing that, ``org.opencontainers.image.ref.name`` when it
holds a full reference; for docker archives from ``RepoTags``. Every blob is verified by the
store as it is copied in, docker layers also against the config's ``diff_ids``, and names are
only added once everything they point to is stored. Archives are read member by member; no
layer is held in memory.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import tarfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Protocol, cast

from systemkit.images import mediatypes as mt
from systemkit.images.errors import DigestMismatch, ImageError
from systemkit.images.ref import ImageRef, InvalidReference
from systemkit.images.store import ImageStore, check_digest, normalise_ref

_JSON_LIMIT = 16 << 20
_CHUNK = 1 << 20


class _Source(Protocol):
    """Files of an archive or a directory, by their path inside it."""

    def has(self, name: str) -> bool: ...

    def open(self, name: str) -> AbstractContextManager[BinaryIO]: ...


class _DirSource:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, name: str) -> Path:
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ImageError(f"{self.root}: path {name!r} leaves the layout directory")
        return path

    def has(self, name: str) -> bool:
        return self._path(name).is_file()

    @contextmanager
    def open(self, name: str) -> Iterator[BinaryIO]:
        with self._path(name).open("rb") as f:
            yield f


class _TarSource:
    def __init__(self, tar: tarfile.TarFile, label: str) -> None:
        self.tar = tar
        self.label = label
        self.members = {_clean(m.name): m for m in tar.getmembers() if m.isfile() or m.issym()}
        self.members.update({_clean(m.name): m for m in tar.getmembers() if m.islnk()})

    def has(self, name: str) -> bool:
        return _clean(name) in self.members

    @contextmanager
    def open(self, name: str) -> Iterator[BinaryIO]:
        member = self.members.get(_clean(name))
        f = self.tar.extractfile(member) if member is not None else None
        if f is None:
            raise ImageError(f"{self.label}: {name} is missing from the archive")
        with f:
            yield cast(BinaryIO, f)


def _clean(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name.lstrip("/")


def _read_small_json(src: _Source, name: str, label: str) -> Any:
    with src.open(name) as f:
        data = f.read(_JSON_LIMIT + 1)
    if len(data) > _JSON_LIMIT:
        raise ImageError(f"{label}: {name} is too large")
    try:
        return json.loads(data)
    except ValueError as exc:
        raise ImageError(f"{label}: {name} is not valid JSON: {exc}") from None


def import_archive(store: ImageStore, path: Path, name: str | None = None) -> list[str]:
    """Import every named image of an archive or OCI layout directory; return the refs added.

    ``name`` names the image of an archive that carries no name of its own (it must then hold
    exactly one image).
    """
    path = Path(path)
    label = str(path)
    if path.is_dir():
        return _import_from(store, _DirSource(path), label, name)
    if not path.is_file():
        raise ImageError(f"{label}: no such file or directory")
    try:
        with tarfile.open(path, "r:*") as tar:
            return _import_from(store, _TarSource(tar, label), label, name)
    except tarfile.TarError as exc:
        raise ImageError(f"{label}: not a readable tar archive: {exc}") from None


def _import_from(store: ImageStore, src: _Source, label: str, name: str | None) -> list[str]:
    if src.has("index.json") and src.has("oci-layout"):
        return _import_oci(store, src, label, name)
    if src.has("manifest.json"):
        return _import_docker(store, src, label, name)
    raise ImageError(
        f"{label}: neither an OCI layout (oci-layout + index.json) nor a docker archive "
        "(manifest.json)"
    )


# -- OCI layout ------------------------------------------------------------------------------


def _oci_name(desc: dict[str, Any]) -> str | None:
    notes = desc.get("annotations") or {}
    for key in (mt.CONTAINERD_NAME, mt.REF_NAME):
        value = notes.get(key)
        if isinstance(value, str) and ("/" in value or ":" in value or "@" in value):
            return value
    return None


def _import_oci(store: ImageStore, src: _Source, label: str, name: str | None) -> list[str]:
    index = _read_small_json(src, "index.json", label)
    roots = index.get("manifests") if isinstance(index, dict) else None
    if not isinstance(roots, list):
        raise ImageError(f"{label}: index.json has no 'manifests' list")
    named: list[tuple[str, dict[str, Any]]] = []
    for desc in roots:
        ref = _oci_name(desc) if isinstance(desc, dict) else None
        if ref is not None:
            named.append((_checked_ref(ref, label), desc))
    if not named:
        if name is None or len(roots) != 1:
            raise ImageError(
                f"{label}: no image name in index.json (annotation {mt.CONTAINERD_NAME} or "
                f"{mt.REF_NAME}); give one with --name"
                if name is None
                else f"{label}: --name needs an archive with exactly one image"
            )
        named.append((_checked_ref(name, label), roots[0]))
    for _, desc in named:
        _copy_tree(store, src, desc, label)
    for ref, desc in named:
        clean: dict[str, Any] = {
            k: desc[k] for k in ("mediaType", "digest", "size", "platform") if k in desc
        }
        store.tag(ref, clean)
    return [ref for ref, _ in named]


def _checked_ref(ref: str, label: str) -> str:
    try:
        return str(ImageRef.parse(ref))
    except InvalidReference as exc:
        raise ImageError(f"{label}: {exc}") from None


def _copy_blob(store: ImageStore, src: _Source, desc: dict[str, Any], label: str) -> str:
    digest = check_digest(desc.get("digest", ""))
    size = desc.get("size")
    if store.has_blob(digest):
        return digest
    member = "blobs/sha256/" + digest.split(":", 1)[1]
    if not src.has(member):
        raise ImageError(f"{label}: blob {digest} is missing from the archive")
    with src.open(member) as f:
        try:
            store.put_blob(f, digest, size if isinstance(size, int) else None)
        except DigestMismatch as exc:
            raise DigestMismatch(f"{label}: {member}: {exc}") from None
    return digest


def _copy_tree(store: ImageStore, src: _Source, desc: dict[str, Any], label: str) -> None:
    """Copy a manifest or index and everything it references (absent index children are
    allowed: an archive may carry only some platforms)."""
    digest = _copy_blob(store, src, desc, label)
    media_type = desc.get("mediaType")
    doc = store.read_json(digest)
    if media_type in mt.INDEXES:
        for child in doc.get("manifests") or []:
            member = "blobs/sha256/" + check_digest(child.get("digest", "")).split(":", 1)[1]
            if store.has_blob(child["digest"]) or src.has(member):
                _copy_tree(store, src, child, label)
    elif media_type in mt.MANIFESTS:
        _copy_blob(store, src, doc["config"], label)
        for layer in doc.get("layers") or []:
            _copy_blob(store, src, layer, label)
    else:
        raise ImageError(f"{label}: {digest} has unsupported media type {media_type!r}")


# -- docker archive --------------------------------------------------------------------------


def _sniff(store: ImageStore, digest: str) -> str:
    """The layer media type of a stored docker-archive layer, by its first bytes."""
    with store.open_blob(digest) as f:
        head = f.read(4)
    if head[:2] == b"\x1f\x8b":
        return mt.OCI_LAYER_GZIP
    if head == b"\x28\xb5\x2f\xfd":
        return mt.OCI_LAYER_ZSTD
    return mt.OCI_LAYER_TAR


def _diff_id(store: ImageStore, desc: dict[str, Any]) -> str:
    hasher = hashlib.sha256()
    try:
        with store.open_layer(desc) as f:
            while chunk := f.read(_CHUNK):
                hasher.update(chunk)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ImageError(f"layer {desc['digest']} cannot be decompressed: {exc}") from None
    return "sha256:" + hasher.hexdigest()


def _put_member(store: ImageStore, src: _Source, member: str, label: str) -> tuple[str, int]:
    """Store an archive member; a member named by its digest must match it."""
    stem = Path(member).name.removesuffix(".json")
    claimed = None
    if len(stem) == 64 and all(c in "0123456789abcdef" for c in stem):
        claimed = "sha256:" + stem
    if not src.has(member):
        raise ImageError(f"{label}: {member} is missing from the archive")
    with src.open(member) as f:
        try:
            return store.put_blob(f, claimed)
        except DigestMismatch as exc:
            raise DigestMismatch(f"{label}: {member}: {exc}") from None


def _import_docker(store: ImageStore, src: _Source, label: str, name: str | None) -> list[str]:
    entries = _read_small_json(src, "manifest.json", label)
    if not isinstance(entries, list) or not entries:
        raise ImageError(f"{label}: manifest.json is not a list of images")
    tagged: list[tuple[str, dict[str, Any]]] = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("Config"), str):
            raise ImageError(f"{label}: manifest.json entry without Config")
        config_digest, config_size = _put_member(store, src, entry["Config"], label)
        config = store.read_json(config_digest)
        diff_ids = ((config.get("rootfs") or {}).get("diff_ids")) or []
        layer_paths = entry.get("Layers") or []
        if len(diff_ids) != len(layer_paths):
            raise ImageError(
                f"{label}: {len(layer_paths)} layers but {len(diff_ids)} diff_ids in the config"
            )
        layers = []
        for layer_path, diff_id in zip(layer_paths, diff_ids, strict=True):
            digest, size = _put_member(store, src, layer_path, label)
            desc = {"mediaType": _sniff(store, digest), "digest": digest, "size": size}
            if _diff_id(store, desc) != diff_id:
                raise DigestMismatch(f"{label}: layer {layer_path} does not match {diff_id}")
            layers.append(desc)
        manifest = {
            "schemaVersion": 2,
            "mediaType": mt.OCI_MANIFEST,
            "config": {"mediaType": mt.OCI_CONFIG, "digest": config_digest, "size": config_size},
            "layers": layers,
        }
        data = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
        digest, size = store.put_bytes(data)
        root: dict[str, Any] = {"mediaType": mt.OCI_MANIFEST, "digest": digest, "size": size}
        if config.get("architecture") and config.get("os"):
            root["platform"] = {"architecture": config["architecture"], "os": config["os"]}
        tags = entry.get("RepoTags") or []
        if not tags and name is not None and len(entries) == 1:
            tags = [name]
        if not tags:
            raise ImageError(f"{label}: image {config_digest} has no RepoTags; give --name")
        tagged.extend((_checked_ref(tag, label), root) for tag in tags)
    for ref, root in tagged:
        store.tag(normalise_ref(ref), root)
    return [ref for ref, _ in tagged]
