"""The examples pass ``mypy --strict`` as their users would run it, and typing catches misuse.

Each example is checked on its own, from its own directory on the module path, the way a user
checks a project (its ``system.py`` imports its helpers as top-level modules, e.g. ``lib``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = ("minimal", "sshd", "docker-host", "wireguard", "variants", "composition", "lab")


def mypy(files: list[Path], path: list[Path]) -> tuple[int, str]:
    """Run ``mypy --strict`` on ``files`` with ``path`` as MYPYPATH; errors in systemkit itself
    are not the examples' business (``--follow-imports=silent``)."""
    env = {**os.environ, "MYPYPATH": os.pathsep.join(str(p) for p in path)}
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--follow-imports=silent",
            "--no-error-summary",
            "--show-error-codes",
            *map(str, files),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return res.returncode, res.stdout + res.stderr


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_passes_mypy_strict(example: str) -> None:
    here = REPO / "examples" / example
    code, out = mypy(sorted(here.glob("*.py")), [here, REPO / "stubs"])
    assert code == 0, out


def test_getty_subclass_type_checks_with_defaults_and_overrides(tmp_path: Path) -> None:
    composition = REPO / "examples" / "composition"
    good = tmp_path / "good.py"
    good.write_text(
        textwrap.dedent(
            """\
            from lib import Getty

            from systemkit import Capability, Service, System

            plain = Getty()
            custom = Getty(
                "getty-ops",
                image="linuxkit/getty:other",
                env={"INSECURE": "false"},
                capabilities=[Capability.SYS_ADMIN, "CAP_CHOWN"],
                net="/run/netns/mgmt",
            )
            as_service: Service = custom
            system = System(services=[plain, custom])
            """
        )
    )
    code, out = mypy([good], [tmp_path, composition, REPO / "stubs"])
    assert code == 0, out

    bad = tmp_path / "bad.py"
    bad.write_text(
        textwrap.dedent(
            """\
            from lib import Getty

            a = Getty(envv={"INSECURE": "false"})
            b = Getty(net=3)
            c = Getty(capabilities=["CAP_CHWON"])
            d = Getty("x", "y", "z")
            """
        )
    )
    code, out = mypy([bad], [tmp_path, composition, REPO / "stubs"])
    assert code == 1
    lines = sorted({int(m) for m in re.findall(r"bad\.py:(\d+): error", out)})
    assert lines == [3, 4, 5, 6], out
    assert 'Unexpected keyword argument "envv"' in out
