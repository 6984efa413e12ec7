"""The library entry point ``systemkit.build`` and default output names."""

from __future__ import annotations

from pathlib import Path

import pytest

import systemkit
from systemkit import Onboot, Service, System, UserError
from systemkit.images import synth
from systemkit.images.store import ImageStore
from systemkit.loader import load_lowered, output_name


def test_build_from_a_model_object(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "store")
    store.tag("docker.io/example/app:1", synth.put_image(store, [{"bin/app": b"#!/bin/sh\n"}]))
    system = System(services=[Service("app", "example/app:1")])
    paths = systemkit.build(
        system, formats=["tar"], out_dir=tmp_path / "out", name="app", cache_dir=store.root
    )
    assert paths == [tmp_path / "out" / "app.tar"]
    assert paths[0].stat().st_size > 0


def test_build_runs_the_checks_first(tmp_path: Path) -> None:
    system = System(
        onboot=[Onboot("x", "example/app:1", uid="nobody-here")],
    )
    with pytest.raises(UserError) as info:
        systemkit.build(system, formats=["tar"], out_dir=tmp_path / "out", name="x")
    assert any(d.severity.value == "error" for d in info.value.diagnostics)
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize(
    ("path", "variable", "expected"),
    [
        ("examples/hello/system.py", "system", "hello"),
        ("site/edge.py", "system", "edge"),
        ("examples/variants/system.py", "acme-qemu", "acme-qemu"),
    ],
)
def test_default_output_names(path: str, variable: str, expected: str) -> None:
    assert output_name(Path(path), variable) == expected


def test_lowered_hello_is_named_after_its_directory(repo_dir: Path) -> None:
    lowered = load_lowered([repo_dir / "examples" / "hello" / "system.py"])
    assert lowered.name == "hello"
