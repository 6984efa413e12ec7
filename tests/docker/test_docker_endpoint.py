"""Finding the engine the way the docker CLI does: DOCKER_HOST, TLS variables, contexts.

Contexts are made with the real ``docker context create`` in a private DOCKER_CONFIG; the
engine is reached through a symlink to its socket, so a build that works proves the context's
endpoint was used (and one pointing at a dead socket proves the same from the other side).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from systemkit.backends.base import BuildRequest
from systemkit.backends.docker import (
    ENGINE_UNREACHABLE,
    DockerBackend,
    connect,
    engine_endpoint,
)
from systemkit.backends.native import NativeBackend
from systemkit.diagnostics import UserError
from systemkit.spec.codec import from_data
from systemkit.spec.types import Spec
from tests.docker.conftest import make_tls_certs
from tests.docker.dockerimages import DATA, docker, skopeo, system_spec

SOCKET = "/var/run/docker.sock"


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cfg = tmp_path / "docker-config"
    cfg.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(cfg))
    for name in ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_TLS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("DOCKER_CERT_PATH", raising=False)
    return cfg


def test_default_endpoint_is_the_local_socket(docker_config: Path) -> None:
    ep = engine_endpoint()
    assert (ep.host, ep.origin, ep.tls) == (f"unix://{SOCKET}", "default", None)


@pytest.mark.docker
def test_current_context_of_the_config_is_used(
    docker_engine: None, docker_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alias = tmp_path / "alias.sock"
    alias.symlink_to(SOCKET)
    docker("context", "create", "skctx", "--docker", f"host=unix://{alias}")
    docker("context", "use", "skctx")
    ep = engine_endpoint()
    assert (ep.host, ep.origin) == (f"unix://{alias}", "docker context 'skctx'")
    with connect(ep) as engine:  # the context's endpoint answers
        assert engine.client.ping()

    docker("context", "create", "dead", "--docker", f"host=unix://{tmp_path}/dead.sock")
    monkeypatch.setenv("DOCKER_CONTEXT", "dead")  # DOCKER_CONTEXT wins over currentContext
    with pytest.raises(UserError) as info:
        connect()
    assert "docker context 'dead'" in info.value.diagnostics[0].message
    monkeypatch.setenv("DOCKER_HOST", f"unix://{alias}")  # DOCKER_HOST wins over any context
    assert engine_endpoint().origin == "DOCKER_HOST"
    with connect() as engine:
        assert engine.client.ping()


def test_unknown_context_is_a_one_line_error(
    docker_config: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_CONTEXT", "nosuch")
    with pytest.raises(UserError) as info:
        DockerBackend().build(
            BuildRequest(spec=system_spec(), base_dir=tmp_path, formats=("tar",), out_dir=tmp_path)
        )
    (diag,) = info.value.diagnostics
    assert diag.code == ENGINE_UNREACHABLE
    assert "docker context 'nosuch' does not exist" in diag.message
    assert "\n" not in diag.render()


def test_tls_variables_are_read_like_the_cli(tmp_path: Path) -> None:
    certs = tmp_path / "certs"
    certs.mkdir()
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (certs / name).write_text("not checked here\n")
    verify = engine_endpoint(
        {
            "DOCKER_HOST": "tcp://10.0.0.1:2376",
            "DOCKER_TLS_VERIFY": "1",
            "DOCKER_CERT_PATH": str(certs),
        }
    )
    assert verify.host == "tcp://10.0.0.1:2376" and verify.tls is not None
    assert verify.tls.verify is True or verify.tls.verify == str(certs / "ca.pem")
    assert verify.tls.cert == (str(certs / "cert.pem"), str(certs / "key.pem"))
    no_verify = engine_endpoint(
        {"DOCKER_HOST": "tcp://10.0.0.1:2376", "DOCKER_TLS": "1", "DOCKER_CERT_PATH": str(certs)}
    )
    assert no_verify.tls is not None and not no_verify.tls.verify
    empty = engine_endpoint({"DOCKER_HOST": "tcp://10.0.0.1:2375", "DOCKER_TLS_VERIFY": ""})
    assert empty.tls is None  # an empty DOCKER_TLS_VERIFY means off, as in the CLI


@pytest.mark.slow
def test_remote_engine_over_ssh(
    engine_images: list[str],
    native_store: Path,
    ssh_engine_host: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DOCKER_HOST=ssh://... goes through the ssh command to ``docker system dial-stdio`` on
    the far side (here: a real sshd on 127.0.0.1 in front of this machine's engine), and the
    build equals the native one."""
    monkeypatch.setenv("PATH", f"{ssh_engine_host}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("DOCKER_HOST", "ssh://skdocker-remote")
    ep = engine_endpoint()
    assert (ep.host, ep.origin) == ("ssh://skdocker-remote", "DOCKER_HOST")
    spec = system_spec()
    outs = {}
    for name, backend, cache in (
        ("ssh", DockerBackend(), tmp_path / "unused"),
        ("native", NativeBackend(), native_store),
    ):
        out = tmp_path / name
        out.mkdir()
        (path,) = backend.build(
            BuildRequest(
                spec=spec, base_dir=out, formats=("tar",), out_dir=out, name="sys",
                arch="amd64", cache_dir=cache,
            )
        )  # fmt: skip
        outs[name] = path.read_bytes()
    assert outs["ssh"] == outs["native"]


@pytest.mark.slow
def test_ssh_failure_is_one_line_with_the_reason_ssh_gave(
    ssh_engine_host: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{ssh_engine_host}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("DOCKER_HOST", "ssh://nosuchuser@skdocker-remote")
    with pytest.raises(UserError) as info:
        connect()
    (diag,) = info.value.diagnostics
    assert diag.code == ENGINE_UNREACHABLE
    assert "ssh://nosuchuser@skdocker-remote (DOCKER_HOST)" in diag.message
    assert "Permission denied" in diag.message, diag.message
    assert "\n" not in diag.render()


@pytest.mark.slow
@pytest.mark.docker
def test_tls_engine_with_verification(
    tls_engine: tuple[str, Path],
    layouts: dict[str, Path],
    local_registry: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A real dockerd with --tlsverify: DOCKER_TLS_VERIFY + DOCKER_CERT_PATH reach it (and a
    build pulls through it); without the client certificate or with another CA it refuses."""
    host, certs = tls_engine
    monkeypatch.setenv("DOCKER_HOST", host)
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(certs))
    with connect() as engine:
        assert engine.client.ping()

    remote = f"{local_registry}/skdocker/tls-data:1"
    skopeo(
        "copy", "-q", "--dest-tls-verify=false", f"oci:{layouts[DATA]}:{DATA}", f"docker://{remote}"
    )
    spec: Spec = from_data({"volumes": [{"name": "v", "image": remote}]})
    out = tmp_path / "out"
    out.mkdir()
    (path,) = DockerBackend().build(
        BuildRequest(spec=spec, base_dir=out, formats=("tar",), out_dir=out, arch="amd64")
    )
    assert path.stat().st_size > 0

    no_client_cert = tmp_path / "ca-only"
    no_client_cert.mkdir()
    (no_client_cert / "ca.pem").write_bytes((certs / "ca.pem").read_bytes())
    monkeypatch.setenv("DOCKER_CERT_PATH", str(no_client_cert))
    with pytest.raises(UserError) as info:
        connect()
    assert info.value.diagnostics[0].code == ENGINE_UNREACHABLE
    assert f"{host} (DOCKER_HOST)" in info.value.diagnostics[0].message
    assert "client certificate" in info.value.diagnostics[0].message

    (tmp_path / "other").mkdir()
    other_ca = make_tls_certs(tmp_path / "other")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(other_ca))
    with pytest.raises(UserError) as info:
        connect()
    assert "does not verify against ca.pem" in info.value.diagnostics[0].message
    monkeypatch.delenv("DOCKER_TLS_VERIFY")  # plain HTTP to a TLS port: refused too
    with pytest.raises(UserError) as info:
        connect()
    assert "the engine speaks TLS" in info.value.diagnostics[0].message
    assert "\n" not in info.value.diagnostics[0].render()
