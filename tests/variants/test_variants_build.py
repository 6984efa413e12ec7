"""``build --all``: identical specs built once, parallel workers, failures isolated, a summary."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.cli import systemkit_cli

BUILT = ["alpha", "beta", "gamma"]


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_build_all_shares_work_and_isolates_failures(
    variants_py: Path, variants_store: Path, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    shutil.copytree(variants_store, store)
    out = tmp_path / "out"
    res = systemkit_cli(
        "build", str(variants_py), "--all", "-j", "2", "--dir", str(out), "--cache", str(store),
        timeout=300,
    )  # fmt: skip
    assert res.returncode == 1, res.stderr  # one system failed
    rows = {line.split()[0]: line.split()[1] for line in res.stdout.splitlines()[1:6]}
    assert rows == {
        "alpha": "built",
        "alpha-again": "reused",
        "beta": "built",
        "broken": "failed",
        "gamma": "built",
    }
    assert "5 systems: 3 built, 1 reused, 1 failed" in res.stdout
    assert res.stdout.rstrip().endswith("failed: broken")
    assert "did not find kernel" in res.stdout
    for name in [*BUILT, "broken"]:
        assert f"[{name}] " in res.stderr  # per-system progress
    files = tree(out)
    assert sorted(files) == sorted(
        f"{n}/{n}-{part}"
        for n in [*BUILT, "alpha-again"]
        for part in ("kernel", "initrd.img", "cmdline")
    )
    assert files["alpha-again/alpha-again-initrd.img"] == files["alpha/alpha-initrd.img"]
    assert (out / "alpha-again" / "alpha-again-initrd.img").stat().st_ino == (
        out / "alpha" / "alpha-initrd.img"
    ).stat().st_ino  # a hard link, not a second build
    assert not (out / "broken").exists()

    # each system's artifacts are the bytes of building that system alone
    alone = tmp_path / "alone"
    for name in ("beta", "gamma"):
        one = systemkit_cli(
            "build", str(variants_py), "--system", name, "--dir", str(alone / name),
            "--cache", str(store), timeout=300,
        )  # fmt: skip
        assert one.returncode == 0, one.stderr
    assert tree(alone) == {k: v for k, v in files.items() if k.split("/")[0] in ("beta", "gamma")}


def test_build_all_j1_in_process_and_usage_errors(
    variants_py: Path, variants_store: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    res = systemkit_cli(
        "build", str(variants_py), "--system", "alpha*", "-j", "1", "--dir", str(out),
        "--cache", str(variants_store), "-f", "tar", "--quiet",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert sorted(tree(out)) == ["alpha-again/alpha-again.tar", "alpha/alpha.tar"]
    assert res.stderr == ""
    bad = systemkit_cli("build", str(variants_py), "--all", "--name", "x")
    assert bad.returncode == 2
    bad = systemkit_cli("build", str(variants_py), "--all", "--executor", "dask")
    assert bad.returncode == 2 and "--scheduler" in bad.stderr


KILL_IN_REUSE = """\
import os, signal, sys
from systemkit.cli import main
real_link = os.link
def link(src, dst, *args, **kwargs):
    real_link(src, dst, *args, **kwargs)
    if "alpha-again" in str(dst):  # the reuse step has made its first temporary output
        os.kill(os.getpid(), signal.SIGKILL)
os.link = link
sys.exit(main(sys.argv[1:]))
"""


def test_killed_reuse_step_is_reclaimed_by_the_next_build(
    variants_py: Path, variants_store: Path, tmp_path: Path
) -> None:
    """A build killed while giving an identical system its artifacts leaves temporaries that
    the next build in that directory removes; the reused artifacts are the built bytes."""
    import signal
    import subprocess
    import sys

    out = tmp_path / "out"
    args = ["build", str(variants_py), "--system", "alpha*", "-j", "1", "--dir", str(out),
            "--cache", str(variants_store), "--quiet"]  # fmt: skip
    killed = subprocess.run(
        [sys.executable, "-c", KILL_IN_REUSE, *args], capture_output=True, timeout=300
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    litter = [p.name for p in (out / "alpha-again").iterdir()]
    assert any(n.endswith(".part") for n in litter), litter  # the kill left a temporary
    assert not any(n.startswith("alpha-again-") for n in litter), litter  # nothing final

    res = systemkit_cli(*args, timeout=300)
    assert res.returncode == 0, res.stderr
    files = tree(out)
    parts = ("kernel", "initrd.img", "cmdline")
    assert sorted(files) == sorted(f"{n}/{n}-{p}" for n in ("alpha", "alpha-again") for p in parts)
    for part in parts:
        assert files[f"alpha-again/alpha-again-{part}"] == files[f"alpha/alpha-{part}"]


def test_reused_artifacts_are_copied_across_filesystems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where a hard link is refused (another filesystem) the artifacts are copied: the same
    bytes, an ordinary file's mode, nothing else left in the directory."""
    import errno
    import os

    from systemkit.variants.build import SystemResult, _link_artifacts

    built = tmp_path / "alpha"
    built.mkdir()
    paths = []
    for part, data in (("kernel", b"K" * 5000), ("initrd.img", b"I" * 7000)):
        path = built / f"alpha-{part}"
        path.write_bytes(data)
        path.chmod(0o644)
        paths.append(path)

    def no_link(src: object, dst: object, *args: object, **kwargs: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", no_link)
    made = _link_artifacts(
        SystemResult("alpha", "built", 1.0, tuple(paths)), "alpha-2", tmp_path / "alpha-2"
    )
    assert [p.name for p in made] == ["alpha-2-kernel", "alpha-2-initrd.img"]
    assert sorted(p.name for p in (tmp_path / "alpha-2").iterdir()) == sorted(p.name for p in made)
    for copy, original in zip(made, paths, strict=True):
        assert copy.read_bytes() == original.read_bytes()
        assert copy.stat().st_ino != original.stat().st_ino
        assert copy.stat().st_mode & 0o777 == 0o644
