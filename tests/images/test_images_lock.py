"""systemkit.lock end to end, against Debian's real docker-registry on 127.0.0.1 with images
made here: lock, build --locked, move the tag in the registry, build again (unchanged), a stale
lock fails naming the reference; check knows the labels from the lock without the network;
``systemkit images`` and ``systemkit cache pull FILE``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from systemkit.cli import main
from systemkit.images import mediatypes as mt
from systemkit.images import synth
from systemkit.images.lock import LOCK_FILE, Lock
from systemkit.images.store import ImageStore
from tests.support.push import push

pytestmark = pytest.mark.registry

LABEL = {"binds": ["/dev:/dev", "/lib/modules:/lib/modules"], "capabilities": ["CAP_SYS_ADMIN"]}

SYSTEM = """\
from systemkit import Onboot, Service, System

REGISTRY = "{registry}"

system = System(
    onboot=[Onboot("app", f"{{REGISTRY}}/sklock/app:{tag}", command=["/bin/app"])],
    services=[
        Service(
            "svc",
            f"{{REGISTRY}}/sklock/svc:1",
            binds=["/var/log:/var/log"],
        )
    ],
)
"""


def _image(source: ImageStore, text: str, config: dict[str, Any]) -> dict[str, Any]:
    amd = synth.put_image(source, [{"etc/version": text}], arch="amd64", config=config)
    arm = synth.put_image(source, [{"etc/version": text}], arch="arm64", config=config)
    return synth.put_index(source, [amd, arm])


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def project(registry: str, tmp_path: Path) -> Path:
    """A system.py whose two images are in the registry: sklock/app (an index, amd64 and
    arm64, with a command) and sklock/svc (with label binds and no command)."""
    source = ImageStore(tmp_path / "source")
    push(registry, "sklock/app", "1", source, _image(source, "one\n", {"Cmd": ["/bin/app"]}))
    push(registry, "sklock/app", "2", source, _image(source, "two\n", {"Cmd": ["/bin/app"]}))
    svc_config = {"Labels": {mt.MOBY_LABEL: json.dumps(LABEL)}}
    push(registry, "sklock/svc", "1", source, _image(source, "svc\n", svc_config))
    project = tmp_path / "project"
    project.mkdir()
    (project / "system.py").write_text(SYSTEM.format(registry=registry, tag="1"))
    return project


def _build(capsys: pytest.CaptureFixture[str], project: Path, cache: Path, out: Path) -> bytes:
    code, _, err = _run(
        capsys,
        "build",
        str(project / "system.py"),
        "--locked",
        "--format",
        "tar",
        "--dir",
        str(out),
        "--cache",
        str(cache),
        "--quiet",
    )
    assert code == 0, err
    return (out / "project.tar").read_bytes()


def test_lock_build_locked_retag_stale(
    registry: str,
    project: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    system = str(project / "system.py")
    code, out, err = _run(capsys, "lock", system, "--cache", str(tmp_path / "c1"))
    assert code == 0, err
    lock_file = project / LOCK_FILE
    assert out.strip() == str(lock_file)
    data = lock_file.read_bytes()
    lock = Lock.from_bytes(data)
    app = lock.images[f"{registry}/sklock/app:1"]
    assert app.media_type == mt.OCI_INDEX
    assert sorted(app.platforms) == ["linux/amd64", "linux/arm64"]
    assert app.config["Cmd"] == ["/bin/app"]
    svc = lock.images[f"{registry}/sklock/svc:1"]
    assert svc.label == LABEL
    # deterministic, sorted, reviewable: asking every registry again gives the same bytes
    assert data == lock.to_bytes()
    assert list(json.loads(data)["images"]) == sorted(lock.images)
    code, _, err = _run(capsys, "lock", system, "--update", "--cache", str(tmp_path / "c2"))
    assert code == 0, err
    assert lock_file.read_bytes() == data

    # lowering with the lock pins every reference
    code, out, err = _run(capsys, "lower", system, "--locked")
    assert code == 0, err
    spec = json.loads(out)
    assert spec["onboot"][0]["image"] == f"{registry}/sklock/app:1@{app.digest}"
    assert spec["services"][0]["image"] == f"{registry}/sklock/svc:1@{svc.digest}"

    first = _build(capsys, project, tmp_path / "b1", tmp_path / "out1")

    # the tag moves in the registry: a locked build (fresh store) does not change
    source = ImageStore(tmp_path / "source2")
    push(registry, "sklock/app", "1", source, _image(source, "moved\n", {"Cmd": ["/bin/app"]}))
    assert _build(capsys, project, tmp_path / "b2", tmp_path / "out2") == first
    code, _, err = _run(
        capsys,
        "build",
        system,
        "--no-lock",
        "--format",
        "tar",
        "--dir",
        str(tmp_path / "out3"),
        "--cache",
        str(tmp_path / "b3"),
        "--quiet",
    )
    assert code == 0, err
    assert (tmp_path / "out3" / "project.tar").read_bytes() != first  # the tag did move

    # a stale lock (the file now names a tag the lock has not seen) fails, naming it
    (project / "system.py").write_text(SYSTEM.format(registry=registry, tag="2"))
    code, _, err = _run(
        capsys, "build", system, "--locked", "--format", "tar", "--dir", str(tmp_path / "o4")
    )
    assert code == 1
    assert f"error[SK630]: image {registry}/sklock/app:2 is not in {LOCK_FILE}" in err
    assert "system.py:6:13:" in err
    assert not (tmp_path / "o4").exists() or list((tmp_path / "o4").iterdir()) == []

    # --update of that image alone refreshes it and keeps the other entry as it was
    code, _, err = _run(
        capsys,
        "lock",
        system,
        "--update",
        f"{registry}/sklock/app",
        "--cache",
        str(tmp_path / "c1"),
    )
    assert code == 0, err
    new = Lock.from_bytes(lock_file.read_bytes())
    assert f"{registry}/sklock/app:2" in new.images
    assert new.images[f"{registry}/sklock/svc:1"] == svc


@pytest.fixture
def locked(
    project: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """The project's system.py, locked, with an empty image store: the lock alone says what
    the images hold."""
    system = str(project / "system.py")
    assert _run(capsys, "lock", system, "--cache", str(tmp_path / "c"))[0] == 0
    monkeypatch.setenv("SYSTEMKIT_CACHE", str(tmp_path / "empty"))
    return system


def test_check_names_the_replaced_label_binds_from_the_lock(
    locked: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    system = locked
    # no network either
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "")
    _, out, _ = _run(capsys, "check", system, "--no-mypy")
    assert "warning[SK211]" in out
    assert "drops the label's binds `/dev:/dev`, `/lib/modules:/lib/modules`" in out
    assert "system.py:11:" in out  # the binds line
    assert "SK214" not in out.split("sklock/app")[0]


def test_check_warns_about_nothing_to_run(locked: str, capsys: pytest.CaptureFixture[str]) -> None:
    system = locked
    _, out, _ = _run(capsys, "check", system, "--no-mypy")
    [line] = [x for x in out.splitlines() if "SK214" in x]
    assert "sklock/svc:1" in line and "nothing to run" in line


def test_images_and_cache_pull_file(
    registry: str, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    system = str(project / "system.py")
    cache = str(tmp_path / "c")
    code, out, err = _run(capsys, "images", system, "--cache", cache)
    assert code == 0, err
    rows = out.splitlines()[1:]
    assert [r.split()[0] for r in rows] == [
        f"{registry}/sklock/app:1",
        f"{registry}/sklock/svc:1",
    ]
    assert all(r.split()[2] == "no" for r in rows)
    assert "2 of 2 images are not in the store" in err
    code, out, err = _run(capsys, "cache", "pull", system, "--cache", cache)
    assert code == 0, err
    assert "pulling 2" in err
    code, out, err = _run(capsys, "images", system, "--cache", cache, "--json")
    rows_json = [json.loads(line) for line in out.splitlines()]
    assert [r["stored"] for r in rows_json] == [True, True]
    assert all(r["digest"].startswith("sha256:") for r in rows_json)
    code, out, err = _run(capsys, "cache", "pull", system, "--cache", cache)
    assert code == 0 and "2 of 2 images already stored, pulling 0" in err


def test_images_of_every_variant(
    repo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    system = str(repo_dir / "examples" / "variants" / "system.py")
    code, out, err = _run(capsys, "images", system, "--all", "--json", "--cache", str(tmp_path))
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    refs = [r["ref"] for r in rows]
    assert len(refs) == len(set(refs))
    users = {u.split(":")[0] for r in rows for u in r["usedBy"]}
    assert {"acme-qemu", "globex-metal-arm64"} <= users
    assert not any(r["stored"] for r in rows)


def test_explain_merges_the_label_with_the_system(
    locked: str, capsys: pytest.CaptureFixture[str]
) -> None:
    system = locked
    code, out, err = _run(capsys, "explain", system, "svc")
    assert code == 0, err
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert lines["binds"].endswith(
        '["/var/log:/var/log"]  (system, replacing the label\'s `/dev:/dev`, '
        "`/lib/modules:/lib/modules`)"
    )
    assert lines["capabilities"].endswith('["CAP_SYS_ADMIN"]  (label)')
    assert lines["command"].endswith("[]  (default)")
    code, out, err = _run(capsys, "explain", system, "app", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["settings"]["command"] == {"value": ["/bin/app"], "from": "system", "replaces": []}
    code, out, err = _run(capsys, "explain", system, "svc", "--oci")
    assert code == 0, err
    oci = json.loads(out)
    destinations = [m["destination"] for m in oci["mounts"]]
    assert "/var/log" in destinations and "/lib/modules" not in destinations
    assert oci["process"]["capabilities"]["effective"] == ["CAP_SYS_ADMIN"]
    code, _, err = _run(capsys, "explain", system, "nope")
    assert code == 1 and "has no container 'nope' (it has: app, svc)" in err


def test_lower_show_defaults_writes_the_label_out(
    project: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    system = str(project / "system.py")
    monkeypatch.setenv("SYSTEMKIT_CACHE", str(tmp_path / "empty"))
    code, out, err = _run(capsys, "lower", system, "--show-defaults")
    assert code == 0 and "is not known" in err  # no lock yet: left as written, and said so
    assert "capabilities" not in json.loads(out)["services"][0]
    assert _run(capsys, "lock", system, "--cache", str(tmp_path / "c"))[0] == 0
    code, out, err = _run(capsys, "lower", system, "--show-defaults")
    assert code == 0, err
    svc = json.loads(out)["services"][0]
    assert svc["capabilities"] == ["CAP_SYS_ADMIN"]  # from the label
    assert svc["binds"] == ["/var/log:/var/log"]  # the system's, replacing the label's
    assert svc["command"] == []


def test_lock_all_holds_exactly_the_images_of_every_system(
    registry: str, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    many = project / "many.py"
    text = (
        "from systemkit import Onboot, System\n"
        f"systems = {{\n"
        f"    'a': System(onboot=[Onboot('a', '{registry}/sklock/app:1')]),\n"
        f"    'b': System(onboot=[Onboot('b', '{registry}/sklock/{{b}}')]),\n"
        "}\n"
    )
    many.write_text(text.replace("{b}", "svc:1"))
    cache = str(tmp_path / "c")
    assert _run(capsys, "lock", str(many), "--all", "--cache", cache)[0] == 0
    lock = Lock.from_bytes((project / LOCK_FILE).read_bytes())
    assert sorted(lock.images) == [f"{registry}/sklock/app:1", f"{registry}/sklock/svc:1"]
    many.write_text(text.replace("{b}", "app:2"))
    assert _run(capsys, "lock", str(many), "--all", "--cache", cache)[0] == 0
    lock = Lock.from_bytes((project / LOCK_FILE).read_bytes())
    assert sorted(lock.images) == [f"{registry}/sklock/app:1", f"{registry}/sklock/app:2"]
