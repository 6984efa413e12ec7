"""docs/testing.md stays true: its Python examples are copied from the example tests that the
suite runs, and the names it promises exist."""

from __future__ import annotations

import re
from pathlib import Path

import systemkit.testing
from systemkit.testing import Machine

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "testing.md"
EXAMPLE = REPO / "examples" / "web" / "test_web.py"


def test_every_python_block_is_in_the_web_example_tests() -> None:
    blocks = re.findall(r"^```python\n(.*?)^```$", PAGE.read_text(), re.S | re.M)
    assert len(blocks) >= 2
    source = EXAMPLE.read_text()
    for block in blocks:
        assert block in source, f"docs/testing.md has a block not in {EXAMPLE.name}:\n{block}"


def test_the_documented_machine_methods_and_names_exist() -> None:
    text = PAGE.read_text()
    for method in re.findall(r"^\| `(\w+)\(", text, re.M):
        assert callable(getattr(Machine, method, None)), method
    for name in ("VMFactory", "Machine", "spec_view", "CommandFailed", "WaitTimeout"):
        assert f"`{name}" in text or f".{name}" in text
        assert hasattr(systemkit.testing, name)
