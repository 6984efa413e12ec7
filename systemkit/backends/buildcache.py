"""The native backend's rebuild cache: reuse the part of an earlier build that is unchanged.

The filesystem stream is kernel, init, volumes, the containers (onboot, onshutdown,
services), then files. Everything before a container (a *resume point*; the files section is
the last one) depends only on the spec before it, the images it uses and the containers'
names. A full build records, at every resume point, where the tar stood, the gzip/cpio
writers' state of the initrd, and what the assembler carries on (the symlinks the guard knows,
the containers' shared roots); its tar prefix, the initrd's compressed prefix, the kernel and
microcode are kept under ``<store>/.build-cache/<key>/``. Each point's key (a sha256 over the
spec before it, the root digest of every image used before it, the container names, the
architecture, the systemkit version and this format's version) is indexed in
``.build-cache/.index/``, so a later build that shares a prefix with it, whether it is the
same system with another ``files`` section or another variant that differs in one service,
copies the prefix and builds only the rest. A resumed build gives exactly the bytes a full
build gives (the tests compare them). Entries are pruned least recently used first, beyond
:data:`KEEP` entries or :func:`max_size` bytes; ``systemkit cache builds`` lists them and
``systemkit cache prune`` removes them.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

import attrs

from systemkit.diagnostics import SystemkitError
from systemkit.outputs.diskimages import TREE_FORMATS
from systemkit.outputs.formats import NEEDS_KERNEL, InitrdCheckpoint, InitrdParts, copy_range
from systemkit.outputs.pgzip import GzipState
from systemkit.spec.codec import canonical_json, to_data
from systemkit.spec.types import Spec
from systemkit.version import __version__

VERSION = 6
KEEP = 4
"""At most this many entries (each is one full build's prefix)."""
MAX_SIZE = 4 << 30
"""Default size limit of the whole cache in bytes (``SYSTEMKIT_BUILD_CACHE_SIZE`` overrides)."""
SIZE_ENV = "SYSTEMKIT_BUILD_CACHE_SIZE"
STALE_NEW = 3600.0
INDEX = ".index"


def max_size() -> int:
    """The cache's size limit: ``$SYSTEMKIT_BUILD_CACHE_SIZE`` (bytes, or with a K/M/G
    suffix), else :data:`MAX_SIZE`."""
    return env_size(SIZE_ENV, MAX_SIZE)


def env_size(variable: str, default: int) -> int:
    """The size in ``$variable`` (as :func:`parse_size` reads it), else ``default``; a value
    that is not a size is a :class:`SystemkitError` naming the variable."""
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    try:
        return parse_size(text)
    except ValueError:
        raise SystemkitError(f"${variable} {text!r} is not a size (bytes, or 500M, 4G)") from None


def parse_size(text: str) -> int:
    """``500M``, ``4G``, ``1024`` (bytes) -> bytes; ValueError when not a size."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    text = text.strip().upper().removesuffix("B").removesuffix("I")
    factor = units.get(text[-1:], 1)
    number = text[:-1] if text[-1:] in units else text
    try:
        value = int(float(number) * factor)
    except OverflowError:  # inf
        raise ValueError(text) from None
    if value < 0:
        raise ValueError(text)
    return value


def resumes_initrd_only(formats: Collection[str]) -> bool:
    """Whether a build of ``formats`` looks its resume points up by the keys made with
    ``initrd_only`` (:func:`point_keys`): it builds a kernel format and nothing that needs the
    whole filesystem stream (a tar, or a format holding the filesystem: an ISO with it,
    squashfs, erofs)."""
    wanted = set(formats)
    return bool(NEEDS_KERNEL & wanted) and "tar" not in wanted and not TREE_FORMATS & wanted


def _names(spec: Spec) -> list[list[str]]:
    return [
        [section, entry.name]
        for section, entries in (
            ("onboot", spec.onboot),
            ("onshutdown", spec.onshutdown),
            ("services", spec.services),
        )
        for entry in entries
    ]


def point_keys(
    spec: Spec, images: dict[str, str], arch: str | None, *, initrd_only: bool = False
) -> list[str]:
    """The key of every resume point of ``spec`` (each container, then ``files``): what the
    stream before that point depends on (see the module doc).

    ``initrd_only``: the keys of a build that needs only the initrd's prefix (no tar and no
    format made from the whole filesystem), which the kernel command line does not change
    (``boot/`` stays out of the initrd), so variants that differ in it share the prefix."""
    data = to_data(attrs.evolve(spec, files=[]))
    if initrd_only and isinstance(data.get("kernel"), dict):
        data["kernel"] = {k: v for k, v in data["kernel"].items() if k != "cmdline"}
    entries = [
        (section, item)
        for section in ("onboot", "onshutdown", "services")
        for item in data.get(section) or []
    ]
    base_refs: list[str] = []
    if spec.kernel is not None and spec.kernel.image:
        base_refs.append(spec.kernel.image)
    base_refs.extend(spec.init)
    base_refs.extend(v.image for v in spec.volumes if v.image)
    head = {k: v for k, v in data.items() if k not in ("onboot", "onshutdown", "services")}
    keys = []
    for point in range(len(entries) + 1):
        before = entries[:point]
        refs = sorted({*base_refs, *(str(item["image"]) for _, item in before)})
        payload = {
            "v": VERSION,
            "systemkit": __version__,
            "arch": arch or "",
            "head": head,
            "names": _names(spec),
            "point": point,
            "last": point == len(entries),
            "before": before,
            "images": {ref: images.get(ref, "") for ref in refs},
            "initrd_only": initrd_only,
        }
        keys.append(hashlib.sha256(canonical_json(payload)).hexdigest())
    return keys


def spec_key(spec: Spec, images: dict[str, str], arch: str | None) -> str:
    """The key of everything a build writes before the files section (its last point)."""
    return point_keys(spec, images, arch)[-1]


@attrs.frozen
class ResumePoint:
    """What a build recorded at one resume point."""

    offset: int
    """Bytes of the tar before the point."""
    bundles: dict[str, str]
    links: list[tuple[str, str, str]]


@attrs.frozen
class CacheEntry:
    """A reusable prefix: ``prefix.tar`` up to ``files_offset`` (the prefix before resume point
    ``point`` is its first ``offset`` bytes) and, when a kernel format was built, the
    initrd's compressed prefix and the writers' state at the point."""

    dir: Path
    files_offset: int
    links: tuple[tuple[str, str, str], ...]
    cmdline: str | None = None
    checkpoint: InitrdCheckpoint | None = None
    point: int = 0
    offset: int = 0
    bundles: dict[str, str] = attrs.Factory(dict)
    last: bool = True
    """Whether the point is the files section (the whole prefix is reused)."""

    @property
    def tar(self) -> Path:
        return self.dir / "prefix.tar"


DIRNAME = ".build-cache"
"""The build cache's directory in an image store."""


