"""Docker credential helpers (``credsStore``, ``credHelpers``) are run for registry pulls.

Real parts: Debian's docker-registry on 127.0.0.1 with htpasswd Basic auth, and real helper
programs: ``docker-credential-NAME`` scripts on ``PATH`` that speak Docker's helper protocol
(``get``, the server address on stdin, ``{"ServerURL", "Username", "Secret"}`` JSON on stdout,
exit 1 with "credentials not found in native keychain" when they have none).
"""

from __future__ import annotations

import gzip
import json
import os
import sys
from pathlib import Path

import pytest

from systemkit.images.credentials import credentials_for
from systemkit.images.errors import ImageError
from systemkit.images.registry import RetryPolicy, pull
from systemkit.images.store import ImageStore
from tests.hardening import archives as a

HELPER = """\
#!{python}
import json, sys
server = sys.stdin.read().strip()
with open({log!r}, "a") as log:
    log.write(sys.argv[1] + " " + server + "\\n")
known = {known!r}
if sys.argv[1] != "get" or server not in known:
    print("credentials not found in native keychain")
    sys.exit(1)
user, secret = known[server]
print(json.dumps({{"ServerURL": server, "Username": user, "Secret": secret}}))
"""

FAST = RetryPolicy(attempts=1)


def _helper(bin_dir: Path, name: str, known: dict[str, tuple[str, str]], log: Path) -> None:
    path = bin_dir / f"docker-credential-{name}"
    path.write_text(HELPER.format(python=sys.executable, log=str(log), known=known))
    path.chmod(0o755)


@pytest.fixture
def helpers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory on PATH for helper programs; DOCKER_CONFIG points next to it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    (tmp_path / "docker").mkdir()
    return bin_dir


def _config(tmp_path: Path, doc: dict[str, object]) -> None:
    (tmp_path / "docker" / "config.json").write_text(json.dumps(doc))


@pytest.fixture
def private(auth_registry: str, registry_login: tuple[str, str]) -> str:
    """A private image on the auth registry; its reference."""
    manifest, blobs = a.good_manifest([gzip.compress(a.tar_layer({"s": b"secret"}), mtime=0)])
    a.push(auth_registry, "hardening/private", "1", manifest, blobs, auth=registry_login)
    return f"{auth_registry}/hardening/private:1"


def test_creds_store_helper_is_used_for_a_pull(
    tmp_path: Path, helpers: Path, private: str, auth_registry: str, registry_login: tuple[str, str]
) -> None:
    log = tmp_path / "helper.log"
    _helper(helpers, "sktest", {auth_registry: registry_login}, log)
    _config(tmp_path, {"credsStore": "sktest", "auths": {auth_registry: {}}})
    store = ImageStore(tmp_path / "store")
    assert pull(store, private, "amd64", retry=FAST).ref == f"{auth_registry}/hardening/private:1"
    assert f"get {auth_registry}" in log.read_text().splitlines()


def test_cred_helpers_entry_wins_over_creds_store(
    tmp_path: Path, helpers: Path, private: str, auth_registry: str, registry_login: tuple[str, str]
) -> None:
    log = tmp_path / "helper.log"
    user, _ = registry_login
    _helper(helpers, "wrong", {auth_registry: (user, "not-the-password")}, log)
    _helper(helpers, "right", {auth_registry: registry_login}, log)
    _config(tmp_path, {"credsStore": "wrong", "credHelpers": {auth_registry: "right"}})
    store = ImageStore(tmp_path / "store")
    pull(store, private, "amd64", retry=FAST)
    assert [line.split()[0] for line in log.read_text().splitlines()] == ["get"]
    # and with only the wrong default store, the registry refuses
    _config(tmp_path, {"credsStore": "wrong"})
    with pytest.raises(ImageError, match="denied"):
        pull(ImageStore(tmp_path / "store2"), private, "amd64", retry=FAST)


def test_a_helper_without_the_credentials_falls_back_to_auths(
    tmp_path: Path, helpers: Path, private: str, auth_registry: str, registry_login: tuple[str, str]
) -> None:
    import base64

    log = tmp_path / "helper.log"
    _helper(helpers, "empty", {}, log)
    basic = base64.b64encode(":".join(registry_login).encode()).decode()
    _config(tmp_path, {"credsStore": "empty", "auths": {auth_registry: {"auth": basic}}})
    pull(ImageStore(tmp_path / "store"), private, "amd64", retry=FAST)
    # asked under the host, then https://host, as Docker stores them
    assert log.read_text().split() == ["get", auth_registry, "get", f"https://{auth_registry}"]


def test_a_missing_helper_is_a_clear_error(tmp_path: Path, helpers: Path) -> None:
    _config(tmp_path, {"credsStore": "nosuchhelper"})
    with pytest.raises(ImageError) as info:
        credentials_for("127.0.0.1:5000")
    message = str(info.value)
    assert "docker-credential-nosuchhelper (credsStore in" in message
    assert "not installed or not available in PATH" in message


def test_docker_hub_is_asked_under_its_v1_url(tmp_path: Path, helpers: Path) -> None:
    log = tmp_path / "helper.log"
    _helper(helpers, "hub", {"https://index.docker.io/v1/": ("hubuser", "hubpass")}, log)
    _config(tmp_path, {"credHelpers": {"docker.io": "hub"}})
    assert credentials_for("docker.io") == ("hubuser", "hubpass")
    assert credentials_for("registry-1.docker.io") == ("hubuser", "hubpass")
