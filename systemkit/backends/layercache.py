"""The native backend's layer-stream cache: an image's layers decompressed and flattened once.

Flattening an image (:func:`systemkit.assemble.flatten.flatten`: every layer decompressed,
verified against its digest, merged top layer first with whiteouts and opaque directories
applied and names cleaned) is most of the work of a build. Its output depends on nothing but
the layers' bytes (their digests), how they are compressed (their media types), whether
opaque markers are honoured, and the code that reads them (this format's :data:`VERSION` and
the systemkit version): not on the image's name, the build, or where the image lands. The
part that does depend on the build (the prefix, ``LINUXKIT.source``/``location``, LinuxKit's
per-image filter and the guard: :func:`systemkit.assemble.filters.image_members`) stays live.

So the flattened stream is cached under a content-addressed key
(:func:`layers_key`: sha256 over canonical JSON of those inputs; two tags or manifests with the
same layers share an entry), in ``<image store>/.layer-cache/``:

* ``<key>.tar``: the flattened members as a plain tar (headers in
  :func:`~systemkit.assemble.tarstream.encode_header`'s PAX layout, which
  :func:`~systemkit.assemble.tarstream.iter_tar` reads back to the same header, field for
  field: an image whose headers would not round-trip exactly is simply not cached);
* ``<key>.json``: the :class:`LayerRecord`: size and sha256 of the tar, the layer members
  flatten dropped (their warnings are replayed, worded as flatten words them, with the
  current image ref, at the same place in the stream), the image refs that used it, when it
  was made; its mtime is the entry's last use.

**Reading** (every native build with the build cache on): an image with an entry is streamed
from it through a reader that checks size and sha256 as it goes; the stream is complete only
once both match, so a damaged entry fails the build (the outputs are atomic: nothing appears)
with an error naming the entry, which is removed: building again flattens the layers anew.
An entry found damaged before anything was streamed from it (an unreadable record, a tar of
the wrong size) is removed with a warning and the image's layers are read instead.
A stream that downstream stops early (a build failing for another reason, perhaps one that a
damaged entry caused) still reads and checks the rest, and removes the entry if it is damaged.

**Writing** (only for the images a build is told to write: ``systemkit build --all`` selects
those that some variant will stream after the part it shares with the others, see
:func:`images_to_write`; a single build writes none, as the extra write of the decompressed
bytes would only slow it down): the members are teed into ``.new-XXXX`` as they stream
downstream and renamed into place only when flatten completed; on an error or an early stop
the temporary file is removed, and one left by a killed build (its writer's ``flock`` gone)
is removed by the next prune (on a filesystem without ``flock``, where a live writer could not
be told from a dead one, no entry is written). Concurrent writers of one key write the same
bytes; the last rename wins. After each write the cache is pruned, least recently used first, beyond
:func:`max_size` bytes (``$SYSTEMKIT_LAYER_CACHE_SIZE``, default 4 GiB).
``systemkit cache layers`` lists the entries and ``systemkit cache prune --layers`` prunes them.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import tempfile
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

import attrs

from systemkit.assemble.flatten import dropped_warning, flatten
from systemkit.assemble.tarstream import BLOCK, Body, TarFormatError, TarHeader, encode_header
from systemkit.assemble.tarstream import iter_tar as _iter_tar
from systemkit.backends.buildcache import env_size, point_keys, resumes_initrd_only
from systemkit.diagnostics import SystemkitError
from systemkit.spec.codec import canonical_json
from systemkit.spec.types import Spec
from systemkit.spec.walk import image_refs
from systemkit.version import __version__

VERSION = 1
MAX_SIZE = 4 << 30
"""Default size limit of the layer cache in bytes (``$SYSTEMKIT_LAYER_CACHE_SIZE`` overrides)."""
SIZE_ENV = "SYSTEMKIT_LAYER_CACHE_SIZE"
RECLAIM_AFTER = 10.0
"""A ``.new-`` file whose writer's lock is free is removed once it is this many seconds old
(the writer takes the lock right after creating it)."""
MAX_IMAGES = 16
"""At most this many image refs are remembered per entry (for display)."""
CHUNK = 1 << 20

Member = tuple[TarHeader, Body]
OpenLayer = Callable[[dict[str, Any]], BinaryIO]


class LayerCacheError(SystemkitError):
    """A damaged layer cache entry (it has been removed; building again works)."""

    def __init__(self, path: Path, why: str) -> None:
        super().__init__(
            f"layer cache entry {path} is damaged ({why}); it has been removed: build again"
        )
        self.path = path
        self.why = why


def max_size() -> int:
    """The layer cache's size limit: ``$SYSTEMKIT_LAYER_CACHE_SIZE`` (bytes, or with a K/M/G
    suffix, as :func:`systemkit.backends.buildcache.parse_size` reads it), else
    :data:`MAX_SIZE`."""
    return env_size(SIZE_ENV, MAX_SIZE)


def layers_key(layers: Sequence[Mapping[str, Any]], honour_opaque: bool) -> str:
    """The content address of an image's flattened stream: everything it depends on (see the
    module doc), and nothing else."""
    payload = {
        "v": VERSION,
        "systemkit": __version__,
        "honour_opaque": honour_opaque,
        "layers": [[str(d.get("mediaType", "")), str(d["digest"])] for d in layers],
    }
    return hashlib.sha256(canonical_json(payload)).hexdigest()


def images_to_write(specs: Sequence[Spec], formats: Collection[str], arch: str | None) -> list[str]:
    """The images worth writing to the layer cache when building the distinct ``specs`` (the
    first is built alone first, seeding the build cache; see
    :func:`systemkit.variants.build.build_many`): those every other spec streams itself,
    i.e. used at or after the last resume point it shares with the first spec
    (:func:`systemkit.backends.buildcache.point_keys`; the build cache covers everything
    before it), and not already unpacked by a container before that point. Computed from the
    specs alone; empty for a single spec."""
    if len(specs) < 2:
        return []
    initrd_only = resumes_initrd_only(formats)
    seed = point_keys(specs[0], {}, arch, initrd_only=initrd_only)
    wanted: dict[str, None] = {}
    for spec in specs[1:]:
        keys = point_keys(spec, {}, arch, initrd_only=initrd_only)
        shared = [i for i, (a, b) in enumerate(zip(seed, keys, strict=False)) if a == b]
        if not shared:
            wanted.update(dict.fromkeys(image_refs(spec)))
            continue
        containers = [c.image for c in (*spec.onboot, *spec.onshutdown, *spec.services)]
        point = shared[-1]
        before = set(containers[:point])
        wanted.update(dict.fromkeys(r for r in containers[point:] if r not in before))
    return list(wanted)


def images_written(write: bool | Collection[str]) -> bool | frozenset[str]:
    """What a layer cache is told to write: ``True`` (every image), ``False`` (none), or the
    set of image refs; a single ref given as a ``str`` is that ref, not its letters."""
    if isinstance(write, bool):
        return write
    return frozenset([write] if isinstance(write, str) else write)


@attrs.frozen
class LayerRecord:
    """The JSON record beside an entry's tar."""

    size: int
    sha256: str
    dropped: tuple[tuple[int, str], ...] = ()
    """Members flatten dropped: (members yielded before the drop, raw name)."""
    images: tuple[str, ...] = ()
    """Image refs that used the entry (for display)."""
    created: float = 0.0
    v: int = VERSION

    def to_json(self) -> str:
        return json.dumps(attrs.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> LayerRecord:
        data = json.loads(text)
        return cls(
            size=int(data["size"]),
            sha256=str(data["sha256"]),
            dropped=tuple((int(n), str(name)) for n, name in data["dropped"]),
            images=tuple(str(r) for r in data["images"]),
            created=float(data["created"]),
            v=int(data["v"]),
        )


@attrs.frozen
class LayerEntry:
    """One entry as ``systemkit cache layers`` shows it."""

    key: str
    size: int
    """Bytes on disk (tar and record)."""
    last_used: float
    images: tuple[str, ...]


DIRNAME = ".layer-cache"
"""The layer cache's directory in an image store."""


class LayerCache:
    """The layer-stream cache under ``root`` (see the module doc).

    ``write``: whether to write entries: ``True`` for every image, or the image refs to write
    (``()``: none; reading is always on).
    """

    def __init__(self, root: Path, write: bool | Collection[str] = False) -> None:
        self.root = Path(root)
        self.write = images_written(write)
        self.hits: list[str] = []
        """The keys this instance streamed from an entry, in order."""
        self.written: list[str] = []
        """The keys this instance installed, in order."""

    @classmethod
    def of_store(cls, store_root: Path, write: bool | Collection[str] = False) -> LayerCache:
        """The layer cache of the image store at ``store_root``."""
        return cls(Path(store_root) / DIRNAME, write)

    def _writes(self, ref: str) -> bool:
        return self.write is True or (not isinstance(self.write, bool) and ref in self.write)

    def _tar(self, key: str) -> Path:
        return self.root / f"{key}.tar"

    def _record(self, key: str) -> Path:
        return self.root / f"{key}.json"

    def has(self, layers: Sequence[Mapping[str, Any]], honour_opaque: bool) -> bool:
        """Whether an entry for these layers is there (not yet whether it is intact)."""
        key = layers_key(layers, honour_opaque)
        return self._record(key).is_file() and self._tar(key).is_file()

    def flattened(
        self,
        ref: str,
        layers: Sequence[dict[str, Any]],
        open_layer: OpenLayer,
        *,
        honour_opaque: bool,
        warn: Callable[[str], None],
    ) -> Iterator[Member]:
        """The flattened members of image ``ref`` (its ``layers``, bottom first): from the
        entry when there is one (verified as it streams, its warnings replayed), else from
        the layers (teed into a new entry when this cache writes ``ref``)."""
        key = layers_key(layers, honour_opaque)
        try:
            opened = self._open(key)
        except LayerCacheError as exc:
            # Found before anything was streamed: the layers can stand in for it.
            warn(
                f"{ref}: layer cache entry {exc.path} was damaged ({exc.why}) and has been "
                "removed; reading the image's layers instead"
            )
            opened = None
        if opened is not None:
            return self._replay(key, ref, *opened, warn)
        openers: list[Callable[[], BinaryIO]] = [
            (lambda d=desc: open_layer(d))  # type: ignore[misc]
            for desc in layers
        ]
        if not self._writes(ref):
            return flatten(openers, honour_opaque=honour_opaque, warn=warn, what=ref)
        return self._tee(key, ref, openers, honour_opaque, warn)

    # -- reading --------------------------------------------------------------------------------

    def _open(self, key: str) -> tuple[LayerRecord, BinaryIO] | None:
        """The record and open tar of ``key``; None when there is no (complete) entry; a
        damaged one raises :class:`LayerCacheError`."""
        try:
            text = self._record(key).read_text()
        except OSError:
            return None
        try:
            fh = self._tar(key).open("rb")
        except FileNotFoundError:
            self._record(key).unlink(missing_ok=True)  # half removed by a concurrent prune
            return None
        try:
            try:
                record = LayerRecord.from_json(text)
            except (ValueError, KeyError, TypeError):
                self._damaged(key, "its record is not readable")
            if record.v != VERSION:
                fh.close()
                return None
            actual = os.fstat(fh.fileno()).st_size
            if actual != record.size:
                self._damaged(key, f"{actual} bytes instead of {record.size}")
            with contextlib.suppress(OSError):
                os.utime(self._record(key))  # the entry's last use
            return record, fh
        except BaseException:
            fh.close()
            raise

    def _damaged(self, key: str, why: str) -> NoReturn:
        path = self._tar(key)
        self.remove(key)
        raise LayerCacheError(path, why)

    def _replay(
        self,
        key: str,
        ref: str,
        record: LayerRecord,
        fh: BinaryIO,
        warn: Callable[[str], None],
    ) -> Iterator[Member]:
        self._remember(key, record, ref)
        self.hits.append(key)
        drops = list(record.dropped)
        with fh:
            reader = _Verified(fh, record, lambda why: self._damaged(key, why))
            done = False
            try:
                for count, member in enumerate(_iter_tar(reader)):  # type: ignore[arg-type]
                    while drops and drops[0][0] <= count:
                        warn(dropped_warning(ref, drops.pop(0)[1]))
                    yield member
                reader.finish()
                done = True
            except (TarFormatError, ValueError) as exc:
                done = True
                if isinstance(exc, LayerCacheError):
                    raise
                self._damaged(key, str(exc))
            finally:
                # Stopped early (the build failed downstream, perhaps because of what a
                # damaged entry said): check the rest, so that a damaged entry goes.
                if not done and not reader.rest_intact():
                    self.remove(key)
        for _, name in drops:
            warn(dropped_warning(ref, name))

    def _remember(self, key: str, record: LayerRecord, ref: str) -> None:
        """Add ``ref`` to the images that used the entry (best effort: display only)."""
        if ref in record.images or len(record.images) >= MAX_IMAGES:
            return
        with contextlib.suppress(OSError):
            new = attrs.evolve(record, images=(*record.images, ref))
            _write_atomically(self._record(key), new.to_json())

    # -- writing --------------------------------------------------------------------------------

    def _tee(
        self,
        key: str,
        ref: str,
        openers: list[Callable[[], BinaryIO]],
        honour_opaque: bool,
        warn: Callable[[str], None],
    ) -> Iterator[Member]:
        drops: list[tuple[int, str]] = []
        count = 0

        def dropped(name: str) -> None:
            drops.append((count, name))

        flat = flatten(openers, honour_opaque=honour_opaque, warn=warn, what=ref, dropped=dropped)
        out = _TeeFile.create(self.root)
        try:
            for hdr, body in flat:
                if out is None or not out.header(hdr) or not body.left:
                    yield hdr, body
                else:
                    tee = _TeeBody(body, out)
                    yield hdr, tee
                    tee.finish()
                count += 1
            if out is not None and out.ok:
                self._install(key, ref, out, tuple(drops))
        finally:
            if out is not None:
                out.discard()

    def _install(
        self, key: str, ref: str, out: _TeeFile, drops: tuple[tuple[int, str], ...]
    ) -> None:
        """Rename the finished tar into place, then write its record; concurrent writers of
        ``key`` write the same bytes, the last rename wins."""
        try:
            size, digest = out.close()
            os.replace(out.path, self._tar(key))
            images = (ref,)
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                old = LayerRecord.from_json(self._record(key).read_text())
                images = (*old.images, *(() if ref in old.images else (ref,)))[:MAX_IMAGES]
            record = LayerRecord(size, digest, drops, images, time.time())
            _write_atomically(self._record(key), record.to_json())
        except OSError:
            return  # a cache that cannot be written is no reason to fail the build
        self.written.append(key)
        self.prune()

    # -- listing and pruning --------------------------------------------------------------------

    def entries(self) -> list[LayerEntry]:
        """Every entry, most recently used first."""
        out: list[LayerEntry] = []
        if not self.root.is_dir():
            return out
        for path in self.root.glob("*.json"):
            key = path.stem
            try:
                record = LayerRecord.from_json(path.read_text())
                used = path.stat().st_mtime
                size = self._tar(key).stat().st_size + path.stat().st_size
            except (OSError, ValueError, KeyError, TypeError):
                continue  # removed meanwhile, or not an entry
            out.append(LayerEntry(key, size, used, record.images))
        out.sort(key=lambda e: e.last_used, reverse=True)
        return out

    def remove(self, key: str) -> None:
        """Remove one entry (the record first, so readers no longer find it)."""
        self._record(key).unlink(missing_ok=True)
        self._tar(key).unlink(missing_ok=True)

    def prune(self, keep: int | None = None, limit: int | None = None) -> list[LayerEntry]:
        """Remove the least recently used entries beyond ``keep`` entries (default: no count
        limit) or ``limit`` bytes (default :func:`max_size`), the temporary files of killed
        writers, and tars without a record; return the entries removed."""
        limit = max_size() if limit is None else limit
        if not self.root.is_dir():
            return []
        now = time.time()
        for path in self.root.iterdir():
            if path.name.startswith(".new-"):
                _reclaim(path, now)
            elif path.suffix == ".tar" and not path.with_suffix(".json").exists():
                with contextlib.suppress(OSError):
                    if now - path.stat().st_mtime > RECLAIM_AFTER:
                        path.unlink()  # its record never came (a killed writer)
            elif path.suffix == ".json" and not path.with_suffix(".tar").exists():
                # a record without its tar (one that noted a use while a prune removed the
                # entry): nothing can read it, and entries() does not list it
                path.unlink(missing_ok=True)
        removed: list[LayerEntry] = []
        total = 0
        for count, entry in enumerate(self.entries()):
            total += entry.size
            if (keep is not None and count >= keep) or total > limit:
                self.remove(entry.key)
                removed.append(entry)
        return removed


# -- helpers ----------------------------------------------------------------------------------


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".new-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _reclaim(path: Path, now: float) -> None:
    """Remove a ``.new-`` file whose writer is gone (its lock can be taken)."""
    try:
        if now - path.stat().st_mtime <= RECLAIM_AFTER:
            return
        with path.open("rb") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # a live writer holds it
            path.unlink()
    except OSError:
        return


class _Verified:
    """Reads an entry's tar, checking that it has exactly ``record.size`` bytes whose sha256
    is ``record.sha256``; ``damaged`` is called (and raises) on a mismatch."""

    def __init__(self, fh: BinaryIO, record: LayerRecord, damaged: Callable[[str], NoReturn]):
        self._fh = fh
        self._record = record
        self._damaged = damaged
        self._hash = hashlib.sha256()
        self._seen = 0

    def read(self, n: int = -1) -> bytes:
        left = self._record.size - self._seen
        data = self._fh.read(left if n < 0 else min(n, left))
        if not data and left > 0 and n != 0:
            self._damaged(f"it ends after {self._seen} of {self._record.size} bytes")
        self._seen += len(data)
        self._hash.update(data)
        if self._seen == self._record.size and self._fh.read(1):
            self._damaged(f"it is longer than {self._record.size} bytes")
        return data

    def rest_intact(self) -> bool:
        """Read the rest quietly: whether the whole has the recorded size and sha256 (an
        unreadable file counts as intact: only a proven mismatch removes an entry)."""
        try:
            while data := self._fh.read(CHUNK):
                self._seen += len(data)
                self._hash.update(data)
        except (OSError, ValueError):
            return True
        return self._seen == self._record.size and self._hash.hexdigest() == self._record.sha256

    def finish(self) -> None:
        """Read what the tar reader left (the end blocks) and check the whole."""
        while self._seen < self._record.size:
            self.read(CHUNK)
        if self._hash.hexdigest() != self._record.sha256:
            self._damaged("its sha256 does not match its record")


class _TeeFile:
    """A new entry's tar being written (``.new-XXXX``, locked while its writer lives)."""

    def __init__(self, path: Path, fh: BinaryIO) -> None:
        self.path = path
        self.fh = fh
        self.ok = True
        self.size = 0
        self._hash = hashlib.sha256()

    @classmethod
    def create(cls, root: Path) -> _TeeFile | None:
        try:
            root.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=".new-", suffix=".tar", dir=root)
        except OSError:
            return None
        fh = os.fdopen(fd, "wb")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX)
        except OSError:  # ENOLCK, EOPNOTSUPP: a live writer could not be told from a dead one
            fh.close()
            Path(name).unlink(missing_ok=True)
            return None
        return cls(Path(name), fh)

    def write(self, data: bytes) -> None:
        if not self.ok or not data:
            return
        try:
            self.fh.write(data)
        except OSError:
            self.ok = False  # a full disk: no entry, the build goes on
            return
        self.size += len(data)
        self._hash.update(data)

    def header(self, hdr: TarHeader) -> bool:
        """Write ``hdr`` as flatten yielded it; False (and no entry) if it would not read back
        as the same header."""
        if not self.ok:
            return False
        try:
            raw = encode_header(hdr)
            back = next(_iter_tar(io.BytesIO(raw)))[0]
        except (ValueError, UnicodeError, StopIteration):
            back = None
        if back != hdr:
            self.ok = False
            return False
        self.write(raw)
        return True

    def close(self) -> tuple[int, str]:
        self.write(b"\0" * (2 * BLOCK))
        if not self.ok:
            raise OSError("the layer cache entry could not be written")
        self.fh.close()
        return self.size, self._hash.hexdigest()

    def discard(self) -> None:
        """Remove the temporary file unless it was renamed into place (no litter)."""
        with contextlib.suppress(OSError):
            self.fh.close()
        self.path.unlink(missing_ok=True)


class _TeeBody(Body):
    """A member's body that copies what downstream reads into the new entry; :meth:`finish`
    copies the rest and the padding."""

    def __init__(self, inner: Body, out: _TeeFile) -> None:
        super().__init__(io.BytesIO(), inner.left)
        self._inner = inner
        self._out = out
        self._size = inner.left

    def read(self, n: int = -1) -> bytes:
        data = self._inner.read(n)
        self.left = self._inner.left
        self._out.write(data)
        return data

    def finish(self) -> None:
        while self.left:
            self.read(CHUNK)
        self._out.write(b"\0" * (-self._size % BLOCK))


__all__ = [
    "LayerCache",
    "LayerCacheError",
    "LayerEntry",
    "LayerRecord",
    "images_to_write",
    "layers_key",
    "max_size",
]
