"""The lock file ``systemkit.lock``: what every image reference of a system meant when locked.

For each reference (normalised, the key) the lock records the digest of what the reference
named (an index or a manifest), the digest of each platform's manifest, and the image
config's ``org.mobyproject.config`` label plus the config fields LinuxKit reads (``Cmd``,
``Entrypoint``, ``Env``, ``WorkingDir``, ``User``) of one platform: the one asked for, else
linux/amd64, else the first linux platform, so that every machine writes the same lock. The file is
JSON with sorted keys and two-space indentation, one line per fact, so a change reads well
in a diff; the same facts always give the same bytes::

    {
      "images": {
        "docker.io/linuxkit/getty:a86d74c8f89be8956330c3b115b0b1f2e09ef6e0": {
          "config": {"Cmd": null, "Entrypoint": ["/usr/bin/rungetty.sh"], ...},
          "digest": "sha256:...",
          "label": {"binds": ["/etc/resolv.conf:/etc/resolv.conf", ...], ...},
          "mediaType": "application/vnd.oci.image.index.v1+json",
          "platform": "linux/amd64",
          "platforms": {"linux/amd64": "sha256:...", "linux/arm64": "sha256:..."}
        }
      },
      "lockVersion": 1
    }

Entries come from the local image store when it has the image, else from the image's
registry (only manifests and the config are fetched, into the store).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs
import yaml

from systemkit.diagnostics import SystemkitError
from systemkit.images import mediatypes as mt
from systemkit.images.errors import ImageError, ImageNotFound, PlatformMismatch
from systemkit.images.ref import ImageRef
from systemkit.images.store import ImageStore, normalise_ref, select_platform
from systemkit.limits import MAX_CONFIG_BYTES, load_json, safe_load_yaml
from systemkit.outputs.atomic import write_file

LOCK_FILE = "systemkit.lock"
"""The lock's file name, next to the system file."""
LOCK_VERSION = 1
CONFIG_FIELDS = ("Cmd", "Entrypoint", "Env", "User", "WorkingDir")
"""The image config fields LinuxKit's ``ConfigToOCI`` reads, kept in the lock."""


class LockError(SystemkitError):
    """The lock file cannot be read, or an image cannot be locked."""


@attrs.frozen
class LockedImage:
    """What one image reference named when it was locked."""

    ref: str
    """The normalised reference (the lock's key)."""
    digest: str
    """Digest of the index or manifest the reference named."""
    media_type: str
    platforms: Mapping[str, str]
    """``os/arch[/variant]`` -> manifest digest."""
    platform: str
    """The platform whose config is recorded below."""
    label: Mapping[str, Any] | None
    """The parsed ``org.mobyproject.config`` label, None when the image has none."""
    config: Mapping[str, Any]
    """``Cmd``, ``Entrypoint``, ``Env``, ``User``, ``WorkingDir`` of the image config."""

    @property
    def pinned(self) -> str:
        """The reference pinned to the locked digest (``name:tag@sha256:...``)."""
        parsed = ImageRef.parse(self.ref)
        return str(attrs.evolve(parsed, digest=self.digest))

    @property
    def has_command(self) -> bool:
        """Whether the image config has an ``Entrypoint`` or a ``Cmd``."""
        return bool(self.config.get("Entrypoint")) or bool(self.config.get("Cmd"))

    def to_data(self) -> dict[str, Any]:
        return {
            "config": {k: self.config.get(k) for k in CONFIG_FIELDS},
            "digest": self.digest,
            "label": None if self.label is None else dict(self.label),
            "mediaType": self.media_type,
            "platform": self.platform,
            "platforms": dict(sorted(self.platforms.items())),
        }


