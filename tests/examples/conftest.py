"""Fixtures for the example tests: a pinned HOME, and loading examples in isolation.

The constants are repeated in the test modules that need them at import time (parametrize);
test modules do not import each other or this file.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from systemkit import System
from systemkit.loader import load

REPO = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = REPO / "examples"
NO_HOME = REPO / "tests" / "examples" / "no-home"
"""A home directory that does not exist: ``~/...`` sources resolve to the same path everywhere."""


@pytest.fixture(autouse=True)
def pinned_home(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lowering expands ``~``: pin HOME so that results do not depend on who runs the tests."""
    monkeypatch.setenv("HOME", str(NO_HOME))


@pytest.fixture
def load_example() -> Iterator[Callable[[str], dict[str, System]]]:
    """Load ``examples/<name>/system.py``, forgetting its helper modules afterwards."""
    before = set(sys.modules)

    def _load(name: str) -> dict[str, System]:
        return load(EXAMPLES_DIR / name / "system.py")

    yield _load
    for mod in set(sys.modules) - before:
        module = sys.modules[mod]
        if str(EXAMPLES_DIR) in str(getattr(module, "__file__", "") or ""):
            del sys.modules[mod]
