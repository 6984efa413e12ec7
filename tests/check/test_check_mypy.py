"""mypy in the same report: a type error in the user's system.py appears at its line, merged
and sorted with the rule findings; a mistake that mypy and a rule both find (a string where a
list of capabilities is expected) is reported once, with mypy's wording in the hint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from systemkit.check import LabelSource, check_file
from systemkit.check.mypy_run import parse_output

SYSTEM = """\
from systemkit import Service, System

system = System(
    services=[
        Service(
            "web",
            "nginx:1.27",
            capabilities="CAP_NET_ADMIN",
            env=["MODE"],
        ),
    ],
)
replicas: int = "three"
"""


@pytest.fixture()
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "system.py").write_text(SYSTEM)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SYSTEMKIT_MYPY_CACHE", str(tmp_path / "mypy-cache"))
    return tmp_path


def test_mypy_error_is_in_the_same_report(work: Path) -> None:
    diags = check_file([Path("system.py")], labels=LabelSource(use_store=False))
    mypy = [d for d in diags if d.code == "SK000"]
    assert len(mypy) == 1, [d.render() for d in diags]
    d = mypy[0]
    assert d.location is not None
    assert (d.location.file, d.location.line, d.location.column) == ("system.py", 13, 17)
    assert "Incompatible types in assignment" in d.message
    assert d.message.endswith("[assignment]")
    # the rules' own findings are there too, and everything is sorted by location
    codes = [x.code for x in diags]
    assert "SK107" in codes  # env entry "MODE" (line 9)
    keys = [x.sort_key() for x in diags]
    assert keys == sorted(keys)
    assert not [x for x in diags if x.location and "systemkit/" in x.location.file]


def test_a_mistake_mypy_also_finds_is_reported_once(work: Path) -> None:
    diags = check_file([Path("system.py")], labels=LabelSource(use_store=False))
    at_caps = [d for d in diags if d.location and d.location.line == 8]
    assert len(at_caps) == 1, [d.render() for d in diags]
    (d,) = at_caps
    assert d.code == "SK121" and d.location is not None and d.location.column == 26
    assert d.message == (
        "capabilities must be a list of Capability objects or names, got str 'CAP_NET_ADMIN'"
    )
    assert d.hint is not None
    assert 'mypy: Argument "capabilities" to "Service" has incompatible type "str"' in d.hint


def test_no_mypy_skips_it(work: Path) -> None:
    diags = check_file([Path("system.py")], mypy=False, labels=LabelSource(use_store=False))
    assert "SK000" not in {d.code for d in diags}


def test_cli_with_mypy_exit_1_no_traceback(work: Path) -> None:
    (work / "system.py").write_text(SYSTEM.replace('env=["MODE"]', 'env=["MODE=1"]'))
    proc = subprocess.run(
        [sys.executable, "-m", "systemkit", "check", "system.py", "--color", "never"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "system.py:8:26: error[SK121]: capabilities must be a list" in proc.stdout
    assert 'mypy: Argument "capabilities" to "Service" has incompatible type' in proc.stdout
    assert proc.stdout.count("error[SK000]") == 1  # only `replicas`: line 8 is reported once


def test_parse_output_lines_and_notes() -> None:
    out = (
        'a/system.py:3:5: error: Name "x" is not defined  [name-defined]\n'
        'a/system.py:3:5: note: Did you mean "y"?\n'
        "a/system.py:7: error: Missing return statement  [return]\n"
        "Found 2 errors in 1 file\n"
    )
    diags = parse_output(out)
    assert [(d.location.line, d.location.column) for d in diags if d.location] == [(3, 5), (7, 0)]
    assert diags[0].message == 'mypy: Name "x" is not defined  [name-defined]'
    assert diags[0].hint == 'Did you mean "y"?'
