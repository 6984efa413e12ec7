"""Ten different mistakes on ten lines: one `systemkit check` run reports all ten, each at its
exact line and column, exit status 1, no traceback; for a system.py and for LinuxKit YAML.

The inputs are tests/check/data/ten_mistakes.py.txt (copied to system.py: it must not be part of
the project's own mypy and ruff runs) and tests/check/data/ten_mistakes.yml.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from systemkit.check import LabelSource, check_file
from systemkit.diagnostics import Severity

DATA = Path(__file__).parent / "data"

PY_EXPECTED = [
    (8, 16, "SK110"),  # Onboot("set up", ...): a name with white space
    (14, 55, "SK101"),  # "CAP_NET_ADMN"
    (15, 24, "SK231"),  # binds_add from an undeclared volume "logs"
    (16, 40, "SK107"),  # env entry "MODE" without "="
    (17, 17, "SK230"),  # uid="nobody": no such container
    (18, 22, "SK263"),  # rlimit soft above hard
    (19, 22, "SK260"),  # command ["/usr/sbin/nginx -g daemon off;"]
    (21, 17, "SK201"),  # a second service "web"
    (25, 14, "SK240"),  # /etc/app.conf twice
    (26, 9, "SK103"),  # mode=0o10000, found by the File constructor itself
]

YAML_EXPECTED = [
    (7, 11, "SK110"),  # name: ../escape
    (12, 46, "SK101"),  # CAP_NET_ADMN
    (14, 9, "SK231"),  # logs:/var/log/nginx, no volume "logs"
    (15, 33, "SK107"),  # MODE
    (16, 10, "SK230"),  # uid: nobody
    (17, 15, "SK263"),  # nofile,8192,4096
    (18, 15, "SK260"),  # one command word with spaces
    (19, 10, "SK109"),  # net: hots
    (20, 13, "SK111"),  # tmpfs "run:size=1m"
    (25, 11, "SK240"),  # /etc/app.conf twice
]


@pytest.fixture()
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(DATA / "ten_mistakes.py.txt", tmp_path / "system.py")
    shutil.copy(DATA / "ten_mistakes.yml", tmp_path / "system.yml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _found(paths: list[Path]) -> list[tuple[int, int, str]]:
    diags = check_file(paths, mypy=False, labels=LabelSource(use_store=False))
    assert all(d.location is not None for d in diags)
    assert all(d.severity == Severity.ERROR for d in diags), [d.render() for d in diags]
    return [(d.location.line, d.location.column, d.code) for d in diags if d.location]


def test_system_py_all_ten_at_their_line_and_column(work: Path) -> None:
    assert _found([Path("system.py")]) == PY_EXPECTED


def test_yaml_all_ten_at_their_line_and_column(work: Path) -> None:
    assert _found([Path("system.yml")]) == YAML_EXPECTED


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "systemkit", "check", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("name", "expected"), [("system.py", PY_EXPECTED), ("system.yml", YAML_EXPECTED)]
)
def test_cli_reports_all_ten_exit_1_no_traceback(
    work: Path, name: str, expected: list[tuple[int, int, str]]
) -> None:
    proc = _cli(name, "--no-mypy", "--color", "never", cwd=work)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out
    heads = [line for line in proc.stdout.splitlines() if line.startswith(name + ":")]
    prefixes = [h[: h.index("]") + 1] for h in heads]
    assert prefixes == [f"{name}:{ln}:{col}: error[{code}]" for ln, col, code in expected]
    assert proc.stdout.rstrip().endswith("10 errors, 0 warnings, 0 infos")
