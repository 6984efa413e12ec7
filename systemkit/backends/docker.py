"""The ``docker`` backend: images come from a Docker Engine, everything else is ``native``.

For each image the spec names, the engine is asked first (a local image, e.g. one made with
``docker build``, is used as is); an image the engine does not have is pulled *through the
engine*, so its registry credentials, mirrors and proxy apply. The image is then exported with
the Engine API's image save (``GET /images/{id}/get``, what ``docker save`` does) into a mirror
store (``.docker-engine/`` in the image store directory), and the very same assembly and output
code as the ``native`` backend runs on that store. Identical image content therefore gives
byte-identical artifacts by construction. The engine's image ids are content-addressed, so an
image whose id is already in the mirror under its reference is not exported again.

Why image save and not container export (``docker export``, what ``linuxkit build --docker``
uses): image save returns every layer as the exact uncompressed tar the image was built or
pulled with (the engine keeps tar-split data to reproduce it bit for bit, which is how the
layer ``diff_ids`` stay valid) plus the image config JSON, labels included, unchanged. A
container export is a fresh tar of a merged filesystem: entry order, directory entries, mode
bits and mtimes of synthesised entries differ from the image, whiteouts are already applied,
and the config (``Env``, ``Cmd``, the ``org.mobyproject.config`` label) is not in it at all.
The save is verified on import: every layer must hash to its ``diff_id``.

The engine is found the way the ``docker`` CLI finds it: ``DOCKER_HOST`` (with
``DOCKER_TLS_VERIFY``, ``DOCKER_TLS`` and ``DOCKER_CERT_PATH``), else the context named by
``DOCKER_CONTEXT``, else the ``currentContext`` of the Docker config file (``DOCKER_CONFIG``
or ``~/.docker``), else ``unix:///var/run/docker.sock``. ``ssh://`` hosts go through the
``ssh`` command, as the CLI does. The API version is negotiated unless ``DOCKER_API_VERSION``
pins it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import docker
import docker.errors
import requests
from docker.context import ContextAPI
from docker.tls import TLSConfig
from docker.utils.config import find_config_file

from systemkit import codes
from systemkit.backends.base import BuildRequest
from systemkit.backends.native import NativeBackend
from systemkit.diagnostics import Diagnostic, Severity, SystemkitError, UserError
from systemkit.images.archive import import_archive
from systemkit.images.errors import ImageError
from systemkit.images.mediatypes import host_arch, normalise_arch
from systemkit.images.ref import ImageRef, InvalidReference
from systemkit.images.store import ImageStore, normalise_ref
from systemkit.progress import Progress, ProgressEvent, silent, step
from systemkit.spec.types import SECTIONS, Spec

__all__ = [
    "ENGINE_UNREACHABLE",
    "IMAGE_MISSING",
    "MIRROR_DIR",
    "PLATFORM_MISMATCH",
    "PULL_FAILED",
    "SAVE_FAILED",
    "DockerBackend",
    "Engine",
    "EngineEndpoint",
    "EngineImages",
    "connect",
    "engine_endpoint",
    "spec_images",
]

# The docker backend's codes (declared in systemkit.codes), as the plain strings diagnostics carry.
ENGINE_UNREACHABLE = codes.ENGINE_UNREACHABLE.code
IMAGE_MISSING = codes.IMAGE_MISSING.code
PULL_FAILED = codes.PULL_FAILED.code
PLATFORM_MISMATCH = codes.PLATFORM_MISMATCH.code
SAVE_FAILED = codes.SAVE_FAILED.code

DEFAULT_HOST = "unix:///var/run/docker.sock"
MIRROR_DIR = ".docker-engine"
"""The mirror store of engine images, inside the image store directory."""
_TIMEOUT = 300
_PIPE_CHUNK = 1 << 16
_MIN_API = "1.24"
"""The oldest API docker-py speaks; only used to ask the engine for its version."""


def _error(code: str, message: str, spec_path: str | None) -> UserError:
    """A one-line error about the image at ``spec_path`` (``$`` for the whole system)."""
    one_line = " ".join(message.split())
    return UserError(Diagnostic(code, Severity.ERROR, one_line, spec_path=spec_path))


# -- finding the engine ----------------------------------------------------------------------


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
            raise _error(
                ENGINE_UNREACHABLE, f"cannot read docker context {name!r}: {exc}", "$"
            ) from None
        finally:
            if old is None:
                os.environ.pop("DOCKER_CONFIG", None)
            else:
                os.environ["DOCKER_CONFIG"] = old
        if ctx is None:
            raise _error(
                ENGINE_UNREACHABLE,
                f"docker context {name!r} does not exist (see 'docker context ls')",
                "$",
            )
        if ctx.Host:
            return EngineEndpoint(ctx.Host, ctx.TLSConfig, f"docker context {name!r}")
    return EngineEndpoint(DEFAULT_HOST, _env_tls(env), "default")


def _reason(exc: BaseException) -> str:
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


class _SshTunnel:
    """The docker CLI's ssh connection helper: a private unix socket whose every connection
    is piped through ``ssh [-l USER] [-p PORT] -- HOST docker system dial-stdio``.

    The ``ssh`` command (with the user's ssh config, agent and known hosts) does the
    authentication, exactly as for ``docker -H ssh://...``; no SSH library is involved.
    """

    def __init__(self, url: str) -> None:
        parsed = urllib.parse.urlparse(url)
        if not parsed.hostname:
            raise ValueError(f"no host in {url!r}")
        cmd = ["ssh"]
        if parsed.username:
            cmd += ["-l", parsed.username]
        if parsed.port:
            cmd += ["-p", str(parsed.port)]
        self.cmd = [*cmd, "--", parsed.hostname, "docker", "system", "dial-stdio"]
        self.dir = Path(tempfile.mkdtemp(prefix="systemkit-ssh-"))
        self.path = self.dir / "docker.sock"
        self.errors: list[str] = []
        self._procs: list[subprocess.Popen[bytes]] = []
        self._pipes: list[threading.Thread] = []
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(self.path))
        self._server.listen(8)
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            pipe = threading.Thread(target=self._pipe, args=(conn,), daemon=True)
            self._pipes.append(pipe)
            pipe.start()

    def _pipe(self, conn: socket.socket) -> None:
        try:
            proc = subprocess.Popen(
                self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        except OSError as exc:
            self.errors.append(f"cannot run ssh: {exc.strerror or exc}")
            conn.close()
            return
        self._procs.append(proc)
        stdin, stdout, stderr = proc.stdin, proc.stdout, proc.stderr
        assert stdin is not None and stdout is not None and stderr is not None

        def upstream() -> None:
            try:
                while data := conn.recv(_PIPE_CHUNK):
                    stdin.write(data)
                    stdin.flush()
            except OSError:
                pass
            finally:
                with contextlib.suppress(OSError):
                    stdin.close()

        threading.Thread(target=upstream, daemon=True).start()
        try:
            while data := os.read(stdout.fileno(), _PIPE_CHUNK):
                conn.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
            status = proc.wait()
            message = stderr.read().decode(errors="replace").strip()
            if status != 0 and message:
                self.errors.append(" ".join(message.split()))

    def failure(self, timeout: float = 10.0) -> str | None:
        """Why ssh failed, once its connections have ended (None if it did not fail)."""
        deadline = time.monotonic() + timeout
        for pipe in list(self._pipes):
            pipe.join(max(0.0, deadline - time.monotonic()))
        return self.errors[-1] if self.errors else None

    def close(self) -> None:
        self._server.close()
        for proc in self._procs:
            if proc.poll() is None:
                proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)


@attrs.define
class Engine:
    """A connection to a Docker Engine: ``client`` for the API; close it when done (it is a
    context manager)."""

    client: docker.APIClient
    endpoint: EngineEndpoint
    _tunnel: _SshTunnel | None = None

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
            tunnel = _SshTunnel(ep.host)
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
        reason = (tunnel.failure() if tunnel is not None else None) or _reason(exc)
        if tunnel is not None:
            tunnel.close()
        raise _error(
            ENGINE_UNREACHABLE, f"cannot reach the Docker Engine at {ep.describe()}: {reason}", "$"
        ) from None
    return Engine(client, ep, tunnel)


# -- which images --------------------------------------------------------------------------


def spec_images(spec: Spec) -> list[tuple[str, str]]:
    """``(ref, spec_path)`` for every image the spec uses, first use first, each ref once."""
    found: list[tuple[str, str]] = []
    if spec.kernel is not None and spec.kernel.image:
        found.append((spec.kernel.image, "$.kernel.image"))
    found.extend((ref, f"$.init[{i}]") for i, ref in enumerate(spec.init))
    for section in SECTIONS:
        entries = getattr(spec, section)
        found.extend((c.image, f"$.{section}[{i}].image") for i, c in enumerate(entries))
    found.extend((v.image, f"$.volumes[{i}].image") for i, v in enumerate(spec.volumes) if v.image)
    seen: set[str] = set()
    unique = []
    for ref, path in found:
        if ref not in seen:
            seen.add(ref)
            unique.append((ref, path))
    return unique


def _pull_args(ref: str) -> tuple[str, str]:
    """Repository and tag-or-digest for the pull API (a digest wins over a tag)."""
    parsed = ImageRef.parse(ref)
    return parsed.name, parsed.digest or parsed.tag or "latest"


# -- images from the engine ----------------------------------------------------------------


@attrs.define
class EngineImages:
    """Resolve spec images through one engine and save them into ``store``."""

    client: docker.APIClient
    store: ImageStore
    arch: str = attrs.field(factory=host_arch, converter=normalise_arch)
    pull: bool = False
    progress: Progress = silent
    workdir: Path | None = None
    _saved: dict[str, str] = attrs.field(factory=dict, init=False)
    """engine image id -> the first ref it was stored under."""

    def inspect(self, ref: str, spec_path: str) -> dict[str, Any] | None:
        """The engine's inspect data for ``ref``; None if it has no such image."""
        try:
            return self.client.inspect_image(ref)
        except docker.errors.NotFound:
            return None
        except docker.errors.APIError as exc:
            raise _error(
                IMAGE_MISSING, f"cannot inspect {ref}: {_api_reason(exc)}", spec_path
            ) from None
        except (docker.errors.DockerException, OSError) as exc:
            raise _error(
                ENGINE_UNREACHABLE, f"lost the Docker Engine: {_reason(exc)}", "$"
            ) from None

    def pull_image(self, ref: str, spec_path: str) -> dict[str, Any]:
        """Pull ``ref`` for ``linux/<arch>`` through the engine; its inspect data."""
        repo, tag = _pull_args(ref)
        self.progress(step(f"pulling {ref} through the Docker Engine", "engine", ref))
        try:
            for event in self.client.pull(
                repo, tag=tag, stream=True, decode=True, platform=f"linux/{self.arch}"
            ):
                if not isinstance(event, dict):
                    continue
                if event.get("error"):
                    detail = event.get("errorDetail") or {}
                    message = detail.get("message") if isinstance(detail, dict) else None
                    raise _error(
                        PULL_FAILED, f"cannot pull {ref}: {message or event['error']}", spec_path
                    )
                self._pull_event(ref, event)
        except docker.errors.APIError as exc:
            raise _error(
                PULL_FAILED,
                f"image {ref} is not in the Docker Engine and pulling it failed: "
                f"{_api_reason(exc)}",
                spec_path,
            ) from None
        except (docker.errors.DockerException, OSError) as exc:
            raise _error(
                ENGINE_UNREACHABLE, f"lost the Docker Engine: {_reason(exc)}", "$"
            ) from None
        info = self.inspect(ref, spec_path)
        if info is None:
            raise _error(
                IMAGE_MISSING, f"image {ref} was pulled but the engine cannot find it", spec_path
            )
        return info

    def _pull_event(self, ref: str, event: dict[str, Any]) -> None:
        """One status event of an engine pull as progress: byte counts of a layer being
        downloaded advance its bar; other statuses are steps."""
        status, ident = event.get("status"), event.get("id")
        detail = event.get("progressDetail")
        if isinstance(detail, dict) and detail:
            current, total = detail.get("current"), detail.get("total")
            if isinstance(current, int) and (total is None or isinstance(total, int)):
                subject = f"{ref} {ident}" if ident else ref
                moved = ProgressEvent("advance", "", "engine", subject, current, total, "bytes")
                self.progress(moved)
        elif status:
            line = f"{ref}: {str(ident) + ': ' if ident else ''}{status}"
            self.progress(step(line, "engine", ref))

    def resolve(self, ref: str, spec_path: str) -> dict[str, Any]:
        """The engine's image for ``ref``: local first (unless ``pull``), else pulled."""
        info = None if self.pull else self.inspect(ref, spec_path)
        if info is None:
            info = self.pull_image(ref, spec_path)
        else:
            using = f"{ref}: using the Docker Engine's image {str(info.get('Id'))[:19]}"
            self.progress(step(using, "engine", ref))
        got = f"{info.get('Os') or 'linux'}/{normalise_arch(str(info.get('Architecture') or ''))}"
        if got != f"linux/{self.arch}":
            raise _error(
                PLATFORM_MISMATCH,
                f"image {ref} in the Docker Engine is {got}, the build is for linux/{self.arch} "
                f"(pull it for that platform or build with --arch)",
                spec_path,
            )
        return info

    def fetch(self, ref: str, spec_path: str) -> None:
        """Make ``ref`` resolvable in the store with the engine's content for it.

        The engine's image id is content-addressed (the digest of the image config, which holds
        the digests of the uncompressed layers; or of the manifest in a containerd image store),
        so when the store already holds that image under ``ref`` nothing is exported again.
        """
        info = self.resolve(ref, spec_path)
        image_id = str(info["Id"])
        name = normalise_ref(ref)
        if self.holds(name, image_id):
            self.progress(step(f"{name}: {image_id[:19]} is already exported", "engine", name))
            return
        first = self._saved.get(image_id)
        if first is not None:
            desc = self.store.lookup(first)
            if desc is not None:
                self.store.tag(name, desc)
                return
        self.save(image_id, name, spec_path)
        self._check_config(info, name, spec_path)
        self._saved[image_id] = name

    def _check_config(self, info: dict[str, Any], name: str, spec_path: str) -> None:
        """The exported config must say what the engine's inspect says (labels, Cmd, Env ...)."""
        desc = self.store.lookup(name)
        config = (
            self.store.resolve_descriptor(name, desc, self.arch).config if desc is not None else {}
        )
        saved, inspected = config.get("config") or {}, info.get("Config") or {}
        for key in ("Labels", "Cmd", "Entrypoint", "Env", "WorkingDir", "User"):
            if (saved.get(key) or None) != (inspected.get(key) or None):
                raise _error(
                    SAVE_FAILED,
                    f"the engine's export of {name} does not match its inspect data ({key})",
                    spec_path,
                )

    def holds(self, name: str, image_id: str) -> bool:
        """True if the store has the engine's image ``image_id`` under ``name``, complete."""
        desc = self.store.lookup(name)
        if desc is None:
            return False
        try:
            img = self.store.resolve_descriptor(name, desc, self.arch)
            if image_id not in (img.manifest["config"]["digest"], desc.get("digest")):
                return False
            return all(self.store.has_blob(layer["digest"]) for layer in img.layers)
        except (ImageError, KeyError, TypeError):
            return False

    def save(self, image_id: str, name: str, spec_path: str) -> None:
        """Export the engine's image ``image_id`` (docker-archive) into the store as ``name``."""
        exporting = f"{name}: exporting {image_id[:19]} from the Docker Engine"
        self.progress(step(exporting, "engine", name))
        fd, tmp_name = tempfile.mkstemp(prefix="sk-docker-save-", suffix=".tar", dir=self.workdir)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in self.client.get_image(image_id):
                    out.write(chunk)
            import_archive(self.store, tmp, name=name)
        except docker.errors.APIError as exc:
            raise _error(
                SAVE_FAILED, f"cannot export {name} from the engine: {_api_reason(exc)}", spec_path
            ) from None
        except (docker.errors.DockerException, OSError) as exc:
            raise _error(
                ENGINE_UNREACHABLE, f"lost the Docker Engine: {_reason(exc)}", "$"
            ) from None
        except ImageError as exc:
            raise _error(
                SAVE_FAILED, f"the engine's export of {name} is not usable: {exc}", spec_path
            ) from None
        finally:
            tmp.unlink(missing_ok=True)

    def fetch_all(self, spec: Spec) -> None:
        for ref, spec_path in spec_images(spec):
            try:
                ImageRef.parse(ref)
            except InvalidReference as exc:
                raise _error(IMAGE_MISSING, str(exc), spec_path) from None
            self.fetch(ref, spec_path)


def _api_reason(exc: docker.errors.APIError) -> str:
    explanation = exc.explanation
    if isinstance(explanation, bytes):
        explanation = explanation.decode(errors="replace")
    return " ".join(str(explanation or exc).split())


# -- the backend -----------------------------------------------------------------------------


class DockerBackend:
    """Builds the native formats from images held by (or pulled through) a Docker Engine.

    The images are exported from the engine into a mirror store, ``.docker-engine/`` inside the
    image store directory (``cache_dir``, or the default store), and the native assembly runs
    on it. Every build asks the engine for each image's content-addressed id, so the mirror
    cannot go stale: an image is exported again as soon as the engine's image changes.
    ``endpoint`` overrides the engine the docker CLI would use; ``use_cache`` is the native
    backend's rebuild cache.
    """

    name = "docker"
    formats = NativeBackend.formats

    def __init__(self, endpoint: EngineEndpoint | None = None, use_cache: bool = True) -> None:
        self.endpoint = endpoint
        self.use_cache = use_cache

    @staticmethod
    def mirror_root(cache_dir: Path | None) -> Path:
        """Where the engine's images are mirrored for a build with ``cache_dir``."""
        root = Path(cache_dir) if cache_dir is not None else ImageStore.default().root
        return root / MIRROR_DIR

    def build(self, request: BuildRequest) -> list[Path]:
        unknown = [f for f in request.formats if f not in self.formats]
        if unknown:
            raise SystemkitError(
                f"the docker backend cannot build format {unknown[0]!r} "
                f"(it builds: {', '.join(sorted(self.formats))})"
            )
        if not Path(request.out_dir).is_dir():
            raise SystemkitError(f"output directory {str(request.out_dir)!r} does not exist")
        progress = request.progress or silent
        with connect(self.endpoint) as conn:
            store = ImageStore(self.mirror_root(request.cache_dir))
            with tempfile.TemporaryDirectory(prefix=".export-", dir=store.root) as tmp:
                engine = EngineImages(
                    conn.client,
                    store,
                    arch=request.arch or host_arch(),
                    pull=request.pull,
                    progress=progress,
                    workdir=Path(tmp),
                )
                engine.fetch_all(request.spec)
            native = attrs.evolve(request, cache_dir=store.root, pull=False)
            return NativeBackend(use_cache=self.use_cache, offline=True).build(native)
