"""The local image store: a content-addressed OCI image layout.

Layout (readable by any OCI tool: skopeo, umoci, ``linuxkit cache``)::

    ROOT/oci-layout              {"imageLayoutVersion":"1.0.0"}
    ROOT/index.json              root descriptors, named by the org.opencontainers.image.ref.name
                                 annotation holding the full normalised ref
    ROOT/blobs/sha256/<hex>      manifests, indexes, configs, layers
    ROOT/.lock                   inter-process lock around index.json updates
    ROOT/.tmp/                   blobs being written (renamed into blobs/ once verified)

Every blob is hashed while it is written and refused unless its bytes match its digest, so a
blob under ``blobs/`` is always valid. ``index.json`` is rewritten atomically under the lock, and
a name is only added once the blob it points to is stored: an interrupted import leaves neither a
corrupt blob nor a dangling name.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import importlib
import io
import json
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

import attrs
import filelock
import yaml

from systemkit.images import documents
from systemkit.images import mediatypes as mt
from systemkit.images.documents import check_digest
from systemkit.images.errors import DigestMismatch, ImageError, ImageNotFound, PlatformMismatch
from systemkit.images.ref import ImageRef, InvalidReference
from systemkit.limits import MAX_CONFIG_BYTES, MAX_INDEX_DEPTH, safe_load_yaml

__all__ = [
    "DigestMismatch",
    "ImageError",
    "ImageNotFound",
    "ImageStore",
    "PlatformMismatch",
    "ResolvedImage",
    "check_digest",
    "normalise_ref",
]

_CHUNK = 1 << 20
_STALE_AFTER = 24 * 3600
"""Seconds after which an abandoned temporary blob in ``.tmp`` is removed."""


def normalise_ref(ref: str) -> str:
    """The full normalised form of an image reference; :class:`ImageError` if it is invalid."""
    try:
        return str(ImageRef.parse(ref))
    except InvalidReference as exc:
        raise ImageError(str(exc)) from None


@attrs.frozen
class ResolvedImage:
    """One image for one platform, with its manifest and config read from the store."""

    ref: str
    root: dict[str, Any]
    """The descriptor the name points at (a manifest or an index)."""
    manifest_digest: str
    manifest: dict[str, Any]
    config: dict[str, Any]
    layers: list[dict[str, Any]]

    @property
    def label(self) -> dict[str, Any] | None:
        """The parsed ``org.mobyproject.config`` label, None if the image has none."""
        inner = self.config.get("config")
        labels = inner.get("Labels") if isinstance(inner, dict) else None
        text = labels.get(mt.MOBY_LABEL) if isinstance(labels, dict) else None
        if text is None:
            return None
        if not isinstance(text, str):
            raise ImageError(f"{self.ref}: the {mt.MOBY_LABEL} label is not a string")
        try:
            value = safe_load_yaml(text)
        except yaml.YAMLError as exc:
            raise ImageError(
                f"{self.ref}: the {mt.MOBY_LABEL} label is not valid YAML: {exc}"
            ) from None
        if not isinstance(value, dict):
            raise ImageError(f"{self.ref}: the {mt.MOBY_LABEL} label is not a mapping")
        return value


class ImageStore:
    """A content-addressed image store that is an OCI image layout."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._blobs = self.root / "blobs" / "sha256"
        self._tmp = self.root / ".tmp"
        self._index = self.root / "index.json"
        try:
            self._blobs.mkdir(parents=True, exist_ok=True)
            self._tmp.mkdir(exist_ok=True)
        except OSError as exc:
            raise ImageError(
                f"cannot use {str(self.root)!r} as an image store: {exc.strerror or exc}"
            ) from None
        self._remove_stale_temp_files()
        self._filelock = filelock.FileLock(str(self.root / ".lock"))
        layout = self.root / "oci-layout"
        if not layout.exists():
            self._write_atomic(layout, b'{"imageLayoutVersion":"1.0.0"}')
        if not self._index.exists():
            with self.lock():
                if not self._index.exists():
                    self._write_index([])

    @classmethod
    def default(cls) -> ImageStore:
        """The user's store: ``$SYSTEMKIT_CACHE``, else ``$XDG_CACHE_HOME/systemkit/images``,
        else ``~/.cache/systemkit/images``."""
        explicit = os.environ.get("SYSTEMKIT_CACHE")
        if explicit:
            return cls(Path(explicit))
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = Path(xdg) if xdg else Path.home() / ".cache"
        return cls(base / "systemkit" / "images")

    # -- blobs -------------------------------------------------------------------------------

    def blob_path(self, digest: str) -> Path:
        return self._blobs / check_digest(digest).split(":", 1)[1]

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).is_file()

    def open_blob(self, digest: str) -> BinaryIO:
        """The raw bytes of a blob; :class:`ImageNotFound` if it is not stored."""
        try:
            return self.blob_path(digest).open("rb")
        except FileNotFoundError:
            raise ImageNotFound(f"blob {digest} is not in the image store {self.root}") from None

    def read_json(self, digest: str, max_bytes: int = MAX_CONFIG_BYTES) -> Any:
        """A small JSON blob (manifest, index, config), verified against its digest again,
        within the size (``max_bytes``) and depth limits."""
        with self.open_blob(digest) as f:
            data = f.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise ImageError(
                f"blob {digest} is larger than {max_bytes >> 20} MiB (the limit for a "
                "manifest or config)"
            )
        if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
            raise DigestMismatch(f"stored blob {digest} is corrupt (its content changed on disk)")
        return documents.parse(data, f"blob {digest}")

    def put_blob(
        self, stream: BinaryIO, digest: str | None = None, size: int | None = None
    ) -> tuple[str, int]:
        """Store the bytes of ``stream`` and return ``(digest, size)``.

        The bytes go to a temporary file in the store and are hashed on the way; when ``digest``
        (or ``size``) is given and does not match, the file is deleted and :class:`DigestMismatch`
        raised. Otherwise the file is fsynced and renamed into place. When ``digest`` is given
        and already stored, the stream is not read at all.
        """
        if digest is not None:
            check_digest(digest)
            if self.has_blob(digest):
                return digest, self.blob_path(digest).stat().st_size
        hasher = hashlib.sha256()
        written = 0
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="blob-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(_CHUNK):
                    hasher.update(chunk)
                    out.write(chunk)
                    written += len(chunk)
                    if size is not None and written > size:
                        raise DigestMismatch(f"blob is larger than its declared size {size}")
                out.flush()
                os.fsync(out.fileno())
            actual = "sha256:" + hasher.hexdigest()
            if digest is not None and actual != digest:
                raise DigestMismatch(f"content does not match digest {digest} (got {actual})")
            if size is not None and written != size:
                raise DigestMismatch(f"blob {actual} has {written} bytes, expected {size}")
            os.chmod(tmp, 0o644)
            os.replace(tmp, self.blob_path(actual))
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self._fsync_dir(self._blobs)
        return actual, written

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        """Store a small blob held in memory (a manifest or config)."""
        return self.put_blob(io.BytesIO(data))

    def open_layer(self, desc: dict[str, Any]) -> BinaryIO:
        """The uncompressed tar stream of a layer (gzip, zstd or plain tar, by media type)."""
        media_type = desc.get("mediaType", "")
        kind = mt.layer_compression(media_type)
        path = self.blob_path(desc.get("digest", ""))
        if not path.is_file():
            raise ImageNotFound(f"layer {desc.get('digest')} is not in the image store {self.root}")
        if kind == "tar":
            return path.open("rb")
        if kind == "gzip":
            return cast(BinaryIO, gzip.open(path, "rb"))
        if kind == "zstd":
            try:
                zstd = importlib.import_module("zstandard")
            except ModuleNotFoundError:
                raise ImageError(
                    f"layer {desc.get('digest')} is zstd-compressed; install the 'zstandard' "
                    "package to use it"
                ) from None
            return cast(BinaryIO, zstd.ZstdDecompressor().stream_reader(path.open("rb")))
        raise ImageError(f"layer {desc.get('digest')} has unsupported media type {media_type!r}")

    # -- names -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the store's inter-process lock (re-entrant within one store object)."""
        with self._filelock:
            yield

    def tag(self, ref: str, descriptor: dict[str, Any]) -> None:
        """Name ``descriptor`` (a stored manifest or index) ``ref``, replacing an old entry."""
        name = normalise_ref(ref)
        digest = check_digest(descriptor.get("digest", ""))
        if descriptor.get("mediaType") not in mt.ALL_MANIFESTS:
            raise ImageError(f"cannot name {digest}: media type {descriptor.get('mediaType')!r}")
        self._check_complete(name, descriptor)
        entry = dict(descriptor)
        entry["annotations"] = {**(descriptor.get("annotations") or {}), mt.REF_NAME: name}
        with self.lock():
            kept = [d for d in self._read_index() if _ref_of(d) != name]
            self._write_index([*kept, entry])

    def untag(self, ref: str) -> bool:
        """Remove a name; True if it was there. Blobs stay (they may be shared)."""
        name = normalise_ref(ref)
        with self.lock():
            entries = self._read_index()
            kept = [d for d in entries if _ref_of(d) != name]
            if len(kept) == len(entries):
                return False
            self._write_index(kept)
            return True

    def refs(self) -> list[tuple[str, dict[str, Any]]]:
        """Every named root descriptor, sorted by ref."""
        named = [(r, d) for d in self._read_index() if (r := _ref_of(d)) is not None]
        return sorted(named, key=lambda item: item[0])

    def lookup(self, ref: str) -> dict[str, Any] | None:
        """The root descriptor (manifest or index) stored under ``ref``, None if absent.

        A digest-pinned ref that is not stored by name is still found when its digest is a
        stored manifest or index (the content is its own proof).
        """
        parsed = ImageRef.parse(normalise_ref(ref))
        name = str(parsed)
        for entry_ref, desc in self.refs():
            if entry_ref == name:
                return desc
        if parsed.digest is not None and self.has_blob(parsed.digest):
            doc = self.read_json(parsed.digest)
            media_type = doc.get("mediaType") if isinstance(doc, dict) else None
            if media_type is None and isinstance(doc, dict):
                media_type = mt.OCI_INDEX if "manifests" in doc else mt.OCI_MANIFEST
            if media_type in mt.ALL_MANIFESTS:
                size = self.blob_path(parsed.digest).stat().st_size
                return {"mediaType": media_type, "digest": parsed.digest, "size": size}
        return None

    def resolve(self, ref: str, arch: str | None = None) -> ResolvedImage:
        """The image named ``ref`` for ``linux/<arch>`` (default: the host's architecture).

        From an index the ``linux/<arch>`` manifest is chosen. A single manifest whose config
        names another architecture is refused with :class:`PlatformMismatch` (LinuxKit does not
        check this; systemkit does, deliberately). Missing blobs give :class:`ImageNotFound`.
        """
        name = normalise_ref(ref)
        want = mt.normalise_arch(arch) if arch else mt.host_arch()
        root = self.lookup(name)
        if root is None:
            raise ImageNotFound(f"image {name} is not in the image store {self.root}")
        return self.resolve_descriptor(name, root, want)

    def resolve_descriptor(self, name: str, root: dict[str, Any], arch: str) -> ResolvedImage:
        """Resolve a root descriptor (not necessarily named in the store) for ``linux/<arch>``."""
        desc = documents.descriptor(root, f"{name}: root descriptor")
        if root.get("mediaType") in mt.INDEXES:
            desc = select_platform(name, self._read_doc(name, root), arch)
        manifest = self._read_doc(name, desc)
        config_desc, layers = documents.manifest(manifest, f"{name}: manifest {desc['digest']}")
        config = documents.config(self._read_doc(name, config_desc), f"{name}: image config")
        check_config_platform(name, config, arch)
        for layer in layers:
            if not self.has_blob(layer.get("digest", "")):
                raise ImageNotFound(f"{name}: layer {layer.get('digest')} is not in the store")
        return ResolvedImage(name, dict(root), desc["digest"], manifest, config, layers)

    # -- internals ---------------------------------------------------------------------------

    def _check_complete(self, name: str, desc: dict[str, Any], depth: int = 0) -> None:
        """Refuse to name content that is not all stored: a manifest needs its config and
        layers; an index needs at least the manifests it has to be complete."""
        digest = desc["digest"]
        if not self.has_blob(digest):
            raise ImageNotFound(f"cannot name {name}: blob {digest} is not stored")
        doc = self.read_json(digest)
        what = f"cannot name {name}: {digest}"
        if desc.get("mediaType") in mt.INDEXES:
            if depth >= MAX_INDEX_DEPTH:
                raise ImageError(f"{what}: indexes nested deeper than {MAX_INDEX_DEPTH} levels")
            for child in documents.index(doc, what):
                if self.has_blob(child["digest"]):
                    self._check_complete(name, child, depth + 1)
            return
        config, layers = documents.manifest(doc, what)
        for blob in [config, *layers]:
            if not self.has_blob(blob["digest"]):
                raise ImageNotFound(f"cannot name {name}: blob {blob.get('digest')} is not stored")

    def _read_doc(self, name: str, desc: dict[str, Any]) -> Any:
        digest = check_digest(desc.get("digest", ""))
        if not self.has_blob(digest):
            raise ImageNotFound(f"{name}: blob {digest} is not in the image store {self.root}")
        return self.read_json(digest)

    def _read_index(self) -> list[dict[str, Any]]:
        try:
            data = json.loads(self._index.read_bytes())
        except FileNotFoundError:
            return []
        except ValueError as exc:
            raise ImageError(f"{self._index} is not valid JSON: {exc}") from None
        manifests = data.get("manifests") if isinstance(data, dict) else None
        if not isinstance(manifests, list):
            raise ImageError(f"{self._index} has no 'manifests' list")
        return [d for d in manifests if isinstance(d, dict)]

    def _write_index(self, entries: list[dict[str, Any]]) -> None:
        entries = sorted(entries, key=lambda d: (_ref_of(d) or "", d.get("digest", "")))
        doc = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": entries}
        self._write_atomic(self._index, json.dumps(doc, indent=1, sort_keys=True).encode())

    def _write_atomic(self, path: Path, data: bytes) -> None:
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp_name, 0o644)
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        self._fsync_dir(path.parent)

    def _remove_stale_temp_files(self) -> None:
        """Drop what writers killed long ago left in ``.tmp`` (never a live writer's file)."""
        cutoff = time.time() - _STALE_AFTER
        for leftover in self._tmp.iterdir():
            with contextlib.suppress(OSError):
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()

    @staticmethod
    def _fsync_dir(path: Path) -> None:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _ref_of(desc: dict[str, Any]) -> str | None:
    name = (desc.get("annotations") or {}).get(mt.REF_NAME)
    return name if isinstance(name, str) else None


