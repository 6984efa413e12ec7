"""Finding a kernel+initrd build's files, and the `systemkit run qemu` command's failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from systemkit.cli import main
from systemkit.run import ArtifactNotFound, QemuError, QemuSession, find_kernel_initrd
from systemkit.run.qemu import _missing, qemu_command


def _build(d: Path, name: str, cmdline: str | None = "console=ttyS0\n") -> None:
    (d / f"{name}-kernel").write_bytes(b"k")
    (d / f"{name}-initrd.img").write_bytes(b"i")
    if cmdline is not None:
        (d / f"{name}-cmdline").write_text(cmdline)


def test_prefix_file_and_directory_all_name_the_build(tmp_path: Path) -> None:
    _build(tmp_path, "hello")
    names = (tmp_path / "hello", tmp_path / "hello-kernel", tmp_path / "hello-initrd.img")
    for path in (*names, tmp_path):
        found = find_kernel_initrd(path)
        assert found.kernel == tmp_path / "hello-kernel"
        assert found.initrd == tmp_path / "hello-initrd.img"
        assert found.cmdline == "console=ttyS0"


def test_missing_cmdline_file_means_empty_cmdline(tmp_path: Path) -> None:
    _build(tmp_path, "x", cmdline=None)
    assert find_kernel_initrd(tmp_path / "x").cmdline == ""


def test_directory_with_two_builds_is_ambiguous(tmp_path: Path) -> None:
    _build(tmp_path, "a")
    _build(tmp_path, "b")
    with pytest.raises(ArtifactNotFound, match="more than one build"):
        find_kernel_initrd(tmp_path)
    assert find_kernel_initrd(tmp_path / "b").kernel.name == "b-kernel"


def test_missing_initrd_is_named(tmp_path: Path) -> None:
    (tmp_path / "h-kernel").write_bytes(b"k")
    with pytest.raises(ArtifactNotFound, match=r"no initrd at .*h-initrd\.img"):
        find_kernel_initrd(tmp_path / "h")


def test_cli_reports_a_missing_build_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "qemu", str(tmp_path / "nothing")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no kernel at ")
    assert "Traceback" not in err


def test_cli_help_names_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run", "qemu", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for option in ("--mem", "--cpus", "--timeout", "--accel", "--cmdline-append"):
        assert option in out


def test_session_refuses_missing_files(tmp_path: Path) -> None:
    with pytest.raises(QemuError, match=r"kernel .* does not exist"):
        QemuSession(tmp_path / "k", tmp_path / "i", "")


def test_qemu_command_ends_at_power_off_with_console_on_stdio() -> None:
    cmd = qemu_command(Path("k"), Path("i"), "console=ttyS0", memory="1G", cpus=2)
    assert cmd[:3] == ["qemu-system-x86_64", "-accel", "tcg"]
    assert "-no-reboot" in cmd
    assert cmd[cmd.index("-serial") + 1] == "stdio"
    assert cmd[cmd.index("-m") + 1] == "1G"
    assert cmd[cmd.index("-smp") + 1] == "2"
    assert cmd[cmd.index("-append") + 1] == "console=ttyS0"


def test_expected_strings_must_appear_in_order() -> None:
    lines = ["boot", "a: one", "b: two", "c: three"]
    assert _missing(lines, ["one", "three"]) == []
    assert _missing(lines, ["three", "one"]) == ["one"]
    assert _missing(lines, ["zero", "one"]) == ["zero", "one"]
    assert _missing(lines, []) == []


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [("--cpus", "0", "must be at least 1"), ("--timeout", "-1", "must be more than 0")],
)
def test_cli_refuses_nonsense_numbers_as_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, message: str
) -> None:
    _build(tmp_path, "h")
    with pytest.raises(SystemExit) as exit_:
        main(["run", "qemu", str(tmp_path / "h"), option, value])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
