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
import posixpath
import tarfile
import zlib
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Protocol, cast

from systemkit.images import documents
from systemkit.images import mediatypes as mt
from systemkit.images.errors import DigestMismatch, ImageError
from systemkit.images.ref import ImageRef, InvalidReference
from systemkit.images.store import ImageStore, check_digest, normalise_ref
from systemkit.limits import (
    MAX_CONFIG_BYTES,
    MAX_INDEX_DEPTH,
    MAX_INDEX_MANIFESTS,
    MAX_LAYERS,
    MAX_MANIFEST_BYTES,
)

_CHUNK = 1 << 20
_MAX_LINK_HOPS = 16
"""Links followed from one archive member to the file it names (more: a loop)."""


class _Source(Protocol):
    """Files of an archive or a directory, by their path inside it."""

    def has(self, name: str) -> bool: ...

    def open(self, name: str) -> AbstractContextManager[BinaryIO]: ...


class _DirSource:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, name: str) -> Path:
        try:
            path = (self.root / name).resolve()
        except (OSError, RuntimeError) as exc:  # a symlink loop
            raise ImageError(f"{self.root}: cannot resolve {name!r}: {exc}") from None
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
    """Members of a tar archive by name. Symbolic and hard links are followed here (at most
    :data:`_MAX_LINK_HOPS`, never out of the archive), not by ``tarfile``, which recurses
    forever on a loop and fails with a ``KeyError`` on a missing target."""

    def __init__(self, tar: tarfile.TarFile, label: str) -> None:
        self.tar = tar
        self.label = label
        self.members = {_clean(m.name): m for m in tar.getmembers() if m.isfile() or m.issym()}
        self.members.update({_clean(m.name): m for m in tar.getmembers() if m.islnk()})

    def has(self, name: str) -> bool:
        return _clean(name) in self.members

    def _regular(self, name: str) -> tarfile.TarInfo:
        """The regular file member ``name`` leads to through links."""
        current = _clean(name)
        for _ in range(_MAX_LINK_HOPS + 1):
            member = self.members.get(current)
            if member is None:
                if current == _clean(name):
                    raise ImageError(f"{self.label}: {name} is missing from the archive")
                raise ImageError(
                    f"{self.label}: {name} is a link to {current!r}, which is not in the archive"
                )
            if member.isfile():
                return member
            target = member.linkname
            if member.issym():
                target = posixpath.join(posixpath.dirname(current), target)
            if target.startswith("/") or posixpath.normpath(target).startswith(".."):
                raise ImageError(
                    f"{self.label}: {name} is a link to {member.linkname!r}, outside the archive"
                )
            current = _clean(posixpath.normpath(target))
        raise ImageError(f"{self.label}: {name}: too many links (a link loop)")

    @contextmanager
    def open(self, name: str) -> Iterator[BinaryIO]:
        f = self.tar.extractfile(self._regular(name))
        if f is None:
            raise ImageError(f"{self.label}: {name} is not a regular file")
        with f:
            yield cast(BinaryIO, f)


