"""Project-wide test fixtures: where the repository and ../shared are, and Debian's real
docker-registry on 127.0.0.1 (anonymous and with htpasswd Basic auth), started once per session
for the tests that ask for it and stopped afterwards."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared").resolve()

# Tests import shared helpers as ``tests.support...`` (and ``tests.docker...``, ``tests.run...``):
# make that work under plain ``pytest`` too, not only ``python3 -m pytest`` (which adds the cwd).
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.support.registry import REGISTRY_PASSWORD, REGISTRY_USER, running_registry  # noqa: E402


@pytest.fixture(scope="session")
def repo_dir() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    assert SHARED.is_dir(), f"../shared is missing next to the checkout ({SHARED})"
    return SHARED


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``127.0.0.1:PORT`` of an anonymous docker-registry."""
    with running_registry(tmp_path_factory.mktemp("registry")) as host:
        yield host


@pytest.fixture(scope="session")
def local_registry(registry: str) -> str:
    """The same anonymous registry (the name tests/docker uses)."""
    return registry


@pytest.fixture(scope="session")
def registry_login() -> tuple[str, str]:
    """The user and password ``auth_registry`` accepts."""
    return REGISTRY_USER, REGISTRY_PASSWORD


@pytest.fixture(scope="session")
def auth_registry(
    tmp_path_factory: pytest.TempPathFactory, registry_login: tuple[str, str]
) -> Iterator[str]:
    """``127.0.0.1:PORT`` of a docker-registry that wants Basic auth (``registry_login``)."""
    with running_registry(tmp_path_factory.mktemp("auth-registry"), registry_login) as host:
        yield host
