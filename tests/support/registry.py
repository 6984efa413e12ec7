"""Debian's real docker-registry on 127.0.0.1, anonymous or with htpasswd Basic auth.

The session fixtures of tests/conftest.py (``registry``, ``auth_registry``, ...) start it with
``running_registry``; tests that need the credentials of ``auth_registry`` take the
``registry_login`` fixture or import ``REGISTRY_USER`` / ``REGISTRY_PASSWORD``.
"""

from __future__ import annotations

import subprocess
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.support.procs import free_port, stop_process

REGISTRY_BIN = "/usr/bin/docker-registry"
REGISTRY_USER, REGISTRY_PASSWORD = "sktest", "s3cret-pass"
WAIT = 30.0
"""Seconds the registry may take to answer ``/v2/``."""


def bcrypt_hash(password: str) -> str:
    """A bcrypt hash for htpasswd, from the C library's crypt(3) (libxcrypt does bcrypt)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt

    hashed: str = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=2**5))
    assert hashed.startswith("$2b$"), "crypt(3) here does not support bcrypt"
    return hashed


@contextmanager
def running_registry(workdir: Path, login: tuple[str, str] | None = None) -> Iterator[str]:
    """Start docker-registry with its config, storage and log in ``workdir``, wait until it
    answers ``/v2/``, yield ``127.0.0.1:PORT``, stop it afterwards. With ``login`` (user,
    password) it wants htpasswd Basic auth."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    auth = ""
    if login is not None:
        user, password = login
        (workdir / "htpasswd").write_text(f"{user}:{bcrypt_hash(password)}\n")
        auth = f"auth:\n  htpasswd:\n    realm: sktest\n    path: {workdir / 'htpasswd'}\n"
    config = workdir / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: warn\n"
        f"storage:\n  filesystem:\n    rootdirectory: {workdir / 'storage'}\n"
        "  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n" + auth
    )
    log_path = workdir / "registry.log"
    host = f"127.0.0.1:{port}"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([REGISTRY_BIN, "serve", str(config)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + WAIT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"docker-registry exited: {log_path.read_text()}")
            try:
                if requests.get(f"http://{host}/v2/", timeout=1).status_code in (200, 401):
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"docker-registry did not answer /v2/ within {WAIT:.0f} s")
            time.sleep(0.05)
        yield host
    finally:
        stop_process(proc)