@attrs.frozen
class Lock:
    """Locked images by normalised reference."""

    images: Mapping[str, LockedImage] = attrs.field(factory=dict)

    def find(self, ref: str) -> LockedImage | None:
        """The entry of ``ref`` (as written or normalised; a reference pinned to a digest
        also finds the entry of the same reference without it)."""
        try:
            parsed = ImageRef.parse(normalise_ref(ref))
        except ImageError:
            return None
        found = self.images.get(str(parsed))
        if found is None and parsed.digest is not None:
            found = self.images.get(str(attrs.evolve(parsed, digest=None)))
        return found

    def to_bytes(self) -> bytes:
        data = {
            "images": {ref: self.images[ref].to_data() for ref in sorted(self.images)},
            "lockVersion": LOCK_VERSION,
        }
        return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()

    @classmethod
    def from_bytes(cls, data: bytes, source: str = LOCK_FILE) -> Lock:
        try:
            doc = load_json(data, source, MAX_CONFIG_BYTES)
        except ValueError as exc:  # not JSON, or over the size/depth limits
            raise LockError(str(exc)) from None  # names the file
        if not isinstance(doc, dict) or doc.get("lockVersion") != LOCK_VERSION:
            raise LockError(
                f"{source}: not a systemkit lock of version {LOCK_VERSION} "
                "(rewrite it with `systemkit lock FILE --update`)"
            )
        images = doc.get("images")
        if not isinstance(images, dict):
            raise LockError(f"{source}: 'images' must be a mapping")
        out: dict[str, LockedImage] = {}
        for ref, entry in images.items():
            try:
                out[ref] = LockedImage(
                    ref=ref,
                    digest=_str(entry["digest"]),
                    media_type=_str(entry["mediaType"]),
                    platforms={str(k): _str(v) for k, v in dict(entry["platforms"]).items()},
                    platform=_str(entry["platform"]),
                    label=None if entry["label"] is None else dict(entry["label"]),
                    config=dict(entry["config"]),
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise LockError(f"{source}: entry {ref!r} is malformed ({exc})") from None
        return cls(out)


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r}")
    return value


def lock_path(files: Iterable[Path]) -> Path:
    """Where the lock of a system file (or of YAML files: the first one's) lives."""
    first = next(iter(files))
    return Path(first).resolve().parent / LOCK_FILE


def read_lock(path: Path) -> Lock | None:
    """The lock at ``path``, None when there is none."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise LockError(f"cannot read {path}: {exc.strerror}") from None
    return Lock.from_bytes(data, str(path))


def write_lock(path: Path, lock: Lock) -> None:
    """Write atomically (:func:`systemkit.outputs.atomic.write_file`)."""
    write_file(path, lock.to_bytes())


# -- making entries ----------------------------------------------------------------------------


def _platform_of(desc: Mapping[str, Any]) -> str:
    plat = desc.get("platform") or {}
    text = f"{plat.get('os', 'linux')}/{mt.normalise_arch(str(plat.get('architecture', '')))}"
    return text + (f"/{plat['variant']}" if plat.get("variant") else "")


def _entry(
    name: str,
    root: Mapping[str, Any],
    root_doc: Any,
    manifest_digest: str,
    config: Mapping[str, Any],
) -> LockedImage:
    if root.get("mediaType") in mt.INDEXES:
        platforms = {
            _platform_of(d): str(d["digest"])
            for d in root_doc.get("manifests") or []
            if isinstance(d, dict) and d.get("mediaType", mt.OCI_MANIFEST) in mt.MANIFESTS
        }
    else:
        platforms = {_platform_of({"platform": config}): manifest_digest}
    platform = _platform_of({"platform": config})
    section = config.get("config") or {}
    text = (section.get("Labels") or {}).get(mt.MOBY_LABEL)
    label: dict[str, Any] | None = None
    if text is not None:
        try:
            parsed = safe_load_yaml(text)  # within the YAML depth limit
        except yaml.YAMLError as exc:
            raise LockError(f"{name}: the {mt.MOBY_LABEL} label is not valid YAML: {exc}") from None
        if not isinstance(parsed, dict):
            raise LockError(f"{name}: the {mt.MOBY_LABEL} label is not a mapping")
        label = json.loads(json.dumps(parsed, default=str))
    return LockedImage(
        ref=name,
        digest=str(root["digest"]),
        media_type=str(root.get("mediaType") or mt.OCI_MANIFEST),
        platforms=platforms,
        platform=platform,
        label=label,
        config={k: section.get(k) for k in CONFIG_FIELDS},
    )


def _choose(name: str, index: Any, arch: str | None) -> dict[str, Any]:
    """The manifest whose config the lock records: ``linux/<arch>`` when asked for, else
    linux/amd64, else the first linux platform in sorted order: the same on every machine."""
    if arch is not None:
        return select_platform(name, index, arch)
    try:
        return select_platform(name, index, "amd64")
    except PlatformMismatch:
        pass
    linux = sorted(
        (
            d
            for d in (index.get("manifests") or [])
            if isinstance(d, dict)
            and (d.get("platform") or {}).get("os") == "linux"
            and d.get("mediaType", mt.OCI_MANIFEST) in mt.MANIFESTS
        ),
        key=_platform_of,
    )
    if not linux:
        return select_platform(name, index, "amd64")  # raises, listing what there is
    return linux[0]


def from_store(store: ImageStore, ref: str, arch: str | None) -> LockedImage | None:
    """The entry from the local store; None when the store lacks the image or its
    ``linux/<arch>`` manifest or config."""
    name = normalise_ref(ref)
    root = store.lookup(name)
    if root is None:
        return None
    try:
        root_doc = store.read_json(root["digest"])
        desc: Mapping[str, Any] = root
        if root.get("mediaType") in mt.INDEXES:
            desc = _choose(name, root_doc, arch)
        manifest = store.read_json(desc["digest"])
        config = store.read_json(manifest["config"]["digest"])
    except (ImageNotFound, PlatformMismatch, KeyError, TypeError):
        return None
    return _entry(name, root, root_doc, str(desc["digest"]), config)


def from_registry(
    store: ImageStore, ref: str, arch: str | None, *, insecure: Iterable[str] = ()
) -> LockedImage:
    """The entry from the image's registry: manifests and config only (kept in the store)."""
    from systemkit.images.registry import RegistryClient

    name = normalise_ref(ref)
    parsed = ImageRef.parse(name)
    client = RegistryClient(parsed.domain, insecure=insecure)
    reference = parsed.digest or parsed.tag or "latest"
    data, media_type, digest = client.fetch_manifest(parsed.path, reference, parsed.digest)
    store.put_blob(io.BytesIO(data), digest, len(data))
    root = {"mediaType": media_type, "digest": digest, "size": len(data)}
    root_doc = json.loads(data)
    desc: Mapping[str, Any] = root
    if media_type in mt.INDEXES:
        desc = _choose(name, root_doc, arch)
        if not store.has_blob(desc["digest"]):
            child, _, child_digest = client.fetch_manifest(
                parsed.path, desc["digest"], desc["digest"]
            )
            store.put_blob(io.BytesIO(child), child_digest, len(child))
    manifest = store.read_json(desc["digest"])
    if not isinstance(manifest, dict) or not isinstance(manifest.get("config"), dict):
        raise ImageError(f"{name}: manifest {desc['digest']} has no config")
    client.fetch_blob(store, parsed.path, manifest["config"], None)
    config = store.read_json(manifest["config"]["digest"])
    return _entry(name, root, root_doc, str(desc["digest"]), config)


