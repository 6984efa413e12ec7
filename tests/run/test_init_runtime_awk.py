"""runtime-json.awk (the hello init's runtime.json reader) under the real busybox awk, on the
runtime.json files `linuxkit build` wrote for the conformance cases."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

AWK = Path(__file__).resolve().parents[2] / "examples" / "hello" / "init" / "runtime-json.awk"


def _parse(path: Path) -> list[list[str]]:
    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.fail("busybox is not installed (run scripts/setup.sh)")
    out = subprocess.run(
        [busybox, "awk", "-f", str(AWK), str(path)], capture_output=True, text=True, check=True
    ).stdout
    return [shlex.split(line) for line in out.splitlines()]


def _expected(runtime: dict[str, object]) -> list[list[str]]:
    mounts = runtime.get("mounts") or []
    mkdirs = runtime.get("mkdir") or []
    assert isinstance(mounts, list) and isinstance(mkdirs, list)
    cmds = [
        [
            "sk_mount",
            m.get("destination", ""),
            m.get("type", ""),
            m.get("source", ""),
            ",".join(m.get("options", [])),
        ]
        for m in mounts
    ]
    return cmds + [["sk_mkdir", d] for d in mkdirs]


def _runtime_files(shared_dir: Path) -> list[Path]:
    files = sorted((shared_dir / "conformance" / "cases").glob("*/expected/**/runtime.json"))
    assert len(files) > 10
    return files


def test_mounts_and_mkdirs_match_the_json(shared_dir: Path) -> None:
    for path in _runtime_files(shared_dir):
        runtime = json.loads(path.read_text())
        got = [c for c in _parse(path) if c[0] != "sk_unsupported"]
        assert got == _expected(runtime), path


def test_fields_the_init_does_not_handle_are_reported(shared_dir: Path) -> None:
    for path in _runtime_files(shared_dir):
        runtime = json.loads(path.read_text())
        unsupported = {c[1] for c in _parse(path) if c[0] == "sk_unsupported"}
        expected = {f"bindNS.{k}" for k, v in runtime["bindNS"].items() if v}
        if runtime["interfaces"]:
            expected.add("interfaces")
        if runtime["cgroups"]:
            expected.add("cgroups")
        if runtime["namespace"]:
            expected.add("namespace")
        assert unsupported == expected, path


def test_compact_json_and_quotes(tmp_path: Path) -> None:
    path = tmp_path / "runtime.json"
    path.write_text(
        '{"mounts":[{"destination":"rootfs","source":"/a b/it\'s","options":["bind"]}],'
        '"mkdir":["/x\\"y"],"interfaces":[],"bindNS":{},"namespace":"","cgroups":[]}'
    )
    assert _parse(path) == [
        ["sk_mount", "rootfs", "", "/a b/it's", "bind"],
        ["sk_mkdir", '/x"y'],
    ]
