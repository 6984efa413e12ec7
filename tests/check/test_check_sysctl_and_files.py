"""SK265 (sysctls runc refuses), SK243 once per parent and for string modes, and SK240 across
input files (LinuxKit's multi-file override)."""

from __future__ import annotations

from pathlib import Path

import pytest

from systemkit.check import LabelSource, check_file
from systemkit.check.sysctls import namespace_of
from systemkit.diagnostics import Diagnostic
from tests.support.cli import systemkit_cli


def _check(tmp_path: Path, name: str, text: str) -> list[Diagnostic]:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return check_file([tmp_path / name], mypy=False, labels=LabelSource(use_store=False))


def _codes(diags: list[Diagnostic], code: str) -> list[tuple[int, str]]:
    return [(d.location.line if d.location else 0, d.message) for d in diags if d.code == code]


@pytest.mark.parametrize(
    ("key", "ns"),
    [
        ("net.ipv4.ip_forward", "net"),
        ("net/ipv4/ip_forward", "net"),
        ("kernel.shmmax", "ipc"),
        ("fs.mqueue.msg_max", "ipc"),
        ("kernel.domainname", "uts"),
        ("vm.swappiness", None),
        ("kernel.pid_max", None),
        ("fs.file-max", None),
    ],
)
def test_namespaced_sysctls_follow_the_kernel_list(key: str, ns: str | None) -> None:
    assert namespace_of(key) == ns


SYSCTLS = """\
services:
  - name: hostnet
    image: alpine:3.20
    sysctl:
      net.ipv4.ip_forward: "1"
  - name: ownnet
    image: alpine:3.20
    net: new
    sysctl:
      net.ipv4.ip_forward: "1"
  - name: global
    image: alpine:3.20
    net: new
    ipc: new
    sysctl:
      vm.swappiness: "10"
      kernel.shmmax: "1000000"
  - name: hostipc
    image: alpine:3.20
    sysctl:
      kernel.shmmax: "1000000"
  - name: unknownlabel
    image: example.com/team/app:1
    sysctl:
      net.ipv4.ip_forward: "1"
"""


def test_sk265_sysctls_runc_refuses(tmp_path: Path) -> None:
    found = _codes(_check(tmp_path, "system.yml", SYSCTLS), "SK265")
    assert [line for line, _ in found] == [5, 16, 21]
    assert "shares the host's" in found[0][1] and "net namespace" in found[0][1]
    assert "'vm.swappiness' is not namespaced" in found[1][1]
    assert "ipc namespace" in found[2][1]


def test_sk243_once_per_parent(tmp_path: Path) -> None:
    text = """\
files:
  - path: etc/one
    contents: x
  - path: etc/two
    contents: y
  - path: usr/share/x
    contents: z
    mode: "0644"
"""
    found = _codes(_check(tmp_path, "system.yml", text), "SK243")
    assert [line for line, _ in found] == [2]
    assert "/etc 0700" in found[0][1]


def test_sk243_is_right_for_a_string_mode(tmp_path: Path) -> None:
    text = (
        "from systemkit import File, System\n"
        'system = System(files=[File("/etc/issue", contents="x", mode="0644")])\n'
    )
    diags = _check(tmp_path, "system.py", text)
    assert not _codes(diags, "SK243"), [d.render() for d in diags]
    (err,) = [d for d in diags if d.code == "SK121"]
    assert "mode" in err.message


BASE = 'files:\n  - path: etc/base\n    contents: "from base\\n"\n    mode: "0644"\n'
OVERLAY = 'files:\n  - path: /etc/base\n    contents: "from overlay\\n"\n    mode: "0644"\n'


def test_a_later_input_file_overrides_a_files_entry(tmp_path: Path) -> None:
    (tmp_path / "base.yml").write_text(BASE, encoding="utf-8")
    (tmp_path / "overlay.yml").write_text(OVERLAY, encoding="utf-8")
    diags = check_file(
        [tmp_path / "base.yml", tmp_path / "overlay.yml"],
        mypy=False,
        labels=LabelSource(use_store=False),
    )
    assert not _codes(diags, "SK240")
    # Within one file it stays a finding.
    one = _check(tmp_path, "one.yml", BASE + OVERLAY.removeprefix("files:\n"))
    assert [line for line, _ in _codes(one, "SK240")] == [5]


def test_multi_file_build_the_overlay_wins(tmp_path: Path) -> None:
    import tarfile

    (tmp_path / "base.yml").write_text(BASE, encoding="utf-8")
    (tmp_path / "overlay.yml").write_text(OVERLAY, encoding="utf-8")
    proc = systemkit_cli(
        "build", "base.yml", "overlay.yml", "--format", "tar", "--dir", "out", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    with tarfile.open(tmp_path / "out" / "base.tar") as tar:
        names = [m.name for m in tar.getmembers()]
        assert names.count("etc/base") == 2  # both written, in order, as LinuxKit does
        f = tar.extractfile(tar.getmember("etc/base"))  # the last one: what an extractor keeps
        assert f is not None and f.read() == b"from overlay\n"
