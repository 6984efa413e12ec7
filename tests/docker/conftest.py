"""A real Docker Engine for the docker backend tests.

``docker_engine`` (session): uses the engine when ``docker info`` answers; otherwise installs
Debian's ``docker.io`` if ``dockerd`` is missing, starts ``dockerd`` in the background (default
data root, its own pidfile, log in a temp file), waits up to 60 s for ``docker info``, and stops
it at the end. Several test sessions may run at once: a lock and a list of live users in
``$TMPDIR/systemkit-test-dockerd/`` make sure only one dockerd is started and that the last
session to finish stops the one a test session started (never an engine it found running).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import filelock
import pytest

from systemkit.images.archive import import_archive
from systemkit.images.store import ImageStore
from tests.docker.dockerimages import remove_images, skopeo, write_layouts
from tests.support.procs import free_port, stop_process

STATE = Path(tempfile.gettempdir()) / "systemkit-test-dockerd"
PIDFILE = STATE / "dockerd.pid"
USERS = STATE / "users"
LOG = STATE / "dockerd.log"
WAIT = 60.0


@pytest.fixture(autouse=True)
def private_default_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Builds that use the default image store (and its docker mirror) write to a temporary
    one, never to the user's ~/.cache."""
    monkeypatch.setenv("SYSTEMKIT_CACHE", str(tmp_path / "default-store"))


def docker_answers() -> bool:
    try:
        proc = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


_started: dict[int, subprocess.Popen[bytes]] = {}
"""dockerd processes this session started (reaped with wait(), not left as zombies)."""


def _alive(pid: int) -> bool:
    proc = _started.get(pid)
    if proc is not None:
        return proc.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return True


def _users() -> set[int]:
    try:
        pids = {int(x) for x in USERS.read_text().split()}
    except (OSError, ValueError):
        pids = set()
    return {p for p in pids if _alive(p)}


def _write_users(pids: set[int]) -> None:
    USERS.write_text("".join(f"{p}\n" for p in sorted(pids)))


def _install_docker() -> None:
    if shutil.which("dockerd") and shutil.which("docker"):
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "docker.io"]):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            pytest.fail(f"cannot install docker.io ({' '.join(cmd)}): {proc.stderr[-2000:]}")


def _start_dockerd() -> None:
    _install_docker()
    log = LOG.open("ab")
    proc = subprocess.Popen(
        ["dockerd", "--pidfile", str(PIDFILE)],
        stdout=log,
        stderr=log,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    _started[proc.pid] = proc
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if docker_answers():
            return
        time.sleep(0.5)
    tail = LOG.read_text(errors="replace")[-3000:]
    pytest.fail(f"dockerd did not answer 'docker info' within {WAIT:.0f} s; its log:\n{tail}")


def _stop_dockerd() -> None:
    try:
        pid = int(PIDFILE.read_text().strip())
    except (OSError, ValueError):
        return
    if not _alive(pid):
        PIDFILE.unlink(missing_ok=True)
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    PIDFILE.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[None]:
    """A Docker Engine answering on the default endpoint for the whole session."""
    if os.environ.get("DOCKER_HOST") and not docker_answers():
        pytest.fail(f"DOCKER_HOST={os.environ['DOCKER_HOST']} does not answer 'docker info'")
    STATE.mkdir(exist_ok=True)
    lock = filelock.FileLock(str(STATE / "lock"))
    me = os.getpid()
    with lock:
        if not docker_answers():
            _start_dockerd()
        _write_users(_users() | {me})
    try:
        yield
    finally:
        with lock:
            left = _users() - {me}
            _write_users(left)
            if not left and PIDFILE.exists():
                _stop_dockerd()


@pytest.fixture(scope="session")
def layouts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The test images as OCI layout directories written in Python (ref -> directory)."""
    return write_layouts(tmp_path_factory.mktemp("layouts"))


@pytest.fixture(scope="session")
def native_store(layouts: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An image store (root) with the test images imported from their layouts."""
    root = tmp_path_factory.mktemp("native-store")
    store = ImageStore(root)
    for path in layouts.values():
        import_archive(store, path)
    return root


@pytest.fixture(scope="session")
def engine_images(docker_engine: None, layouts: dict[str, Path]) -> Iterator[list[str]]:
    """The test images loaded into the engine with skopeo (OCI layout -> docker-daemon)."""
    refs = list(layouts)
    remove_images(refs)
    for ref, path in layouts.items():
        skopeo("copy", "-q", f"oci:{path}:{ref}", f"docker-daemon:{ref}")
    yield refs
    remove_images(refs)


def _install(program: str, package: str) -> None:
    if shutil.which(program) or Path(program).exists():
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        pytest.fail(f"cannot install {package}: {proc.stderr[-2000:]}")


@pytest.fixture(scope="session")
def ssh_engine_host(
    docker_engine: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """A real sshd on 127.0.0.1 (its own host key, config and port) that lets root in with a
    test key, so that ``DOCKER_HOST=ssh://skdocker-remote`` reaches this machine's engine the
    way the docker CLI reaches a remote one (``ssh HOST docker system dial-stdio``).

    Yields a directory holding ``ssh`` (the real /usr/bin/ssh with ``-F`` pointing at the
    client config for the ``skdocker-remote`` alias) to put first on PATH."""
    _install("/usr/sbin/sshd", "openssh-server")
    work = tmp_path_factory.mktemp("sshd")
    for key in ("hostkey", "id"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(work / key)], check=True
        )
    (work / "authorized_keys").write_text((work / "id.pub").read_text())
    port = free_port()
    (work / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {work / 'hostkey'}\n"
        f"AuthorizedKeysFile {work / 'authorized_keys'}\nPidFile {work / 'sshd.pid'}\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n"
    )
    (work / "ssh_config").write_text(
        f"Host skdocker-remote\n  HostName 127.0.0.1\n  Port {port}\n  User root\n"
        f"  IdentityFile {work / 'id'}\n  IdentitiesOnly yes\n  StrictHostKeyChecking no\n"
        "  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n  BatchMode yes\n"
    )
    bindir = work / "bin"
    bindir.mkdir()
    (bindir / "ssh").write_text(f'#!/bin/sh\nexec /usr/bin/ssh -F "{work / "ssh_config"}" "$@"\n')
    (bindir / "ssh").chmod(0o755)
    Path("/run/sshd").mkdir(exist_ok=True)
    log = (work / "sshd.log").open("wb")
    proc = subprocess.Popen(
        ["/usr/sbin/sshd", "-D", "-e", "-f", str(work / "sshd_config")], stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            probe = subprocess.run(
                [str(bindir / "ssh"), "skdocker-remote", "true"], capture_output=True, check=False
            )
            if probe.returncode == 0:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"sshd did not let the test key in: {probe.stderr.decode()[-500:]} "
                    f"{(work / 'sshd.log').read_text()[-1500:]}"
                )
            time.sleep(0.2)
        yield bindir
    finally:
        stop_process(proc)


def _openssl(*args: str, cwd: Path) -> None:
    proc = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, check=False)
    if proc.returncode != 0:
        pytest.fail(f"openssl {' '.join(args)} failed: {proc.stderr.decode()[-1000:]}")


