"""Fixtures for the plugin's tests: the hello system's images (made from Debian packages, as in
tests/run) in the store the ``systemkit_vm`` fixtures build from."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.run.conftest import hello_images, hello_store

__all__ = ["hello_images", "hello_store"]


@pytest.fixture(scope="session")
def systemkit_cache_dir(hello_store: Path) -> Path:
    return hello_store
