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

import pytest

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


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("cli-doc")
    shutil.copytree(
        REPO / "examples", work / "examples", ignore=shutil.ignore_patterns("__pycache__")
    )
    return work


def test_the_page_has_sessions() -> None:
    commands = [c for c, _ in sessions()]
    for name in ("lower", "check", "import", "schema"):
        assert any(c.startswith(f"systemkit {name}") for c in commands), name


@pytest.mark.parametrize("index", range(len(sessions())))
def test_console_session_line(index: int, workdir: Path) -> None:
    # Sessions depend on files written by earlier ones: run every earlier command first, once.
    done = workdir / ".done"
    ran = int(done.read_text()) if done.exists() else 0
    for i, (command, expected) in enumerate(sessions()[: index + 1]):
        if i < ran:
            continue
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "HOME": str(workdir / "home"),
            "NO_COLOR": "1",
        }
        script = f'systemkit() {{ "{sys.executable}" -m systemkit "$@"; }}\n{command}\n'
        res = subprocess.run(
            ["bash", "-c", script],
            cwd=workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        done.write_text(str(i + 1))
        actual = res.stdout.splitlines()
        if i == index:
            assert actual == expected, f"$ {command}\n" + "\n".join(actual)
