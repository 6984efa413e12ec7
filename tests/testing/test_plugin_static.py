"""The plugin without booting anything: it is installed as a pytest11 entry point, its options
are registered, its import is cheap, its API is typed (mypy catches ``m.succed``), the agent
image is deterministic and the agent adds one service and nothing else."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import attrs
import pytest

from systemkit import File, Kernel, Service, System, lower
from systemkit.images.store import ImageStore
from systemkit.testing import AGENT_NAME, AgentError, spec_view
from systemkit.testing.agent import (
    agent_service,
    ensure_agent_image,
    find_busybox,
    is_static_elf,
    with_agent,
)

REPO = Path(__file__).resolve().parents[2]


def test_the_plugin_is_a_pytest11_entry_point() -> None:
    found = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert found.get("systemkit") == "systemkit.testing.plugin"


def test_pytest_help_lists_the_options() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    for option in ("--systemkit-keep-vm", "--cache=DIR", "--systemkit-cache=DIR"):
        assert option in proc.stdout


def test_loading_the_plugin_imports_no_build_or_qemu_machinery() -> None:
    code = (
        "import sys, systemkit.testing.plugin; "
        "heavy = [m for m in ('systemkit.backends', 'systemkit.check', 'systemkit.assemble', "
        "'systemkit.testing.factory', 'systemkit.testing.agent') if m in sys.modules]; "
        "print(heavy)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert proc.stdout.strip() == "[]"


TYPED_TEST = """\
from systemkit import System
from systemkit.testing import Machine, VMFactory


def test_web(systemkit_vm: VMFactory, web_system: System) -> None:
    m: Machine = systemkit_vm(web_system, memory="512M")
    m.wait_for_console_text(r"web ready", timeout=60)
    assert "200" in m.succeed("wget -qO- http://127.0.0.1/health")
    m.fail("test -e /etc/shadow-")
    m.wait_until_succeeds("pidof nginx", timeout=30)
    m.wait_for_open_port(80)
    m.wait_for_service("web")
    m.shutdown()
"""


def _mypy(tmp_path: Path, source: str) -> tuple[int, str]:
    path = tmp_path / "test_user.py"
    path.write_text(source)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--show-error-codes",
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    return proc.returncode, proc.stdout + proc.stderr


def test_a_typo_in_a_machine_method_is_a_mypy_error(tmp_path: Path) -> None:
    code, out = _mypy(tmp_path, TYPED_TEST)
    assert code == 0, out
    code, out = _mypy(tmp_path, TYPED_TEST.replace("m.succeed(", "m.succed("))
    assert code == 1
    assert 'test_user.py:8: error: "Machine" has no attribute "succed"' in out
    assert "[attr-defined]" in out
    code, out = _mypy(tmp_path, TYPED_TEST.replace("timeout=30", "timeout='30'"))
    assert code == 1
    assert "wait_until_succeeds" in out and "[arg-type]" in out


def test_the_agent_image_is_deterministic_and_named_by_its_content(tmp_path: Path) -> None:
    busybox = find_busybox()
    a = ensure_agent_image(ImageStore(tmp_path / "a"), busybox)
    b = ensure_agent_image(ImageStore(tmp_path / "b"), busybox)
    assert a == b
    assert a.startswith("systemkit.local/testing/agent:")
    da, db = (ImageStore(tmp_path / s).lookup(a) for s in ("a", "b"))
    assert da is not None and db is not None and da["digest"] == db["digest"]
    # a second call finds it
    assert ensure_agent_image(ImageStore(tmp_path / "a"), busybox) == a


def test_a_dynamic_busybox_is_refused_with_a_hint(tmp_path: Path) -> None:
    assert is_static_elf(find_busybox())
    assert not is_static_elf(Path(sys.executable).resolve())
    with pytest.raises(AgentError, match="busybox-static"):
        find_busybox(Path(sys.executable).resolve())


SMALL = System(
    kernel=Kernel("example.org/kernel:1", cmdline="console=ttyS0"),
    init=["example.org/init:1"],
    services=[Service("web", "example.org/web:1", capabilities_add=["CAP_NET_ADMIN"])],
    files=[File("etc/motd", contents="hi\n")],
)


def test_the_agent_adds_one_service_and_changes_nothing_else() -> None:
    spec = lower(SMALL).spec
    with_it = with_agent(spec, "systemkit.local/testing/agent:x")
    assert [s.name for s in with_it.services] == ["web", AGENT_NAME]
    assert attrs.evolve(with_it, services=with_it.services[:1]) == spec
    agent = with_it.services[1]
    assert agent == agent_service("systemkit.local/testing/agent:x")
    assert (agent.pid, agent.net, agent.ipc, agent.uts) == ("host", "host", "host", "host")
    with pytest.raises(AgentError, match="already has a service"):
        with_agent(with_it, "systemkit.local/testing/agent:x")


def test_spec_view_gives_typed_access_without_booting() -> None:
    view = spec_view(SMALL)
    assert view.services["web"].image == "example.org/web:1"
    assert view.capabilities("web") == {"CAP_NET_ADMIN"}
    assert view.files["/etc/motd"].contents == "hi\n"
    assert view.yaml().startswith("kernel:\n")
    assert view.digest.startswith("sha256:")
    with pytest.raises(KeyError, match="there are: web"):
        view.container("nginx")


def test_spec_view_reads_a_system_file() -> None:
    view = spec_view(REPO / "examples" / "web" / "system.py", "alt")
    assert "8080" in " ".join(view.services["web"].command or [])
