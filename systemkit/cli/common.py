"""Argument helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from systemkit.diagnostics import Severity, SystemkitError, UserError
from systemkit.spec.lowered import Lowered


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """FILE [FILE ...] and --system: a system.py, or LinuxKit YAML files merged in order."""
    parser.add_argument(
        "files",
        metavar="FILE",
        nargs="+",
        type=Path,
        help="a system.py, or one or more LinuxKit .yml files (merged in order, as LinuxKit does)",
    )
    parser.add_argument(
        "--system",
        metavar="NAME",
        help="which system to use when the system.py defines several",
    )


def load_input(files: list[Path], system: str | None) -> Lowered:
    """Load a command's input files; on errors report every error of the file at once.

    Loading stops at the first kind of problem (value errors, say); for a ``system.py`` the
    checks are then run (without mypy) so that the user sees all of its errors in one go.
    """
    from systemkit.loader import load_lowered

    try:
        return load_lowered(files, system)
    except UserError as exc:
        if not (len(files) == 1 and files[0].suffix == ".py"):
            raise
        from systemkit.check import check_file

        found = check_file(files, system=system, mypy=False)
        errors = [d for d in found if d.severity is Severity.ERROR]
        raise UserError(errors or exc.diagnostics) from None


def write_output(data: bytes, out: Path | None) -> None:
    """Write to ``out`` atomically (temp file + rename), or to stdout when ``out`` is None."""
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    out = out.resolve()
    if out.is_dir():
        raise SystemkitError(f"{str(out)!r} is a directory: give a file name to write")
    if not out.parent.is_dir():
        raise SystemkitError(f"directory {str(out.parent)!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix="." + out.name + ".", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as an ordinary file would be, not mkstemp's 0600
        os.replace(tmp, out)
    except BaseException:
        os.unlink(tmp)
        raise
