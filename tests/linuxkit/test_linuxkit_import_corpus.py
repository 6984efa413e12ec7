"""``systemkit import`` over LinuxKit's corpus: formatted, type-checked, and the same system."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import attrs
import pytest
from mypy import api as mypy_api

from systemkit import lower
from systemkit.linuxkit import parse_yaml
from systemkit.linuxkit.importer import generate_python, import_docstring
from systemkit.spec.lowered import Lowered


@attrs.frozen
class Generated:
    path: Path
    lowered: Lowered
    text: str


@pytest.fixture(scope="module")
def generated(
    accepted_names: list[str], corpus_dir: Path, corpus_cwd: Path
) -> dict[str, Generated]:
    """A system.py for every accepted corpus file, written next to the sources it names."""
    out: dict[str, Generated] = {}
    for i, name in enumerate(accepted_names):
        lowered = parse_yaml((corpus_dir / name).read_text(encoding="utf-8"), name, cwd=corpus_cwd)
        text = generate_python(lowered, module_doc=import_docstring([name]), output_dir=corpus_cwd)
        path = corpus_cwd / f"imported_{i:03d}.py"
        path.write_text(text, encoding="utf-8")
        out[name] = Generated(path, lowered, text)
    return out


def test_generation_is_deterministic(generated: dict[str, Generated]) -> None:
    for item in generated.values():
        again = generate_python(
            item.lowered,
            module_doc=import_docstring([item.lowered.locations["$"].file]),
            output_dir=item.path.parent,
        )
        assert again == item.text


def test_generated_files_are_ruff_format_clean(generated: dict[str, Generated]) -> None:
    files = [str(g.path) for g in generated.values()]
    fmt = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--isolated", "--check", *files],
        capture_output=True,
        text=True,
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    lint = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--isolated",
            "--select",
            "E,F,W,I,B,UP,RUF,SIM",
            "--ignore",
            "E501",
            *files,
        ],
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


@pytest.mark.slow
def test_generated_files_pass_mypy_strict(generated: dict[str, Generated], tmp_path: Path) -> None:
    files = [str(g.path) for g in generated.values()]
    stdout, stderr, status = mypy_api.run(
        ["--strict", "--cache-dir", str(tmp_path / "mypy-cache"), *files]
    )
    assert status == 0, stdout + stderr
    assert f"no issues found in {len(files)} source files" in stdout


def _load(path: Path) -> object:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_system_lowers_to_the_parsed_spec(
    accepted_name: str, generated: dict[str, Generated]
) -> None:
    item = generated[accepted_name]
    module = _load(item.path)
    lowered = lower(module.system)  # type: ignore[attr-defined]
    assert lowered.base_dir == item.lowered.base_dir
    assert lowered.spec == item.lowered.spec
