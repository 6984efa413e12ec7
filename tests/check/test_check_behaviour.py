"""Suppression (comments and ignore()), the build gate, image labels from a real local store,
and value errors collected from model constructors without hiding the rest of the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from systemkit.check import LabelSource, check_file, gate, run_checks
from systemkit.diagnostics import Severity, UserError
from systemkit.images import mediatypes as mt
from systemkit.images.store import ImageStore
from systemkit.images.synth import put_image
from systemkit.linuxkit.parse import parse_yaml
from systemkit.loader import load_lowered


def _check(tmp_path: Path, name: str, text: str) -> list[tuple[int, str]]:
    (tmp_path / name).write_text(text)
    diags = check_file([tmp_path / name], mypy=False, labels=LabelSource(use_store=False))
    return [(d.location.line if d.location else 0, d.code) for d in diags]


def test_comment_suppresses_on_its_line_only(tmp_path: Path) -> None:
    text = (
        "services:\n"
        "  - name: app\n"
        "    image: alpine:3.19@sha256:" + "a" * 64 + "\n"
        '    env: ["DEBUG=1"]  # systemkit: ignore[SK251]\n'
        "  - name: other\n"
        "    image: alpine:3.19@sha256:" + "a" * 64 + "\n"
        '    env: ["DEBUG=1"]\n'
        '    cwd: "tmp"  # systemkit: ignore\n'
    )
    assert _check(tmp_path, "s.yml", text) == [(7, "SK251")]


def test_comment_in_system_py(tmp_path: Path) -> None:
    text = (
        "from systemkit import Service, System\n"
        "system = System(services=[\n"
        '    Service("a", "alpine:3.19", env=["X=1"]),  # systemkit: ignore[SK251, SK280]\n'
        '    Service("b", "alpine:3.19", env=["X=1"]),  # systemkit: ignore[SK280]\n'
        "])\n"
    )
    assert _check(tmp_path, "system.py", text) == [(4, "SK251")]


def test_ignore_on_an_object(tmp_path: Path) -> None:
    text = (
        "from systemkit import Service, System\n"
        "from systemkit.check import ignore\n"
        "system = System(services=[\n"
        '    ignore(Service("a", "alpine:3.19", env=["X=1"], cwd="rel"), "SK251", "SK104"),\n'
        '    ignore(Service("b", "alpine:3.19", env=["X=1"])),\n'
        '    Service("c", "alpine:3.19", env=["X=1"]),\n'
        "])\n"
    )
    assert _check(tmp_path, "system.py", text) == [(4, "SK280"), (6, "SK280"), (6, "SK251")]


def test_value_error_does_not_hide_the_rest(tmp_path: Path) -> None:
    text = (
        "from systemkit import File, Service, System\n"
        "system = System(\n"
        '    services=[Service("a", "alpine:3.19@sha256:' + "a" * 64 + '", pid="hots")],\n'
        '    files=[File("/etc/x", contents="x", mode=0o10000, uid="nobody")],\n'
        ")\n"
    )
    found = _check(tmp_path, "system.py", text)
    assert found == [(3, "SK109"), (4, "SK103"), (4, "SK230")]


def test_an_exception_in_the_users_code_is_a_finding(tmp_path: Path) -> None:
    found = _check(tmp_path, "system.py", "import systemkit\nx = 1 / 0\n")
    assert found == [(2, "SK052")]


def test_gate_refuses_errors_and_returns_warnings() -> None:
    bad = parse_yaml("services:\n  - name: app\n    image: alpine:3.19\n    net: hots\n", "s.yml")
    with pytest.raises(UserError) as exc:
        gate(bad)
    assert [d.code for d in exc.value.diagnostics if d.severity == Severity.ERROR] == ["SK109"]

    warn = parse_yaml("services:\n  - name: app\n    image: alpine:3.19\n    env: [A=1]\n", "s.yml")
    assert {d.code for d in gate(warn)} == {"SK251", "SK280"}
    with pytest.raises(UserError):
        gate(warn, strict=True)

    no_kernel = parse_yaml("init: [linuxkit/init:v1]\n", "s.yml")
    assert gate(no_kernel, formats=["tar"]) is not None
    with pytest.raises(UserError) as exc:
        gate(no_kernel, formats=["tar", "kernel+initrd"])
    assert exc.value.diagnostics[0].code == "SK270"


def test_run_checks_on_load_lowered_of_a_system_py(tmp_path: Path) -> None:
    (tmp_path / "system.py").write_text(
        "from systemkit import Service, System\n"
        "system = System(services=[Service('a', 'alpine:3.19', uid='ghost')])\n"
    )
    diags = run_checks(load_lowered([tmp_path / "system.py"]))
    assert [(d.code, d.location.line if d.location else 0) for d in diags if d.code != "SK280"] == [
        ("SK230", 2)
    ]


@pytest.fixture()
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ImageStore:
    root = tmp_path / "images"
    monkeypatch.setenv("SYSTEMKIT_CACHE", str(root))
    s = ImageStore(root)
    arch = mt.host_arch()
    label = {"capabilities": ["CAP_SYS_ADMIN"], "binds": ["/dev:/dev"]}
    labelled = put_image(
        s,
        [{"bin/app": b"x"}],
        arch=arch,
        config={"Labels": {mt.MOBY_LABEL: json.dumps(label)}},
    )
    s.tag("example.com/labelled:1", labelled)
    s.tag("example.com/plain:1", put_image(s, [{"bin/app": b"y"}], arch=arch))
    return s


def _label_codes(caps: str, image: str) -> list[str]:
    text = f"services:\n  - name: app\n    image: {image}\n    capabilities: {caps}\n"
    return [d.code for d in run_checks(parse_yaml(text, "s.yml")) if d.code in ("SK210",)]


def test_labels_from_the_local_store(store: ImageStore) -> None:
    assert _label_codes("[CAP_NET_ADMIN]", "example.com/plain:1") == []  # stored, no label
    assert _label_codes("[CAP_NET_ADMIN]", "example.com/labelled:1") == ["SK210"]
    assert _label_codes("[CAP_SYS_ADMIN, CAP_NET_ADMIN]", "example.com/labelled:1") == []
    assert _label_codes("[CAP_NET_ADMIN]", "example.com/unknown:1") == ["SK210"]
    text = 'services:\n  - name: app\n    image: example.com/labelled:1\n    binds: ["/a:/a"]\n'
    [d] = [d for d in run_checks(parse_yaml(text, "s.yml")) if d.code == "SK211"]
    assert "/dev:/dev" in d.message


def test_no_store_means_unknown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYSTEMKIT_CACHE", str(tmp_path / "nowhere"))
    assert _label_codes("[CAP_NET_ADMIN]", "example.com/plain:1") == ["SK210"]
    assert not (tmp_path / "nowhere").exists(), "checking must not create a store"


def test_mypy_messages_name_the_capability_literal_instead_of_spelling_it_out() -> None:
    from systemkit.capabilities import KNOWN_CAPABILITIES
    from systemkit.check.mypy_run import parse_output

    members = ", ".join(f"'{c}'" for c in (*KNOWN_CAPABILITIES, "all", "none", "ALL", "NONE"))
    line = (
        "system.py:3:5: error: List item 0 has incompatible type \"Literal['CAP_X']\"; "
        f'expected "Literal[{members}] | Capability"  [list-item]'
    )
    (diag,) = parse_output(line)
    assert diag.message == (
        "mypy: List item 0 has incompatible type \"Literal['CAP_X']\"; "
        'expected "CapabilityName | Capability"  [list-item]'
    )
