"""The pytest plugin (entry point ``pytest11: systemkit``): options, fixtures, failure reports.

Loaded in every pytest run where systemkit is installed, so it stays cheap: it registers its
options and fixtures, and imports the build and qemu machinery only when a test asks for a VM.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from systemkit.testing.machine import set_current_test

if TYPE_CHECKING:
    from systemkit.testing.factory import BuildCache, VMFactory
    from systemkit.testing.machine import Machine

REPORT_CONSOLE_LINES = 60
"""Console lines attached to the report of a failed test."""
REPORT_COMMANDS = 10
"""Commands attached to the report of a failed test."""

_factories: list[VMFactory] = []
_kept: list[str] = []
_atexit_registered = False


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("systemkit", "systemkit: boot systems under qemu and drive them")
    group.addoption(
        "--systemkit-cache",
        "--cache",
        dest="systemkit_cache",
        metavar="DIR",
        default=None,
        help="the image store systemkit_vm builds from (default: $SYSTEMKIT_CACHE, else "
        "$XDG_CACHE_HOME/systemkit/images, else ~/.cache/systemkit/images)",
    )
    group.addoption(
        "--systemkit-keep-vm",
        dest="systemkit_keep_vm",
        action="store_true",
        default=False,
        help="leave the VMs of the tests running after the run and print how to reach them "
        "(console socket, agent socket, qemu pid)",
    )
    group.addoption(
        "--systemkit-busybox",
        dest="systemkit_busybox",
        metavar="PATH",
        default=None,
        help="the static busybox the test agent image is made of (default: /bin/busybox of "
        "Debian's busybox-static)",
    )
    group.addoption(
        "--systemkit-accel",
        dest="systemkit_accel",
        metavar="ACCEL",
        default="tcg",
        help="qemu accelerator for systemkit_vm (default: tcg; kvm where it works)",
    )


def _store_root(config: pytest.Config) -> Path:
    explicit = config.getoption("systemkit_cache")
    if explicit:
        return Path(explicit).resolve()
    env = os.environ.get("SYSTEMKIT_CACHE")
    if env:
        return Path(env).resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "systemkit" / "images"


@pytest.fixture(scope="session")
def systemkit_cache_dir(request: pytest.FixtureRequest) -> Path:
    """The image store ``systemkit_vm`` builds from: ``--cache``, ``$SYSTEMKIT_CACHE`` or the
    user's default store. Override this fixture to use another one."""
    return _store_root(request.config)


@pytest.fixture(scope="session")
def _systemkit_builds(tmp_path_factory: pytest.TempPathFactory) -> BuildCache:
    from systemkit.testing.factory import BuildCache

    return BuildCache(tmp_path_factory.mktemp("systemkit-builds"))


def _factory(
    request: pytest.FixtureRequest, store: Path, builds: BuildCache, log_dir: Path
) -> VMFactory:
    from systemkit.testing.factory import VMFactory

    global _atexit_registered
    if not _atexit_registered:
        atexit.register(_stop_all)
        _atexit_registered = True
    config = request.config
    factory = VMFactory(
        store_root=store,
        builds=builds,
        log_dir=log_dir,
        keep=bool(config.getoption("systemkit_keep_vm")),
        busybox=config.getoption("systemkit_busybox"),
        accel=str(config.getoption("systemkit_accel")),
        on_keep=_remember_kept,
    )
    _factories.append(factory)
    return factory


def _close(factory: VMFactory) -> None:
    try:
        factory.close()
    finally:
        if factory in _factories:
            _factories.remove(factory)


@pytest.fixture
def systemkit_vm(
    request: pytest.FixtureRequest,
    systemkit_cache_dir: Path,
    _systemkit_builds: BuildCache,
    tmp_path: Path,
) -> Iterator[VMFactory]:
    """Boots systems for this test: ``m = systemkit_vm(system)`` returns a
    :class:`~systemkit.testing.Machine`; every machine is stopped when the test ends."""
    factory = _factory(request, systemkit_cache_dir, _systemkit_builds, tmp_path)
    yield factory
    _close(factory)


@pytest.fixture(scope="module")
def systemkit_vm_module(
    request: pytest.FixtureRequest,
    systemkit_cache_dir: Path,
    _systemkit_builds: BuildCache,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[VMFactory]:
    """Like ``systemkit_vm``, but its machines live until the end of the module: boot once in
    a module-scoped fixture, share the machine between the module's tests."""
    factory = _factory(
        request, systemkit_cache_dir, _systemkit_builds, tmp_path_factory.mktemp("systemkit-vm")
    )
    yield factory
    _close(factory)


def _stop_all() -> None:
    """At interpreter exit: stop whatever a fixture teardown did not (an interrupted run)."""
    for factory in list(_factories):
        _close(factory)


def _remember_kept(machine: Machine) -> None:
    sock = machine.socket_dir
    _kept.append(
        f"{machine.name}: qemu pid {machine.pid} left running (--systemkit-keep-vm)\n"
        f"  console:  socat -,raw,echo=0 UNIX-CONNECT:{sock / 'console.sock'}\n"
        f"  agent:    {sock / 'agent.sock'} (protocol: systemkit/testing/agent.sh)\n"
        f"  commands: python -m systemkit.testing {sock} 'uname -a'\n"
        f"  log:      {machine.console_log}\n"
        f"  stop it:  kill {machine.pid}"
    )


# -- hooks ---------------------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    set_current_test(item.nodeid)
    try:
        return (yield)
    finally:
        set_current_test(None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        for factory in _factories:
            for machine in factory.machines:
                if item.nodeid in machine.tests:
                    report.sections.extend(report_sections(machine))
    return report


def report_sections(machine: Machine) -> list[tuple[str, str]]:
    """The sections a failed test's report gets for ``machine``: the console's last lines and
    the last commands with their status and output."""
    lines = machine.console_lines[-REPORT_CONSOLE_LINES:]
    console = "".join(line + "\n" for line in lines) or "(nothing)\n"
    commands = []
    for record in list(machine.history)[-REPORT_COMMANDS:]:
        status = "no answer" if record.status is None else f"exit {record.status}"
        commands.append(f"$ {record.command}   # {status}, {record.seconds:.1f}s\n")
        for title, text in (("stdout", record.stdout), ("stderr", record.stderr)):
            if text:
                body = "".join(f"  {title}| {line}\n" for line in text.splitlines()[-10:])
                commands.append(body)
    return [
        (
            f"systemkit console of {machine.name} (last {REPORT_CONSOLE_LINES} lines; "
            f"all: {machine.console_log})",
            console,
        ),
        (
            f"systemkit commands run on {machine.name} (last {REPORT_COMMANDS})",
            "".join(commands) or "(none)\n",
        ),
    ]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _kept:
        terminalreporter.section("systemkit: VMs left running")
        for text in _kept:
            terminalreporter.write_line(text)
