"""Argument helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path


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


def write_output(data: bytes, out: Path | None) -> None:
    """Write to ``out`` atomically (temp file + rename), or to stdout when ``out`` is None."""
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    out = out.resolve()
    fd, tmp = tempfile.mkstemp(prefix="." + out.name + ".", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, out)
    except BaseException:
        os.unlink(tmp)
        raise
