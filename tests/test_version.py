"""``__version__`` is written once (pyproject.toml) and read from the installed metadata in one
module; nothing reads it back from the package face."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pytest

import systemkit
from systemkit.cli import main
from systemkit.version import __version__

REPO = Path(__file__).resolve().parents[1]


def test_version_comes_from_the_distribution_metadata() -> None:
    assert __version__ == importlib.metadata.version("systemkit") == systemkit.__version__
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert f'\nversion = "{__version__}"\n' in pyproject


def test_no_module_reads_the_version_back_from_the_package_face() -> None:
    for path in (REPO / "systemkit").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"from systemkit import .*__version__", text), path
        if path.name != "version.py":
            assert not re.search(r"__version__\s*=", text), f"{path} writes a version"


def test_cli_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"systemkit {__version__}\n"
