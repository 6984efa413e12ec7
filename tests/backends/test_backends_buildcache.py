"""The build cache's resume points: a variant that differs in one container and one file
copies the prefix an earlier build left and builds only the rest, to the same bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from systemkit.backends import build
from systemkit.backends.base import BuildRequest
from systemkit.backends.buildcache import BuildCache, parse_size
from systemkit.backends.native import NativeBackend
from systemkit.images import synth
from systemkit.images.store import ImageStore
from systemkit.spec.types import FileSpec, ImageSpec, KernelSpec, Spec
from tests.support.cli import systemkit_cli

ALL = ("tar", "kernel+initrd", "tar-kernel-initrd")


def _store(root: Path) -> Path:
    store = ImageStore(root)
    store.tag("docker.io/t/kernel:1", synth.put_image(store, [{"kernel": b"K" * 4096}]))
    store.tag(
        "docker.io/t/init:1",
        synth.put_image(store, [{"sbin/init": b"I" * 70000, "bin/sh": b"S" * 300}]),
    )
    store.tag(
        "docker.io/t/app:1",
        synth.put_image(store, [{"bin/app": b"A" * 50000}], config={"Cmd": ["/bin/app"]}),
    )
    store.tag(
        "docker.io/t/other:1",
        synth.put_image(store, [{"bin/other": b"O" * 9000}], config={"Cmd": ["/bin/other"]}),
    )
    return root


def variant(i: int, setup: str = "x", name: str = "web", cmdline: str = "console=ttyS0") -> Spec:
    return Spec(
        kernel=KernelSpec(image="docker.io/t/kernel:1", cmdline=cmdline, tar="none"),
        init=["docker.io/t/init:1"],
        onboot=[ImageSpec(name="setup", image="docker.io/t/app:1", command=["/bin/app", setup])],
        services=[
            ImageSpec(name="other", image="docker.io/t/other:1"),
            ImageSpec(name=name, image="docker.io/t/app:1", command=["/bin/app", f"--id={i}"]),
        ],
        files=[FileSpec(path="etc/motd", contents=f"variant {i}\n", mode="0644")],
    )


def _build(spec: Spec, store: Path, out: Path, formats: tuple[str, ...]) -> tuple[list[Path], str]:
    lines: list[str] = []
    out.mkdir()
    paths = build(
        spec,
        base_dir=out,
        formats=formats,
        out_dir=out,
        cache_dir=store,
        arch="amd64",
        progress=lambda m: lines.append(str(m)),
    )
    return paths, "\n".join(lines)


def _full(spec: Spec, store: Path, out: Path, formats: tuple[str, ...]) -> list[Path]:
    out.mkdir()
    request = BuildRequest(
        spec=spec, base_dir=out, formats=formats, out_dir=out, cache_dir=store, arch="amd64"
    )
    return NativeBackend(use_cache=False).build(request)


@pytest.mark.parametrize("formats", [ALL, ("kernel+initrd",)])
def test_a_variant_resumes_at_the_container_that_differs(
    tmp_path: Path, formats: tuple[str, ...]
) -> None:
    store = _store(tmp_path / "store")
    _, log = _build(variant(0), store, tmp_path / "v0", formats)
    assert "Reusing" not in log
    cases = [
        (variant(1), "up to services[1]"),  # the last service and the file differ
        (variant(2, setup="y"), "up to onboot[0]"),  # the first container differs
    ]
    for n, (spec, where) in enumerate(cases):
        got, log = _build(spec, store, tmp_path / f"r{n}", formats)
        assert f"Reusing the unchanged part of an earlier build ({where})" in log
        expected = _full(spec, store, tmp_path / f"f{n}", formats)
        assert [p.name for p in got] == [p.name for p in expected]
        for a, b in zip(got, expected, strict=True):
            assert a.read_bytes() == b.read_bytes(), a.name
    # a renamed container changes every container's uid: nothing is reused
    _, log = _build(variant(3, name="www"), store, tmp_path / "renamed", formats)
    assert "Reusing" not in log


def test_another_kernel_command_line_shares_the_initrd_prefix(tmp_path: Path) -> None:
    """boot/ stays out of the initrd: a variant with another command line reuses the initrd's
    prefix when no output needs the whole filesystem, and builds in full when one does."""
    store = _store(tmp_path / "store")
    only = ("kernel+initrd",)
    _build(variant(0), store, tmp_path / "v0", ALL)
    other = variant(1, cmdline="console=ttyS1 region=eu")
    got, log = _build(other, store, tmp_path / "v1", only)
    assert "Reusing the unchanged part of an earlier build (up to services[1])" in log
    expected = _full(other, store, tmp_path / "f1", only)
    for a, b in zip(got, expected, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert (tmp_path / "v1" / "system-cmdline").read_text() == "console=ttyS1 region=eu"
    _, log = _build(variant(2, cmdline="console=ttyS2"), store, tmp_path / "v2", ALL)
    assert "Reusing" not in log


def test_cache_builds_and_prune(tmp_path: Path) -> None:
    store = _store(tmp_path / "store")
    for i, setup in enumerate(("a", "b", "c")):  # three full builds: three entries
        _build(variant(i, setup=setup, name=f"s{i}"), store, tmp_path / f"o{i}", ("tar",))
    cache = BuildCache(store / ".build-cache")
    assert len(cache.entries()) == 3
    res = systemkit_cli("cache", "builds", "--cache", str(store))
    assert res.returncode == 0 and "3 entries" in res.stdout
    res = systemkit_cli("cache", "prune", "--keep", "1", "--cache", str(store))
    assert res.returncode == 0 and "removed 2 build cache entries" in res.stdout
    assert len(cache.entries()) == 1
    res = systemkit_cli("cache", "prune", "--cache", str(store))
    assert res.returncode == 0 and cache.entries() == []
    assert [r.name for r in (store / ".build-cache" / ".index").iterdir()] == []
    assert parse_size("2G") == 2 << 30 and parse_size("500M") == 500 << 20


def test_builds_prune_to_the_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = _store(tmp_path / "store")
    monkeypatch.setenv("SYSTEMKIT_BUILD_CACHE_SIZE", "1K")  # smaller than any entry
    _build(variant(0), store, tmp_path / "o", ("tar",))
    assert BuildCache(store / ".build-cache").entries() == []


def test_a_full_build_shares_its_kernel_with_the_cache_and_resumed_builds_own_theirs(
    tmp_path: Path,
) -> None:
    """The full build's output kernel is the cache's kernel file (a hard link, as its tar
    would be); a build resumed from that entry gets a copy of its own, so writing over one
    output (``cp`` writes into an existing file) never changes another."""
    store = _store(tmp_path / "store")
    one, _ = _build(variant(1), store, tmp_path / "one", ("kernel+initrd",))
    two, log = _build(variant(2), store, tmp_path / "two", ("kernel+initrd",))
    assert "Reusing" in log
    ref = _full(variant(2), store, tmp_path / "ref", ("kernel+initrd",))
    kernels = [next(p for p in paths if p.name.endswith("-kernel")) for paths in (one, two, ref)]
    assert kernels[0].read_bytes() == kernels[1].read_bytes() == kernels[2].read_bytes()
    (entry,) = [path for path, _, _ in BuildCache(store / ".build-cache").entries()]
    assert kernels[0].stat().st_ino == (entry / "kernel").stat().st_ino
    assert kernels[1].stat().st_nlink == 1
    assert kernels[2].stat().st_nlink == 1  # a build without the cache owns its kernel
    before = kernels[0].read_bytes()
    kernels[1].write_bytes(b"my own kernel")  # in place, as cp does
    assert kernels[0].read_bytes() == before
    assert (entry / "kernel").read_bytes() == before


def test_a_kernel_changed_in_place_is_not_reused(tmp_path: Path) -> None:
    """Editing an output kernel in place changes the cache's file too (one inode): the cache
    sees it (size and mtime) and builds from scratch instead of handing the edit on."""
    store = _store(tmp_path / "store")
    one, _ = _build(variant(1), store, tmp_path / "one", ("kernel+initrd",))
    kernel = next(p for p in one if p.name.endswith("-kernel"))
    with kernel.open("r+b") as fh:
        fh.write(b"X")
    two, log = _build(variant(2), store, tmp_path / "two", ("kernel+initrd",))
    assert "Reusing" not in log
    ref = _full(variant(2), store, tmp_path / "ref", ("kernel+initrd",))
    for a, b in zip(sorted(two), sorted(ref), strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


@pytest.mark.parametrize("variable", ["SYSTEMKIT_BUILD_CACHE_SIZE", "SYSTEMKIT_LAYER_CACHE_SIZE"])
@pytest.mark.parametrize("value", ["lots", "inf"])
def test_a_bad_cache_size_is_an_error_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    """A cache size that is not a size is an error naming the variable, raised before the
    build does its work (not a traceback at the end, when the cache is pruned)."""
    from systemkit.diagnostics import SystemkitError

    store = _store(tmp_path / "store")
    monkeypatch.setenv(variable, value)
    with pytest.raises(SystemkitError, match=rf"\${variable} '{value}' is not a size"):
        _build(variant(1), store, tmp_path / "out", ("tar",))
    assert list((tmp_path / "out").iterdir()) == []
    assert not (store / ".build-cache").exists() and not (store / ".layer-cache").exists()
    monkeypatch.delenv(variable)
    res = systemkit_cli("cache", "prune", "--max-size", value, "--cache", str(store))
    assert res.returncode == 1 and f"--max-size {value!r} is not a size" in res.stderr, res.stderr
