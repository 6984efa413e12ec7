"""One qemu process for a test: its serial console and the agent's serial port, on unix sockets.

qemu runs with two serial ports, each a unix socket server in the VM's directory:
``console.sock`` (ttyS0, the console; qemu waits for this connection before it starts the
guest, so no line is lost) and ``agent.sock`` (ttyS1, the agent's port). The console is copied
to ``console.log`` as it arrives and kept as lines (without carriage returns and terminal
escapes). Unless the VM is to be kept running after the test, qemu gets SIGKILL when the
process that started it dies (``PR_SET_PDEATHSIG``), so an interrupted test run leaves no VM.
"""

from __future__ import annotations

import base64
import codecs
import contextlib
import ctypes
import itertools
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs

from systemkit.diagnostics import SystemkitError
from systemkit.run.qemu import terminate

QEMU = "qemu-system-x86_64"
_ESCAPES = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|[@-Z\\-_]|c)")
PANIC = "Kernel panic - not syncing"


class VMError(SystemkitError):
    """qemu could not be started, stopped early, or the agent did not answer."""


@attrs.frozen
class CommandResult:
    """What a command run in the guest returned."""

    command: str
    status: int
    stdout: str
    stderr: str
    seconds: float


def _pdeathsig() -> None:  # pragma: no cover - runs in the child before exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def qemu_args(
    kernel: Path,
    initrd: Path,
    cmdline: str,
    workdir: Path,
    *,
    memory: str,
    cpus: int,
    accel: str,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """The qemu command line of a test VM whose sockets live in ``workdir``."""
    return [
        QEMU,
        "-accel",
        accel,
        "-m",
        memory,
        "-smp",
        str(cpus),
        "-kernel",
        str(kernel),
        "-initrd",
        str(initrd),
        "-append",
        cmdline,
        "-display",
        "none",
        "-monitor",
        "none",
        "-nic",
        "none",
        "-no-reboot",
        "-chardev",
        f"socket,id=console,path={workdir / 'console.sock'},server=on,wait=on",
        "-serial",
        "chardev:console",
        "-chardev",
        f"socket,id=agent,path={workdir / 'agent.sock'},server=on,wait=off",
        "-serial",
        "chardev:agent",
        "-pidfile",
        str(workdir / "qemu.pid"),
        *extra_args,
    ]


def _connect(path: Path, proc: subprocess.Popen[bytes], timeout: float) -> socket.socket:
    """Connect to qemu's unix socket ``path`` once it exists."""
    deadline = time.monotonic() + timeout
    while True:
        if path.exists():
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(str(path))
                return sock
            except OSError:
                sock.close()
        if proc.poll() is not None:
            try:
                said = (path.parent / "qemu.stderr").read_text(errors="replace").strip()
            except OSError:
                said = ""
            raise VMError(
                f"qemu exited with status {proc.returncode} before opening {path.name}"
                + (f": {said[-2000:]}" if said else "")
            )
        if time.monotonic() > deadline:
            raise VMError(f"qemu did not open {path} within {timeout:g}s")
        time.sleep(0.02)


