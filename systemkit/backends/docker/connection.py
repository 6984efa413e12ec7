"""A connection to the engine: the API version negotiated, a one-line reason when it does not
answer, ``ssh://`` through :class:`~systemkit.backends.docker.tunnel.SshTunnel`.
"""

from __future__ import annotations

import os

import attrs
import docker
import docker.errors
import requests

from systemkit.backends.docker.endpoint import EngineEndpoint, engine_endpoint
from systemkit.backends.docker.errors import ENGINE_UNREACHABLE, engine_error
from systemkit.backends.docker.tunnel import SshTunnel

_TIMEOUT = 300
_MIN_API = "1.24"
"""The oldest API docker-py speaks; only used to ask the engine for its version."""


def one_line_reason(exc: BaseException) -> str:
    """The useful part of a connection error, on one line."""
    text = str(exc)
    for marker in ("Error while fetching server API version: ", "Connection aborted."):
        text = text.replace(marker, "")
    lowered = text.lower()
    if "no such file or directory" in lowered or "filenotfounderror" in lowered:
        return "its socket does not exist (is dockerd running?)"
    if "connection refused" in lowered:
        return "connection refused (is dockerd running?)"
    if "permission denied" in lowered:
        return "permission denied on its socket (are you in the 'docker' group?)"
    if "certificate verify failed" in lowered:
        return "TLS: the engine's certificate does not verify against ca.pem (DOCKER_CERT_PATH)"
    if "certificate required" in lowered or "bad certificate" in lowered:
        return "TLS: the engine wants a client certificate (cert.pem and key.pem)"
    if "http request to an https server" in lowered:
        return "the engine speaks TLS: set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH"
    if "remotedisconnected" in lowered or "connection reset" in lowered:
        return "the engine closed the connection (plain HTTP to a TLS port, or TLS settings?)"
    return " ".join(text.strip(" ()'\"").split())


@attrs.define
class Engine:
    """A connection to a Docker Engine: ``client`` for the API; close it when done (it is a
    context manager)."""

    client: docker.APIClient
    endpoint: EngineEndpoint
    _tunnel: SshTunnel | None = None

    def close(self) -> None:
        self.client.close()
        if self._tunnel is not None:
            self._tunnel.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _api_client(ep: EngineEndpoint, base_url: str, version: str, timeout: int) -> docker.APIClient:
    client = docker.APIClient(
        base_url=base_url,
        version=version,
        timeout=timeout,
        tls=ep.tls if ep.tls is not None else False,
    )
    if ep.tls is not None:
        # requests would let $REQUESTS_CA_BUNDLE / $CURL_CA_BUNDLE replace the engine's CA (and
        # turn verify=False back on); the docker CLI reads neither. Proxies still apply.
        client.trust_env = False
        client.proxies = requests.utils.get_environ_proxies(client.base_url)
    return client


def connect(endpoint: EngineEndpoint | None = None, timeout: int = _TIMEOUT) -> Engine:
    """Connect to the engine (``endpoint``, default: the one the docker CLI would use) and check
    that it answers; a one-line error if it does not. The API version is the engine's unless
    ``DOCKER_API_VERSION`` pins it."""
    ep = endpoint or engine_endpoint()
    tunnel = None
    try:
        base_url = ep.host
        if ep.host.startswith("ssh://"):
            tunnel = SshTunnel(ep.host)
            base_url = tunnel.url
        version = os.environ.get("DOCKER_API_VERSION")
        if not version:
            probe = _api_client(ep, base_url, _MIN_API, timeout)
            try:
                version = str(probe.version(api_version=False)["ApiVersion"])
            finally:
                probe.close()
        client = _api_client(ep, base_url, version, timeout)
        client.ping()
    except (docker.errors.DockerException, OSError, ValueError, KeyError) as exc:
        reason = (tunnel.failure() if tunnel is not None else None) or one_line_reason(exc)
        if tunnel is not None:
            tunnel.close()
        raise engine_error(
            ENGINE_UNREACHABLE, f"cannot reach the Docker Engine at {ep.describe()}: {reason}", "$"
        ) from None
    return Engine(client, ep, tunnel)
