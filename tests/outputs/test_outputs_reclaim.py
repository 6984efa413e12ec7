"""Temporary outputs of killed builds are reclaimed by the next build, never a live build's.

Real processes throughout: builds are ``python -m systemkit build`` subprocesses killed with
SIGKILL, and the live session of the safety test is another process holding its lock.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from systemkit.images import synth
from systemkit.images.store import ImageStore
from systemkit.outputs.atomic import reclaim_stale

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

OUTPUTS = ["demo-cmdline", "demo-initrd.img", "demo-kernel", "demo.tar"]

HOLDER = """\
import sys, time
from pathlib import Path
from systemkit.outputs.atomic import AtomicOutputs
outs = AtomicOutputs(Path(sys.argv[1]))
outs.temp("live.tar").write_bytes(b"x")
outs.scratch_dir("live.stage")
print("ready", flush=True)
time.sleep(600)
"""


def _store(root: Path, big: bool = False) -> Path:
    store = ImageStore(root)
    store.tag("docker.io/t/kernel:1", synth.put_image(store, [{"kernel": "K", "kernel.tar": b""}]))
    # Enough incompressible bytes that a build takes a while: kills land in every phase.
    blob = random.Random(7).randbytes(6 << 20 if big else 1024)
    store.tag(
        "docker.io/t/app:1",
        synth.put_image(store, [{"bin/app": "x", "data/blob": blob}], config={"Cmd": ["/bin/app"]}),
    )
    return root


def _build_cmd(store: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "systemkit",
        "build",
        "demo.yml",
        "--cache",
        str(store),
        "--dir",
        str(out),
        "--format",
        "tar,kernel+initrd",
        "--arch",
        "amd64",
        "--quiet",
    ]


def _until_locked(proc: subprocess.Popen[bytes], out: Path) -> float:
    """Wait until the build holds its lock in ``out`` (it then writes outputs); the time."""
    started = time.monotonic()
    while proc.poll() is None and not any(out.glob(".systemkit-build.*")):
        time.sleep(0.002)
    return time.monotonic() - started


def test_killed_builds_leave_nothing_after_the_next_build(tmp_path: Path) -> None:
    store = _store(tmp_path / "store", big=True)
    system = tmp_path / "demo.yml"
    system.write_text(SYSTEM)
    out = tmp_path / "out"
    out.mkdir()
    cmd = _build_cmd(store, out)
    proc = subprocess.Popen(cmd, cwd=tmp_path)
    to_lock = _until_locked(proc, out)
    started = time.monotonic()
    assert proc.wait() == 0
    writing = time.monotonic() - started
    rng = random.Random(12)
    litter_seen = 0
    for i in range(30):
        # A new kernel command line each time: a full build, not the rebuild cache's reuse.
        system.write_text(SYSTEM.replace("console=ttyS0", f"console=ttyS0 n={i}"))
        proc = subprocess.Popen(
            cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if i % 5 == 0:  # some kills while starting up, reading the system, resolving images
            time.sleep(rng.uniform(0.0, to_lock))
        else:  # most while outputs are being written (a temporary output exists)
            _until_locked(proc, out)
            while proc.poll() is None and not any(out.glob(".*.part")):
                time.sleep(0.002)
            time.sleep(rng.uniform(0.0, writing / 2))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        litter_seen += any(p.name.endswith(".part") for p in out.iterdir())
    # Kills did leave temporary outputs behind (otherwise this test proves nothing).
    assert litter_seen >= 10
    system.write_text(SYSTEM)
    res = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in out.iterdir()) == OUTPUTS


def test_reclaim_keeps_a_live_sessions_files_and_takes_a_dead_ones(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        files = sorted(p.name for p in tmp_path.iterdir())
        assert len(files) == 3  # the lock, a temporary output, a scratch directory
        assert reclaim_stale(tmp_path) == []
        assert sorted(p.name for p in tmp_path.iterdir()) == files
        (tmp_path / "user.part").write_text("not ours")
        (tmp_path / ".user.0123456789abcdef.x.part").write_text("an orphan part (no lock)")
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    removed = reclaim_stale(tmp_path)
    assert sorted(p.name for p in removed) == sorted([*files, ".user.0123456789abcdef.x.part"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["user.part"]


def test_concurrent_builds_sharing_a_cache_key_do_not_warn(tmp_path: Path) -> None:
    store = _store(tmp_path / "store")
    system = tmp_path / "demo.yml"
    for round_ in range(2):
        # a new key each round, so every build of the round misses and saves the cache
        system.write_text(SYSTEM.replace("console=ttyS0", f"console=ttyS0 r={round_}"))
        procs = []
        for i in range(4):
            out = tmp_path / f"out{round_}-{i}"
            out.mkdir()
            cmd = [c for c in _build_cmd(store, out) if c != "--quiet"]
            procs.append(
                subprocess.Popen(
                    cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
                )
            )
        for proc in procs:
            _, stderr = proc.communicate()
            assert proc.returncode == 0, stderr
            assert "rebuild cache" not in stderr and "Errno" not in stderr, stderr
            assert "Built demo.tar" in stderr
    entries = [p for p in (store / ".build-cache").iterdir() if not p.name.startswith(".")]
    assert len(entries) == 2  # the last two keys, each installed once


def test_a_build_never_reclaims_a_live_builds_files(tmp_path: Path) -> None:
    store = _store(tmp_path / "store")
    (tmp_path / "demo.yml").write_text(SYSTEM)
    out = tmp_path / "out"
    out.mkdir()
    cmd = _build_cmd(store, out)
    # another process in the middle of writing its outputs into the same directory
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(out)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        live = sorted(p.name for p in out.iterdir())
        res = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
        assert sorted(p.name for p in out.iterdir()) == sorted([*live, *OUTPUTS])
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    res = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in out.iterdir()) == OUTPUTS