class AgentClient:
    """The host's end of the agent protocol (see ``agent.sh``) over a connected socket.

    ``alive`` tells whether the guest can still answer (False once qemu has exited).
    """

    def __init__(self, sock: socket.socket, alive: Callable[[], bool] = lambda: True) -> None:
        self._agent = sock
        self._alive = alive
        self._cond = threading.Condition()
        self._ids = itertools.count(1)
        self._replies: dict[int, tuple[list[str], list[str], list[int]]] = {}
        self._pongs: set[int] = set()
        self._lock = threading.Lock()
        self._closed = False
        self.agent_seconds: float | None = None
        """Seconds from ``started`` to the agent's first answer."""
        self.started = time.monotonic()
        self._thread = threading.Thread(
            target=self._read_agent, name="systemkit-agent", daemon=True
        )
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._alive() and not self._closed

    def _read_agent(self) -> None:
        buf = b""
        while True:
            try:
                chunk = self._agent.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                with self._cond:
                    self._closed = True
                    self._cond.notify_all()
                return
            buf += chunk
            *complete, buf = buf.split(b"\n")
            with self._cond:
                for raw in complete:
                    self._agent_line(raw.decode("ascii", "replace").strip())
                self._cond.notify_all()

    def _agent_line(self, line: str) -> None:
        parts = line.split()
        if len(parts) < 2 or not parts[0].startswith("SKA-") or not parts[1].isdigit():
            return  # the tty's echo before the agent set it up, or noise
        kind, ident = parts[0], int(parts[1])
        if kind == "SKA-PONG":
            self._pongs.add(ident)
            return
        reply = self._replies.get(ident)
        if reply is None:
            return
        if kind == "SKA-OUT" and len(parts) == 3:
            reply[0].append(parts[2])
        elif kind == "SKA-ERR" and len(parts) == 3:
            reply[1].append(parts[2])
        elif kind == "SKA-EXIT" and len(parts) == 3:
            reply[2].append(int(parts[2]))

    def _send(self, line: str) -> None:
        try:
            self._agent.sendall(line.encode("ascii") + b"\n")
        except OSError as exc:
            raise VMError(f"cannot write to the agent's port: {exc}") from None

    def wait_for_agent(self, timeout: float) -> float:
        """Wait until the agent answers a ping; returns the seconds since qemu started."""
        if self.agent_seconds is not None:
            return self.agent_seconds
        deadline = time.monotonic() + timeout
        while True:
            ident = next(self._ids)
            self._send(f"PING {ident}")
            with self._cond:
                until = min(deadline, time.monotonic() + 1.0)
                while ident not in self._pongs and self.running:
                    left = until - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                if ident in self._pongs:
                    self.agent_seconds = time.monotonic() - self.started
                    return self.agent_seconds
            if not self.running:
                raise VMError("the VM stopped before its agent answered")
            if time.monotonic() >= deadline:
                raise VMError(f"the agent did not answer within {timeout:g}s of waiting")

    def run(self, command: str, timeout: float, *, shell: str = "guest") -> CommandResult:
        """Run ``command`` in the guest; the agent kills it after ``timeout`` seconds."""
        with self._lock:
            ident = next(self._ids)
            seconds = max(1, int(timeout + 0.999))
            payload = base64.b64encode(command.encode()).decode("ascii")
            reply: tuple[list[str], list[str], list[int]] = ([], [], [])
            with self._cond:
                self._replies[ident] = reply
            start = time.monotonic()
            self._send(f"RUN {ident} {seconds} {shell} {payload}")
            deadline = start + seconds + 30  # the agent's own timeout comes first
            with self._cond:
                while not reply[2]:
                    left = deadline - time.monotonic()
                    if left <= 0 or not self.running:
                        del self._replies[ident]
                        why = "the VM stopped" if not self.running else "no reply in time"
                        raise VMError(f"the agent did not finish {command!r}: {why}")
                    self._cond.wait(min(left, 0.5))
                del self._replies[ident]
            return CommandResult(
                command=command,
                status=reply[2][0],
                stdout=_decode(reply[0]),
                stderr=_decode(reply[1]),
                seconds=time.monotonic() - start,
            )

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._agent.shutdown(socket.SHUT_RDWR)
        self._agent.close()
        self._thread.join(5)


