"""Every mistake in one run, once each, at its line (issue 8's acceptance cases).

- A system.py whose first mistake is a keyword typo, with eight more mistakes on the following
  lines: one ``systemkit check`` (mypy included) reports all nine, each once, each at its line.
- The six-mistake LinuxKit YAML: all six in one run, each at its line, even when the reader
  finds a problem of its own (an unreadable source).
- Used directly (outside ``check``), a constructor raises UserError with every finding.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from systemkit import File, Onboot, Service, System, UserError
from systemkit.check import LabelSource, check_file
from systemkit.diagnostics import Diagnostic, Severity
from tests.support.cli import systemkit_cli

NINE = """\
from systemkit import File, Service, System

IMG = "alpine:3.20"

base = System(
    services=[
        Service("app", IMG, comand=["/bin/app"]),
        Service("caps", IMG, capabilities=["CAP_FLY"]),
        Service("ls", IMG, command="ls -l"),
        Service("rel", IMG, binds=["/var/data:relative/path"]),
        Service("who", IMG, uid="nobody-here"),
        Service("lim", IMG, rlimits=["nofiles,1,2"]),
    ],
    onboot=[Service("setup", IMG)],
    files=[File("/etc/both", contents="x", source="both.txt", mode=0o644)],
)
extra = System(services=[Service("app", IMG)])
system = base + extra
"""

NINE_EXPECTED = [
    (7, 29, "SK123"),  # comand=: no such argument (did you mean 'command'?)
    (8, 44, "SK101"),  # CAP_FLY
    (9, 36, "SK121"),  # command="ls -l": a str where a list is meant
    (10, 36, "SK106"),  # relative bind destination
    (11, 33, "SK230"),  # uid names no container
    (12, 38, "SK108"),  # unknown rlimit
    (14, 13, "SK121"),  # a Service in onboot
    (15, 12, "SK117"),  # contents and source
    (17, 34, "SK201"),  # base + extra: a second service "app"
]

SIX = """\
onboot:
  - {name: limits, image: alpine:3.20, rlimits: ["nofiles,1,2"]}
services:
  - {name: fly, image: alpine:3.20, capabilities: [CAP_FLY]}
  - {name: rel, image: alpine:3.20, binds: ["/var/data:relative/path"]}
  - {name: who, image: alpine:3.20, uid: nobody-here}
  - {name: ns, image: alpine:3.20, pid: sometimes}
files:
  - {path: etc/both, contents: x, source: both.txt}
"""

SIX_EXPECTED = [
    (2, 50, "SK108"),
    (4, 52, "SK101"),
    (5, 45, "SK106"),
    (6, 42, "SK230"),
    (7, 41, "SK109"),
    (9, 5, "SK117"),
]


def _errors(diags: list[Diagnostic]) -> list[tuple[int, int, str]]:
    return [
        (d.location.line, d.location.column, d.code)
        for d in diags
        if d.severity is Severity.ERROR and d.location is not None
    ]


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for the module, as a user has one for all their projects: each test's
    system.py is in its own directory, and none may get another's mypy findings."""
    return tmp_path_factory.mktemp("mypy-cache")


@pytest.fixture()
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mypy_cache: Path) -> Path:
    (tmp_path / "system.py").write_text(NINE, encoding="utf-8")
    (tmp_path / "system.yml").write_text(SIX, encoding="utf-8")
    (tmp_path / "both.txt").write_text("x\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SYSTEMKIT_MYPY_CACHE", str(mypy_cache))
    return tmp_path


def test_system_py_nine_mistakes_one_run_each_once_with_mypy(work: Path) -> None:
    diags = check_file([Path("system.py")], labels=LabelSource(use_store=False))
    assert _errors(diags) == NINE_EXPECTED, [d.render() for d in diags]
    by_line = {d.location.line: d for d in diags if d.location and d.severity is Severity.ERROR}
    assert by_line[7].hint == "did you mean 'command'?"
    assert by_line[9].message == "command must be a list of strings, got str 'ls -l'"
    assert by_line[14].message == "onboot[0] is a Service: onboot takes Onboot entries"
    # mypy agreed on three of them: its wording is in the hint, not a second finding
    assert by_line[8].hint and "mypy: List item 0" in by_line[8].hint
    assert by_line[9].hint and 'mypy: Argument "command"' in by_line[9].hint
    assert by_line[14].hint and 'expected "Onboot"' in by_line[14].hint


