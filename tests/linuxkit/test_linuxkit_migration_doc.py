"""The examples of docs/linuxkit-migration.md are what the tools produce."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from systemkit.cli import main
from systemkit.linuxkit import codes

DOC = Path(__file__).resolve().parents[2] / "docs" / "linuxkit-migration.md"


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_import_example_is_the_importers_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "linuxkit.yml").write_text(blocks("yaml")[0], encoding="utf-8")
    assert main(["import", "linuxkit.yml"]) == 0
    assert capsys.readouterr().out == blocks("python")[0]


def test_error_example_is_the_readers_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "system.yml").write_text(blocks("yaml")[1], encoding="utf-8")
    assert main(["import", "system.yml"]) == 1
    assert capsys.readouterr().err == blocks("text")[0]


def test_code_table_lists_every_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    for code in codes.ALL_CODES:
        assert f"| {code.code} | {code.severity.value} |" in text