def make_tls_certs(work: Path) -> Path:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, as the Docker docs
    make them; returns the directory with ca.pem, cert.pem, key.pem (client) and server-*."""
    days = ["-days", "2"]
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem",
             "-out", "ca.pem", "-subj", "/CN=skdocker test CA", *days, cwd=work)  # fmt: skip
    (work / "server.ext").write_text(
        "subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n"
    )
    (work / "client.ext").write_text("extendedKeyUsage = clientAuth\n")
    for who in ("server", "client"):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{who}-key.pem",
                 "-out", f"{who}.csr", "-subj", f"/CN={who}", cwd=work)  # fmt: skip
        _openssl("x509", "-req", "-in", f"{who}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
                 "-CAcreateserial", "-out", f"{who}-cert.pem", "-extfile", f"{who}.ext",
                 *days, cwd=work)  # fmt: skip
    shutil.copy(work / "client-cert.pem", work / "cert.pem")
    shutil.copy(work / "client-key.pem", work / "key.pem")
    return work


@pytest.fixture(scope="session")
def tls_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A second, private dockerd (own data root, exec root and pidfile, no bridge) listening
    only on tcp://127.0.0.1:PORT with --tlsverify; yields (host URL, cert directory)."""
    _install_docker()
    work = tmp_path_factory.mktemp("tls-engine")
    certs = make_tls_certs(work)
    port = free_port()
    host = f"tcp://127.0.0.1:{port}"
    log = (work / "dockerd.log").open("wb")
    proc = subprocess.Popen(
        [
            "dockerd", "--data-root", str(work / "data"), "--exec-root", str(work / "exec"),
            "--pidfile", str(work / "dockerd.pid"), "-H", host, "--tlsverify",
            "--tlscacert", str(certs / "ca.pem"), "--tlscert", str(certs / "server-cert.pem"),
            "--tlskey", str(certs / "server-key.pem"), "--bridge", "none",
            "--iptables=false", "--ip-masq=false",
        ],
        stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    env = {
        **os.environ,
        "DOCKER_HOST": host,
        "DOCKER_TLS_VERIFY": "1",
        "DOCKER_CERT_PATH": str(certs),
    }
    try:
        deadline = time.monotonic() + WAIT
        while True:
            probe = subprocess.run(["docker", "info"], env=env, capture_output=True, check=False)
            if probe.returncode == 0:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"TLS dockerd did not start: {(work / 'dockerd.log').read_text()[-2000:]}"
                )
            time.sleep(0.5)
        yield host, certs
    finally:
        stop_process(proc, timeout=30)
        subprocess.run(["umount", "-R", str(work / "data")], capture_output=True, check=False)