def test_cli_reports_the_nine_and_the_six(work: Path) -> None:
    for name, expected in (("system.py", NINE_EXPECTED), ("system.yml", SIX_EXPECTED)):
        proc = systemkit_cli("check", name, "--color", "never", cwd=work, timeout=300)
        assert proc.returncode == 1
        assert "Traceback" not in proc.stdout + proc.stderr
        heads = [ln for ln in proc.stdout.splitlines() if ": error[" in ln]
        got = [h[: h.index("]") + 1] for h in heads]
        assert got == [f"{name}:{ln}:{col}: error[{code}]" for ln, col, code in expected]


def test_yaml_six_mistakes_one_run(work: Path) -> None:
    diags = check_file([Path("system.yml")], labels=LabelSource(use_store=False))
    assert _errors(diags) == SIX_EXPECTED, [d.render() for d in diags]


def test_yaml_a_reader_error_does_not_hide_the_rest(work: Path) -> None:
    (work / "both.txt").unlink()  # now the reader also finds the source missing (SK122)
    diags = check_file([Path("system.yml")], labels=LabelSource(use_store=False))
    assert _errors(diags) == sorted([*SIX_EXPECTED, (9, 43, "SK122")])


def test_lower_and_build_report_every_mistake_too(work: Path) -> None:
    proc = systemkit_cli("lower", "system.py", cwd=work)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    heads = [ln for ln in proc.stderr.splitlines() if ": error[" in ln]
    assert [h.split(": error[")[1][:5] for h in heads] == [c for _, _, c in NINE_EXPECTED]
    proc = systemkit_cli("build", "system.yml", "--format", "tar", "--dir", "out", cwd=work)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert not (work / "out").exists() or not any((work / "out").iterdir())
    heads = [ln for ln in proc.stderr.splitlines() if ": error[" in ln]
    assert len(heads) == 6


def test_direct_use_raises_user_error_with_every_finding() -> None:
    with pytest.raises(UserError) as info:
        Service("a", "alpine:3.20", comand=["x"], capabilities=["CAP_FLY"])  # type: ignore[call-arg, list-item]
    assert [d.code for d in info.value.diagnostics] == ["SK123", "SK101"]
    assert isinstance(info.value, TypeError)  # an unknown keyword is still a TypeError
    with pytest.raises(UserError) as info:
        System(onboot=[Service("s", "alpine:3.20")])  # type: ignore[list-item]
    (diag,) = info.value.diagnostics
    assert diag.message == "onboot[0] is a Service: onboot takes Onboot entries"
    assert "\n" not in diag.render().split("\n  hint")[0]  # one line, no dump of 36 fields
    with pytest.raises(UserError) as info:
        _ = System(services=[Service("a", "alpine")]) + System(services=[Service("a", "b")])
    assert [d.code for d in info.value.diagnostics] == ["SK201"]
    assert File("/etc/x", contents="x").path == "/etc/x"
    assert Onboot("x", "alpine").name == "x"


def test_mypy_strict_flags_a_str_where_a_list_is_meant(tmp_path: Path) -> None:
    from mypy import api

    src = tmp_path / "snippet.py"
    src.write_text(
        textwrap.dedent(
            """\
            from systemkit import Service

            img = "alpine:3.20"
            Service("c", img, command="ls -l")
            Service("d", img, command=["ls", "-l"])
            Service("e", img, command=("ls", "-l"))
            words: list[str] = ["ls"]
            Service("f", img, command=words)
            """
        ),
        encoding="utf-8",
    )
    out, _err, status = api.run(
        ["--strict", "--no-incremental", "--cache-dir", str(tmp_path / "c"), str(src)]
    )
    assert status == 1
    errors = [ln for ln in out.splitlines() if ": error:" in ln]
    assert len(errors) == 1 and "snippet.py:4:" in errors[0], out
    assert 'Argument "command" to "Service" has incompatible type "str"' in errors[0]


def test_build_of_yaml_with_a_reader_error_reports_the_rest_too(work: Path) -> None:
    (work / "both.txt").unlink()
    proc = systemkit_cli("build", "system.yml", "--format", "tar", "--dir", "out", cwd=work)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    heads = [ln for ln in proc.stderr.splitlines() if ": error[" in ln]
    assert [h.split(": error[")[1][:5] for h in heads] == [
        "SK108",
        "SK101",
        "SK106",
        "SK230",
        "SK109",
        "SK117",
        "SK122",
    ]
