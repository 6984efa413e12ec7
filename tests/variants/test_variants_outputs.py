"""Outputs per system: ``lower -o DIR``, ``check`` with each finding once, ``matrix``."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from systemkit import Service, System, matrix
from systemkit.diagnostics import UserError
from tests.support.cli import systemkit_cli

SYSTEM_PY = textwrap.dedent(
    """\
    from systemkit import Kernel, Service, System, matrix

    def variant(region: str, size: int) -> System:
        services = [Service("app", "alpine:3.20", command=["app", str(size)])]
        if size > 1:
            services.append(Service("app", "alpine:3.20"))  # a duplicate name: SK2xx error
        return System(
            kernel=Kernel("linuxkit/kernel:6.12.59", cmdline=f"console=ttyS0 r={region}"),
            init=["linuxkit/init:b5506cc74a6812dc40982cacfd2f4328f8a4b12a"],
            services=services,
        )

    systems = matrix(variant, region=["eu", "us"], size=[1, 2, 3], name="{region}-{size}")
    """
)


@pytest.fixture
def variants_py(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "system.py"
    path.parent.mkdir()
    path.write_text(SYSTEM_PY)
    return path


@pytest.mark.parametrize(("fmt", "suffix"), [("json", ".json"), ("linuxkit", ".yml")])
def test_lower_all_writes_one_identical_file_per_system(
    variants_py: Path, tmp_path: Path, fmt: str, suffix: str
) -> None:
    out = tmp_path / "out"
    res = systemkit_cli("lower", str(variants_py), "--all", "--format", fmt, "-o", str(out))
    assert res.returncode == 0, res.stderr
    names = [f"{r}-{s}" for r in ("eu", "us") for s in (1, 2, 3)]
    assert sorted(p.name for p in out.iterdir()) == sorted(n + suffix for n in names)
    for name in ("eu-1", "us-3"):
        alone = systemkit_cli("lower", str(variants_py), "--system", name, "--format", fmt)
        assert (out / (name + suffix)).read_bytes() == alone.stdout.encode()


def test_lower_all_leaves_nothing_when_a_system_fails(tmp_path: Path) -> None:
    path = tmp_path / "system.py"
    path.write_text(
        "from systemkit import File, System\n"
        "systems = {'good': System(), 'bad': System(files=[File('/x', source='missing')])}\n"
    )
    out = tmp_path / "out"
    res = systemkit_cli("lower", str(path), "--all", "-o", str(out))
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert not out.exists()


def test_check_all_reports_a_shared_mistake_once_with_its_systems(variants_py: Path) -> None:
    res = systemkit_cli("check", str(variants_py), "--all", "--no-mypy", "--format", "json")
    assert res.returncode == 1
    found = [json.loads(line) for line in res.stdout.splitlines()]
    dup = [f for f in found if f["severity"] == "error"]
    assert len(dup) == 1, found
    assert sorted(dup[0]["systems"]) == ["eu-2", "eu-3", "us-2", "us-3"]
    text = systemkit_cli("check", str(variants_py), "--system", "eu-*", "--no-mypy")
    assert "= affects 2 of 3 systems: eu-2, eu-3" in text.stdout
    assert text.stdout.count("error[") == 1


def test_matrix_names_every_combination_in_loop_order() -> None:
    def make(region: str, size: int) -> System:
        return System(services=[Service("app", "alpine:3.20", command=[region, str(size)])])

    systems = matrix(make, region=["eu", "us"], size={"s": 1, "l": 8}, name="{region}-{size}")
    assert list(systems) == ["eu-s", "eu-l", "us-s", "us-l"]
    assert systems["us-l"].services[0].command == ("us", "8")
    by_fn = matrix(make, region=["eu"], size=[1], name=lambda region, size: f"{region}{size}")
    assert list(by_fn) == ["eu1"]


def test_matrix_refuses_names_that_collide() -> None:
    with pytest.raises(UserError) as err:
        matrix(lambda a, b: System(), a=[1, 2], b=[3], name="{b}")
    assert err.value.diagnostics[0].code == "SK058"
    assert "test_variants_outputs.py" in str(err.value.diagnostics[0].location)


def test_check_all_runs_mypy_once_for_the_file(tmp_path: Path) -> None:
    path = tmp_path / "system.py"
    path.write_text(
        "from systemkit import Kernel, System\n"
        "def variant(n: int) -> System:\n"
        "    label: str = n\n"  # a type error only mypy sees, reported once for the file
        "    return System(kernel=Kernel('k:1', cmdline=f'c={label}'))\n"
        "systems = {f'v{i}': variant(i) for i in range(3)}\n"
    )
    res = systemkit_cli("check", str(path), "--all", "--format", "json", timeout=300)
    found = [json.loads(line) for line in res.stdout.splitlines()]
    mypy = [f for f in found if f["code"] == "SK000"]
    assert len(mypy) == 1 and mypy[0]["systems"] == [] and mypy[0]["line"] == 3, found


BAD_VALUE_PY = textwrap.dedent(
    """\
    from systemkit import Service, System


    def variant(admin: bool) -> System:
        return System(
            services=[
                Service(
                    "web",
                    "alpine",
                    capabilities=["CAP_NOPE"] if admin else ["CAP_NET_ADMIN"],
                )
            ],
        )


    systems = {"a": variant(False), "b": variant(True), "c": variant(True)}
    """
)


def test_commands_on_many_systems_report_a_bad_value_where_check_does(tmp_path: Path) -> None:
    """A value error of some of the systems is reported once, at the argument that made the
    value (not at the line of the call), with the systems it affects (and not the others):
    by check --all, and the same by every command that loads several systems."""
    (tmp_path / "system.py").write_text(BAD_VALUE_PY)
    check = systemkit_cli("check", "system.py", "--all", "--no-mypy", cwd=tmp_path)
    where = "system.py:10:30: error[SK101]: unknown capability 'CAP_NOPE'"
    assert where + "\n" in check.stdout, check.stdout
    assert "  = affects 2 of 3 systems: b, c\n" in check.stdout
    assert check.stdout.count("error[") == 1  # not again at the call, for system a
    for command in (
        ["ls"],
        ["lower", "--all", "-o", "out"],
        ["diff", "--all"],
        ["build", "--all", "--dir", "out", "-f", "tar"],
        ["images", "--system", "a", "--system", "b"],
    ):
        res = systemkit_cli(command[0], "system.py", *command[1:], cwd=tmp_path)
        assert res.returncode == 1, command
        assert res.stderr.startswith(where + " (at $.services[0].capabilities[0])\n"), (
            command,
            res.stderr,
        )
        assert res.stderr.count("error[") == 1, res.stderr
        assert "Traceback" not in res.stderr
        affected = "b" if "--system" in command else "b, c"
        total = 2 if "--system" in command else 3
        assert f"  = affects {affected.count(',') + 1} of {total} systems: {affected}\n" in (
            res.stderr
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["system.py"]


BAD_MODE_PY = textwrap.dedent(
    """\
    from systemkit import File, System, matrix


    def variant(n: int) -> System:
        if n < 3:
            return System(files=[File("/etc/motd", contents="x", mode=0o7777777)])
        return System(files=[File("/etc/motd", contents="x", mode=0o644)])


    systems = matrix(variant, n=[0, 1, 2, 3, 4], name="v{n}")
    """
)


def test_a_bad_value_check_cannot_locate_affects_only_the_systems_that_have_it(
    tmp_path: Path,
) -> None:
    """A value error that stays at its constructor call (no rule finds the refused mode in the
    spec) names the systems whose objects have it, not every system checked: by check --all
    and by ls, which reports the same findings."""
    (tmp_path / "system.py").write_text(BAD_MODE_PY)
    check = systemkit_cli("check", "system.py", "--all", "--no-mypy", cwd=tmp_path)
    assert check.returncode == 1
    assert "system.py:6:30: error[SK103]: mode 0o7777777 is outside 0-0o7777\n" in check.stdout
    assert "  = affects 3 of 5 systems: v0, v1, v2\n" in check.stdout, check.stdout
    assert check.stdout.count("error[") == 1
    ls = systemkit_cli("ls", "system.py", cwd=tmp_path)
    assert ls.returncode == 1
    assert ls.stderr.count("error[SK103]") == 1, ls.stderr
    assert "  = affects 3 of 5 systems: v0, v1, v2\n" in ls.stderr, ls.stderr
    # selected systems that do not have it: the finding is not lost (its owners were not
    # checked), it stays with the file, as for one system checked alone
    some = systemkit_cli(
        "check", "system.py", "--system", "v3", "--system", "v4", "--no-mypy", cwd=tmp_path
    )
    assert some.returncode == 1
    assert some.stdout.count("error[SK103]") == 1, some.stdout


def test_a_finding_of_a_base_system_reaches_the_selected_systems_derived_from_it(
    tmp_path: Path,
) -> None:
    """A system made from another (``base + extra``) keeps the base's constructor findings on
    the base: selecting only the derived system must still report them."""
    (tmp_path / "system.py").write_text(
        textwrap.dedent(
            """\
            from systemkit import Service, System

            base = System(onboot=[Service("setup", "alpine:3.20")])
            extra = System(services=[Service("app", "alpine:3.20")])
            systems = {"base": base, "extra": extra, "both": base + extra}
            """
        )
    )
    for selection in (["--system", "both", "--system", "extra"], ["--all"]):
        res = systemkit_cli("check", "system.py", *selection, "--no-mypy", cwd=tmp_path)
        assert res.returncode == 1, res.stdout
        assert res.stdout.count("error[SK121]") == 1, res.stdout


COUNTS_RUNS_PY = textwrap.dedent(
    """\
    from pathlib import Path

    from systemkit import File, System

    with open(Path(__file__).parent / "runs.log", "a") as log:
        log.write("ran\\n")

    systems = {
        "a": System(files=[File("/etc/motd", contents="x", mode=0o7777777)]),
        "b": System(files=[File("/etc/motd", contents="x")]),
    }
    """
)


@pytest.mark.parametrize(
    "command",
    [
        ["ls"],
        ["diff", "--all"],
        ["lower", "--system", "a"],
        ["lower", "--system", "a", "--system", "b"],
    ],
)
def test_a_file_that_does_not_load_is_run_once(tmp_path: Path, command: list[str]) -> None:
    """The errors of a system.py that does not load come from the checks of the file's one run
    (its side effects happen once), and they are the checks' located findings."""
    (tmp_path / "system.py").write_text(COUNTS_RUNS_PY)
    res = systemkit_cli(command[0], "system.py", *command[1:], cwd=tmp_path)
    assert res.returncode == 1, res.stderr
    assert res.stderr.startswith("system.py:9:24: error[SK103]: mode 0o7777777"), res.stderr
    assert (tmp_path / "runs.log").read_text() == "ran\n"
