"""``build --all``: identical specs built once, parallel workers, failures isolated, a summary."""

from __future__ import annotations

import shutil
from pathlib import Path

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
