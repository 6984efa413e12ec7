"""CLI niceties: ``check --ignore SKnnn`` (repeatable) and ``--min-severity``, paths shown
relative to the current directory by every finding, and no traceback when the reader of the
output goes away (``systemkit diff ... | head``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import systemkit_cli

REPO = Path(__file__).resolve().parents[2]

SYSTEM = """\
from systemkit import File, Service, System

system = System(
    services=[Service("app", "alpine:3.20", capabilities=["CAP_FLY"])],
    files=[File("/etc/app.conf", contents="x")],
)
"""


@pytest.fixture()
def work(tmp_path: Path) -> Path:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "system.py").write_text(SYSTEM, encoding="utf-8")
    return tmp_path


def _heads(out: str) -> list[str]:
    return [ln for ln in out.splitlines() if "[SK" in ln and not ln.startswith(" ")]


def test_ignore_and_min_severity(work: Path) -> None:
    every = _heads(systemkit_cli("check", "sub/system.py", "--no-mypy", cwd=work).stdout)
    codes = sorted({h.split("[")[1][:5] for h in every})
    assert codes == ["SK101", "SK243", "SK280"], every  # error, warning, info
    proc = systemkit_cli(
        "check", "sub/system.py", "--no-mypy", "--ignore", "SK280", "--ignore", "sk101", cwd=work
    )
    assert [h.split("[")[1][:5] for h in _heads(proc.stdout)] == ["SK243"]
    assert proc.returncode == 0  # the ignored error does not count
    proc = systemkit_cli(
        "check", "sub/system.py", "--no-mypy", "--min-severity", "warning", cwd=work
    )
    assert sorted(h.split("[")[1][:5] for h in _heads(proc.stdout)) == ["SK101", "SK243"]
    assert proc.returncode == 1
    proc = systemkit_cli("check", "sub/system.py", "--ignore", "SK99", cwd=work)
    assert proc.returncode == 2 and "is no systemkit code" in proc.stderr


def test_every_finding_names_files_relative_to_the_current_directory(work: Path) -> None:
    (work / "sub" / "broken.py").write_text(
        "from systemkit import System\nraise RuntimeError('boom')\nsystem = System()\n"
    )
    (work / "sub" / "a.yml").write_text("services:\n  - {name: a, image: alpine:3.20, net: hots}\n")
    cases = [
        ("check", "sub/system.py"),  # mypy, rules and constructors
        ("check", "sub/broken.py", "--no-mypy"),  # an exception in the user's file
        ("check", "sub/a.yml"),  # the YAML reader and rules
        ("lower", "sub/system.py"),
    ]
    for args in cases:
        proc = systemkit_cli(*args, cwd=work / "sub" / "..")
        lines = _heads(proc.stdout + proc.stderr)
        assert lines, (args, proc.stdout, proc.stderr)
        for line in lines:
            assert line.startswith("sub/"), (args, line)
    # from another directory: the same files, relative to there
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    proc = systemkit_cli("check", "../sub/broken.py", "--no-mypy", cwd=elsewhere)
    assert _heads(proc.stdout)[0].startswith("../sub/broken.py:2:"), proc.stdout


@pytest.mark.parametrize(
    "args",
    [
        (
            "diff",
            "examples/variants/system.py",
            "--system",
            "acme-aws",
            "--system-b",
            "globex-qemu",
        ),
        ("lower", "examples/variants/system.py", "--system", "acme-aws"),
        ("check", "examples/sshd/system.py", "--no-mypy"),
    ],
)
def test_a_closed_output_pipe_is_no_traceback(args: tuple[str, ...]) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "systemkit", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `| head` that has read all it wants before we write
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 141
    assert "Traceback" not in err and "Exception ignored" not in err, err
