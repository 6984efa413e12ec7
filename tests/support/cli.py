"""The systemkit command line as a user runs it: a child process, output captured."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def systemkit_cli(
    *args: str, cwd: Path | None = None, timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m systemkit ARGS`` in ``cwd``; stdout and stderr as text, the exit status
    not checked (the tests assert it)."""
    return subprocess.run(
        [sys.executable, "-m", "systemkit", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
