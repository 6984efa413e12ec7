"""Single-file outputs (``-o FILE`` of ``lower``, ``schema``, ``import``; lock files) go through
:func:`systemkit.outputs.atomic.write_file`: whole or not at all, an ordinary file's
permissions, nothing left on an error, and what a killed writer left is reclaimed by the next
write in that directory. Kills are real: a ``systemkit`` process that SIGKILLs itself just
before its rename."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from systemkit.cli import main
from systemkit.outputs.atomic import AtomicOutputs, ordinary_mode, write_file

SYSTEM_PY = (
    "from systemkit import Service, System\nsystem = System(services=[Service('a', 'alpine')])\n"
)
SYSTEM_YML = "services:\n  - name: a\n    image: alpine\n"

KILL_BEFORE_RENAME = """\
import os, signal, sys
from systemkit.cli import main
def replace(src, dst, *args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)  # the temporary output is written, not yet renamed
os.replace = replace
sys.exit(main(sys.argv[1:]))
"""


def _killed(cwd: Path, *args: str) -> None:
    res = subprocess.run(
        [sys.executable, "-c", KILL_BEFORE_RENAME, *args], cwd=cwd, capture_output=True
    )
    assert res.returncode == -signal.SIGKILL, res.stderr


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.mark.parametrize(
    ("argv", "output"),
    [
        (["lower", "../src/system.py", "-o", "spec.json"], "spec.json"),
        (["schema", "-o", "schema.json"], "schema.json"),
        (["import", "../src/system.yml", "-o", "system.py", "--force"], "system.py"),
    ],
)
def test_a_killed_writer_leaves_a_temporary_the_next_write_reclaims(
    tmp_path: Path, argv: list[str], output: str
) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    (src / "system.py").write_text(SYSTEM_PY)
    (src / "system.yml").write_text(SYSTEM_YML)
    (out / output).write_bytes(b"old\n")
    _killed(out, *argv)
    litter = [n for n in _names(out) if n != output]
    assert litter, litter  # the kill left a temporary
    assert (out / output).read_bytes() == b"old\n"  # the old file, untouched
    cwd = os.getcwd()
    os.chdir(out)
    try:
        assert main(argv) == 0  # the next write in that directory
    finally:
        os.chdir(cwd)
    assert _names(out) == [output]
    assert (out / output).read_bytes() != b"old\n"
    assert (out / output).stat().st_mode & 0o777 == ordinary_mode()


def test_a_write_that_fails_leaves_the_old_file_and_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "spec.json"
    target.write_bytes(b"old\n")

    def full_disk(src: object, dst: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space left"):
        write_file(target, b"new\n")
    monkeypatch.undo()

    def interrupted(src: object, dst: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_file(target, b"new\n")
    monkeypatch.undo()
    assert _names(tmp_path) == ["spec.json"] and target.read_bytes() == b"old\n"


def test_write_file_gives_an_ordinary_files_permissions(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        path = write_file(tmp_path / "a.json", b"{}\n")
    finally:
        os.umask(old)
    assert path == tmp_path / "a.json" and path.read_bytes() == b"{}\n"
    assert path.stat().st_mode & 0o777 == 0o640
    assert _names(tmp_path) == ["a.json"]


def test_an_output_that_is_a_fifo_or_device_is_written_into_not_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``-o /dev/null``, ``-o /dev/stdout`` or a named pipe: the data goes into it; the node
    itself stays (a rename over it would replace the device: ``/dev/null`` as root)."""
    import stat

    (tmp_path / "system.py").write_text(SYSTEM_PY)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "to-pipe"  # resolved by lower -o, as a symlinked output file is
    link.symlink_to(fifo)
    monkeypatch.chdir(tmp_path)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # the writer's open does not block
    try:
        assert main(["lower", "system.py", "-o", str(fifo)]) == 0
        first = os.read(reader, 1 << 16)
        assert main(["lower", "system.py", "-o", str(link)]) == 0
        second = os.read(reader, 1 << 16)
        written = write_file(fifo, b"plain\n")
        assert os.read(reader, 1 << 16) == b"plain\n" and written == fifo
    finally:
        os.close(reader)
    assert first.startswith(b"{") and first == second
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe", "system.py", "to-pipe"]
    capsys.readouterr()


def test_an_output_that_cannot_be_written_is_an_error_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A directory that refuses new files (/proc does, even for root) is reported as an
    error (exit 1) naming the file, as every other bad output path is."""
    (tmp_path / "system.py").write_text(SYSTEM_PY)
    monkeypatch.chdir(tmp_path)
    assert main(["lower", "system.py", "-o", "/proc/systemkit-review.json"]) == 1
    err = capsys.readouterr().err
    assert "error: cannot write /proc/systemkit-review.json:" in err, err
    assert "Traceback" not in err


def test_commit_over_a_link_to_the_same_file_leaves_only_the_output(tmp_path: Path) -> None:
    """rename(2) does nothing when both names are links to one file (an output given again
    the bytes it already links to, as `build --all` run twice does for a reused system):
    commit must still drop the temp name."""
    shared = tmp_path / "shared"
    shared.write_bytes(b"kernel")
    out = tmp_path / "out"
    out.mkdir()
    for _ in range(2):
        with AtomicOutputs(out) as outs:
            outs.link(shared, "a-kernel")
            outs.commit()
    assert sorted(p.name for p in out.iterdir()) == ["a-kernel"]
    assert (out / "a-kernel").stat().st_ino == shared.stat().st_ino
