"""``systemkit import`` on the command line."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from systemkit import lower
from systemkit.cli import main
from systemkit.linuxkit import parse_files

YAML = """\
kernel:
  image: linuxkit/kernel:6.12.59
  cmdline: console=ttyS0
init:
  - linuxkit/init:b5506cc74a6812dc40982cacfd2f4328f8a4b12a
services:
  - name: getty
    image: linuxkit/getty:a86d74c8f89be8956330c3b115b0b1f2e09ef6e0
    env:
      - INSECURE=true
files:
  - path: /etc/app.toml
    source: conf/app.toml
    mode: "0644"
"""


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    work = tmp_path / "work"
    (work / "conf").mkdir(parents=True)
    (work / "conf" / "app.toml").write_text("x = 1\n")
    (work / "system.yml").write_text(YAML)
    monkeypatch.chdir(work)
    return work


def test_import_to_stdout(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "system.yml"]) == 0
    out = capsys.readouterr().out
    assert out.startswith('"""A LinuxKit system, imported by `systemkit import` from:')
    assert "    system.yml\n" in out
    assert 'Kernel("linuxkit/kernel:6.12.59", cmdline="console=ttyS0")' in out
    assert 'env={"INSECURE": "true"}' in out
    assert 'File("etc/app.toml", source="conf/app.toml", mode=0o644)' in out


def test_import_to_a_file_elsewhere_keeps_sources_reachable(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = workdir.parent / "out"
    out_dir.mkdir()
    target = out_dir / "system.py"
    assert main(["import", "system.yml", "-o", str(target)]) == 0
    text = target.read_text()
    assert 'source="../work/conf/app.toml"' in text
    assert [p.name for p in out_dir.iterdir()] == ["system.py"]  # no temp file left behind

    spec = importlib.util.spec_from_file_location("imported_cli_system", target)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from_python = lower(module.system)
    from_yaml = parse_files([workdir / "system.yml"], cwd=workdir)
    assert from_python.base_dir == out_dir.resolve()
    (pf,), (yf,) = from_python.spec.files, from_yaml.spec.files
    assert pf.source_digest == yf.source_digest is not None
    assert pf.source is not None and yf.source is not None
    assert (out_dir / pf.source).resolve() == (workdir / yf.source).resolve()


def test_import_refuses_to_overwrite_without_force(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = workdir / "system.py"
    target.write_text("# mine\n")
    assert main(["import", "system.yml", "-o", "system.py"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert target.read_text() == "# mine\n"
    assert main(["import", "system.yml", "-o", "system.py", "--force"]) == 0
    assert target.read_text().startswith('"""A LinuxKit system')


def test_import_reports_located_errors(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "bad.yml").write_text("services:\n  - name: a\n    imag: alpine\n")
    assert main(["import", "bad.yml", "-o", "out.py"]) == 1
    err = capsys.readouterr().err
    assert "bad.yml:3:5: error[SK002]: unknown key `imag`" in err
    assert "bad.yml:2:5: error[SK004]: missing required key `image`" in err
    assert "Traceback" not in err
    assert not (workdir / "out.py").exists()


def test_import_merges_several_files(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "arm64.yml").write_text('kernel:\n  cmdline: console=ttyAMA0\n  ucode: ""\n')
    assert main(["import", "system.yml", "arm64.yml"]) == 0
    out = capsys.readouterr().out
    assert "    system.yml\n    arm64.yml\n" in out
    assert 'cmdline="console=ttyAMA0",' in out or 'cmdline="console=ttyAMA0", ucode=""' in out