def select_platform(name: str, index: Any, arch: str) -> dict[str, Any]:
    """The ``linux/<arch>`` manifest descriptor of an image index."""
    manifests = documents.index(index, f"{name}: image index")
    seen = []
    for desc in manifests:
        plat = desc.get("platform")
        plat = plat if isinstance(plat, dict) else {}
        seen.append(f"{plat.get('os')}/{plat.get('architecture')}")
        if (
            plat.get("os") == "linux"
            and mt.normalise_arch(str(plat.get("architecture", ""))) == arch
            and desc.get("mediaType", mt.OCI_MANIFEST) in mt.MANIFESTS
        ):
            return desc
    raise PlatformMismatch(
        f"image {name} has no linux/{arch} variant (it has: {', '.join(seen) or 'none'})"
    )


def check_config_platform(name: str, config: dict[str, Any], arch: str) -> None:
    """Refuse an image whose config names a different architecture (or OS) than wanted."""
    have = config.get("architecture")
    if have and mt.normalise_arch(str(have)) != arch:
        raise PlatformMismatch(
            f"image {name} is for {config.get('os', 'linux')}/{have}, not linux/{arch}"
        )
    if config.get("os") not in (None, "", "linux"):
        raise PlatformMismatch(f"image {name} is for {config['os']}/{have}, not linux/{arch}")
