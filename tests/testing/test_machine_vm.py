"""A Machine against the real hello system under qemu (one boot for the module): commands run
in the guest's namespaces, output of any size comes back intact, and every failure says what
was run or waited for, with the exit status, the output and the console's last lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from systemkit.testing import CommandFailed, Machine, MachineError, VMFactory, WaitTimeout

HELLO = Path(__file__).resolve().parents[2] / "examples" / "hello" / "system.py"

pytestmark = [pytest.mark.slow, pytest.mark.qemu]


@pytest.fixture(scope="module")
def hello(systemkit_vm_module: VMFactory) -> Machine:
    return systemkit_vm_module(HELLO, memory="384M", cmdline_append="systemkit.linger=forever")


def test_a_failing_succeed_shows_command_status_output_and_console(hello: Machine) -> None:
    with pytest.raises(CommandFailed) as caught:
        hello.succeed("echo to-stdout; echo to-stderr >&2; exit 3")
    message = str(caught.value)
    assert "command failed with exit status 3: echo to-stdout; echo to-stderr >&2; exit 3" in (
        message
    )
    assert "--- stdout ---\nto-stdout\n" in message
    assert "--- stderr ---\nto-stderr\n" in message
    assert "--- console of hello, last 30 lines" in message
    assert "  | systemkit-init: service systemkit-agent: started\n" in message
    assert caught.value.result.status == 3


def test_commands_run_in_the_namespaces_of_pid_1(hello: Machine) -> None:
    assert hello.succeed("hostname") == "systemkit\n"
    same = "[ $(readlink /proc/1/ns/{0}) = $(readlink /proc/self/ns/{0}) ]"
    hello.succeed(*(same.format(ns) for ns in ("mnt", "net", "pid", "uts", "ipc")))
    # the agent is the only addition: the services are the system's plus systemkit-agent
    assert hello.succeed("ls /containers/services").split() == ["greeter", "systemkit-agent"]


def test_output_of_any_size_and_without_a_final_newline_comes_back_intact(
    hello: Machine,
) -> None:
    out = hello.succeed("seq 1 20000")
    assert out == "".join(f"{i}\n" for i in range(1, 20001))
    assert hello.succeed("printf 'a b\\tc'") == "a b\tc"
    assert hello.succeed("printf 'caf\\303\\251\\n'") == "café\n"
    result = hello.execute("exit 7")
    assert (result.status, result.stdout, result.stderr) == (7, "", "")


def test_fail_raises_when_the_command_succeeds(hello: Machine) -> None:
    assert "No such file" in hello.fail("ls /nonexistent")
    with pytest.raises(CommandFailed, match="expected to fail but exited 0: true"):
        hello.fail("true")


def test_waits_say_what_they_waited_for(hello: Machine) -> None:
    with pytest.raises(WaitTimeout) as caught:
        hello.wait_until_succeeds("echo attempt; false", timeout=3)
    assert "waited 3s for `echo attempt; false` to succeed" in str(caught.value)
    assert "last attempt: exit status 1\n--- stdout ---\nattempt\n" in str(caught.value)
    with pytest.raises(WaitTimeout, match="waited 1s for a console line matching 'no such"):
        hello.wait_for_console_text("no such line", timeout=1)
    with pytest.raises(WaitTimeout, match="waited 3s for TCP port 7778 to listen"):
        hello.wait_for_open_port(7778, timeout=3)
    with pytest.raises(MachineError, match="has no service named 'nginx'"):
        hello.wait_for_service("nginx")


def test_wait_for_open_port_and_service(hello: Machine) -> None:
    hello.succeed("nc -l -p 7777 >/dev/null 2>&1 &")
    hello.wait_for_open_port(7777, timeout=60)
    hello.wait_for_service("systemkit-agent", timeout=60)
    # the greeter service exits after a second: it is never seen running again
    hello.wait_for_console_text("service greeter: exited", timeout=120)
    with pytest.raises(WaitTimeout, match="service 'greeter' to be running"):
        hello.wait_for_service("greeter", timeout=2)
