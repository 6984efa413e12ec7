"""What the parser reads: yaml.v3 scalars, normalisations, locations, notes, YAML features."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from systemkit.check import run_checks
from systemkit.diagnostics import Severity
from systemkit.linuxkit import parse_yaml
from systemkit.spec import types as st


def one_service(body: str) -> st.ImageSpec:
    text = "services:\n  - name: s\n    image: alpine\n" + body
    (svc,) = parse_yaml(text, "sys.yml").spec.services
    return svc


@pytest.mark.parametrize(
    ("written", "read"),
    [("yes", "yes"), ("on", "on"), ("off", "off"), ("y", "y"), ("2001-01-01", "2001-01-01")],
)
def test_yaml_1_1_booleans_and_dates_are_strings(written: str, read: str) -> None:
    assert one_service(f"    hostname: {written}\n").hostname == read


@pytest.mark.parametrize(
    ("written", "read"), [("16", 16), ("0x10", 16), ("0o20", 16), ("020", 16), ("-1_000", -1000)]
)
def test_go_integer_literals(written: str, read: int) -> None:
    assert one_service(f"    oomScoreAdj: {written}\n").oom_score_adj == read


def test_image_refs_are_normalised() -> None:
    spec = parse_yaml(
        "kernel:\n  image: linuxkit/kernel:6.6\n"
        "init: [busybox, 'localhost:5000/x/init:1']\n"
        "onboot:\n  - name: a\n    image: index.docker.io/library/alpine:3.20\n"
        "volumes:\n  - name: v\n    image: foo/bar@sha256:" + "a" * 64 + "\n",
        "sys.yml",
    ).spec
    assert spec.kernel is not None and spec.kernel.image == "docker.io/linuxkit/kernel:6.6"
    assert spec.init == ["docker.io/library/busybox", "localhost:5000/x/init:1"]
    assert spec.onboot[0].image == "docker.io/library/alpine:3.20"
    assert spec.volumes[0].image == "docker.io/foo/bar@sha256:" + "a" * 64


def test_modes_and_paths_are_canonical() -> None:
    spec = parse_yaml(
        "files:\n"
        "  - {path: /etc/a, contents: x, mode: '644'}\n"
        "  - {path: //etc/b, contents: x, mode: '00755'}\n"
        "  - {path: etc/c, contents: x, mode: !!str 0600}\n"
        "services:\n"
        "  - name: s\n    image: alpine\n"
        "    devices: [{path: /dev/null, type: c, major: 1, minor: 3, mode: '666'}]\n",
        "sys.yml",
    ).spec
    assert [(f.path, f.mode) for f in spec.files] == [
        ("etc/a", "0644"),
        ("etc/b", "0755"),
        ("etc/c", "0600"),
    ]
    assert spec.services[0].devices == [
        st.DeviceSpec(path="/dev/null", type="c", major=1, minor=3, mode="0666")
    ]


def test_empty_kernel_image_means_no_kernel() -> None:
    assert parse_yaml('kernel:\n  image: ""\n', "sys.yml").spec.kernel is None
    spec = parse_yaml('kernel:\n  image: ""\n  ucode: ""\n', "sys.yml").spec
    assert spec.kernel == st.KernelSpec(ucode="")


def test_sources_resolve_against_cwd_with_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "key.pub").write_bytes(b"ssh-ed25519 AAAA\n")
    monkeypatch.setenv("HOME", str(home))
    cwd = tmp_path / "work"
    (cwd / "conf").mkdir(parents=True)
    (cwd / "conf" / "app.toml").write_bytes(b"x = 1\n")
    text = (
        "files:\n"
        "  - {path: etc/app.toml, source: ./conf/../conf/app.toml}\n"
        "  - {path: root/.ssh/authorized_keys, source: ~/.ssh/key.pub}\n"
        "  - {path: etc/maybe, source: nothere, optional: true}\n"
    )
    lowered = parse_yaml(text, "sys.yml", cwd=cwd)
    assert lowered.base_dir == cwd.resolve()
    files = lowered.spec.files
    assert (files[0].source, files[0].source_digest) == (
        "conf/app.toml",
        "sha256:" + hashlib.sha256(b"x = 1\n").hexdigest(),
    )
    assert (files[1].source, files[1].source_digest) == (
        "~/.ssh/key.pub",
        "sha256:" + hashlib.sha256(b"ssh-ed25519 AAAA\n").hexdigest(),
    )
    assert (files[2].source, files[2].source_digest) == ("nothere", None)


def test_locations_cover_every_visited_node() -> None:
    lowered = parse_yaml(
        "onboot:\n"
        "  - name: a\n"
        "    image: alpine\n"
        "    binds:\n"
        "      - /a:/a\n"
        "      - /b:/b\n"
        "    sysctl:\n"
        "      net.ipv4.ip_forward: '1'\n"
        "files:\n"
        "  - path: x\n"
        "    contents: y\n"
        "    mode: '0644'\n",
        "sys.yml",
    )
    loc = {k: str(v) for k, v in lowered.locations.items()}
    assert loc["$"] == "sys.yml:1:1"
    assert loc["$.onboot"] == "sys.yml:1:1"
    assert loc["$.onboot[0]"] == "sys.yml:2:5"
    assert loc["$.onboot[0].image"] == "sys.yml:3:5"
    assert loc["$.onboot[0].binds[1]"] == "sys.yml:6:9"
    assert loc['$.onboot[0].sysctl["net.ipv4.ip_forward"]'] == "sys.yml:8:7"
    assert loc["$.files[0].mode"] == "sys.yml:12:5"
    assert str(lowered.location_of("$.files[0].mode")) == "sys.yml:12:5"


def test_trust_is_dropped_with_an_info() -> None:
    lowered = parse_yaml("trust:\n  org: [linuxkit]\n  image: [x]\ninit: [busybox]\n", "sys.yml")
    assert lowered.spec.init == ["docker.io/library/busybox"]
    (note,) = lowered.diagnostics
    assert (note.code, note.severity, str(note.location)) == ("SK901", Severity.INFO, "sys.yml:1:1")
    assert "ignored by LinuxKit" in note.message or "ignores this section too" in note.message


def test_camel_case_fields_are_kept_in_the_spec_and_checked() -> None:
    lowered = parse_yaml(
        "services:\n"
        "  - name: s\n"
        "    image: alpine\n"
        "    uidMappings: [{hostID: 100000, containerID: 0, size: 65536}]\n"
        "    resources:\n"
        "      memory: {limit: 100, disableOOMKiller: true}\n"
        "      blockio:\n"
        "        weightDevice: [{major: 8, minor: 0, weight: 10}]\n",
        "sys.yml",
    )
    svc = lowered.spec.services[0]
    assert svc.uid_mappings == [st.IDMapping(host_id=100000, container_id=0, size=65536)]
    assert svc.resources is not None and svc.resources.memory is not None
    assert svc.resources.memory.disable_oom_killer is True
    assert lowered.diagnostics == ()
    found = [d for d in run_checks(lowered) if d.code == "SK296"]
    assert [(d.severity, d.spec_path, str(d.location)) for d in found] == [
        (Severity.WARNING, "$.services[0].uidMappings[0].hostID", "sys.yml:4:20"),
        (Severity.WARNING, "$.services[0].uidMappings[0].containerID", "sys.yml:4:36"),
        (Severity.WARNING, "$.services[0].resources.memory.disableOOMKiller", "sys.yml:6:28"),
        (Severity.WARNING, "$.services[0].resources.blockio.weightDevice", "sys.yml:8:9"),
    ]


def test_anchors_and_merge_keys() -> None:
    spec = parse_yaml(
        "onboot:\n"
        "  - &base\n"
        "    name: a\n"
        "    image: alpine\n"
        "    binds: [/a:/a]\n"
        "  - <<: *base\n"
        "    name: b\n",
        "sys.yml",
    ).spec
    assert [(c.name, c.image, c.binds) for c in spec.onboot] == [
        ("a", "docker.io/library/alpine", ["/a:/a"]),
        ("b", "docker.io/library/alpine", ["/a:/a"]),
    ]
