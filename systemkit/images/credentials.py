"""Registry credentials from the Docker config file (``auths`` entries only).

``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``. Credential helpers
(``credsStore``/``credHelpers``) are not run.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from pathlib import Path

from systemkit.images.errors import ImageError

_DOCKER_HUB = {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}


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
    auths = doc.get("auths") if isinstance(doc, dict) else None
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
