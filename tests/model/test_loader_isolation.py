"""Loading system files: helper modules of one file never leak into another."""

from __future__ import annotations

from pathlib import Path

from systemkit.loader import load


def test_two_system_files_each_get_their_own_helper_module(tmp_path: Path) -> None:
    for name in ("a", "b"):
        d = tmp_path / name
        d.mkdir()
        (d / "lib.py").write_text(f"IMAGE = 'example/{name}:1'\n")
        (d / "system.py").write_text(
            "from systemkit import Service, System\n"
            "import lib\n"
            "system = System(services=[Service('s', lib.IMAGE)])\n"
        )
    a = load(tmp_path / "a" / "system.py")["system"]
    b = load(tmp_path / "b" / "system.py")["system"]
    assert a.services[0].image == "example/a:1"
    assert b.services[0].image == "example/b:1"