def lock_images(
    refs: Iterable[str],
    store: ImageStore,
    *,
    arch: str | None = None,
    previous: Lock | None = None,
    update: Iterable[str] | None = None,
    prune: bool = False,
    insecure: Iterable[str] = (),
    on_entry: Callable[[LockedImage, str], None] | None = None,
) -> Lock:
    """A lock for ``refs``.

    Entries of ``previous`` are kept as they are, unless their reference is named in
    ``update`` (an empty ``update`` means every reference), in which case the registry is
    asked again. New references come from the store, else the registry. With ``prune`` the
    entries of references not in ``refs`` are dropped, else they are kept.
    ``on_entry(entry, source)`` is called for each entry made (source: store or registry).
    Every reference that cannot be locked is reported, all at once, in one :class:`LockError`.
    """
    want = mt.normalise_arch(arch) if arch else None
    names = list(dict.fromkeys(normalise_ref(r) for r in refs))
    update_all = update is not None and not list(update)
    renew = {normalise_ref(r) for r in (update or ())}
    kept: dict[str, LockedImage] = {}
    if previous is not None:
        for ref, entry in previous.images.items():
            if update_all or ref in renew or (prune and ref not in names):
                continue
            kept[ref] = entry
    todo = [n for n in names if n not in kept]

    def one(name: str) -> LockedImage | Exception:
        try:
            if not (update_all or name in renew):
                found = from_store(store, name, want)
                if found is not None:
                    if on_entry:
                        on_entry(found, "store")
                    return found
            entry = from_registry(store, name, want, insecure=insecure)
            if on_entry:
                on_entry(entry, "registry")
            return entry
        except SystemkitError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=max(1, min(4, len(todo)))) as pool:
        results = list(pool.map(one, todo))
    problems = [f"{n}: {r}" for n, r in zip(todo, results, strict=True) if isinstance(r, Exception)]
    if problems:
        raise LockError("cannot lock:\n  " + "\n  ".join(problems))
    for name, result in zip(todo, results, strict=True):
        assert isinstance(result, LockedImage)
        kept[name] = result
    return Lock(dict(sorted(kept.items())))
