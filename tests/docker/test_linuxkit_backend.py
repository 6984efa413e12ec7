"""The linuxkit backend, against FAKE linuxkit (``fake_linuxkit.py``): the real ``linuxkit``
cannot be installed on this machine. The fake checks the YAML and arguments it gets the way
LinuxKit's command line does and records them; the tests check what the backend gave it.

``test_real_linuxkit_builds_the_same_tree`` runs the real thing when ``SYSTEMKIT_TEST_LINUXKIT``
names a ``linuxkit`` binary (see docs/backends.md).
"""

from __future__ import annotations

import io
import json
import os
import stat
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

import attrs
import pytest

from systemkit.backends.base import BuildRequest
from systemkit.backends.linuxkit_cli import (
    BINARY_ENV,
    LINUXKIT_FAILED,
    LINUXKIT_MISSING,
    LinuxkitBackend,
    find_linuxkit,
    linuxkit_error,
    linuxkit_runs,
)
from systemkit.backends.native import NativeBackend
from systemkit.diagnostics import UserError
from systemkit.images.archive import import_archive
from systemkit.images.store import ImageStore
from systemkit.linuxkit.emit import emit_yaml
from systemkit.linuxkit.parse import parse_yaml
from systemkit.spec.codec import from_data
from systemkit.spec.types import Spec
from tests.docker.dockerimages import IMAGES, skopeo, system_spec, write_layouts
from tests.support.progress import collect

FAKE = Path(__file__).with_name("fake_linuxkit.py")


