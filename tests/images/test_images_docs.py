"""The `systemkit images` example of docs/images.md is what the command prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from systemkit.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_images_example_in_the_docs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    page = (REPO / "docs" / "images.md").read_text()
    command = "$ systemkit images examples/minimal/system.py --cache empty-store\n"
    shown = page[page.index(command) + len(command) :].split("```", 1)[0]
    monkeypatch.chdir(REPO)
    assert main(["images", "examples/minimal/system.py", "--cache", str(tmp_path / "s")]) == 0
    out, err = capsys.readouterr()
    assert out + err == shown
