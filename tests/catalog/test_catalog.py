"""systemkit.catalog: typed constructors pinned to LinuxKit's references, each used by a tested
example, passing mypy --strict, and catching misuse at type-check time."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from systemkit import Onboot, Service, System, catalog, lower

REPO = Path(__file__).resolve().parents[2]
TESTED_EXAMPLES = ("minimal", "sshd", "docker-host", "wireguard", "variants", "composition", "lab")
"""The examples tests/examples lowers against golden files."""
CORPUS = Path("/work/shared/corpus/linuxkit")

COMPONENTS = sorted(name for name in catalog.__all__ if inspect.isfunction(getattr(catalog, name)))
REQUIRED = {
    "init", "runc", "containerd", "ca_certificates", "getty", "sshd", "dhcpcd", "rngd",
    "sysctl", "openntpd", "format", "mount", "metadata", "modprobe", "firmware", "dockerd",
}  # fmt: skip


def test_the_issue_names_every_component() -> None:
    assert set(COMPONENTS) >= REQUIRED


@pytest.mark.parametrize("name", COMPONENTS)
def test_every_component_is_used_by_a_tested_example(name: str) -> None:
    pattern = re.compile(rf"\bcatalog\.{name}\(")
    users = [
        ex
        for ex in TESTED_EXAMPLES
        for f in (REPO / "examples" / ex).glob("*.py")
        if pattern.search(f.read_text())
    ]
    assert users, f"catalog.{name}() is used by no tested example"


def test_references_are_linuxkits_own(shared_dir: Path) -> None:
    """Each linuxkit/* reference is the one LinuxKit's published examples pin."""
    text = "\n".join(p.read_text() for p in (shared_dir / "corpus" / "linuxkit").rglob("*.yml"))
    for ref in catalog.IMAGES.values():
        assert ref in text, f"{ref} does not appear in LinuxKit's examples"


def test_constructors_give_the_linuxkit_shapes() -> None:
    assert catalog.getty().env is None
    assert catalog.getty(insecure=True).env == ("INSECURE=true",)
    once = catalog.dhcpcd(once=True)
    assert isinstance(once, Onboot) and once.command is not None and once.command[-1] == "-1"
    assert isinstance(catalog.dhcpcd(), Service)
    assert catalog.rngd(once=True).name == "rngd1" and catalog.rngd().name == "rngd"
    assert catalog.format().command is None  # the image's own: the first empty disk
    assert catalog.format("/dev/sda", "data", "btrfs", partition="gpt").command == (
        "/usr/bin/format", "-label", "data", "-type", "btrfs", "-partition", "gpt", "/dev/sda"
    )  # fmt: skip
    assert catalog.mount("/var/data", label="data").command == (
        "/usr/bin/mountie", "-label", "data", "/var/data"
    )  # fmt: skip
    assert catalog.modprobe(["btrfs"]).command == ("modprobe", "btrfs")
    fragment = catalog.sshd(["ssh-ed25519 AAAA me@host"])
    spec = lower(System(services=[catalog.getty()]) + fragment).spec
    assert [s.name for s in spec.services] == ["getty", "sshd"]
    assert spec.files[0].contents == "ssh-ed25519 AAAA me@host\n"
    assert spec.files[0].mode == "0600"
    # every container keyword can still be given
    assert catalog.openntpd(net="host").net == "host"


def test_objects_remember_the_users_line() -> None:
    svc, line = catalog.getty(insecure=True), sys._getframe().f_lineno
    assert svc.location is not None
    assert Path(svc.location.file).resolve() == Path(__file__)
    assert svc.location.line == line


def test_mypy_strict_on_the_catalog_and_misuse(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        textwrap.dedent(
            """\
            from systemkit import Onboot, catalog

            a = catalog.format("/dev/sda", "data", "ext3")
            b: Onboot = catalog.dhcpcd()
            c = catalog.getty(insecure="yes")
            d = catalog.sshd(authorized_keys="ssh-ed25519 AAAA")
            e = catalog.getty(netns="host")
            """
        )
    )
    res = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "-p", "systemkit.catalog"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    res = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(bad)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = res.stdout.splitlines()
    for line_no in (3, 4, 5, 7):
        assert any(f"bad.py:{line_no}:" in line for line in lines), res.stdout
