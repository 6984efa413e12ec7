"""``Machine``: a booted system, driven like NixOS's test driver (``succeed``, ``fail``,
``wait_until_succeeds``, ``wait_for_console_text``, ``wait_for_open_port``, ``shutdown``) plus
``wait_for_service`` for a LinuxKit service."""

from __future__ import annotations

import contextlib
import re
import shlex
import time
from collections import deque
from pathlib import Path

import attrs

from systemkit.diagnostics import SystemkitError
from systemkit.testing.vm import AgentClient, CommandResult, VMError, VMProcess

DEFAULT_TIMEOUT = 120.0
"""Seconds a command or a wait may take unless told otherwise (TCG is slow; be generous)."""
CONSOLE_TAIL = 30
"""Console lines shown in an error."""
HISTORY = 20
"""Commands a machine remembers for the failure report."""


class MachineError(SystemkitError):
    """A command or a wait on a :class:`Machine` failed; the message says what was run or
    waited for, and ends with the console's last lines."""


class CommandFailed(MachineError):
    """:meth:`Machine.succeed` saw a non-zero exit status (or :meth:`Machine.fail` a zero one)."""

    def __init__(self, message: str, result: CommandResult) -> None:
        super().__init__(message)
        self.result = result


class WaitTimeout(MachineError):
    """A ``wait_*`` method's condition did not hold within its timeout."""


@attrs.frozen
class CommandRecord:
    """One command run on a machine, for the failure report."""

    command: str
    status: int | None
    """None: the agent did not answer."""
    stdout: str
    stderr: str
    seconds: float


_current_test: str | None = None
"""The pytest node id of the running test (set by the plugin), recorded by each machine."""


def set_current_test(nodeid: str | None) -> None:
    global _current_test
    _current_test = nodeid


