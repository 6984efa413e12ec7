"""The native backend's rebuild cache: reuse everything before the ``files`` section.

The filesystem stream is kernel, init, volumes, containers, then files. When a system changes
only in its ``files`` section (a config file, say), everything before that is the same bytes,
so the previous build's tar prefix (and the initrd's compressed prefix with the gzip/cpio
writers' state) are kept under ``<store>/.build-cache/<key>/`` and reused. The key covers the
spec without its files, the root digest of every image, the architecture, the systemkit
version and this format's version, so any other change builds from scratch. A reused build
gives exactly the bytes a full build gives (the tests compare them).
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
from pathlib import Path
from typing import Any

import attrs

from systemkit.outputs.formats import InitrdCheckpoint, InitrdParts, copy_range
from systemkit.outputs.pgzip import GzipState
from systemkit.spec.codec import canonical_json, to_data
from systemkit.spec.types import Spec
from systemkit.version import __version__

VERSION = 5
KEEP = 2
STALE_NEW = 3600.0


def spec_key(spec: Spec, images: dict[str, str], arch: str | None) -> str:
    """The cache key of everything a build writes before the files section."""
    data = to_data(attrs.evolve(spec, files=[]))
    payload = {
        "v": VERSION,
        "systemkit": __version__,
        "spec": data,
        "images": images,
        "arch": arch or "",
    }
    return hashlib.sha256(canonical_json(payload)).hexdigest()


@attrs.frozen
class CacheEntry:
    """One reusable prefix: ``prefix.tar`` and, when a kernel format was built, the initrd's."""

    dir: Path
    files_offset: int
    links: tuple[tuple[str, str, str], ...]
    cmdline: str | None = None
    checkpoint: InitrdCheckpoint | None = None

    @property
    def tar(self) -> Path:
        return self.dir / "prefix.tar"


class BuildCache:
    """Cache entries under ``root`` (at most :data:`KEEP`, least recently used go first)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def lookup(self, key: str) -> CacheEntry | None:
        path = self.root / key
        try:
            state = json.loads((path / "state.json").read_text())
            if state.get("v") != VERSION or not _prefix_intact(path / "prefix.tar", state):
                return None
            checkpoint = None
            if state.get("initrd"):
                st = state["initrd"]
                gz = GzipState(
                    position=st["position"],
                    crc=st["crc"],
                    size=st["size"],
                    pending=(path / "initrd.pending").read_bytes(),
                    window=base64.b64decode(st["window"]),
                )
                if (path / "initrd.gz").stat().st_size != gz.position:
                    return None
                checkpoint = InitrdCheckpoint(gz, st["inode"], st["written"])
            os.utime(path)
            return CacheEntry(
                path,
                state["files_offset"],
                tuple((str(p), str(t), str(r)) for p, t, r in state["links"]),
                state.get("cmdline"),
                checkpoint,
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(
        self,
        key: str,
        tar: Path,
        files_offset: int,
        links: list[tuple[str, str, str]],
        parts: InitrdParts | None,
        tar_is_scratch: bool = False,
    ) -> None:
        """Store the prefix of ``tar`` (and the initrd state) for ``key``. A scratch tar (one
        that is not an output) is moved into the cache instead of copied when it can be."""
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
            state: dict[str, Any] = {
                "v": VERSION,
                "files_offset": files_offset,
                "links": links,
            }
            if not moved:
                linked = _link(tar, tmp / "prefix.tar")
                if linked is not None:
                    state["linked"] = linked
                else:
                    _copy_prefix(tar, tmp / "prefix.tar", files_offset)
            if parts is not None and parts.checkpoint is not None:
                cp = parts.checkpoint
                _copy_prefix(parts.gz, tmp / "initrd.gz", cp.gzip.position)
                (tmp / "initrd.pending").write_bytes(cp.gzip.pending)
                shutil.copyfile(parts.kernel, tmp / "kernel")
                if parts.ucode is not None:
                    shutil.copyfile(parts.ucode, tmp / "ucode.cpio")
                state["cmdline"] = parts.cmdline
                state["initrd"] = {
                    "position": cp.gzip.position,
                    "crc": cp.gzip.crc,
                    "size": cp.gzip.size,
                    "window": base64.b64encode(cp.gzip.window).decode(),
                    "inode": cp.inode,
                    "written": cp.written,
                }
            (tmp / "state.json").write_text(json.dumps(state))
            self._install(key, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self._prune()

    def _install(self, key: str, tmp: Path) -> None:
        """Rename the finished entry ``tmp`` into place, atomically or not at all.

        Builds with the same key write the same entry, so when a concurrent build's entry is
        already there (or wins the rename race) this one is dropped silently. An unusable old
        entry (another version, a changed linked output) is moved aside first, then replaced.
        """
        final = self.root / key
        if final.exists():
            if self.lookup(key) is not None:
                return  # an identical entry won
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

    def _prune(self) -> None:
        entries: list[tuple[float, Path]] = []
        now = time.time()
        for path in self.root.iterdir():
            if path.name.startswith("."):
                # ".old-": an entry moved aside; ".new-": one a killed build never finished
                # (a live build's is seconds old; an hour leaves a wide margin)
                try:
                    stale = path.name.startswith(".old-") or (
                        path.name.startswith(".new-") and now - path.stat().st_mtime > STALE_NEW
                    )
                except FileNotFoundError:
                    stale = False
                if stale:
                    shutil.rmtree(path, ignore_errors=True)
                continue
            try:
                entries.append((path.stat().st_mtime, path))
            except FileNotFoundError:
                continue  # pruned by a concurrent build
        entries.sort(reverse=True)
        for _, old in entries[KEEP:]:
            shutil.rmtree(old, ignore_errors=True)


def _link(output: Path, dst: Path) -> dict[str, int] | None:
    """Hard-link an output tar into the cache instead of copying its prefix.

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
    st = prefix.stat()
    linked = state.get("linked")
    if linked is not None:
        return bool(st.st_size == linked["size"] and st.st_mtime_ns == linked["mtime_ns"])
    return bool(st.st_size == state["files_offset"])


def _copy_prefix(src: Path, dst: Path, length: int) -> None:
    with src.open("rb") as a, dst.open("wb") as b:
        copy_range(a, b, length)