class VMProcess:
    """A running qemu with its console and agent connections."""

    def __init__(
        self,
        kernel: Path,
        initrd: Path,
        cmdline: str,
        *,
        workdir: Path,
        console_log: Path,
        memory: str = "512M",
        cpus: int = 1,
        accel: str = "tcg",
        keep: bool = False,
        extra_args: Sequence[str] = (),
    ) -> None:
        if shutil.which(QEMU) is None:
            raise VMError(f"{QEMU} is not installed (Debian package qemu-system-x86)")
        self.workdir = workdir
        self.console_log = console_log
        self.keep = keep
        self.command = qemu_args(
            kernel,
            initrd,
            cmdline,
            workdir,
            memory=memory,
            cpus=cpus,
            accel=accel,
            extra_args=extra_args,
        )
        self.lines: list[str] = []
        self.panicked = False
        self.started = time.monotonic()
        self._cond = threading.Condition()
        self._console_eof = False
        self._partial = ""
        self._log = console_log.open("w", encoding="utf-8")
        with (workdir / "qemu.stderr").open("wb") as stderr:
            self.proc = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
                preexec_fn=None if keep else _pdeathsig,
            )
        self._console: socket.socket | None = None
        self.agent: AgentClient | None = None
        try:
            self._console = _connect(workdir / "console.sock", self.proc, 30)
            self.agent = AgentClient(
                _connect(workdir / "agent.sock", self.proc, 30), alive=lambda: self.running
            )
        except BaseException:
            self.stop()
            raise
        self.agent.started = self.started
        self._thread = threading.Thread(
            target=self._read_console, name="systemkit-console", daemon=True
        )
        self._thread.start()

    # -- console -----------------------------------------------------------------------------

    def _read_console(self) -> None:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while True:
            assert self._console is not None
            try:
                chunk = self._console.recv(65536)
            except OSError:
                chunk = b""
            text = decoder.decode(chunk, final=not chunk)
            if text:
                try:
                    self._log.write(text)
                    self._log.flush()
                except (OSError, ValueError):
                    pass
            with self._cond:
                *complete, self._partial = (self._partial + text).split("\n")
                for raw in complete:
                    self._add_line(raw)
                if not chunk:
                    if self._partial:
                        self._add_line(self._partial)
                        self._partial = ""
                    self._console_eof = True
                self._cond.notify_all()
            if not chunk:
                return

    def _add_line(self, raw: str) -> None:
        line = _ESCAPES.sub("", raw).replace("\r", "")
        self.lines.append(line)
        if PANIC in line:
            self.panicked = True

    def wait_for_line(self, pattern: re.Pattern[str], timeout: float) -> str | None:
        """The first console line (since boot) that ``pattern`` matches; None if none does
        within ``timeout`` seconds or the VM stopped first."""
        deadline = time.monotonic() + timeout
        scanned = 0
        with self._cond:
            while True:
                while scanned < len(self.lines):
                    line = self.lines[scanned]
                    scanned += 1
                    if pattern.search(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or self._console_eof or not self.running:
                    return None
                self._cond.wait(min(left, 0.5))

    def tail(self, n: int = 30) -> list[str]:
        with self._cond:
            return list(self.lines[-n:])

    # -- lifetime ----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def wait_exit(self, timeout: float) -> bool:
        """Wait until qemu exits on its own; True if it did."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        self._thread.join(5)
        return True

    def stop(self) -> None:
        """Stop qemu (SIGTERM, then SIGKILL after 5 seconds) and close the connections."""
        if self.proc.poll() is None:
            terminate(self.proc)
        self._close()

    def detach(self) -> None:
        """Leave qemu running (for ``--systemkit-keep-vm``): close our connections only."""
        self._close()

    def _close(self) -> None:
        if self.agent is not None:
            self.agent.close()
        if self._console is not None:
            with contextlib.suppress(OSError):
                self._console.shutdown(socket.SHUT_RDWR)
            self._console.close()
            self._thread.join(5)
        with contextlib.suppress(OSError):
            self._log.close()


def _decode(lines: list[str]) -> str:
    try:
        return base64.b64decode("".join(lines)).decode("utf-8", "replace")
    except ValueError:
        return "<undecodable reply>"


def process_exists(pid: int) -> bool:
    """True while a process with ``pid`` exists (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


__all__ = ["AgentClient", "CommandResult", "VMError", "VMProcess", "process_exists", "qemu_args"]
