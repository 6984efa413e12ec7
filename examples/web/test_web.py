"""Tests of the web example: snapshots of every variant's LinuxKit YAML (no boot), typed
checks of its spec, and the system booted under qemu: the service, its port, a request, and a
clean shutdown.

``python3 -m pytest examples/web``; after an intended change of the system, update the
snapshots with ``python3 -m pytest examples/web --snapshot-update`` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from systemkit import System, load
from systemkit.testing import Machine, VMFactory, spec_view

HERE = Path(__file__).resolve().parent
SYSTEMS: dict[str, System] = load(HERE / "system.py")


# -- without booting: fast -----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SYSTEMS))
def test_every_variant_lowers_to_its_snapshot(name: str, snapshot: SnapshotAssertion) -> None:
    assert spec_view(SYSTEMS[name]).yaml() == snapshot


def test_the_web_service_is_in_the_host_network_with_few_capabilities() -> None:
    view = spec_view(SYSTEMS["system"])
    web = view.services["web"]
    assert web.net == "host"
    assert view.capabilities("web") == {"CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SETGID"}
    assert "CAP_SYS_ADMIN" not in view.capabilities("web")
    assert view.files["/www/health"].contents == "ok\n"
    assert list(view.onshutdown) == ["goodbye"]


# -- booted under qemu ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def web(systemkit_vm_module: VMFactory) -> Machine:
    return systemkit_vm_module(SYSTEMS["system"], memory="384M")


@pytest.mark.slow
@pytest.mark.qemu
def test_the_server_answers(web: Machine) -> None:
    web.wait_for_console_text(r"web: ready on port 80", timeout=300)
    web.wait_for_service("web")
    web.wait_until_succeeds("pidof httpd", timeout=60)
    web.wait_for_open_port(80)
    assert web.succeed("wget -qO- http://127.0.0.1/health") == "ok\n"
    assert "hello from systemkit" in web.succeed("wget -qO- http://127.0.0.1/")
    web.fail("wget -qO- http://127.0.0.1/missing")


@pytest.mark.slow
@pytest.mark.qemu
def test_shutdown_stops_the_server_and_runs_onshutdown(web: Machine) -> None:
    web.shutdown(timeout=120)
    assert "web: stopped cleanly" in web.console_lines
