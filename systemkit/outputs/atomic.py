"""Outputs that appear whole or not at all: temp names in the destination, renamed at the end.

Temporary outputs of a build that died (``kill -9``, a power cut) are reclaimed by the next
build in the same directory, never those of a live build. Each :class:`AtomicOutputs` session
holds an exclusive ``flock`` on a lock file ``.systemkit-build.<id>.lock`` in the directory
for as long as it lives, and every temporary name it makes carries ``<id>``:
``.<final name>.<id>.<random>.part``. The kernel drops the lock when the process dies, however
it dies, so a lock that can be taken belongs to a dead build: :func:`reclaim_stale` removes
its ``.part`` files and then the lock file. The lock file is created under a temporary name,
locked, and only then renamed to its real name, so a live session's lock is never seen
unlocked.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from systemkit.diagnostics import SystemkitError

LOCK_PREFIX = ".systemkit-build."
_LOCK = re.compile(r"\.systemkit-build\.([0-9a-f]{16})\.lock")
_NEW_LOCK = re.compile(r"\.systemkit-build\.[A-Za-z0-9_]+\.new")
_PART = re.compile(r"\..+\.([0-9a-f]{16})\.[A-Za-z0-9_]+\.part")
# A lock file still under its temporary name and not locked after this long belongs to a
# build killed between creating and locking it (microseconds apart).
NEW_LOCK_GRACE = 60.0


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def reclaim_stale(out_dir: Path) -> list[Path]:
    """Remove the temporary outputs (and lock files) of dead builds in ``out_dir``; return
    what was removed. Files of live builds, and files not named by this module, are kept."""
    out_dir = Path(out_dir)
    try:
        names = [e.name for e in os.scandir(out_dir) if e.name.startswith(LOCK_PREFIX[0])]
    except OSError:
        return []
    ids: set[str] = set()
    for name in names:
        match = _PART.fullmatch(name) or _LOCK.fullmatch(name)
        if match:
            ids.add(match.group(1))
    removed: list[Path] = []
    for sid in sorted(ids):
        lock = out_dir / f"{LOCK_PREFIX}{sid}.lock"
        try:
            fd = os.open(lock, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            # No lock: a live session makes its lock before any part and removes it last,
            # so these parts belong to a build that died while being reclaimed.
            fd = -1
        except OSError:
            continue
        try:
            if fd >= 0 and not _try_lock(fd):
                continue  # a live build
            # Rescan: parts made after the first listing belong to this (now dead) session too.
            for entry in os.scandir(out_dir):
                match = _PART.fullmatch(entry.name)
                if match and match.group(1) == sid:
                    _remove(out_dir / entry.name)
                    removed.append(out_dir / entry.name)
            if fd >= 0:
                lock.unlink(missing_ok=True)
                removed.append(lock)
        except OSError:
            continue
        finally:
            if fd >= 0:
                os.close(fd)
    now = time.time()
    for name in names:
        if not _NEW_LOCK.fullmatch(name):
            continue
        path = out_dir / name
        try:
            if now - path.stat().st_mtime < NEW_LOCK_GRACE:
                continue
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            if _try_lock(fd):
                path.unlink(missing_ok=True)
                removed.append(path)
        finally:
            os.close(fd)
    return removed


class _Session:
    """The lock that marks one live session's temporary names in a directory. On a filesystem
    without ``flock`` there is none (``id`` is empty): temporary names then carry no session
    and are not reclaimed, as before this mechanism."""

    def __init__(self, out_dir: Path) -> None:
        self.id = secrets.token_hex(8)
        self.lock: Path | None = None
        fd, tmp = tempfile.mkstemp(prefix=LOCK_PREFIX, suffix=".new", dir=out_dir)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError:  # ENOLCK, EOPNOTSUPP: no locking here
                os.close(fd)
                Path(tmp).unlink(missing_ok=True)
                self.id, self.fd = "", -1
                return
            self.lock = out_dir / f"{LOCK_PREFIX}{self.id}.lock"
            os.rename(tmp, self.lock)
        except BaseException:
            os.close(fd)
            Path(tmp).unlink(missing_ok=True)
            raise
        self.fd = fd

    def close(self) -> None:
        if self.lock is not None:
            self.lock.unlink(missing_ok=True)
            os.close(self.fd)


class AtomicOutputs:
    """Collects files written under temporary names in ``out_dir``; :meth:`commit` renames them
    all into place, and anything not committed (an error, KeyboardInterrupt) is removed. What a
    killed process could not remove is reclaimed by the next session in ``out_dir``."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = Path(out_dir)
        self._pending: list[tuple[Path, Path]] = []
        self._scratch: list[Path] = []
        self._session: _Session | None = None

    def _make(self, label: str, directory: bool = False) -> Path:
        if self._session is None:
            reclaim_stale(self.out_dir)
            self._session = _Session(self.out_dir)
        sid = f"{self._session.id}." if self._session.id else ""
        prefix, suffix = f".{label}.{sid}", ".part"
        if directory:
            return Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=self.out_dir))
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=self.out_dir)
        os.close(fd)
        return Path(name)

    def temp(self, final_name: str) -> Path:
        """A fresh temporary path in ``out_dir`` that becomes ``final_name`` on commit."""
        tmp = self._make(final_name)
        self._pending.append((tmp, self.out_dir / final_name))
        return tmp

    def scratch(self, label: str) -> Path:
        """A temporary path in ``out_dir`` that is always removed at the end."""
        path = self._make(label)
        self._scratch.append(path)
        return path

    def scratch_dir(self, label: str) -> Path:
        """A temporary directory in ``out_dir`` that is always removed (with its contents)."""
        path = self._make(label, directory=True)
        self._scratch.append(path)
        return path

    def promote(self, scratch: Path, final_name: str) -> None:
        """Turn a scratch file into an output that becomes ``final_name`` on commit."""
        self._scratch.remove(scratch)
        self._pending.append((scratch, self.out_dir / final_name))

    def link(self, source: Path, final_name: str) -> Path:
        """An output that becomes ``final_name`` on commit with the bytes of ``source``: a hard
        link to it where the filesystem allows (outputs are replaced, never changed in
        place), a copy otherwise."""
        tmp = self.temp(final_name)
        tmp.unlink()  # the name stays this session's: nothing else makes or reclaims it
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        return tmp

    @contextlib.contextmanager
    def open(self, final_name: str) -> Iterator[BinaryIO]:
        with self.temp(final_name).open("wb") as fh:
            yield fh

    def commit(self, mode: int = 0o644) -> list[Path]:
        """Rename every pending file into place (in order), each with permissions ``mode``,
        and return the final paths."""
        done = []
        for tmp, final in self._pending:
            os.chmod(tmp, mode)
            os.replace(tmp, final)
            # rename(2) does nothing when both names are links to one file (an output that
            # shares its bytes with the rebuild cache, built again): drop the temp name.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            done.append(final)
        self._pending = []
        self.cleanup()
        return done

    def cleanup(self) -> None:
        """Remove every temporary file that was not committed, then this session's lock."""
        for tmp, _ in self._pending:
            tmp.unlink(missing_ok=True)
        self._pending = []
        for path in self._scratch:
            _remove(path)
        self._scratch = []
        if self._session is not None:
            self._session.close()
            self._session = None

    def __enter__(self) -> AtomicOutputs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


