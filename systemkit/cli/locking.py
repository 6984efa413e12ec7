"""``--locked`` / ``--no-lock``: how commands that lower a system use its ``systemkit.lock``."""

from __future__ import annotations

import argparse
from pathlib import Path

from systemkit.diagnostics import SystemkitError
from systemkit.spec.lowered import Lowered


def add_lock_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--locked",
        action="store_true",
        help="require systemkit.lock (next to the file) to have every image: fail, naming the "
        "reference, when it lacks one or disagrees",
    )
    parser.add_argument(
        "--no-lock",
        action="store_true",
        help="ignore systemkit.lock: leave image references as written",
    )


def with_lock(lowered: Lowered, files: list[Path], args: argparse.Namespace) -> Lowered:
    """``lowered`` pinned by the lock next to ``files`` (when there is one, unless
    ``--no-lock``); with ``--locked`` a missing lock or entry is an error."""
    from systemkit.images.lock import lock_path, read_lock
    from systemkit.locking import pin

    locked = bool(getattr(args, "locked", False))
    if getattr(args, "no_lock", False):
        if locked:
            raise SystemkitError("--locked and --no-lock contradict each other")
        return lowered
    path = lock_path(files)
    lock = read_lock(path)
    if lock is None:
        if locked:
            raise SystemkitError(
                f"--locked: there is no {path}; write it with `systemkit lock {files[0]}`"
            )
        return lowered
    return pin(lowered, lock, locked=locked, arch=getattr(args, "arch", None))
