"""``diff`` across many systems: which spec paths vary, how many values; list items, not arrays."""

from __future__ import annotations

import json
from pathlib import Path

from systemkit import File, Kernel, Service, System, lower
from systemkit.spec.diff import diff_specs
from systemkit.variants.vary import variations
from tests.support.cli import systemkit_cli

INIT = ["linuxkit/init:1", "linuxkit/runc:1", "linuxkit/containerd:1"]


def variant(i: int) -> System:
    init = [*INIT, "linuxkit/firmware:1"] if i % 2 else INIT
    services = [Service("app", "alpine:3.20", command=["app", f"--id={i % 3}"])]
    if i == 0:
        services.append(Service("debug", "alpine:3.20"))
    return System(
        kernel=Kernel("linuxkit/kernel:6.12.59", cmdline="console=ttyS0"),
        init=init,
        services=services,
        files=[File("/etc/motd", contents="same\n")],
    )


def test_two_specs_show_list_items_added_not_two_arrays() -> None:
    changes = diff_specs(lower(variant(0)).spec, lower(variant(1)).spec)
    rendered = [c.render() for c in changes]
    assert '+ $.init[3]: "docker.io/linuxkit/firmware:1"' in rendered
    assert '~ $.services[name=app].command[1]: "--id=0" -> "--id=1"' in rendered
    assert not [c for c in changes if c.path in ("$.init", "$.services[name=app].command")]


def test_variations_count_values_and_presence() -> None:
    found = {v.path: v for v in variations([lower(variant(i)).spec for i in range(6)])}
    assert set(found) == {"$.init", "$.services[name=app].command", "$.services[name=debug]"}
    assert found["$.services[name=app].command"].values == 3
    debug = found["$.services[name=debug]"]
    assert (debug.present, debug.of) == (1, 6)
    init = found["$.init"]
    assert init.values == 2
    assert [(i.kind, i.path, i.systems) for i in init.items] == [("+", "$.init[3]", 3)]


def test_cli_diff_all(tmp_path: Path) -> None:
    path = tmp_path / "system.py"
    path.write_text(
        "from systemkit import Kernel, System\n"
        "systems = {f'v{i}': System(kernel=Kernel('k:1', cmdline=f'c={i % 2}')) "
        "for i in range(4)}\n"
    )
    res = systemkit_cli("diff", str(path), "--all", "--exit-code")
    assert res.returncode == 1, res.stderr
    assert res.stdout.splitlines()[1:] == ["  $.kernel.cmdline: 2 values"]
    assert res.stdout.startswith("4 systems, 2 distinct specs; 1 spec paths vary")
    res = systemkit_cli("diff", str(path), "--system", "v[02]", "--format", "json")
    data = json.loads(res.stdout)
    assert data["systems"] == ["v0", "v2"] and data["variations"] == []
