"""Every example loads and lowers, and its outputs match the golden files byte for byte.

For each system of each example there are two golden files in tests/golden/:
``<example>[.<system>].json`` (the canonical spec) and ``.yml`` (the LinuxKit YAML). The
``.<system>`` part is there only when the example defines several systems.

Regenerate them after an intended change with::

    SYSTEMKIT_UPDATE_GOLDEN=1 python3 -m pytest tests/examples/test_examples_golden.py

and review the diff like code.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from systemkit import System, lower
from systemkit.linuxkit.emit import emit_yaml
from systemkit.linuxkit.parse import parse_yaml
from systemkit.spec.codec import spec_bytes

REPO = Path(__file__).resolve().parents[2]
GOLDEN_DIR = REPO / "tests" / "golden"
EXAMPLES = ("minimal", "sshd", "docker-host", "wireguard", "variants", "composition", "lab")
"""The examples this suite covers (examples/hello is tested with its images)."""
LoadExample = Callable[[str], dict[str, System]]
UPDATE = os.environ.get("SYSTEMKIT_UPDATE_GOLDEN") == "1"


def golden_stem(example: str, system: str, several: bool) -> str:
    return f"{example}.{system}" if several else example


def check_golden(path: Path, data: bytes) -> None:
    if UPDATE:
        fd, tmp = tempfile.mkstemp(prefix="." + path.name + ".", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
        return
    assert path.exists(), f"{path} is missing: run with SYSTEMKIT_UPDATE_GOLDEN=1 to create it"
    expected = path.read_bytes()
    assert data.decode() == expected.decode(), f"{path.name} differs from the golden file"
    assert data == expected


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_lowers_to_its_golden_files(example: str, load_example: LoadExample) -> None:
    systems = load_example(example)
    assert systems, f"examples/{example}/system.py defines no system"
    several = len(systems) > 1
    for name, system in sorted(systems.items()):
        lowered = lower(system, name=name)
        stem = golden_stem(example, name, several)
        check_golden(GOLDEN_DIR / f"{stem}.json", spec_bytes(lowered.spec))
        check_golden(GOLDEN_DIR / f"{stem}.yml", emit_yaml(lowered.spec).encode())


def test_no_stale_golden_files(load_example: LoadExample) -> None:
    """Every golden file belongs to a system that still exists."""
    wanted: set[str] = set()
    for example in EXAMPLES:
        systems = load_example(example)
        for name in systems:
            stem = golden_stem(example, name, len(systems) > 1)
            wanted |= {f"{stem}.json", f"{stem}.yml"}
    present = {p.name for p in GOLDEN_DIR.iterdir() if p.suffix in (".json", ".yml")}
    assert present == wanted


@pytest.mark.parametrize(
    ("example", "system", "stem"),
    [
        ("minimal", None, "minimal"),
        ("variants", "globex-metal-arm64", "variants.globex-metal-arm64"),
    ],
)
def test_the_cli_prints_the_golden_bytes(example: str, system: str | None, stem: str) -> None:
    """``systemkit lower`` (a subprocess, as users run it) prints exactly the golden files."""
    path = REPO / "examples" / example / "system.py"
    for fmt, suffix in (("json", ".json"), ("linuxkit", ".yml")):
        args = [sys.executable, "-m", "systemkit", "lower", str(path), "--format", fmt]
        if system is not None:
            args += ["--system", system]
        res = subprocess.run(args, capture_output=True, check=False)
        assert res.returncode == 0, res.stderr.decode()
        assert res.stdout == (GOLDEN_DIR / f"{stem}{suffix}").read_bytes()


@pytest.mark.parametrize("example", EXAMPLES)
def test_emitted_yaml_reads_back_to_the_same_spec(example: str, load_example: LoadExample) -> None:
    """The YAML of each example passes the strict LinuxKit reader and means the same spec
    (read where LinuxKit must run: the system file's directory)."""
    for name, system in sorted(load_example(example).items()):
        lowered = lower(system, name=name)
        text = emit_yaml(lowered.spec)
        again = parse_yaml(text, f"{example}.{name}.yml", cwd=lowered.base_dir)
        assert not again.diagnostics, [d.render() for d in again.diagnostics]
        assert spec_bytes(again.spec) == spec_bytes(lowered.spec), name