def ordinary_mode() -> int:
    """The permissions an ordinary new file gets here: 0666 less the process's umask.

    Read from ``/proc/self/status`` where it can be (Linux 4.7+): setting the umask to read it
    would briefly change it for every thread of the process (a build's writer threads)."""
    umask: int | None = None
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                umask = int(line.split()[1], 8)
    if umask is None:
        umask = os.umask(0)
        os.umask(umask)
    return 0o666 & ~umask


class OutputWriteError(SystemkitError, OSError):
    """A single-file output that cannot be written (the directory refuses new files, the
    disk is full): an error naming the file, not a traceback."""


def special_file(path: Path) -> bool:
    """Whether ``path`` (links followed) is there and is neither a regular file nor a
    directory: a device (``/dev/null``), a FIFO, a socket, ``/dev/stdout``. Such a node is
    written into; renaming a new file over it would replace the node itself."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def write_file(path: Path, data: bytes) -> Path:
    """Write ``data`` to the file ``path`` whole or not at all, through an
    :class:`AtomicOutputs` session on its directory: a temporary name there, renamed over
    ``path`` with an ordinary file's permissions (:func:`ordinary_mode`); nothing is left on
    an error, and what a killed writer left is reclaimed by the next write in that
    directory. The one way every single-file output (``-o FILE``) is written. A
    :func:`special_file` (``/dev/null``, a pipe) is written into instead. Raises
    :class:`OutputWriteError` when the file cannot be written."""
    path = Path(path)
    try:
        if special_file(path):
            with path.open("wb") as fh:
                fh.write(data)
            return path
        with AtomicOutputs(path.parent) as outputs:
            outputs.temp(path.name).write_bytes(data)
            return outputs.commit(ordinary_mode())[0]
    except OSError as exc:
        raise OutputWriteError(f"cannot write {path}: {exc.strerror or exc}") from None
