"""``systemkit build --backend docker``: a missing image or a stopped engine is one located line
on stderr and exit code 1 (no traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest

from systemkit.backends import available_backends
from systemkit.cli import main
from tests.docker.dockerimages import INIT, KERNEL, TOOLS

pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(
        "docker" not in available_backends(),
        reason="the 'docker' entry point is not registered (pyproject.toml, then reinstall)",
    ),
]

SYSTEM = """\
from systemkit import Kernel, Onboot, System

system = System(
    kernel=Kernel("{kernel}"),
    init=["{init}"],
    onboot=[
        Onboot("ok", "{tools}"),
        Onboot("gone", "{missing}"),
    ],
)
"""
MISSING_LINE = 8


def _write(tmp_path: Path, missing: str) -> Path:
    path = tmp_path / "system.py"
    path.write_text(SYSTEM.format(kernel=KERNEL, init=INIT, tools=TOOLS, missing=missing))
    return path


def _build(path: Path, out: Path) -> int:
    out.mkdir(exist_ok=True)
    return main(["build", str(path), "--backend", "docker", "--format", "tar", "--dir", str(out)])


def test_missing_image(
    engine_images: list[str],
    local_registry: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    path = _write(tmp_path, f"{local_registry}/skdocker/missing:1")
    assert _build(path, tmp_path / "out") == 1
    err = [line for line in capsys.readouterr().err.splitlines() if "error[" in line]
    assert len(err) == 1, err
    assert err[0].startswith(f"system.py:{MISSING_LINE}:"), err[0]
    assert "error[SK603]" in err[0] and "skdocker/missing:1" in err[0]
    assert list((tmp_path / "out").iterdir()) == []


def test_stopped_engine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/stopped.sock")
    path = _write(tmp_path, "example.org/never/used:1")
    assert _build(path, tmp_path / "out") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("system.py:"), err[0]
    assert "error[SK601]" in err[0] and "is dockerd running?" in err[0]
