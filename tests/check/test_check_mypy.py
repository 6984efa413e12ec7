"""mypy in the same report: a type error in the user's system.py (a string where a list of
capabilities is expected) appears at its line, merged and sorted with the rule findings."""

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
    assert (d.location.file, d.location.line, d.location.column) == ("system.py", 8, 26)
    assert 'Argument "capabilities" to "Service" has incompatible type "str"' in d.message
    assert d.message.endswith("[arg-type]")
    # the rules' own findings are there too, and everything is sorted by location
    codes = [x.code for x in diags]
    assert "SK107" in codes  # env entry "MODE" (line 9)
    assert "SK121" in codes  # the constructor's own type check (line 5, the call)
    keys = [x.sort_key() for x in diags]
    assert keys == sorted(keys)
    assert not [x for x in diags if x.location and "systemkit/" in x.location.file]


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
    assert 'system.py:8:26: error[SK000]: mypy: Argument "capabilities"' in proc.stdout


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
