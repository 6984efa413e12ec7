"""Pull images from OCI registries (Distribution API v2) into the store.

* HTTPS, or plain HTTP for loopback registries (127.0.0.0/8, ``localhost``, ``::1``) and for
  hosts listed as insecure (``insecure=`` or ``$SYSTEMKIT_INSECURE_REGISTRIES``, comma separated).
* Anonymous access, bearer tokens from the ``WWW-Authenticate`` challenge (as Docker Hub does
  it) and Basic auth; credentials from the Docker config file (:mod:`.credentials`).
* OCI and Docker v2 manifests and indexes. From an index the ``linux/<arch>`` manifest is
  pulled (only that platform is stored, as LinuxKit does). A single-arch image whose config
  names another architecture is refused with :class:`PlatformMismatch`: LinuxKit silently
  uses it, which builds a system that cannot run, so systemkit deliberately does not.
* 5xx/429 answers, timeouts and dropped connections are retried with exponential backoff
  (bounded). A host name that does not resolve and a refused connection are reported at once:
  retrying them within seconds does not help (:func:`is_permanent`).
  Blobs stream into the store and are verified; a wrong digest is refused at once (nothing is
  stored), a connection dropped mid-blob is retried, and a name is added only at the end.

``progress`` receives :class:`~systemkit.progress.ProgressEvent` s of phase ``pull``: a ``step``
when the pull starts (subject: the ref), ``advance`` events as a manifest or blob arrives
(subject: its digest, bytes), a ``done`` event per blob fetched (``  fetched DIGEST (SIZE)``),
a ``step`` per blob already in the store (``  present DIGEST``) and a ``done`` event at the end
(subject: the ref, no line).
"""

from __future__ import annotations

import base64
import errno
import hashlib
import io
import ipaddress
import os
import re
import time
from collections.abc import Iterable
from typing import Any

import attrs
import requests
import urllib3.exceptions

from systemkit.images import documents
from systemkit.images import mediatypes as mt
from systemkit.images.credentials import credentials_for
from systemkit.images.errors import DigestMismatch, ImageError, ImageNotFound
from systemkit.images.ref import ImageRef
from systemkit.images.store import (
    ImageStore,
    ResolvedImage,
    check_config_platform,
    check_digest,
    normalise_ref,
    select_platform,
)
from systemkit.limits import MAX_MANIFEST_BYTES
from systemkit.progress import Progress, ProgressEvent, format_size

MANIFEST_ACCEPT = ", ".join([mt.OCI_INDEX, mt.OCI_MANIFEST, mt.DOCKER_LIST, mt.DOCKER_MANIFEST])
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_CHUNK = 1 << 16
_TRANSIENT: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    urllib3.exceptions.HTTPError,
    ConnectionError,
)


@attrs.frozen
class RetryPolicy:
    """How often and how patiently to retry: ``attempts`` tries, delays doubling from
    ``base_delay`` up to ``max_delay`` seconds."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0
    timeout: float = 60.0
    """Seconds to wait for a connection or for the next bytes."""

    def delay(self, attempt: int) -> float:
        return float(min(self.max_delay, self.base_delay * (2**attempt)))


def insecure_hosts(extra: Iterable[str] = ()) -> frozenset[str]:
    """Registries spoken to over plain HTTP: ``extra`` plus ``$SYSTEMKIT_INSECURE_REGISTRIES``."""
    env = os.environ.get("SYSTEMKIT_INSECURE_REGISTRIES", "")
    return frozenset(h.strip().lower() for h in [*extra, *env.split(",")] if h.strip())


def is_loopback(registry: str) -> bool:
    host = registry.lower()
    if host.startswith("["):
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _describe(exc: BaseException) -> str:
    """A short reason for a network error (``connection refused``, not a urllib3 repr)."""
    text = str(exc)
    found = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if found:
        return found.group(1).strip()
    return f"{type(exc).__name__}: {text[:200]}"


def _sleep(seconds: float) -> None:
    """The wait before a retry (one place, so tests can see whether anything was retried)."""
    time.sleep(seconds)


def is_permanent(exc: BaseException) -> bool:
    """Whether a network error cannot succeed on an immediate retry: the host name does not
    resolve, or nothing listens there (connection refused)."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        err = todo.pop()
        if id(err) in seen:
            continue
        seen.add(id(err))
        if isinstance(err, (urllib3.exceptions.NameResolutionError, ConnectionRefusedError)):
            return True
        if isinstance(err, OSError) and err.errno == errno.ECONNREFUSED:
            return True
        nested = [getattr(err, "reason", None), err.__cause__, err.__context__, *err.args]
        todo.extend(e for e in nested if isinstance(e, BaseException))
    return False


