"""The composition patterns of examples/composition behave as docs/composition.md says."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import attrs
import pytest

from systemkit import (
    Kernel,
    Onboot,
    Service,
    System,
    UserError,
    evolve,
    lower,
)
from systemkit.diagnostics import ModelValueError
from systemkit.location import Location
from tests.support.cli import systemkit_cli

REPO = Path(__file__).resolve().parents[2]
COMPOSITION = REPO / "examples" / "composition"
LIB = COMPOSITION / "lib.py"
LoadExample = Callable[[str], dict[str, System]]


def line_of(path: Path, text: str) -> int:
    """The 1-based line of the only line of ``path`` containing ``text``."""
    hits = [i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    assert len(hits) == 1, f"{text!r} occurs {len(hits)} times in {path}"
    return hits[0]


def this_line() -> int:
    frame = sys._getframe(1)
    return frame.f_lineno


def same_place(loc: Location | None, path: Path, line: int) -> bool:
    return loc is not None and Path(loc.file).resolve() == path.resolve() and loc.line == line


def helpers(load_example: LoadExample) -> ModuleType:
    """The example's ``lib`` module (the loader forgets it after loading the example)."""
    load_example("composition")
    assert "lib" not in sys.modules  # each load of a system file gets its own helpers
    spec = importlib.util.spec_from_file_location("composition_lib", LIB)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def service(system: System, name: str) -> Service:
    (found,) = [s for s in system.services if s.name == name]
    return found


# ---- subclass with defaults --------------------------------------------------------------------


def test_getty_subclass_defaults_and_overrides(load_example: LoadExample) -> None:
    lib = helpers(load_example)
    Getty, GETTY = lib.Getty, lib.GETTY

    default = Getty()
    assert (default.name, default.image, default.env) == ("getty", GETTY, ("INSECURE=true",))
    assert isinstance(default, Service)
    overridden = Getty("getty-secure", env={"INSECURE": "false"}, net="host")
    assert overridden.name == "getty-secure" and overridden.image == GETTY
    assert overridden.env == ("INSECURE=false",) and overridden.net == "host"
    # An explicit None is an override too: the image label's env applies.
    assert Getty(env=None).env is None
    # Lowered like any other service.
    spec = lower(System(services=[default])).spec.services[0]
    assert spec.name == "getty" and spec.env == ["INSECURE=true"]
    # The overrides are validated like the base class's arguments.
    with pytest.raises(ModelValueError, match="unknown capability"):
        Getty(capabilities=["CAP_NOT_A_THING"])


def test_the_example_uses_the_getty_both_ways(load_example: LoadExample) -> None:
    system = load_example("composition")["system"]
    assert service(system, "getty").env == ("INSECURE=true",)
    assert service(system, "getty-secure").env == ("INSECURE=false",)
    assert type(service(system, "getty")).__name__ == "Getty"


# ---- loops and functions -----------------------------------------------------------------------


def test_loop_generated_services_are_named_and_ordered(load_example: LoadExample) -> None:
    system = load_example("composition")["system"]
    names = [s.name for s in system.services if s.name.startswith("ticker-")]
    assert names == ["ticker-fast", "ticker-slow"]
    assert "sleep 10" in (service(system, "ticker-slow").command or ())[2]


def test_function_returning_components_is_reusable(load_example: LoadExample) -> None:
    lib = helpers(load_example)
    a, b = lib.base(), lib.base(cmdline="console=ttyAMA0")
    assert a.kernel is not None and b.kernel is not None
    assert (
        a.kernel.cmdline == "console=tty0 console=ttyS0" and b.kernel.cmdline == "console=ttyAMA0"
    )
    assert a.onboot == b.onboot and a.onboot is not b.onboot  # equal values, fresh objects


# ---- evolve ------------------------------------------------------------------------------------


def test_evolve_copies_with_changes_and_leaves_the_original(load_example: LoadExample) -> None:
    system = load_example("composition")["system"]
    fast = service(system, "ticker-fast")
    chatty = evolve(fast, name="ticker-chatty")
    assert chatty.name == "ticker-chatty"
    assert (chatty.image, chatty.command) == (fast.image, fast.command)
    assert fast.name == "ticker-fast"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        fast.name = "changed"  # type: ignore[misc]


def test_evolve_validates_and_converts_like_the_constructor() -> None:
    svc = Service("web", "nginx:1.25")
    assert evolve(svc, env={"A": "1"}).env == ("A=1",)
    with pytest.raises(ModelValueError, match="unknown capability"):
        evolve(svc, capabilities=["CAP_NET_ADMINN"])  # type: ignore[list-item]


def test_evolve_of_a_subclass_keeps_the_subclass(load_example: LoadExample) -> None:
    lib = helpers(load_example)
    copy = evolve(lib.Getty(), name="getty2")
    assert isinstance(copy, lib.Getty) and copy.env == ("INSECURE=true",)


def test_the_debug_system_is_the_main_one_plus_a_fragment(load_example: LoadExample) -> None:
    systems = load_example("composition")
    system, debug = systems["system"], systems["debug"]
    assert debug.services[: len(system.services)] == system.services
    assert [s.name for s in debug.services[len(system.services) :]] == ["ticker-chatty", "shell"]
    assert debug.kernel is not None and system.kernel is not None
    assert debug.kernel.image == system.kernel.image
    assert debug.kernel.cmdline == "console=ttyS0 debug loglevel=7"


# ---- merging -----------------------------------------------------------------------------------


