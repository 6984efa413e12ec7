"""Spec differences by spec path, and the ``systemkit diff`` command."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from systemkit import File, Kernel, Onboot, Service, System, lower
from systemkit.spec.diff import Change, diff_specs
from tests.support.cli import systemkit_cli


def base() -> System:
    return System(
        kernel=Kernel("linuxkit/kernel:6.6", cmdline="console=ttyS0"),
        onboot=[Onboot("dhcpcd", "linuxkit/dhcpcd:1")],
        services=[Service("getty", "linuxkit/getty:1"), Service("sshd", "linuxkit/sshd:1")],
        files=[File("/etc/motd", contents="a\n")],
    )


def test_same_meaning_is_no_difference() -> None:
    assert diff_specs(lower(base()).spec, lower(base()).spec) == []


def test_changes_are_named_by_path_and_matched_by_name() -> None:
    b = System(
        kernel=Kernel("linuxkit/kernel:6.6", cmdline="console=ttyAMA0"),
        onboot=[Onboot("dhcpcd", "linuxkit/dhcpcd:1")],
        # sshd first now, getty gone, agent new: order does not matter, names do
        services=[Service("sshd", "linuxkit/sshd:2"), Service("agent", "example/agent:1")],
        files=[File("/etc/motd", contents="a\n")],
    )
    changes = diff_specs(lower(base()).spec, lower(b).spec)
    assert [(c.kind, c.path) for c in changes] == [
        ("~", "$.kernel.cmdline"),
        ("-", "$.services[name=getty]"),
        ("~", "$.services[name=sshd].image"),
        ("+", "$.services[name=agent]"),
    ]
    assert changes[0] == Change("~", "$.kernel.cmdline", "console=ttyS0", "console=ttyAMA0")
    assert changes[0].render() == '~ $.kernel.cmdline: "console=ttyS0" -> "console=ttyAMA0"'


def test_cli_diff_exit_code_and_json(tmp_path: Path) -> None:
    (tmp_path / "system.py").write_text(
        "from systemkit import Kernel, System\n"
        "a = System(kernel=Kernel('linuxkit/kernel:6.6', cmdline='console=ttyS0'))\n"
        "b = System(kernel=Kernel('linuxkit/kernel:6.6', cmdline='console=ttyS1'))\n"
    )

    def diff(*args: str) -> subprocess.CompletedProcess[str]:
        return systemkit_cli("diff", "system.py", *args, cwd=tmp_path)

    res = diff("--system", "a", "--system-b", "b")
    assert res.returncode == 0
    assert res.stdout == '~ $.kernel.cmdline: "console=ttyS0" -> "console=ttyS1"\n'
    assert diff("--system", "a", "--system-b", "b", "--exit-code").returncode == 1
    assert diff("--system", "a", "--system-b", "a", "--exit-code").returncode == 0
    data = json.loads(diff("--system", "a", "--system-b", "b", "--format", "json").stdout)
    assert data == [
        {"kind": "~", "path": "$.kernel.cmdline", "old": "console=ttyS0", "new": "console=ttyS1"}
    ]
