"""Boot a kernel+initrd build under qemu, stream its serial console and record its lines.

:func:`run_qemu` boots, waits until the guest powers off (qemu runs with ``-no-reboot``, so a
power off or a reboot ends it) or the timeout passes (then qemu is stopped: SIGTERM, then
SIGKILL), and returns a :class:`RunResult`. :class:`QemuSession` is the same boot as a context
manager, for tests that wait for console lines one by one with :meth:`QemuSession.expect`.

The serial console (ttyS0) is qemu's stdio; the guest needs ``console=ttyS0`` on its command
line to print there. Console bytes are passed on to ``console`` as they arrive; the recorded
lines have carriage returns and terminal escape sequences removed.
"""

from __future__ import annotations

import codecs
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import attrs

from systemkit.diagnostics import SystemkitError

QEMU = "qemu-system-x86_64"
_ESCAPES = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|[@-Z\\-_]|c)")
_PANIC = "Kernel panic - not syncing"
_POWER_DOWN = "reboot: Power down"
_RESTART = "reboot: Restarting system"


def terminate(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """Stop a qemu process: SIGTERM, then SIGKILL after ``grace`` seconds; wait for it."""
    try:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    except ProcessLookupError:
        pass


class QemuError(SystemkitError):
    """qemu could not be started, or a console expectation was not met."""


class ExpectTimeout(QemuError):
    """:meth:`QemuSession.expect` did not see the line in time."""


@attrs.frozen
class RunResult:
    """How a boot ended, and what the console printed."""

    returncode: int | None
    """qemu's exit status (None if it had to be killed)."""
    powered_off: bool
    """The guest powered off (qemu exited 0 on its own, with no reboot and no panic seen)."""
    timed_out: bool
    panicked: bool
    """The kernel printed a panic (qemu is stopped when it does)."""
    lines: tuple[str, ...]
    """Console lines, without carriage returns and escape sequences."""
    seconds: float
    """Wall-clock time from starting qemu to its exit."""
    missing: tuple[str, ...] = ()
    """Strings of ``expect`` that no console line contained (in order)."""

    @property
    def ok(self) -> bool:
        """Powered off on its own and printed every expected string."""
        return self.powered_off and not self.missing

    def output(self) -> str:
        return "".join(line + "\n" for line in self.lines)


def qemu_command(
    kernel: Path | None,
    initrd: Path | None,
    cmdline: str,
    *,
    memory: str = "512M",
    cpus: int = 1,
    accel: str = "tcg",
    extra_args: Sequence[str] = (),
    qemu: str = QEMU,
) -> list[str]:
    """The qemu command line :func:`run_qemu` uses. Without ``kernel`` the firmware boots
    from the disks of ``extra_args`` (see :mod:`systemkit.run.detect`)."""
    boot = [] if kernel is None else ["-kernel", str(kernel), "-append", cmdline]
    if kernel is not None and initrd is not None:
        boot[2:2] = ["-initrd", str(initrd)]
    return [
        qemu,
        "-accel",
        accel,
        "-m",
        memory,
        "-smp",
        str(cpus),
        *boot,
        "-display",
        "none",
        "-serial",
        "stdio",
        "-monitor",
        "none",
        "-nic",
        "none",
        "-no-reboot",
        *extra_args,
    ]


class QemuSession:
    """A running qemu: ``with QemuSession(...) as vm: vm.expect("hello"); result = vm.wait()``.

    Leaving the ``with`` block stops qemu if it is still running.
    """

    def __init__(
        self,
        kernel: Path | None,
        initrd: Path | None,
        cmdline: str,
        *,
        memory: str = "512M",
        cpus: int = 1,
        accel: str = "tcg",
        extra_args: Sequence[str] = (),
        console: TextIO | None = None,
        qemu: str = QEMU,
    ) -> None:
        for what, path in (("kernel", kernel), ("initrd", initrd)):
            if path is not None and not Path(path).is_file():
                raise QemuError(f"{what} {path} does not exist")
        if shutil.which(qemu) is None:
            raise QemuError(f"{qemu} is not installed (Debian package qemu-system-x86)")
        self.command = qemu_command(
            None if kernel is None else Path(kernel),
            None if initrd is None else Path(initrd),
            cmdline,
            memory=memory,
            cpus=cpus,
            accel=accel,
            extra_args=extra_args,
            qemu=qemu,
        )
        self.console = console
        self.lines: list[str] = []
        self.panicked = False
        self.rebooted = False
        self._partial = ""
        self._cond = threading.Condition()
        self._eof = False
        self._killed = False
        self._timed_out = False
        self._next_line = 0
        self._started = time.monotonic()
        self._ended: float | None = None
        self._proc = subprocess.Popen(
            self.command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self._reader = threading.Thread(target=self._read, name="qemu-console", daemon=True)
        self._reader.start()

    # -- console -----------------------------------------------------------------------------

    def _read(self) -> None:
        assert self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            text = decoder.decode(chunk, final=not chunk)
            if not chunk and not text:
                break
            if self.console is not None:
                try:
                    self.console.write(text)
                    self.console.flush()
                except (OSError, ValueError):
                    pass
            self._feed(text)
            if not chunk:
                break
        with self._cond:
            if self._partial:
                self._add_line(self._partial)
                self._partial = ""
            self._eof = True
            self._cond.notify_all()

    def _feed(self, text: str) -> None:
        with self._cond:
            data = self._partial + text
            *complete, self._partial = data.split("\n")
            for raw in complete:
                self._add_line(raw)
            self._cond.notify_all()
        if self.panicked:
            self.stop()

    def _add_line(self, raw: str) -> None:
        line = _ESCAPES.sub("", raw).replace("\r", "")
        self.lines.append(line)
        if _PANIC in line:
            self.panicked = True
        if _RESTART in line:
            self.rebooted = True

    def expect(self, text: str, timeout: float = 60.0, *, regex: bool = False) -> str:
        """Wait for a console line containing ``text`` (or matching the regular expression),
        after the line the previous successful :meth:`expect` matched; returns the line.

        Raises :class:`ExpectTimeout` (whose message ends with the console's last lines) when
        ``timeout`` seconds pass or the guest stops first; the position is then unchanged.
        """
        pattern = re.compile(text) if regex else None
        deadline = time.monotonic() + timeout
        scanned = self._next_line
        with self._cond:
            while True:
                while scanned < len(self.lines):
                    line = self.lines[scanned]
                    scanned += 1
                    matched = pattern.search(line) is not None if pattern else text in line
                    if matched:
                        self._next_line = scanned
                        return line
                if self._eof:
                    raise ExpectTimeout(
                        f"the guest stopped before printing {text!r}" + self._tail()
                    )
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ExpectTimeout(
                        f"no console line with {text!r} within {timeout:g}s" + self._tail()
                    )
                self._cond.wait(left)

    def _tail(self, n: int = 30) -> str:
        shown = self.lines[-n:]
        return "; the console's last lines:\n" + "".join(f"  | {line}\n" for line in shown)

    # -- lifetime ----------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop qemu: SIGTERM, then SIGKILL after 5 seconds."""
        if self._proc.poll() is not None:
            return
        self._killed = True
        terminate(self._proc)

    def wait(self, timeout: float | None = None) -> RunResult:
        """Wait until qemu exits (stopping it after ``timeout`` seconds from the boot's start);
        returns the result."""
        try:
            left = None if timeout is None else max(0.0, timeout - self.elapsed())
            self._proc.wait(left)
        except subprocess.TimeoutExpired:
            self._timed_out = True
            self.stop()
        self._reader.join(10)
        if self._ended is None:
            self._ended = time.monotonic()
        rc = self._proc.returncode
        killed = self._killed
        return RunResult(
            returncode=None if killed else rc,
            powered_off=(not killed and rc == 0 and not self.rebooted and not self.panicked),
            timed_out=self._timed_out,
            panicked=self.panicked,
            lines=tuple(self.lines),
            seconds=self._ended - self._started,
        )

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def __enter__(self) -> QemuSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._reader.join(10)
        if self._proc.stdout is not None and not self._reader.is_alive():
            self._proc.stdout.close()


def run_qemu(
    kernel: Path | None,
    initrd: Path | None,
    cmdline: str,
    *,
    memory: str = "512M",
    cpus: int = 1,
    timeout: float | None,
    accel: str = "tcg",
    extra_args: Sequence[str] = (),
    console: TextIO | None = sys.stdout,
    expect: list[str] | None = None,
    qemu: str = QEMU,
) -> RunResult:
    """Boot ``kernel`` + ``initrd`` with ``cmdline`` and wait until the guest powers off or
    ``timeout`` seconds pass (``None``: no limit).

    ``console`` receives the console output as it arrives (``None``: not shown). ``expect``
    lists strings that must appear on console lines, in that order; those not seen are in
    :attr:`RunResult.missing`.
    """
    with QemuSession(
        kernel,
        initrd,
        cmdline,
        memory=memory,
        cpus=cpus,
        accel=accel,
        extra_args=extra_args,
        console=console,
        qemu=qemu,
    ) as session:
        result = session.wait(timeout)
    return attrs.evolve(result, missing=tuple(_missing(result.lines, expect or [])))


def _missing(lines: Sequence[str], expect: Sequence[str]) -> list[str]:
    """The strings of ``expect`` not found in ``lines`` in order."""
    i = 0
    for n, text in enumerate(expect):
        while i < len(lines) and text not in lines[i]:
            i += 1
        if i == len(lines):
            return list(expect[n:])
        i += 1
    return []