def test_merge_kernel_fields_override_and_lists_append() -> None:
    a = System(
        kernel=Kernel("linuxkit/kernel:6.6", cmdline="console=ttyS1", ucode="intel-ucode.cpio"),
        init=["linuxkit/init:1"],
        onboot=[Onboot("one", "alpine")],
        services=[Service("a", "alpine")],
    )
    b = System(
        kernel=Kernel("linuxkit/kernel:6.6", cmdline="console=ttyAMA0", ucode=""),
        init=["linuxkit/firmware:1"],
        onboot=[Onboot("two", "alpine")],
        services=[Service("b", "alpine")],
    )
    c = System(kernel=Kernel("linuxkit/kernel:6.12"))  # image only: cmdline and ucode stay
    merged = a + b + c
    assert merged.kernel == Kernel("linuxkit/kernel:6.12", cmdline="console=ttyAMA0", ucode="")
    assert merged.init == ("linuxkit/init:1", "linuxkit/firmware:1")
    assert [o.name for o in merged.onboot] == ["one", "two"]
    assert [s.name for s in merged.services] == ["a", "b"]
    assert merged == a.merge(b, c) == a + (b + c)
    assert a + System() == a and System() + a == a


def test_merge_is_linuxkits_multi_file_build(load_example: LoadExample) -> None:
    """base + monitoring + app is what the example's `system` is."""
    system = load_example("composition")["system"]
    names = [s.name for s in system.services]
    assert names[:2] == ["rngd", "node_exporter"]  # monitoring() came second
    assert [o.name for o in system.onboot] == ["dhcpcd"]  # from base()


def test_duplicate_service_name_error_shows_both_locations(load_example: LoadExample) -> None:
    system = load_example("composition")["system"]
    first = service(system, "rngd")
    with pytest.raises(UserError) as info:
        dup_line = this_line() + 1
        _ = system + System(services=[Service("rngd", "linuxkit/rngd:other")])
    (diag,) = info.value.diagnostics
    assert diag.code == "SK201" and "'rngd'" in diag.message
    assert same_place(diag.location, Path(__file__), dup_line)
    assert diag.related == (first.location,)
    rngd_line = line_of(LIB, 'Service("rngd", RNGD)')
    assert same_place(first.location, LIB, rngd_line)
    rendered = diag.render()
    assert f"test_examples_composition.py:{dup_line}:" in rendered
    assert f"lib.py:{rngd_line}:" in rendered


def test_duplicate_service_in_a_system_file_is_reported_by_the_cli(tmp_path: Path) -> None:
    (tmp_path / "system.py").write_text(
        textwrap.dedent(
            """\
            from systemkit import Service, System

            a = Service("web", "nginx:1.25")
            b = Service("web", "nginx:1.26")
            system = System(services=[a]) + System(services=[b])
            """
        )
    )
    res = systemkit_cli("lower", "system.py", cwd=tmp_path)
    assert res.returncode == 1
    assert "Traceback" not in res.stderr
    assert "system.py:4:13: error[SK201]: service name 'web'" in res.stderr
    assert res.stderr.count("error[SK201]") == 1  # once, though a + b and the rule both see it
    assert "system.py:3:" in res.stderr  # the other one


# ---- locations ---------------------------------------------------------------------------------


def test_locations_point_into_the_helper_module(load_example: LoadExample) -> None:
    system = load_example("composition")["system"]
    rngd = service(system, "rngd")
    assert same_place(rngd.location, LIB, line_of(LIB, 'Service("rngd", RNGD)'))
    ticker = service(system, "ticker-fast")
    assert same_place(ticker.location, LIB, line_of(LIB, 'Service(f"ticker-{name}"'))
    assert system.onboot[0].location is not None
    assert Path(system.onboot[0].location.file).name == "lib.py"
    # ... and lowering keeps them, by spec path.
    lowered = lower(system)
    assert lowered.locations["$.services[0]"] == rngd.location


def test_location_of_an_object_made_in_a_nested_function(load_example: LoadExample) -> None:
    system = load_example("composition")["system"]
    exporter = service(system, "node_exporter")
    line = line_of(LIB, 'return Service(name, image, net="host", pid="host")')
    assert same_place(exporter.location, LIB, line)


def test_location_of_objects_made_in_the_system_file(load_example: LoadExample) -> None:
    systems = load_example("composition")
    system_py = COMPOSITION / "system.py"
    # A merged system is located where its first part was made (here: base() in lib.py).
    merged = systems["system"]
    base_line = line_of(LIB, "def base(") + 2  # the `return System(` line after the docstring
    assert same_place(merged.location, LIB, base_line)
    shell = service(systems["debug"], "shell")
    assert same_place(shell.location, system_py, line_of(system_py, 'Service("shell"'))


def test_location_of_an_evolved_copy_is_the_evolve_call(load_example: LoadExample) -> None:
    systems = load_example("composition")
    system_py = COMPOSITION / "system.py"
    chatty = service(systems["debug"], "ticker-chatty")
    assert same_place(chatty.location, system_py, line_of(system_py, "chatty = evolve("))


def test_location_of_a_subclass_instance_is_the_users_call(load_example: LoadExample) -> None:
    system = load_example("composition")["system"]
    system_py = COMPOSITION / "system.py"
    getty = service(system, "getty")
    assert same_place(getty.location, system_py, line_of(system_py, "console = Getty()"))


def test_location_is_not_part_of_equality_hash_or_spec() -> None:
    a = Service("web", "nginx:1.25", env={"A": "1"})
    b = Service("web", "nginx:1.25", env={"A": "1"})
    assert a.location != b.location
    assert a == b and hash(a) == hash(b)
    assert lower(System(services=[a])).spec == lower(System(services=[b])).spec