def _api_host(domain: str) -> str:
    return "registry-1.docker.io" if domain == "docker.io" else domain


def _bytes(digest: str, done: int, size: int | None) -> ProgressEvent:
    return ProgressEvent("advance", "", "pull", digest, done, size, "bytes")


class _Truncated(ConnectionError):
    """The server closed the connection before the whole blob arrived."""


class _Body(io.RawIOBase):
    """A blob response body as a file, reporting progress and noticing truncation."""

    def __init__(
        self, resp: requests.Response, digest: str, size: int | None, progress: Progress | None
    ) -> None:
        self.raw = resp.raw
        self.digest, self.size, self.progress = digest, size, progress
        self.done = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        data: bytes = self.raw.read(_CHUNK if n is None or n < 0 else min(n, _CHUNK))
        self.done += len(data)
        if not data and self.size is not None and self.done < self.size:
            raise _Truncated(f"connection closed after {self.done} of {self.size} bytes")
        if data and self.progress:
            self.progress(_bytes(self.digest, self.done, self.size))
        return data


class RegistryClient:
    """A client for one registry host, remembering the tokens it was given."""

    def __init__(
        self,
        domain: str,
        *,
        insecure: Iterable[str] = (),
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.domain = domain
        self.host = _api_host(domain)
        plain = is_loopback(self.host) or self.host.lower() in insecure_hosts(insecure)
        self.base = f"{'http' if plain else 'https'}://{self.host}"
        self.retry = retry or RetryPolicy()
        self.session = session or requests.Session()
        self._auth: dict[str, str] = {}
        self._credentials: tuple[str, str] | None = None
        self._looked_up = False

    # -- HTTP with retries and authentication --------------------------------------------------

    def _creds(self) -> tuple[str, str] | None:
        if not self._looked_up:
            self._credentials = credentials_for(self.domain) or credentials_for(self.host)
            self._looked_up = True
        return self._credentials

    def _authenticate(self, resp: requests.Response, repo: str) -> bool:
        """Answer a 401 challenge; True if there is something new to try."""
        challenge = resp.headers.get("WWW-Authenticate", "")
        scheme, _, rest = challenge.partition(" ")
        params = dict(re.findall(r'(\w+)="([^"]*)"', rest))
        creds = self._creds()
        if scheme.lower() == "basic":
            if creds is None or repo in self._auth:
                return False
            self._auth[repo] = "Basic " + base64.b64encode(":".join(creds).encode()).decode()
            return True
        if scheme.lower() != "bearer" or "realm" not in params:
            return False
        query = {k: v for k, v in params.items() if k in ("service", "scope")}
        query.setdefault("scope", f"repository:{repo}:pull")
        with self._send(
            "GET", params["realm"], repo, params=query, auth=creds, answer=False
        ) as token_resp:
            if token_resp.status_code != 200:
                raise ImageError(
                    f"registry {self.domain}: token request refused ({token_resp.status_code}); "
                    "check the credentials in your Docker config"
                )
            try:
                body = documents.parse(token_resp.content, "token", MAX_MANIFEST_BYTES)
                token = body.get("token") or body.get("access_token")
            except (ImageError, AttributeError):
                token = None
        if not isinstance(token, str) or not token:
            raise ImageError(f"registry {self.domain}: the token service returned no token")
        new = f"Bearer {token}"
        if self._auth.get(repo) == new:
            return False
        self._auth[repo] = new
        return True

    def _send(
        self,
        method: str,
        url: str,
        repo: str,
        *,
        headers: dict[str, str] | None = None,
        stream: bool = False,
        params: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        answer: bool = True,
    ) -> requests.Response:
        """One request, retried on 5xx/429 and connection errors, answering auth challenges."""
        attempt, challenged = 0, False
        while True:
            hdrs = dict(headers or {})
            if answer and repo in self._auth:
                hdrs["Authorization"] = self._auth[repo]
            try:
                resp = self.session.request(
                    method,
                    url,
                    headers=hdrs,
                    stream=stream,
                    params=params,
                    auth=auth,
                    timeout=self.retry.timeout,
                )
            except _TRANSIENT as exc:
                problem = _describe(exc)
                if is_permanent(exc):
                    raise ImageError(f"registry {self.domain}: {problem}") from None
            else:
                if resp.status_code == 401 and answer and not challenged:
                    challenged = True
                    resp.close()
                    if self._authenticate(resp, repo):
                        continue
                    return resp
                if resp.status_code not in _RETRY_STATUS:
                    return resp
                problem = f"HTTP {resp.status_code}"
                resp.close()
            attempt += 1
            if attempt >= self.retry.attempts:
                raise ImageError(
                    f"registry {self.domain}: {method} {url} failed after {attempt} attempts: "
                    f"{problem}"
                )
            _sleep(self.retry.delay(attempt - 1))

    def _check(self, resp: requests.Response, what: str) -> None:
        if resp.status_code == 200:
            return
        if resp.status_code == 404:
            raise ImageNotFound(f"{what} not found in registry {self.domain}")
        if resp.status_code in (401, 403):
            raise ImageError(
                f"registry {self.domain}: access to {what} denied ({resp.status_code}); log in "
                "(credentials in the Docker config file) or check the name"
            )
        raise ImageError(f"registry {self.domain}: {what}: HTTP {resp.status_code}")

    # -- the Distribution API ------------------------------------------------------------------

    def fetch_manifest(
        self, repo: str, reference: str, expect: str | None
    ) -> tuple[bytes, str, str]:
        """``(bytes, media type, digest)`` of a manifest or index, verified."""
        url = f"{self.base}/v2/{repo}/manifests/{reference}"
        what = f"manifest {repo}:{reference}" if expect is None else f"manifest {repo}@{expect}"
        headers = {"Accept": MANIFEST_ACCEPT, "Accept-Encoding": "identity"}
        with self._send("GET", url, repo, headers=headers, stream=True) as resp:
            self._check(resp, what)
            data = resp.raw.read(MAX_MANIFEST_BYTES + 1, decode_content=True)
            header_digest = resp.headers.get("Docker-Content-Digest")
            content_type = resp.headers.get("Content-Type", "").split(";")[0].strip()
        if len(data) > MAX_MANIFEST_BYTES:
            raise ImageError(
                f"registry {self.domain}: {what} is larger than {MAX_MANIFEST_BYTES >> 20} MiB "
                "(the limit)"
            )
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        for claimed in (expect, header_digest):
            if claimed and claimed.startswith("sha256:") and claimed != digest:
                raise DigestMismatch(
                    f"registry {self.domain}: {what} has digest {digest}, not {claimed}"
                )
        where = f"registry {self.domain}: {what}"
        doc = documents.obj(documents.parse(data, where), where)
        media_type = doc.get("mediaType") or content_type
        if not isinstance(media_type, str):
            raise ImageError(f"registry {self.domain}: {what} has a mediaType that is not a string")
        if media_type not in mt.ALL_MANIFESTS:
            raise ImageError(
                f"registry {self.domain}: {what} has unsupported media type {media_type!r}"
            )
        return data, media_type, digest

    def fetch_blob(
        self, store: ImageStore, repo: str, desc: dict[str, Any], progress: Progress | None
    ) -> None:
        """Stream one blob into the store unless it is there; verified, retried when cut."""
        digest = check_digest(desc.get("digest", ""))
        size = desc.get("size") if isinstance(desc.get("size"), int) else None
        if store.has_blob(digest):
            if progress:
                progress(ProgressEvent("step", f"  present {digest}", "pull", digest))
            return
        url = f"{self.base}/v2/{repo}/blobs/{digest}"
        problem = ""
        for attempt in range(self.retry.attempts):
            if attempt:
                _sleep(self.retry.delay(attempt - 1))
            resp = self._send(
                "GET", url, repo, headers={"Accept-Encoding": "identity"}, stream=True
            )
            try:
                self._check(resp, f"blob {digest} of {repo}")
                store.put_blob(_Body(resp, digest, size, progress), digest, size)  # type: ignore[arg-type]
                if progress:
                    got = store.blob_path(digest).stat().st_size if size is None else size
                    line = f"  fetched {digest} ({format_size(got)})"
                    progress(ProgressEvent("done", line, "pull", digest, got, got, "bytes"))
                return
            except DigestMismatch as exc:
                raise DigestMismatch(f"registry {self.domain}: blob of {repo}: {exc}") from None
            except _TRANSIENT as exc:
                problem = _describe(exc)
            finally:
                resp.close()
        raise ImageError(
            f"registry {self.domain}: downloading blob {digest} of {repo} failed after "
            f"{self.retry.attempts} attempts: {problem}"
        )


def pull(
    store: ImageStore,
    ref: str,
    arch: str | None = None,
    *,
    insecure: Iterable[str] = (),
    progress: Progress | None = None,
    retry: RetryPolicy | None = None,
) -> ResolvedImage:
    """Fetch ``ref`` for ``linux/<arch>`` (default: the host's) into the store and name it."""
    name = normalise_ref(ref)
    parsed = ImageRef.parse(name)
    want = mt.normalise_arch(arch) if arch else mt.host_arch()
    client = RegistryClient(parsed.domain, insecure=insecure, retry=retry)
    repo = parsed.path
    reference = parsed.digest or parsed.tag or "latest"
    if progress:
        progress(ProgressEvent("step", f"Pull {name}", "pull", name))
    data, media_type, digest = client.fetch_manifest(repo, reference, parsed.digest)
    store.put_blob(io.BytesIO(data), digest, len(data))
    if progress:
        progress(_bytes(digest, len(data), len(data)))
    root: dict[str, Any] = {"mediaType": media_type, "digest": digest, "size": len(data)}
    desc = root
    if media_type in mt.INDEXES:
        desc = select_platform(name, store.read_json(digest), want)
        if not store.has_blob(desc["digest"]):
            data, child_type, child = client.fetch_manifest(repo, desc["digest"], desc["digest"])
            if child_type not in mt.MANIFESTS:
                raise ImageError(f"{name}: the linux/{want} entry of the index is not a manifest")
            store.put_blob(io.BytesIO(data), child, len(data))
            if progress:
                progress(_bytes(child, len(data), len(data)))
    # shape and limits (layer count ...) checked before any blob is downloaded
    config, layers = documents.manifest(
        store.read_json(desc["digest"]), f"{name}: manifest {desc['digest']}"
    )
    client.fetch_blob(store, repo, config, progress)
    what = f"{name}: image config"
    check_config_platform(name, documents.config(store.read_json(config["digest"]), what), want)
    for layer in layers:
        client.fetch_blob(store, repo, layer, progress)
    resolved = store.resolve_descriptor(name, root, want)
    store.tag(name, root)
    if progress:
        progress(ProgressEvent("done", "", "pull", name))
    return resolved


def ensure_image(
    store: ImageStore,
    ref: str,
    arch: str | None = None,
    pull: bool = False,
    progress: Progress | None = None,
    *,
    insecure: Iterable[str] = (),
    retry: RetryPolicy | None = None,
) -> ResolvedImage:
    """The image from the store, or from its registry when absent (always with ``pull=True``)."""
    if not pull:
        try:
            return store.resolve(ref, arch)
        except ImageNotFound:
            pass
    return _pull(store, ref, arch, insecure=insecure, progress=progress, retry=retry)


_pull = pull
