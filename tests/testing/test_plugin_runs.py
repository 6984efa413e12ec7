"""The plugin seen from the outside: pytest runs of small test files, each booting the hello
system. A failed test's report carries the console and the last commands;
``--systemkit-keep-vm`` leaves the VM running and says how to reach it; Ctrl-C leaves no VM
behind; ``pytest -n 2`` runs two VMs side by side without clashes."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from systemkit.testing.vm import process_exists

pytestmark = [pytest.mark.slow, pytest.mark.qemu]

REPO = Path(__file__).resolve().parents[2]
HELLO = REPO / "examples" / "hello" / "system.py"

HEADER = f"""\
from __future__ import annotations

import os
import signal
from pathlib import Path

from systemkit.testing import Machine, VMFactory

HELLO = {str(HELLO)!r}


def boot(systemkit_vm: VMFactory) -> Machine:
    return systemkit_vm(HELLO, memory="384M", cmdline_append="systemkit.linger=forever")
"""


def run_pytest(
    tmp_path: Path, store: Path, source: str, *args: str, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_inner.py").write_text(HEADER + source)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--cache",
            str(store),
            str(tmp_path / "test_inner.py"),
            *args,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def wait_gone(pid: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process_exists(pid):
            return True
        time.sleep(0.2)
    return False


def test_a_failure_reports_console_and_commands_and_keep_vm_leaves_it_reachable(
    tmp_path: Path, hello_store: Path
) -> None:
    source = """
def test_fails(systemkit_vm: VMFactory) -> None:
    m = boot(systemkit_vm)
    m.succeed("echo first-command")
    m.succeed("echo second-output; exit 4")
"""
    proc = run_pytest(tmp_path, hello_store, source, "--systemkit-keep-vm")
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    # the error itself: command, status, output, console
    assert "command failed with exit status 4: echo second-output; exit 4" in out
    # the report's sections
    assert re.search(r"-+ systemkit console of hello \(last 60 lines; all: \S+\) -+", out)
    assert "systemkit-init: service systemkit-agent: started" in out
    assert "systemkit commands run on hello (last 10)" in out
    assert "$ echo first-command   # exit 0" in out
    assert "$ echo second-output; exit 4   # exit 4" in out
    assert "  stdout| second-output" in out
    # kept running, and how to reach it
    assert "systemkit: VMs left running" in out
    found = re.search(r"qemu pid (\d+) left running", out)
    sockets = re.search(r"python -m systemkit\.testing (\S+) 'uname -a'", out)
    assert found and sockets, out
    pid = int(found.group(1))
    try:
        assert process_exists(pid)
        reach = subprocess.run(
            [sys.executable, "-m", "systemkit.testing", sockets.group(1), "echo reached; hostname"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert (reach.returncode, reach.stdout) == (0, "reached\nsystemkit\n"), reach.stderr
        assert Path(sockets.group(1), "console.sock").exists()
    finally:
        os.kill(pid, signal.SIGKILL)
        # a kept VM is the user's to remove: this test is that user
        shutil.rmtree(sockets.group(1), ignore_errors=True)
    assert wait_gone(pid)


def test_ctrl_c_stops_the_vm(tmp_path: Path, hello_store: Path) -> None:
    source = """
def test_interrupted(systemkit_vm: VMFactory) -> None:
    m = boot(systemkit_vm)
    m.succeed("true")
    Path("vm.txt").write_text(f"{m.pid} {m.socket_dir}")
    os.kill(os.getpid(), signal.SIGINT)
"""
    proc = run_pytest(tmp_path, hello_store, source)
    assert proc.returncode == 2, proc.stdout + proc.stderr  # pytest's "interrupted"
    assert "KeyboardInterrupt" in proc.stdout
    pid, sockets = (tmp_path / "vm.txt").read_text().split()
    assert wait_gone(int(pid), 10), "qemu still runs after the interrupted run"
    assert not Path(sockets).exists()


def test_two_vms_run_in_parallel_under_xdist(tmp_path: Path, hello_store: Path) -> None:
    source = """
import pytest

@pytest.mark.parametrize("n", [1, 2])
def test_vm(systemkit_vm: VMFactory, n: int) -> None:
    m = boot(systemkit_vm)
    m.succeed(f"echo {n} > /tmp/n")
    assert m.succeed("cat /tmp/n") == f"{n}\\n"
    Path(f"vm{n}.txt").write_text(f"{m.pid} {m.socket_dir} {m.console_log}")
    m.shutdown()
"""
    proc = run_pytest(tmp_path, hello_store, source, "-n", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout
    one, two = ((tmp_path / f"vm{n}.txt").read_text().split() for n in (1, 2))
    assert one[0] != two[0] and one[1] != two[1] and one[2] != two[2]
    assert len(str(Path(one[1]) / "console.sock")) < 108  # a unix socket path must be short
    for pid, sockets, _log in (one, two):
        assert wait_gone(int(pid), 10)
        assert not Path(sockets).exists()
