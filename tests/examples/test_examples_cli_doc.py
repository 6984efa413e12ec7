"""docs/cli.md shows real sessions: every ```console block is run and its output compared.

Each ``$ command`` line runs in bash, in a scratch directory holding a copy of ``examples/``;
the lines after it, up to the next ``$`` line, are its exact output (standard output and
standard error, as a terminal shows them). ```sh blocks (builds, boots, pulls) are
illustrations and are not run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLI_MD = REPO / "docs" / "cli.md"
_BLOCK = re.compile(r"^```console\n(.*?)^```$", re.S | re.M)


def sessions() -> list[tuple[str, list[str]]]:
    """(command, expected output lines) for every ``$`` line of every console block."""
    out: list[tuple[str, list[str]]] = []
    for block in _BLOCK.findall(CLI_MD.read_text()):
        for line in block.splitlines():
            if line.startswith("$ "):
                out.append((line[2:], []))
            else:
                assert out, f"output before any command in docs/cli.md: {line!r}"
                out[-1][1].append(line)
    return out


def test_the_page_has_sessions() -> None:
    commands = [c for c, _ in sessions()]
    for name in ("lower", "check", "import", "schema"):
        assert any(c.startswith(f"systemkit {name}") for c in commands), name


def test_console_sessions_print_what_the_page_shows(tmp_path: Path) -> None:
    """All sessions, in page order (later ones read files that earlier ones wrote)."""
    shutil.copytree(
        REPO / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns("__pycache__")
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "HOME": str(tmp_path / "home"), "NO_COLOR": "1"}
    wrong = []
    for command, expected in sessions():
        script = f'systemkit() {{ "{sys.executable}" -m systemkit "$@"; }}\n{command}\n'
        res = subprocess.run(
            ["bash", "-c", script],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        if res.stdout.splitlines() != expected:
            wrong.append(
                f"$ {command}\n--- the page shows:\n"
                + "\n".join(expected)
                + "\n--- the command printed:\n"
                + res.stdout
            )
    assert not wrong, "\n\n".join(wrong)
