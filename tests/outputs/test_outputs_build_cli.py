"""Outputs (atomic files, cpio) and the ``systemkit build`` command."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from systemkit.assemble.tarstream import DIR, LNK, REG, SYM, TarHeader
from systemkit.images import synth
from systemkit.images.store import ImageStore
from systemkit.outputs import AtomicOutputs
from systemkit.outputs.cpio import NewcWriter

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
sys.path.insert(0, str(SHARED / "conformance" / "tools"))
import skgen  # noqa: E402


def test_atomic_outputs_commit_and_cleanup(tmp_path: Path) -> None:
    with AtomicOutputs(tmp_path) as outs:
        with outs.open("a.bin") as fh:
            fh.write(b"a")
        scratch = outs.scratch("work")
        scratch.write_bytes(b"tmp")
        assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == []
        assert outs.commit() == [tmp_path / "a.bin"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]
    with pytest.raises(RuntimeError), AtomicOutputs(tmp_path) as outs:
        with outs.open("b.bin") as fh:
            fh.write(b"b")
        raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]


def test_newc_layout() -> None:
    buf = io.BytesIO()
    w = NewcWriter(buf)
    w.add_tar_member(TarHeader("boot", DIR, 0o755, mtime=5), None)
    w.add_tar_member(TarHeader("a/b/file", REG, 0o4755, uid=1, gid=2, size=3), b"abc")
    w.add_tar_member(TarHeader("a/c/hard", LNK, 0o644, linkname="a/b/file"), None)
    w.add_tar_member(TarHeader("s", SYM, 0o777, linkname="/x"), None)
    w.close()
    data = buf.getvalue()
    assert len(data) % 512 == 0
    assert data[6:14] == b"000002D1"  # first inode is 721
    entries: list[dict[str, object]] = []
    skgen.parse_newc(data, 0, entries)
    assert [(e["path"], e["type"], e["nlink"]) for e in entries] == [
        ("boot", "dir", 2),
        ("a/b/file", "file", 1),
        ("a/c/hard", "symlink", 1),
        ("s", "symlink", 1),
    ]
    assert entries[1]["mode"] == "4755" and entries[2]["linkname"] == "../b/file"


def _store_with_images(root: Path) -> Path:
    store = ImageStore(root)
    store.tag("docker.io/t/kernel:1", synth.put_image(store, [{"kernel": "K", "kernel.tar": b""}]))
    store.tag(
        "docker.io/t/app:1",
        synth.put_image(store, [{"bin/app": "x"}], config={"Cmd": ["/bin/app"]}),
    )
    return root


SYSTEM = """\
kernel:
  image: t/kernel:1
  cmdline: console=ttyS0
  tar: none
onboot:
  - name: app
    image: t/app:1
files:
  - path: etc/motd
    contents: "hello\\n"
