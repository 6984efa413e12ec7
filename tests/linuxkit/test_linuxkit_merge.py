"""Several system files: LinuxKit's AppendConfig meaning, on specs and on files."""

from __future__ import annotations

from pathlib import Path

import pytest

from systemkit.diagnostics import UserError
from systemkit.linuxkit import merge_specs, parse_files, parse_yaml
from systemkit.spec import types as st


def spec_of(text: str) -> st.Spec:
    return parse_yaml(text, "x.yml").spec


def test_kernel_fields_override_one_by_one_and_lists_append() -> None:
    a = spec_of(
        "kernel:\n  image: linuxkit/kernel:6.6\n  cmdline: console=ttyS0\n"
        "  ucode: intel-ucode.cpio\n  tar: kernel.tar\n"
        "init: [linuxkit/init:1]\n"
        "onboot:\n  - {name: a, image: alpine}\n"
        "files:\n  - {path: a, contents: x}\n"
    )
    b = spec_of(
        'kernel:\n  cmdline: console=ttyAMA0\n  ucode: ""\n  binary: ""\n'
        "init: [linuxkit/runc:1]\n"
        "onboot:\n  - {name: b, image: alpine}\n"
        "services:\n  - {name: s, image: alpine}\n"
        "volumes:\n  - {name: v}\n"
    )
    merged = merge_specs(a, b)
    assert merged.kernel == st.KernelSpec(
        image="docker.io/linuxkit/kernel:6.6",
        cmdline="console=ttyAMA0",
        tar="kernel.tar",
        ucode="",
    )
    assert merged.init == ["docker.io/linuxkit/init:1", "docker.io/linuxkit/runc:1"]
    assert [c.name for c in merged.onboot] == ["a", "b"]
    assert [c.name for c in merged.services] == ["s"]
    assert [f.path for f in merged.files] == ["a"]
    assert [v.name for v in merged.volumes] == ["v"]


def test_empty_strings_do_not_override_image_cmdline_binary() -> None:
    a = spec_of("kernel:\n  image: k:1\n  cmdline: c\n  binary: bzImage\n")
    b = spec_of('kernel:\n  image: ""\n  cmdline: ""\n  binary: ""\n  tar: none\n')
    assert merge_specs(a, b).kernel == st.KernelSpec(
        image="docker.io/library/k:1", cmdline="c", binary="bzImage", tar="none"
    )
    assert merge_specs(spec_of("init: []\n"), a).kernel == a.kernel
    assert merge_specs(a, spec_of("init: []\n")).kernel == a.kernel


def test_parse_files_reindexes_locations(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("onboot:\n  - {name: a, image: alpine}\n")
    (tmp_path / "b.yml").write_text(
        "kernel:\n  image: k:1\nonboot:\n  - name: b\n    image: alpine\n"
    )
    lowered = parse_files([tmp_path / "a.yml", tmp_path / "b.yml"], cwd=tmp_path)
    assert [c.name for c in lowered.spec.onboot] == ["a", "b"]
    loc0, loc1 = lowered.locations["$.onboot[0]"], lowered.locations["$.onboot[1]"]
    assert (Path(loc0.file).name, loc0.line) == ("a.yml", 2)
    assert (Path(loc1.file).name, loc1.line, loc1.column) == ("b.yml", 4, 5)
    assert Path(lowered.locations["$.kernel.image"].file).name == "b.yml"
    assert lowered.name == "a"


def test_parse_files_reports_every_file_and_cross_file_duplicates(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("onboot:\n  - {name: a, image: alpine, bogus: 1}\n")
    (tmp_path / "b.yml").write_text("services: nope\n")
    with pytest.raises(UserError) as info:
        parse_files([tmp_path / "a.yml", tmp_path / "b.yml"], cwd=tmp_path)
    assert [(Path(d.location.file).name, d.code) for d in info.value.diagnostics if d.location] == [
        ("a.yml", "SK002"),
        ("b.yml", "SK003"),
    ]
    (tmp_path / "a.yml").write_text("services:\n  - {name: s, image: alpine}\n")
    (tmp_path / "b.yml").write_text("services:\n  - {name: s, image: alpine}\n")
    with pytest.raises(UserError) as info:
        parse_files([tmp_path / "a.yml", tmp_path / "b.yml"], cwd=tmp_path)
    (dup,) = info.value.diagnostics
    assert dup.code == "SK201" and dup.location is not None
    assert Path(dup.location.file).name == "b.yml"
    assert [Path(r.file).name for r in dup.related] == ["a.yml"]


def test_corpus_arm64_fragment(corpus_dir: Path, tmp_path: Path) -> None:
    base = corpus_dir / "examples" / "platform-equinixmetal.yml"
    arm = corpus_dir / "examples" / "platform-equinixmetal.arm64.yml"
    one = parse_files([base], cwd=tmp_path).spec
    merged = parse_files([base, arm], cwd=tmp_path).spec
    assert one.kernel is not None and one.kernel.ucode == "intel-ucode.cpio"
    assert merged.kernel == st.KernelSpec(
        image="docker.io/linuxkit/kernel:6.12.59", cmdline="console=ttyAMA0", ucode=""
    )
    assert [c.name for c in merged.onboot] == [c.name for c in one.onboot] + ["modprobe"]
