"""The CLI frame: help, version, exit codes, errors without tracebacks, --system."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from systemkit import __version__
from systemkit.cli import COMMANDS, build_parser


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "systemkit", *args], capture_output=True, text=True, cwd=cwd
    )


def test_version() -> None:
    res = run("--version")
    assert res.returncode == 0 and res.stdout.strip() == f"systemkit {__version__}"


def test_no_command_is_a_usage_error() -> None:
    res = run()
    assert res.returncode == 2 and "COMMAND" in res.stderr


def test_unknown_option_is_a_usage_error() -> None:
    res = run("lower", "--no-such-option", "x.py")
    assert res.returncode == 2


@pytest.mark.parametrize("name", ["lower", "schema"])
def test_every_command_explains_itself(name: str) -> None:
    res = run(name, "--help")
    assert res.returncode == 0
    assert "Example" in res.stdout


def test_all_listed_commands_are_registered() -> None:
    parser = build_parser()
    help_text = parser.format_help()
    present = [c for c in COMMANDS if f"    {c} " in help_text or f"    {c}\n" in help_text]
    assert {"lower", "schema"} <= set(present)


def test_missing_file_is_an_input_error_without_traceback(tmp_path: Path) -> None:
    res = run("lower", str(tmp_path / "nope.py"))
    assert res.returncode == 1
    assert "no such file" in res.stderr and "Traceback" not in res.stderr


def test_exception_in_user_code_shows_only_user_frames(tmp_path: Path) -> None:
    (tmp_path / "system.py").write_text(
        textwrap.dedent(
            """
            from systemkit import System

            def broken() -> System:
                return {}["missing"]

            system = broken()
            """
        )
    )
    res = run("lower", "system.py", cwd=tmp_path)
    assert res.returncode == 1
    assert "Traceback" not in res.stderr
    assert "KeyError" in res.stderr
    assert "system.py:5" in res.stderr  # the failing line, in the user's file
    assert "systemkit/" not in res.stderr.replace("systemkit/cli", "")


def test_wrong_capability_reports_the_users_line_and_every_error(tmp_path: Path) -> None:
    (tmp_path / "system.py").write_text(
        textwrap.dedent(
            """
            from systemkit import Service, System

            system = System(
                services=[
                    Service("a", "alpine", capabilities=["CAP_NET_ADMN"]),
                    Service("b", "alpine", net="sideways"),
                ]
            )
            """
        )
    )
    res = run("lower", "system.py", cwd=tmp_path)
    assert res.returncode == 1
    assert "system.py:6:46: error[SK101]" in res.stderr  # the list element itself
    assert "system.py:7:36: error[SK109]" in res.stderr
    assert "Traceback" not in res.stderr


def test_system_selection(tmp_path: Path) -> None:
    (tmp_path / "system.py").write_text(
        textwrap.dedent(
            """
            from systemkit import Service, System

            _base = System(services=[Service("a", "alpine")])
            small = _base
            big = _base + System(services=[Service("b", "alpine")])
            """
        )
    )
    res = run("lower", "system.py", cwd=tmp_path)
    assert res.returncode == 1 and "--system" in res.stderr
    res = run("lower", "system.py", "--system", "big", cwd=tmp_path)
    assert res.returncode == 0
    assert [s["name"] for s in json.loads(res.stdout)["services"]] == ["a", "b"]
    res = run("lower", "system.py", "--system", "nope", cwd=tmp_path)
    assert res.returncode == 1 and "big, small" in res.stderr


def test_output_file_is_written_atomically(tmp_path: Path) -> None:
    (tmp_path / "system.py").write_text(
        "from systemkit import System, Service\n"
        "system = System(services=[Service('a', 'alpine')])\n"
    )
    res = run("lower", "system.py", "-o", "out.json", cwd=tmp_path)
    assert res.returncode == 0
    assert json.loads((tmp_path / "out.json").read_text())["services"][0]["name"] == "a"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    res = run("lower", "system.py", "--digest", cwd=tmp_path)
    assert res.stdout.startswith("sha256:")


def test_schema_command_prints_the_generated_schema() -> None:
    res = run("schema")
    assert res.returncode == 0
    schema = json.loads(res.stdout)
    assert (
        "Spec" in schema["$defs"] and schema["$defs"]["ImageSpec"]["additionalProperties"] is False
    )


def test_lower_and_build_report_value_and_semantic_errors_together(tmp_path: Path) -> None:
    (tmp_path / "system.py").write_text(
        textwrap.dedent(
            """
            from systemkit import Service, System

            system = System(
                services=[
                    Service("a", "alpine", capabilities=["CAP_NET_ADMN"]),
                    Service("a", "alpine", uid="nobody"),
                ]
            )
            """
        )
    )
    for command in (["lower"], ["build", "--format", "tar", "--dir", "out"]):
        res = run(*command, "system.py", cwd=tmp_path)
        assert res.returncode == 1, command
        assert "error[SK101]" in res.stderr  # a value error from a constructor
        assert "error[SK201]" in res.stderr  # a duplicate name, found by the checks
        assert "error[SK230]" in res.stderr  # a uid naming no container
        assert "Traceback" not in res.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_prints_in_a_system_file_do_not_mix_into_the_output(tmp_path: Path) -> None:
    (tmp_path / "system.py").write_text(
        "print('debugging my system')\n"
        "from systemkit import Service, System\n"
        "system = System(services=[Service('a', 'alpine')])\n"
    )
    res = run("lower", "system.py", "--digest", cwd=tmp_path)
    assert res.returncode == 0
    assert res.stdout.startswith("sha256:") and res.stdout.count("\n") == 1
    assert "debugging my system" in res.stderr


def test_sys_exit_in_a_system_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "system.py").write_text("import sys\nsys.exit(3)\n")
    res = run("lower", "system.py", cwd=tmp_path)
    assert res.returncode == 1 and "called sys.exit(3)" in res.stderr
    assert "system.py:2" in res.stderr


def test_output_files_get_ordinary_permissions_and_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "system.py").write_text(
        "from systemkit import Service, System\n"
        "system = System(services=[Service('a', 'alpine')])\n"
    )
    res = run("lower", "system.py", "-o", "spec.json", cwd=tmp_path)
    assert res.returncode == 0
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "spec.json").stat().st_mode & 0o777 == 0o666 & ~umask
    res = run("lower", "system.py", "-o", "no/such/dir/spec.json", cwd=tmp_path)
    assert res.returncode == 1 and "does not exist" in res.stderr and "Traceback" not in res.stderr
    res = run("schema", "-o", str(tmp_path), cwd=tmp_path)
    assert res.returncode == 1 and "is a directory" in res.stderr and "Traceback" not in res.stderr


def test_output_names_cannot_leave_the_output_directory(tmp_path: Path) -> None:
    (tmp_path / "system.py").write_text(
        "from systemkit import Service, System\n"
        "systems = {'sub/../../pwned': System(services=[Service('a', 'alpine')])}\n"
    )
    for extra in (["--name", "../escape"], ["--system", "sub/../../pwned"]):
        res = run("build", "system.py", "--format", "tar", "--dir", "out", *extra, cwd=tmp_path)
        assert res.returncode == 1 and "plain file name" in res.stderr, res.stderr
        assert "Traceback" not in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) in (["system.py"], ["out", "system.py"])


def test_a_store_path_that_is_not_a_directory_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    res = run("cache", "ls", "--cache", str(tmp_path / "afile"))
    assert res.returncode == 1 and "cannot use" in res.stderr and "Traceback" not in res.stderr


def test_system_is_refused_for_yaml_input(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("services:\n  - name: a\n    image: alpine\n")
    res = run("lower", "a.yml", "--system", "x", cwd=tmp_path)
    assert res.returncode == 1 and "SK057" in res.stderr