"""


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "systemkit", "build", *args], capture_output=True, text=True, cwd=cwd
    )


def test_cli_build_formats_and_progress(tmp_path: Path) -> None:
    store = _store_with_images(tmp_path / "store")
    (tmp_path / "demo.yml").write_text(SYSTEM)
    out = tmp_path / "out"
    out.mkdir()
    res = run(
        "demo.yml",
        "--cache",
        str(store),
        "--dir",
        "out",
        "--format",
        "tar,kernel+initrd",
        "--arch",
        "amd64",
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "demo-cmdline",
        "demo-initrd.img",
        "demo-kernel",
        "demo.tar",
    ]
    assert (out / "demo-cmdline").read_text() == "console=ttyS0"
    assert "Add onboot containers:" in res.stderr
    assert res.stdout.splitlines()[0].endswith("demo.tar")
    quiet = run(
        "demo.yml",
        "--cache",
        str(store),
        "--dir",
        "out",
        "-f",
        "tar",
        "--name",
        "q",
        "--quiet",
        "--arch",
        "amd64",
        cwd=tmp_path,
    )
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert (out / "q.tar").read_bytes() == (out / "demo.tar").read_bytes()


def test_cli_build_creates_the_output_directory(tmp_path: Path) -> None:
    store = _store_with_images(tmp_path / "store")
    (tmp_path / "demo.yml").write_text(SYSTEM)
    res = run("demo.yml", "--cache", str(store), "--dir", "new/dir", "-f", "tar", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert [p.name for p in (tmp_path / "new" / "dir").iterdir()] == ["demo.tar"]


def test_cli_build_errors_are_one_line(tmp_path: Path) -> None:
    store = _store_with_images(tmp_path / "store")
    (tmp_path / "demo.yml").write_text(SYSTEM)
    (tmp_path / "afile").write_text("")
    res = run("demo.yml", "--cache", str(store), "--dir", "afile", cwd=tmp_path)
    assert res.returncode == 1 and "is not a directory" in res.stderr
    assert "Traceback" not in res.stderr
    (tmp_path / "out").mkdir()
    res = run("demo.yml", "--cache", str(store), "--dir", "out", "--backend", "nope", cwd=tmp_path)
    assert res.returncode == 1 and "known backends: " in res.stderr and "native" in res.stderr
    res = run("demo.yml", "--cache", str(store), "--dir", "out", "-f", "vhd", cwd=tmp_path)
    assert res.returncode == 1 and "cannot build format 'vhd'" in res.stderr
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_parallel_gzip_is_standard_and_thread_independent(threads: int) -> None:
    import gzip
    import os

    from systemkit.outputs.pgzip import ParallelGzipWriter

    data = os.urandom(700_000) + b"systemkit " * 200_000 + os.urandom(5)
    reference = io.BytesIO()
    with ParallelGzipWriter(reference, threads=1, block=1 << 17) as w:
        w.write(data)
    out = io.BytesIO()
    with ParallelGzipWriter(out, threads=threads, block=1 << 17) as w:
        for i in range(0, len(data), 65_537):
            w.write(data[i : i + 65_537])
    assert out.getvalue() == reference.getvalue()
    assert gzip.decompress(out.getvalue()) == data
    assert out.getvalue()[3] == 0 and out.getvalue()[4:8] == b"\0\0\0\0"  # no name, mtime 0


def test_cli_build_checks_gate(tmp_path: Path) -> None:
    store = _store_with_images(tmp_path / "store")
    bad = SYSTEM.replace(
        "    image: t/app:1\n", "    image: t/app:1\n    capabilities: [all, CAP_CHOWN]\n"
    )
    (tmp_path / "bad.yml").write_text(bad)
    (tmp_path / "out").mkdir()
    res = run("bad.yml", "--cache", str(store), "--dir", "out", "-f", "tar", cwd=tmp_path)
    assert res.returncode == 1
    assert "error[" in res.stderr and "Traceback" not in res.stderr
    assert list((tmp_path / "out").iterdir()) == []


def test_cli_build_live_progress_on_a_terminal(tmp_path: Path) -> None:
    """On a terminal (a real pty via script(1)) the steps share one live status line (rich
    redraws it in place); the result stays as a line of its own."""
    import shutil

    if shutil.which("script") is None:
        pytest.skip("script(1) is not installed")
    store = _store_with_images(tmp_path / "store")
    (tmp_path / "demo.yml").write_text(SYSTEM)
    (tmp_path / "out").mkdir()
    command = (
        f"{sys.executable} -m systemkit build demo.yml --cache {store} --dir out -f tar "
        "--arch amd64"
    )
    res = subprocess.run(
        ["script", "-qec", command, "/dev/null"], capture_output=True, cwd=tmp_path, check=False
    )
    assert res.returncode == 0, res.stdout
    screen = res.stdout.decode()
    assert "\r\x1b[2K" in screen and "Add onboot containers:" in screen  # redrawn in place
    assert "Built demo.tar" in screen.split("Add onboot containers:")[-1]
    # the status line shows the elapsed time (H:MM:SS, however long the build took)
    plain = re.sub(r"\x1b\[[0-9;]*m", "", screen)
    assert re.search(r"Add onboot containers: +\d+:[0-5]\d:[0-5]\d\r", plain), screen


def test_cli_build_errors_point_at_the_users_line(tmp_path: Path) -> None:
    """A build problem that belongs to a part of the system is one located line."""
    store = _store_with_images(tmp_path / "store")
    wrong = SYSTEM.replace("  tar: none\n", "  tar: none\n  binary: vmlinuz\n")
    (tmp_path / "demo.yml").write_text(wrong)
    (tmp_path / "out").mkdir()
    res = run(
        "demo.yml",
        "--cache",
        str(store),
        "--dir",
        "out",
        "-f",
        "tar",
        "--arch",
        "amd64",
        cwd=tmp_path,
    )
    errors = [line for line in res.stderr.splitlines() if "error[" in line]
    assert res.returncode == 1 and len(errors) == 1, res.stderr
    assert errors[0].startswith("demo.yml:") and "error[SK621]" in errors[0], errors[0]
    assert "did not find kernel 'vmlinuz'" in errors[0] and "Traceback" not in res.stderr
    assert list((tmp_path / "out").iterdir()) == []
