"""Fixtures for the image tests: Debian's real docker-registry on 127.0.0.1 (anonymous and with
htpasswd Basic auth), started once per session and stopped afterwards."""

from __future__ import annotations

import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

REGISTRY_BIN = "/usr/bin/docker-registry"
USER, PASSWORD = "sktest", "s3cret-pass"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def bcrypt_hash(password: str) -> str:
    """A bcrypt hash for htpasswd, from the C library's crypt(3) (libxcrypt does bcrypt)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt

    hashed: str = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=2**5))
    assert hashed.startswith("$2b$"), "crypt(3) here does not support bcrypt"
    return hashed


def _start_registry(workdir: Path, htpasswd: bool) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    workdir.mkdir(parents=True)
    auth = ""
    if htpasswd:
        (workdir / "htpasswd").write_text(f"{USER}:{bcrypt_hash(PASSWORD)}\n")
        auth = f"auth:\n  htpasswd:\n    realm: sktest\n    path: {workdir / 'htpasswd'}\n"
    config = workdir / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: warn\n"
        f"storage:\n  filesystem:\n    rootdirectory: {workdir / 'storage'}\n"
        "  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n" + auth
    )
    log = (workdir / "registry.log").open("wb")
    proc = subprocess.Popen([REGISTRY_BIN, "serve", str(config)], stdout=log, stderr=log)
    host = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {(workdir / 'registry.log').read_text()}")
        try:
            if requests.get(f"http://{host}/v2/", timeout=1).status_code in (200, 401):
                return proc, host
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("docker-registry did not answer /v2/ within 30 s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``127.0.0.1:PORT`` of an anonymous docker-registry."""
    proc, host = _start_registry(tmp_path_factory.mktemp("registry") / "open", htpasswd=False)
    yield host
    _stop(proc)


@pytest.fixture(scope="session")
def registry_login() -> tuple[str, str]:
    """The user and password ``auth_registry`` accepts."""
    return USER, PASSWORD


@pytest.fixture(scope="session")
def auth_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``127.0.0.1:PORT`` of a docker-registry that wants Basic auth (USER/PASSWORD)."""
    proc, host = _start_registry(tmp_path_factory.mktemp("registry") / "auth", htpasswd=True)
    yield host
    _stop(proc)