def _clean(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name.lstrip("/")


def _read_small_json(src: _Source, name: str, label: str, max_bytes: int) -> Any:
    with src.open(name) as f:
        data = f.read(max_bytes + 1)
    return documents.parse(data, f"{label}: {name}", max_bytes)


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
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        detail = " ".join(str(exc).split())  # tarfile lists each method on its own line
        raise ImageError(f"{label}: not a readable tar archive: {detail}") from None
    except OSError as exc:
        raise ImageError(f"{label}: cannot be read: {exc}") from None


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
    notes = desc.get("annotations")
    if not isinstance(notes, dict):
        return None
    for key in (mt.CONTAINERD_NAME, mt.REF_NAME):
        value = notes.get(key)
        if isinstance(value, str) and ("/" in value or ":" in value or "@" in value):
            return value
    return None


def _import_oci(store: ImageStore, src: _Source, label: str, name: str | None) -> list[str]:
    index = _read_small_json(src, "index.json", label, MAX_CONFIG_BYTES)
    roots = documents.index(index, f"{label}: index.json")
    named: list[tuple[str, dict[str, Any]]] = []
    for desc in roots:
        ref = _oci_name(desc)
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
    digest = check_digest(desc["digest"])
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


def _copy_tree(
    store: ImageStore, src: _Source, desc: dict[str, Any], label: str, depth: int = 0
) -> None:
    """Copy a manifest or index and everything it references (absent index children are
    allowed: an archive may carry only some platforms). Each document's shape and limits are
    checked before anything it references is copied."""
    media_type = desc.get("mediaType")
    if media_type not in mt.INDEXES and media_type not in mt.MANIFESTS:
        raise ImageError(f"{label}: {desc['digest']} has unsupported media type {media_type!r}")
    digest = _copy_blob(store, src, desc, label)
    what = f"{label}: {'index' if media_type in mt.INDEXES else 'manifest'} {digest}"
    doc = store.read_json(digest, MAX_MANIFEST_BYTES)
    if media_type in mt.INDEXES:
        if depth >= MAX_INDEX_DEPTH:
            raise ImageError(f"{what}: indexes nested deeper than {MAX_INDEX_DEPTH} levels")
        for child in documents.index(doc, what):
            member = "blobs/sha256/" + child["digest"].split(":", 1)[1]
            if store.has_blob(child["digest"]) or src.has(member):
                _copy_tree(store, src, child, label, depth + 1)
    else:
        config, layers = documents.manifest(doc, what)
        _copy_blob(store, src, config, label)
        documents.config(store.read_json(config["digest"]), f"{label}: config {config['digest']}")
        for layer in layers:
            _copy_blob(store, src, layer, label)


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
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile, ImageError) as exc:
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


def _strings(entry: dict[str, Any], key: str, what: str) -> list[str]:
    """A list-of-strings field of a docker-archive entry (absent or null: empty)."""
    value = entry.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ImageError(f"{what}: {key} is not a list of strings")
    return value


def _import_docker(store: ImageStore, src: _Source, label: str, name: str | None) -> list[str]:
    entries = _read_small_json(src, "manifest.json", label, MAX_MANIFEST_BYTES)
    if not isinstance(entries, list) or not entries:
        raise ImageError(f"{label}: manifest.json is not a list of images")
    if len(entries) > MAX_INDEX_MANIFESTS:
        raise ImageError(
            f"{label}: manifest.json has {len(entries)} images; at most {MAX_INDEX_MANIFESTS} "
            "are accepted (the limit)"
        )
    tagged: list[tuple[str, dict[str, Any]]] = []
    for i, entry in enumerate(entries):
        what = f"{label}: manifest.json entry {i}"
        if not isinstance(entry, dict) or not isinstance(entry.get("Config"), str):
            raise ImageError(f"{what} has no Config")
        layer_paths = _strings(entry, "Layers", what)
        if len(layer_paths) > MAX_LAYERS:
            raise ImageError(
                f"{what} has {len(layer_paths)} layers; at most {MAX_LAYERS} are accepted "
                "(the limit)"
            )
        repo_tags = _strings(entry, "RepoTags", what)
        config_digest, config_size = _put_member(store, src, entry["Config"], label)
        config = documents.config(store.read_json(config_digest), f"{what}: config")
        diff_ids = documents.diff_ids(config)
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
        if isinstance(config.get("architecture"), str) and isinstance(config.get("os"), str):
            root["platform"] = {"architecture": config["architecture"], "os": config["os"]}
        tags = repo_tags
        if not tags and name is not None and len(entries) == 1:
            tags = [name]
        if not tags:
            raise ImageError(f"{label}: image {config_digest} has no RepoTags; give --name")
        tagged.extend((_checked_ref(tag, label), root) for tag in tags)
    for ref, root in tagged:
        store.tag(normalise_ref(ref), root)
    return [ref for ref, _ in tagged]
