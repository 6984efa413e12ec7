"""Finding the Docker Engine as the ``docker`` CLI does: ``DOCKER_HOST`` (with the TLS
variables), ``DOCKER_CONTEXT``, the config's ``currentContext``, the default socket.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import attrs
import docker
import docker.errors
from docker.context import ContextAPI
from docker.tls import TLSConfig
from docker.utils.config import find_config_file

from systemkit.backends.docker.errors import ENGINE_UNREACHABLE, engine_error

DEFAULT_HOST = "unix:///var/run/docker.sock"


@attrs.frozen
class EngineEndpoint:
    """Where the Docker Engine is and how to talk to it."""

    host: str
    """``unix://...``, ``tcp://host:port``, ``ssh://user@host`` ..."""
    tls: TLSConfig | None = attrs.field(default=None, eq=False)
    origin: str = "default"
    """Where ``host`` came from: ``DOCKER_HOST``, ``docker context 'NAME'`` or ``default``."""

    def describe(self) -> str:
        return f"{self.host} ({self.origin})"


def _config_dir(environ: Mapping[str, str]) -> Path:
    explicit = environ.get("DOCKER_CONFIG")
    return Path(explicit) if explicit else Path.home() / ".docker"


def _current_context(environ: Mapping[str, str]) -> str:
    """``DOCKER_CONTEXT``, else ``currentContext`` of the config file, else ``default``."""
    name = environ.get("DOCKER_CONTEXT")
    if name:
        return name
    path = _config_dir(environ) / "config.json"
    if "DOCKER_CONFIG" not in environ:
        found = find_config_file()
        path = Path(found) if found else path
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return "default"
    current = data.get("currentContext") if isinstance(data, dict) else None
    return current if isinstance(current, str) and current else "default"


def _env_tls(environ: Mapping[str, str]) -> TLSConfig | None:
    """TLS settings from the environment, as the docker CLI reads them.

    ``DOCKER_TLS_VERIFY`` (non-empty) turns on TLS with server verification against
    ``ca.pem``; ``DOCKER_TLS`` (non-empty) turns on TLS without it; client certificates
    ``cert.pem``/``key.pem`` are used when present. Files live in ``DOCKER_CERT_PATH``, else
    in the Docker config directory.
    """
    verify = bool(environ.get("DOCKER_TLS_VERIFY"))
    if not verify and not environ.get("DOCKER_TLS"):
        return None
    cert_dir = Path(environ.get("DOCKER_CERT_PATH") or _config_dir(environ))
    cert, key, ca = cert_dir / "cert.pem", cert_dir / "key.pem", cert_dir / "ca.pem"
    client_cert = (str(cert), str(key)) if cert.is_file() and key.is_file() else None
    if verify:
        return TLSConfig(
            client_cert=client_cert, ca_cert=str(ca) if ca.is_file() else None, verify=True
        )
    return TLSConfig(client_cert=client_cert, verify=False)


def engine_endpoint(environ: Mapping[str, str] | None = None) -> EngineEndpoint:
    """The engine the ``docker`` CLI would talk to, given ``environ`` (default: os.environ)."""
    env = os.environ if environ is None else environ
    host = env.get("DOCKER_HOST")
    if host:
        return EngineEndpoint(host, _env_tls(env), "DOCKER_HOST")
    name = _current_context(env)
    if name != "default":
        old = os.environ.get("DOCKER_CONFIG")
        try:
            if "DOCKER_CONFIG" in env:
                os.environ["DOCKER_CONFIG"] = env["DOCKER_CONFIG"]
            ctx = ContextAPI.get_context(name)
        except docker.errors.DockerException as exc:
            raise engine_error(
                ENGINE_UNREACHABLE, f"cannot read docker context {name!r}: {exc}", "$"
            ) from None
        finally:
            if old is None:
                os.environ.pop("DOCKER_CONFIG", None)
            else:
                os.environ["DOCKER_CONFIG"] = old
        if ctx is None:
            raise engine_error(
                ENGINE_UNREACHABLE,
                f"docker context {name!r} does not exist (see 'docker context ls')",
                "$",
            )
        if ctx.Host:
            return EngineEndpoint(ctx.Host, ctx.TLSConfig, f"docker context {name!r}")
    return EngineEndpoint(DEFAULT_HOST, _env_tls(env), "default")