class Machine:
    """A system booted under qemu with the systemkit agent in it.

    Commands run as root in the guest's own namespaces (those of its pid 1), with the guest's
    ``/bin/sh`` (or the agent's busybox sh when the guest has none). Made by a
    :class:`~systemkit.testing.VMFactory`; stopped when the test (or module) that made it ends.
    """

    def __init__(
        self,
        name: str,
        vm: VMProcess,
        *,
        services: tuple[str, ...] = (),
        boot_timeout: float = 300.0,
    ) -> None:
        self.name = name
        self._vm = vm
        self._services = services
        self._boot_timeout = boot_timeout
        self.history: deque[CommandRecord] = deque(maxlen=HISTORY)
        self.tests: set[str] = set()
        """Node ids of the tests that used this machine."""
        self.boot_seconds: float | None = None
        """Seconds from starting qemu to the agent's first answer (once known)."""
        self._touch()

    # -- plumbing ----------------------------------------------------------------------------

    def _touch(self) -> None:
        if _current_test is not None:
            self.tests.add(_current_test)

    @property
    def _client(self) -> AgentClient:
        assert self._vm.agent is not None
        return self._vm.agent

    @property
    def started_at(self) -> float:
        """When qemu was started (``time.monotonic()``)."""
        return self._vm.started

    @property
    def console_log(self) -> Path:
        """The file holding everything the console printed."""
        return self._vm.console_log

    @property
    def console_lines(self) -> list[str]:
        """The console's lines so far (without carriage returns and terminal escapes)."""
        return list(self._vm.lines)

    @property
    def running(self) -> bool:
        return self._vm.running

    @property
    def socket_dir(self) -> Path:
        """The directory of qemu's sockets: ``console.sock`` (the console, ttyS0),
        ``agent.sock`` (the agent's port, ttyS1) and ``qemu.pid``."""
        return self._vm.workdir

    @property
    def pid(self) -> int:
        """qemu's process id."""
        return self._vm.proc.pid

    def console_tail(self, n: int = CONSOLE_TAIL) -> str:
        lines = self._vm.tail(n)
        return "".join(f"  | {line}\n" for line in lines) or "  | (nothing yet)\n"

    def _with_console(self, message: str) -> str:
        state = "" if self._vm.running else " (the VM has stopped)"
        return (
            f"{message}\n--- console of {self.name}, last {CONSOLE_TAIL} lines{state} "
            f"(all: {self.console_log}) ---\n{self.console_tail()}"
        )

    def _agent(self) -> None:
        if self.boot_seconds is None:
            try:
                self.boot_seconds = self._client.wait_for_agent(self._boot_timeout)
            except VMError as exc:
                raise MachineError(self._with_console(f"{self.name}: {exc}")) from None

    def _run(self, command: str, timeout: float, shell: str = "guest") -> CommandResult:
        self._touch()
        self._agent()
        try:
            result = self._client.run(command, timeout, shell=shell)
        except VMError as exc:
            self.history.append(CommandRecord(command, None, "", "", timeout))
            raise MachineError(self._with_console(f"{self.name}: {exc}")) from None
        self.history.append(
            CommandRecord(command, result.status, result.stdout, result.stderr, result.seconds)
        )
        return result

    # -- commands ----------------------------------------------------------------------------

    def execute(self, command: str, timeout: float = DEFAULT_TIMEOUT) -> CommandResult:
        """Run ``command`` (a shell command line) and return its status and output, whatever
        the status. After ``timeout`` seconds the command is killed (status 137)."""
        return self._run(command, timeout)

    def succeed(self, *commands: str, timeout: float = DEFAULT_TIMEOUT) -> str:
        """Run each command in turn; each must exit 0. Returns their stdout, concatenated.

        Raises :class:`CommandFailed` with the command, its exit status, its output and the
        console's last lines otherwise."""
        out = []
        for command in commands:
            result = self._run(command, timeout)
            if result.status != 0:
                raise CommandFailed(
                    self._with_console(
                        f"{self.name}: command failed with exit status {result.status}: "
                        f"{command}\n{_output(result)}"
                    ),
                    result,
                )
            out.append(result.stdout)
        return "".join(out)

    def fail(self, *commands: str, timeout: float = DEFAULT_TIMEOUT) -> str:
        """Run each command in turn; each must exit non-zero. Returns their stdout and stderr,
        concatenated. Raises :class:`CommandFailed` when one succeeds."""
        out = []
        for command in commands:
            result = self._run(command, timeout)
            if result.status == 0:
                raise CommandFailed(
                    self._with_console(
                        f"{self.name}: command was expected to fail but exited 0: {command}\n"
                        f"{_output(result)}"
                    ),
                    result,
                )
            out.append(result.stdout + result.stderr)
        return "".join(out)

    def wait_until_succeeds(self, command: str, timeout: float = DEFAULT_TIMEOUT) -> str:
        """Run ``command`` every second until it exits 0 (returns its stdout); raises
        :class:`WaitTimeout` after ``timeout`` seconds, showing the last attempt."""
        return self._retry(command, timeout, want_success=True, what=f"`{command}` to succeed")

    def wait_until_fails(self, command: str, timeout: float = DEFAULT_TIMEOUT) -> str:
        """Run ``command`` every second until it exits non-zero (returns its output)."""
        return self._retry(command, timeout, want_success=False, what=f"`{command}` to fail")

    def _retry(
        self, command: str, timeout: float, *, want_success: bool, what: str, shell: str = "guest"
    ) -> str:
        deadline = time.monotonic() + timeout
        self._touch()
        if self.boot_seconds is None:
            try:
                self.boot_seconds = self._client.wait_for_agent(timeout)
            except VMError as exc:
                raise WaitTimeout(
                    self._with_console(f"{self.name}: waited {timeout:g}s for {what}: {exc}")
                ) from None
        last: CommandResult | None = None
        while True:
            left = deadline - time.monotonic()
            if left > 0:
                last = self._run(command, max(1.0, left), shell)
                if (last.status == 0) == want_success:
                    return last.stdout if want_success else last.stdout + last.stderr
            left = deadline - time.monotonic()
            if left <= 0 or not self._vm.running:
                shown = (
                    f"\nlast attempt: exit status {last.status}\n{_output(last)}" if last else ""
                )
                stopped = "" if self._vm.running else " (the VM stopped)"
                raise WaitTimeout(
                    self._with_console(
                        f"{self.name}: waited {timeout:g}s for {what}{stopped}{shown}"
                    )
                )
            time.sleep(min(1.0, left))

    # -- waits -------------------------------------------------------------------------------

    def wait_for_console_text(self, regex: str, timeout: float = DEFAULT_TIMEOUT) -> str:
        """Wait until a console line (any since boot) matches the regular expression
        ``regex``; returns that line."""
        self._touch()
        line = self._vm.wait_for_line(re.compile(regex), timeout)
        if line is None:
            stopped = "" if self._vm.running else " (the VM stopped)"
            raise WaitTimeout(
                self._with_console(
                    f"{self.name}: waited {timeout:g}s for a console line matching "
                    f"{regex!r}{stopped}"
                )
            )
        return line

    def wait_for_open_port(self, port: int, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until a TCP socket listens on ``port`` in the guest's network namespace (read
        from ``/proc/net/tcp`` and ``tcp6`` inside the guest: any address, IPv4 or IPv6)."""
        if not 0 < port < 65536:
            raise ValueError(f"port {port} is not a TCP port (1-65535)")
        probe = (
            "cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | "
            f'awk \'$4 == "0A" && toupper($2) ~ /:{port:04X}$/ {{ found = 1 }} '
            "END { exit !found }'"
        )
        self._retry(
            probe, timeout, want_success=True, what=f"TCP port {port} to listen", shell="agent"
        )

    def wait_for_service(self, name: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until the LinuxKit service ``name`` (an entry of the system's ``services``) is
        running: its runc container's state is ``running``. Looks in runc's default root (an
        init that runs runc itself, like the hello example's) and in containerd's
        ``services.linuxkit`` root (LinuxKit's own init)."""
        if self._services and name not in self._services:
            known = ", ".join(self._services) or "none"
            raise MachineError(f"{self.name} has no service named {name!r} (it has: {known})")
        quoted = shlex.quote(name)
        probe = (
            "for root in /run/runc /run/containerd/runc/services.linuxkit; do "
            f"runc --root $root state {quoted} 2>/dev/null; done | "
            'grep -q \'"status": "running"\''
        )
        self._retry(
            probe,
            timeout,
            want_success=True,
            what=f"service {name!r} to be running",
            shell="agent",
        )

    # -- lifetime ----------------------------------------------------------------------------

    def shutdown(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Power the guest off the way its init does (``poweroff``, which signals pid 1) and
        wait until qemu exits; raises :class:`WaitTimeout` (and stops qemu) if it does not
        within ``timeout`` seconds."""
        self._touch()
        if self._vm.running:
            self._agent()
            # the guest may go away before the agent answers
            with contextlib.suppress(VMError):
                self._client.run("poweroff", 30, shell="guest")
        if not self._vm.wait_exit(timeout):
            message = self._with_console(f"{self.name}: did not power off within {timeout:g}s")
            self._vm.stop()
            raise WaitTimeout(message)

    def stop(self) -> None:
        """Stop qemu now (no clean shutdown)."""
        self._vm.stop()

    def __repr__(self) -> str:
        state = "running" if self._vm.running else "stopped"
        return f"<Machine {self.name} {state} pid={self._vm.proc.pid}>"


def _output(result: CommandResult) -> str:
    def block(title: str, text: str) -> str:
        body = text if text.endswith("\n") or not text else text + "\n"
        return f"--- {title} ---\n" + (body or "(empty)\n")

    return block("stdout", result.stdout) + block("stderr", result.stderr)
