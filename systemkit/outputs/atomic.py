"""Outputs that appear whole or not at all: temp names in the destination, renamed at the end."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


class AtomicOutputs:
    """Collects files written under temporary names in ``out_dir``; :meth:`commit` renames them
    all into place, and anything not committed (an error, KeyboardInterrupt) is removed."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = Path(out_dir)
        self._pending: list[tuple[Path, Path]] = []
        self._scratch: list[Path] = []

    def temp(self, final_name: str) -> Path:
        """A fresh temporary path in ``out_dir`` that becomes ``final_name`` on commit."""
        fd, name = tempfile.mkstemp(prefix=f".{final_name}.", suffix=".part", dir=self.out_dir)
        os.close(fd)
        tmp = Path(name)
        self._pending.append((tmp, self.out_dir / final_name))
        return tmp

    def scratch(self, label: str) -> Path:
        """A temporary path in ``out_dir`` that is always removed at the end."""
        fd, name = tempfile.mkstemp(prefix=f".{label}.", suffix=".part", dir=self.out_dir)
        os.close(fd)
        path = Path(name)
        self._scratch.append(path)
        return path

    def promote(self, scratch: Path, final_name: str) -> None:
        """Turn a scratch file into an output that becomes ``final_name`` on commit."""
        self._scratch.remove(scratch)
        self._pending.append((scratch, self.out_dir / final_name))

    @contextlib.contextmanager
    def open(self, final_name: str) -> Iterator[BinaryIO]:
        with self.temp(final_name).open("wb") as fh:
            yield fh

    def commit(self) -> list[Path]:
        """Rename every pending file into place (in order) and return the final paths."""
        done = []
        for tmp, final in self._pending:
            os.chmod(tmp, 0o644)
            os.replace(tmp, final)
            done.append(final)
        self._pending = []
        self.cleanup()
        return done

    def cleanup(self) -> None:
        """Remove every temporary file that was not committed."""
        for tmp, _ in self._pending:
            tmp.unlink(missing_ok=True)
        self._pending = []
        for path in self._scratch:
            path.unlink(missing_ok=True)
        self._scratch = []

    def __enter__(self) -> AtomicOutputs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()