@pytest.fixture
def fake_linuxkit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An executable named ``linuxkit`` that runs FAKE linuxkit; records go to records.jsonl."""
    bindir = tmp_path / "fakebin"
    bindir.mkdir()
    exe = bindir / "linuxkit"
    exe.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("FAKE_LINUXKIT_RECORD", str(tmp_path / "records.jsonl"))
    monkeypatch.delenv(BINARY_ENV, raising=False)
    return exe


def _records(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "records.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _request(spec: Spec, tmp_path: Path, formats: tuple[str, ...], **kw: Any) -> BuildRequest:
    out = tmp_path / "out"
    out.mkdir(parents=True, exist_ok=True)
    base = tmp_path / "src"
    base.mkdir(parents=True, exist_ok=True)
    req = BuildRequest(spec=spec, base_dir=base, formats=formats, out_dir=out, name="sys")
    return attrs.evolve(req, **kw)


def _flag_values(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == flag]


def test_yaml_and_arguments_reach_linuxkit(fake_linuxkit: Path, tmp_path: Path) -> None:
    spec = system_spec()
    lines: list[str] = []
    req = _request(
        spec,
        tmp_path,
        ("kernel+initrd", "tar", "iso-bios"),
        arch="amd64",
        progress=collect(lines),
    )
    paths = LinuxkitBackend(binary=fake_linuxkit).build(req)

    runs = _records(tmp_path)
    assert [_flag_values(r["argv"], "--format") for r in runs] == [
        ["kernel+initrd", "iso-bios"],
        ["tar"],
    ]
    for run in runs:
        argv = run["argv"]
        assert argv[0] == "build"
        assert _flag_values(argv, "--name") == ["sys"]
        assert _flag_values(argv, "--arch") == ["amd64"]
        assert "--no-sbom" in argv and "--pull" not in argv and "--cache" not in argv
        (staging,) = _flag_values(argv, "--dir")
        assert Path(staging).parent == tmp_path / "out"  # staged next to the outputs
        assert run["cwd"] == str(tmp_path / "src")  # files[].source resolve from base_dir
        assert run["yaml"] == emit_yaml(spec)
        assert parse_yaml(run["yaml"], "sent.yml").spec == spec
    assert sorted(p.name for p in paths) == sorted(
        ["sys-kernel", "sys-initrd.img", "sys-cmdline", "sys.iso", "sys.tar"]
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in paths)
    assert (tmp_path / "out" / "sys-cmdline").read_text() == "console=ttyS0"
    assert any("Extract kernel image" in line for line in lines)  # progress was streamed


def test_pull_and_cache_are_passed_on(fake_linuxkit: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    req = _request(system_spec(), tmp_path, ("tar",), pull=True, cache_dir=cache)
    LinuxkitBackend(binary=fake_linuxkit).build(req)
    (run,) = _records(tmp_path)
    assert "--pull" in run["argv"]
    assert _flag_values(run["argv"], "--cache") == [str(cache.resolve())]


def test_failure_is_mapped_to_the_image_that_caused_it(fake_linuxkit: Path, tmp_path: Path) -> None:
    spec: Spec = from_data(
        {
            "kernel": {"image": "docker.io/linuxkit/kernel:6.6.71"},
            "init": ["docker.io/linuxkit/init:v1.1.0"],
            "services": [
                {"name": "ok", "image": "docker.io/library/alpine:3.20"},
                {"name": "gone", "image": "docker.io/library/does-not-exist:1"},
            ],
        }
    )
    with pytest.raises(UserError) as info:
        LinuxkitBackend(binary=fake_linuxkit).build(_request(spec, tmp_path, ("tar",)))
    (diag,) = info.value.diagnostics
    assert diag.code == LINUXKIT_FAILED
    assert diag.spec_path == "$.services[1].image"
    assert "Could not pull image docker.io/library/does-not-exist:1" in diag.message
    assert "\n" not in diag.render()
    assert list((tmp_path / "out").iterdir()) == []  # no staging dir, no half output


def test_error_mapping_of_real_linuxkit_messages() -> None:
    """Messages as LinuxKit v1.x prints them (logrus, no TTY) map to the part they name."""
    spec: Spec = from_data(
        {
            "kernel": {"image": "docker.io/linuxkit/kernel:6.6.71"},
            "onboot": [{"name": "sysctl", "image": "docker.io/linuxkit/sysctl:v1.0.0"}],
            "files": [{"path": "etc/x", "source": "conf/x.conf"}],
        }
    )
    cases = {
        'time="2024-01-01T00:00:00Z" level=fatal msg="Failed to build image: Could not pull '
        'image linuxkit/sysctl:v1.0.0: GET https://index.docker.io/...: UNAUTHORIZED"': (
            "$.onboot[0].image"
        ),
        'time="2024-01-01T00:00:00Z" level=fatal msg="Failed to build image: could not open '
        'file conf/x.conf: no such file or directory"': "$.files[0].source",
        "Error: unknown flag: --bogus": "$",
    }
    for line, path in cases.items():
        err = linuxkit_error(spec, ['level=info msg="start"\n', line + "\n"], 1)
        assert err.diagnostics[0].spec_path == path, line
    quiet = linuxkit_error(spec, [], 2)
    assert "status 2" in quiet.diagnostics[0].message


def test_streamable_formats_run_alone() -> None:
    assert linuxkit_runs(["tar", "kernel+initrd", "docker", "iso-efi", "tar"]) == [
        ("kernel+initrd", "iso-efi"),
        ("tar",),
        ("docker",),
    ]


def test_binary_is_found_by_option_then_environment_then_path(
    fake_linuxkit: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other-linuxkit"
    other.write_bytes(fake_linuxkit.read_bytes())
    other.chmod(0o755)
    env = {"PATH": str(fake_linuxkit.parent), BINARY_ENV: str(other)}
    assert find_linuxkit(None, {"PATH": str(fake_linuxkit.parent)}) == fake_linuxkit
    assert find_linuxkit(None, env) == other
    assert find_linuxkit(fake_linuxkit, env) == fake_linuxkit
    with pytest.raises(UserError) as info:
        find_linuxkit(None, {"PATH": str(tmp_path / "empty")})
    assert info.value.diagnostics[0].code == LINUXKIT_MISSING
    with pytest.raises(UserError) as info:
        find_linuxkit(tmp_path / "nope", env)
    assert "--linuxkit-bin" in info.value.diagnostics[0].message


def test_unknown_format_is_refused_before_running(fake_linuxkit: Path, tmp_path: Path) -> None:
    from systemkit.diagnostics import SystemkitError

    with pytest.raises(SystemkitError, match="cannot build format 'floppy'"):
        LinuxkitBackend(binary=fake_linuxkit).build(_request(system_spec(), tmp_path, ("floppy",)))
    assert _records(tmp_path) == []


def _tree(tar_bytes: bytes) -> dict[str, tuple[str, int, bytes]]:
    """path -> (kind, mode, content): the filesystem a tar describes, last entry winning."""
    tree = {}
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
        for m in tar.getmembers():
            f = tar.extractfile(m) if m.isfile() else None
            data = f.read() if f is not None else m.linkname.encode()
            kind = "dir" if m.isdir() else "file" if m.isfile() else "link"
            tree[m.name.rstrip("/")] = (kind, m.mode & 0o7777, data)
    return tree


@pytest.mark.slow
@pytest.mark.docker
@pytest.mark.skipif(
    not os.environ.get("SYSTEMKIT_TEST_LINUXKIT"),
    reason="set SYSTEMKIT_TEST_LINUXKIT=/path/to/linuxkit to run against the real linuxkit",
)
def test_real_linuxkit_builds_the_same_tree(
    local_registry: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """With the real linuxkit: the test images pushed to a local registry, built to ``tar``
    by linuxkit and by native, describe the same filesystem."""
    layouts = write_layouts(tmp_path_factory.mktemp("layouts"))
    store = ImageStore(tmp_path / "native-store")
    moved = {}
    for ref, path in layouts.items():
        remote = f"{local_registry}/{ref.split('/', 1)[1]}"
        skopeo("copy", "-q", "--dest-tls-verify=false", f"oci:{path}:{ref}", f"docker://{remote}")
        import_archive(store, path)
        store.tag(remote, store.lookup(ref) or {})
        moved[ref] = remote
    data = json.loads(json.dumps(_spec_data_with(moved)))
    spec: Spec = from_data(data)
    lk = LinuxkitBackend(binary=os.environ["SYSTEMKIT_TEST_LINUXKIT"]).build(
        _request(spec, tmp_path / "lk", ("tar",), arch="amd64", cache_dir=tmp_path / "lk-cache")
    )
    nat = NativeBackend().build(
        _request(spec, tmp_path / "nat", ("tar",), arch="amd64", cache_dir=store.root)
    )
    assert _tree(lk[0].read_bytes()) == _tree(nat[0].read_bytes())


def _spec_data_with(moved: dict[str, str]) -> Any:
    from systemkit.spec.codec import to_data

    text = json.dumps(to_data(system_spec()))
    for old, new in moved.items():
        text = text.replace(json.dumps(old), json.dumps(new))
    assert len(moved) == len(IMAGES)
    return json.loads(text)


def test_progress_is_streamed_while_linuxkit_runs(
    fake_linuxkit: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_LINUXKIT_PAUSE", "1.5")
    seen: list[tuple[float, str]] = []
    req = _request(
        system_spec(),
        tmp_path,
        ("tar",),
        progress=lambda e: seen.append((time.monotonic(), str(e))),
    )
    LinuxkitBackend(binary=fake_linuxkit).build(req)
    done = time.monotonic()
    (arrived,) = [t for t, line in seen if "Create outputs:" in line]
    assert done - arrived > 1.0  # the line came before linuxkit finished, not all at the end
