"""The hello system, booted under qemu and driven by the systemkit pytest plugin.

One VM serves the whole module (``systemkit_vm_module``); the tests run in file order and the
last one shuts it down. Run them with ``python3 -m pytest examples/hello`` (the images are made
and imported by ``examples/conftest.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from systemkit import System, load
from systemkit.testing import Machine, VMFactory, spec_view

pytestmark = [pytest.mark.slow, pytest.mark.qemu]

HERE = Path(__file__).resolve().parent
HELLO: System = load(HERE / "system.py")["system"]


def test_the_spec_has_the_onboot_container_the_service_and_the_motd() -> None:
    # no boot needed for this one: the lowered spec, typed
    view = spec_view(HELLO)
    assert list(view.onboot) == ["hello"]
    assert view.onboot["hello"].binds == ["/etc/motd:/etc/motd:ro"]
    assert list(view.services) == ["greeter"]
    assert view.files["/etc/motd"].contents == "motd: built with systemkit\n"
    assert view.capabilities("greeter") == frozenset()


@pytest.fixture(scope="module")
def hello(systemkit_vm_module: VMFactory) -> Machine:
    # the hello init powers off 5 s after its services started; keep it up for the tests
    return systemkit_vm_module(HELLO, memory="384M", cmdline_append="systemkit.linger=forever")


def test_the_onboot_container_ran(hello: Machine) -> None:
    hello.wait_for_console_text(r"onboot 000-hello: exited with status 0", timeout=300)
    assert hello.wait_for_console_text("^motd: ") == "motd: built with systemkit"


def test_commands_run_as_root_in_the_guest(hello: Machine) -> None:
    assert hello.succeed("id -u").strip() == "0"
    assert hello.succeed("cat /etc/motd") == "motd: built with systemkit\n"
    # pid 1 is the hello init: the agent's commands see the guest's own pid namespace
    assert "/init" in hello.succeed("cat /proc/1/cmdline")
    assert hello.succeed("uname -r").startswith("6.1.0-")
    hello.fail("test -e /etc/shadow-")


def test_the_service_ran_and_exited(hello: Machine) -> None:
    hello.wait_for_console_text("service greeter: exited with status 0", timeout=120)
    hello.wait_until_succeeds("test -d /containers/services/greeter", timeout=30)


def test_shutdown_runs_the_init_shutdown_path(hello: Machine) -> None:
    hello.shutdown(timeout=120)
    assert not hello.running
    lines = hello.console_lines
    assert "systemkit-init: stopping services: power off requested" in lines
    assert lines.index("systemkit-init: powering off") > lines.index(
        "systemkit-init: all services done"
    )
