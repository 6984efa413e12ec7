"""Registry credentials from the Docker config file, as the Docker CLI finds them.

``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``. A registry listed in
``credHelpers`` asks that helper; otherwise ``credsStore`` (the default helper: Docker Desktop's
``desktop``, ``pass``, ``secretservice``, ``ecr-login`` ...) is asked; credentials the helper does
not have, or no helper at all, fall back to the ``auths`` entries. Helpers are the
``docker-credential-NAME`` programs on ``PATH``, run through docker-py's
:class:`docker.credentials.Store` (the protocol: ``get`` with the server address on stdin,
JSON ``{"Username", "Secret"}`` on stdout). Identity tokens (username ``<token>``) are not
supported and count as no credentials.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import warnings
from pathlib import Path
from typing import Any

from systemkit.images.errors import ImageError

_DOCKER_HUB = {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
_HUB_SERVER = "https://index.docker.io/v1/"
"""The server address Docker keeps Docker Hub's credentials under."""
_TOKEN_USER = "<token>"


def docker_config_path() -> Path:
    base = os.environ.get("DOCKER_CONFIG")
    return (Path(base) if base else Path.home() / ".docker") / "config.json"


def _host_of(key: str) -> str:
    """``https://index.docker.io/v1/`` -> ``index.docker.io``; ``host:5000`` stays."""
    key = key.split("://", 1)[-1]
    return key.split("/", 1)[0].lower()


def _same_registry(key: str, registry: str) -> bool:
    host, registry = _host_of(key), registry.lower()
    return host == registry or (host in _DOCKER_HUB and registry in _DOCKER_HUB)


def credentials_for(registry: str, config: Path | None = None) -> tuple[str, str] | None:
    """``(user, password)`` for a registry host (``host[:port]``), None when none is stored."""
    path = config or docker_config_path()
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ImageError(f"cannot read Docker config {path}: {exc}") from None
    if not isinstance(doc, dict):
        return None
    helper = _helper_for(doc, registry)
    if helper is not None:
        found = _from_helper(helper, registry, path)
        if found is not None:
            return found
    auths = doc.get("auths")
    if not isinstance(auths, dict):
        return None
    for key, entry in auths.items():
        if not isinstance(entry, dict) or not _same_registry(key, registry):
            continue
        if entry.get("auth"):
            try:
                user, sep, password = base64.b64decode(entry["auth"]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raise ImageError(
                    f"{path}: the auth entry for {key} is not base64 user:password"
                ) from None
            if sep:
                return user, password
        if entry.get("username") and entry.get("password"):
            return str(entry["username"]), str(entry["password"])
    return None


def _helper_for(doc: dict[str, Any], registry: str) -> tuple[str, str] | None:
    """``(helper name, config key that chose it)`` for a registry, None without a helper."""
    helpers = doc.get("credHelpers")
    if isinstance(helpers, dict):
        for key, name in helpers.items():
            if isinstance(name, str) and name and _same_registry(key, registry):
                return name, f"credHelpers[{key!r}]"
    store = doc.get("credsStore")
    if isinstance(store, str) and store:
        return store, "credsStore"
    return None


def _from_helper(helper: tuple[str, str], registry: str, config: Path) -> tuple[str, str] | None:
    """Ask a credential helper (docker-py's :class:`~docker.credentials.Store`) for a
    registry's credentials: under the addresses Docker stores them (Docker Hub's URL; else the
    host, then ``https://host``). None when the helper has none."""
    from docker.credentials import CredentialsNotFound, Store, StoreError

    name, chosen_by = helper
    servers = (
        [_HUB_SERVER] if registry.lower() in _DOCKER_HUB else [registry, f"https://{registry}"]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Store warns when the program is missing; we raise
        store = Store(name)
    for server in servers:
        try:
            answer = store.get(server)
        except CredentialsNotFound:
            continue
        except StoreError as exc:
            raise ImageError(
                f"the Docker credential helper docker-credential-{name} ({chosen_by} in "
                f"{config}) failed for {registry}: {exc}"
            ) from None
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ImageError(
                f"the Docker credential helper docker-credential-{name} ({chosen_by} in "
                f'{config}) gave an answer that is not {{"Username", "Secret"}} JSON'
            ) from None
        user, secret = answer.get("Username"), answer.get("Secret")
        if not isinstance(user, str) or not isinstance(secret, str) or user == _TOKEN_USER:
            continue
        return user, secret
    return None