class BuildCache:
    """Cache entries under ``root`` (at most :data:`KEEP`, least recently used go first)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @classmethod
    def of_store(cls, store_root: Path) -> BuildCache:
        """The build cache of the image store at ``store_root``."""
        return cls(Path(store_root) / DIRNAME)

    def lookup(self, key: str) -> CacheEntry | None:
        """The entry whose files section starts at ``key``'s point, if intact."""
        return self._load(key, None)

    def lookup_points(self, keys: list[str], *, initrd: bool) -> CacheEntry | None:
        """The entry that shares the longest prefix with a build whose resume points have
        ``keys`` (the last point first); with ``initrd``, only an entry that kept the
        initrd's state there."""
        for point in range(len(keys) - 1, -1, -1):
            try:
                name, _, at = (self.root / INDEX / keys[point]).read_text().partition(" ")
            except OSError:
                continue
            entry = self._load(name, int(at) if at.strip().isdigit() else None)
            if entry is None or (initrd and entry.checkpoint is None):
                continue
            return attrs.evolve(entry, last=point == len(keys) - 1)
        return None

    def _load(self, name: str, point: int | None) -> CacheEntry | None:
        path = self.root / name
        try:
            state = json.loads((path / "state.json").read_text())
            if state.get("v") != VERSION or not _prefix_intact(path / "prefix.tar", state):
                return None
            points = state["points"]
            at = len(points) - 1 if point is None else point
            rec = points[at]
            if rec is None:
                return None
            checkpoint = None
            initrd = state.get("initrd")
            if "kernel" in state and not _same_file(path / "kernel", state["kernel"]):
                return None  # the kernel (shared with outputs, see save) was changed in place
            if initrd and rec.get("initrd"):
                st = rec["initrd"]
                if (path / "initrd.gz").stat().st_size != initrd["length"]:
                    return None
                gz = GzipState(
                    position=st["position"],
                    crc=st["crc"],
                    size=st["size"],
                    pending=(path / f"point-{at}.pending").read_bytes(),
                    window=base64.b64decode(st["window"]),
                )
                checkpoint = InitrdCheckpoint(gz, st["inode"], st["written"])
            detail = json.loads((path / f"point-{at}.json").read_text())
            os.utime(path)
            return CacheEntry(
                path,
                state["files_offset"],
                tuple((str(p), str(t), str(r)) for p, t, r in detail["links"]),
                state.get("cmdline"),
                checkpoint,
                point=at,
                offset=rec["offset"],
                bundles={str(k): str(v) for k, v in detail["bundles"].items()},
            )
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            return None

    def save(
        self,
        key: str,
        tar: Path,
        files_offset: int,
        links: list[tuple[str, str, str]],
        parts: InitrdParts | None,
        tar_is_scratch: bool = False,
        points: dict[int, ResumePoint] | None = None,
        keys: list[str] | None = None,
        initrd_keys: list[str] | None = None,
    ) -> None:
        """Store the prefix of ``tar`` (and the initrd state) for ``key``, with the state at
        each resume point (``points``, by index into ``keys``; without them only the files
        section's; ``initrd_keys``: the same points' :func:`point_keys` with ``initrd_only``,
        under which the points with the initrd's state are indexed too). A scratch tar (one
        that is not an output) is moved into the cache instead of copied when it can be."""
        keys = keys or [key]
        last = len(keys) - 1
        points = dict(points or {})
        points.setdefault(last, ResumePoint(files_offset, {}, links))
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".new-", dir=self.root))
        try:
            moved = False
            if tar_is_scratch:
                try:
                    os.replace(tar, tmp / "prefix.tar")
                    os.truncate(tmp / "prefix.tar", files_offset)
                    moved = True
                except OSError:
                    moved = False
            state: dict[str, Any] = {"v": VERSION, "files_offset": files_offset}
            if not moved:
                linked = _link(tar, tmp / "prefix.tar")
                if linked is not None:
                    state["linked"] = linked
                else:
                    _copy_prefix(tar, tmp / "prefix.tar", files_offset)
            checkpoints = dict(parts.checkpoints) if parts is not None else {}
            if parts is not None and parts.checkpoint is not None:
                checkpoints.setdefault(last, parts.checkpoint)
            records: list[dict[str, Any] | None] = [None] * len(keys)
            for at, rp in points.items():
                record: dict[str, Any] = {"offset": rp.offset}
                cp = checkpoints.get(at)
                if cp is not None:
                    record["initrd"] = {
                        "position": cp.gzip.position,
                        "crc": cp.gzip.crc,
                        "size": cp.gzip.size,
                        "window": base64.b64encode(cp.gzip.window).decode(),
                        "inode": cp.inode,
                        "written": cp.written,
                    }
                    (tmp / f"point-{at}.pending").write_bytes(cp.gzip.pending)
                detail = {"links": rp.links, "bundles": rp.bundles}
                (tmp / f"point-{at}.json").write_text(json.dumps(detail))
                records[at] = record
            state["points"] = records
            if parts is not None and checkpoints:
                length = max(cp.gzip.position for cp in checkpoints.values())
                _copy_prefix(parts.gz, tmp / "initrd.gz", length)
                kernel = _link(parts.kernel, tmp / "kernel")
                if kernel is None:
                    shutil.copyfile(parts.kernel, tmp / "kernel")
                    st = (tmp / "kernel").stat()
                    kernel = {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
                state["kernel"] = kernel
                if parts.ucode is not None:
                    shutil.copyfile(parts.ucode, tmp / "ucode.cpio")
                state["cmdline"] = parts.cmdline
                state["initrd"] = {"length": length}
            (tmp / "state.json").write_text(json.dumps(state))
            self._install(key, tmp)
            self._index(key, keys, records)
            if initrd_keys is not None and len(initrd_keys) == len(keys):
                with_initrd = [r if r is not None and "initrd" in r else None for r in records]
                self._index(key, initrd_keys, with_initrd)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.prune()

    def _index(self, key: str, keys: list[str], records: list[dict[str, Any] | None]) -> None:
        index = self.root / INDEX
        index.mkdir(exist_ok=True)
        for at, point_key in enumerate(keys):
            if records[at] is None:
                continue
            fd, tmp = tempfile.mkstemp(prefix=".new-", dir=index)
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{key} {at}")
            os.replace(tmp, index / point_key)

    def _install(self, key: str, tmp: Path) -> None:
        """Rename the finished entry ``tmp`` into place, atomically or not at all.

        Builds with the same key write the same entry, so when a concurrent build's entry is
        already there (or wins the rename race) this one is dropped silently. An unusable old
        entry (another version, a changed linked output) is moved aside first, then replaced.
        """
        final = self.root / key
        if final.exists():
            existing = self.lookup(key)
            with_initrd = "initrd" in json.loads((tmp / "state.json").read_text())
            if existing is not None and (existing.checkpoint is not None or not with_initrd):
                return  # an identical entry won (one without the initrd's state is replaced)
            aside = Path(tempfile.mkdtemp(prefix=".old-", dir=self.root))
            try:
                os.replace(final, aside / "entry")
            except FileNotFoundError:
                pass  # another build removed it first
            finally:
                shutil.rmtree(aside, ignore_errors=True)
        try:
            os.replace(tmp, final)
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            # another build installed its (identical) entry between our check and rename

    def entries(self) -> list[tuple[Path, int, float]]:
        """Every entry: (directory, bytes on disk, last use as a timestamp), newest first."""
        out: list[tuple[Path, int, float]] = []
        if not self.root.is_dir():
            return out
        for path in self.root.iterdir():
            if path.name.startswith("."):
                continue
            try:
                mtime = path.stat().st_mtime
                size = sum(f.stat().st_size for f in path.iterdir() if f.is_file())
            except FileNotFoundError:
                continue  # pruned by a concurrent build
            out.append((path, size, mtime))
        out.sort(key=lambda e: e[2], reverse=True)
        return out

    def prune(self, keep: int = KEEP, limit: int | None = None) -> list[Path]:
        """Remove the least recently used entries beyond ``keep`` entries or ``limit`` bytes
        (default :func:`max_size`), leftovers of killed builds, and index records of removed
        entries; return the entries removed."""
        limit = max_size() if limit is None else limit
        now = time.time()
        if not self.root.is_dir():
            return []
        for path in self.root.iterdir():
            if path.name.startswith((".old-", ".new-")):
                # ".old-": an entry moved aside; ".new-": one a killed build never finished
                # (a live build's is seconds old; an hour leaves a wide margin)
                try:
                    stale = path.name.startswith(".old-") or (
                        now - path.stat().st_mtime > STALE_NEW
                    )
                except FileNotFoundError:
                    stale = False
                if stale:
                    shutil.rmtree(path, ignore_errors=True)
        removed: list[Path] = []
        total = 0
        for count, (path, size, _) in enumerate(self.entries()):
            total += size
            if count >= keep or total > limit:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
        index = self.root / INDEX
        if removed and index.is_dir():
            gone = {p.name for p in removed}
            for record in index.iterdir():
                try:
                    if record.read_text().partition(" ")[0] in gone:
                        record.unlink(missing_ok=True)
                except OSError:
                    continue
        return removed


def _same_file(path: Path, record: dict[str, int]) -> bool:
    st = path.stat()
    return bool(st.st_size == record["size"] and st.st_mtime_ns == record["mtime_ns"])


def _link(output: Path, dst: Path) -> dict[str, int] | None:
    """Hard-link an output (the tar, the kernel) into the cache instead of copying it.

    Outputs are never modified in place (a build writes a new file and renames it over the
    old one), so the link keeps the old bytes. Its size and mtime are recorded so that a file
    changed in place by someone else is detected and not reused. None when linking fails
    (e.g. the output directory is on another filesystem).
    """
    try:
        os.link(output, dst)
        # An mtime in the past (a whole second ago): any later write in place sets a newer
        # one, even within the filesystem's timestamp granularity.
        stamp = (time.time_ns() // 1_000_000_000 - 1) * 1_000_000_000
        os.utime(dst, ns=(stamp, stamp))
        st = dst.stat()
    except OSError:
        return None
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _prefix_intact(prefix: Path, state: dict[str, Any]) -> bool:
    linked = state.get("linked")
    if linked is not None:
        return _same_file(prefix, linked)
    return bool(prefix.stat().st_size == state["files_offset"])


def _copy_prefix(src: Path, dst: Path, length: int) -> None:
    with src.open("rb") as a, dst.open("wb") as b:
        copy_range(a, b, length)
