"""The layer-stream cache: an image's flattened layers written once and streamed from there,
to the same bytes, verified as they stream, written only where a build of many variants needs
them, and pruned least recently used first."""

from __future__ import annotations

import fcntl
import io
import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from systemkit.assemble.flatten import flatten
from systemkit.backends.base import BuildRequest
from systemkit.backends.layercache import (
    LayerCache,
    LayerCacheError,
    images_to_write,
    layers_key,
)
from systemkit.backends.native import NativeBackend
from systemkit.diagnostics import SystemkitError
from systemkit.images import synth
from systemkit.images.store import ImageStore
from systemkit.loader import load
from systemkit.model.lower import lower
from systemkit.spec.codec import spec_bytes
from systemkit.spec.types import FileSpec, ImageSpec, KernelSpec, Spec
from tests.support.cli import systemkit_cli

FORMATS = ("tar", "kernel+initrd")
KERNEL, BASE, APP, OTHER = (
    "docker.io/lc/kernel:1",
    "docker.io/lc/base:1",
    "docker.io/lc/app:1",
    "docker.io/lc/other:1",
)
DROPPED = f"{BASE}: dropped layer member '../escape.txt': it leaves the image root"
LONG = "usr/lib/" + "l" * 120 + "/deep.txt"


def _member(name: str, kind: str = "file", data: bytes = b"", **extra: Any) -> Any:
    info = tarfile.TarInfo(name)
    info.mtime = 1700000000
    info.mode = 0o644
    types = {
        "dir": tarfile.DIRTYPE,
        "symlink": tarfile.SYMTYPE,
        "link": tarfile.LNKTYPE,
        "chr": tarfile.CHRTYPE,
        "fifo": tarfile.FIFOTYPE,
    }
    if kind == "file":
        info.size = len(data)
    else:
        info.type = types[kind]
        if kind in ("symlink", "link"):
            info.linkname = data.decode()
    for key, value in extra.items():
        setattr(info, key, value)
    return info, (data if kind == "file" else None)


def _layer(*members: Any) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, None if data is None else io.BytesIO(data))
    return buf.getvalue()


def _put_layers(store: ImageStore, ref: str, layers: list[bytes], cmd: str = "/bin/sh") -> None:
    store.tag(ref, synth.put_tar_layers(store, layers, config={"Cmd": [cmd]}))


def _kernel_tar() -> bytes:
    return _layer(_member("lib/modules/1.0/m.ko", data=b"mod" * 1000))


def make_store(root: Path) -> Path:
    """Images with several layers, whiteouts, an opaque directory, hard links, long names and
    link targets (PAX), devices, xattrs, sub-second times, owners by name, and a member that
    flatten drops."""
    store = ImageStore(root)
    _put_layers(
        store,
        KERNEL,
        [_layer(_member("kernel", data=b"K" * 5000), _member("kernel.tar", data=_kernel_tar()))],
    )
    bottom = _layer(
        _member("etc", "dir", mode=0o755),
        _member("etc/gone.conf", data=b"gone\n"),
        _member("etc/keep.conf", data=b"keep\n", uname="daemon", gname="wheel", uid=2, gid=10),
        _member("bin", "dir", mode=0o755),
        _member("bin/busybox", data=os.urandom(20000), mode=0o755),
        _member("opt/stale/a.txt", data=b"stale"),
        _member("dev/null", "chr", devmajor=1, devminor=3),
        _member("run/fifo", "fifo"),
        _member(LONG, data=b"deep"),
        _member("var/x", data=b"xattr", pax_headers={"SCHILY.xattr.user.k": "v"}),
        _member("var/when", data=b"t", mtime=1700000000.25),
    )
    top = _layer(
        _member("etc/.wh.gone.conf"),
        _member("opt/stale/.wh..wh..opq"),
        _member("opt/stale/new.txt", data=b"new"),
        _member("bin/sh", "link", b"bin/busybox"),
        _member("../escape.txt", data=b"out"),
        _member("lib/far", "symlink", ("/" + "t" * 130).encode()),
        _member("etc/keep.conf", data=b"kept on top\n", mtime=1700000001.5),
    )
    _put_layers(store, BASE, [bottom, top])
    store.tag(
        APP,
        synth.put_image(
            store, [{"bin/app": b"A" * 30000}, {"etc/app.conf": "x=1\n"}], config={"Cmd": ["/a"]}
        ),
    )
    store.tag(OTHER, synth.put_image(store, [{"bin/other": b"O" * 9000}], config={"Cmd": ["/o"]}))
    return root


def spec(setup: str = "x", last: str = "o") -> Spec:
    return Spec(
        kernel=KernelSpec(image=KERNEL, cmdline="console=ttyS0"),
        init=[BASE],
        onboot=[ImageSpec(name="setup", image=APP, command=["/bin/app", setup])],
        services=[
            ImageSpec(name="base", image=BASE, command=["/bin/sh"]),
            ImageSpec(name="other", image=OTHER, command=["/bin/other", last]),
        ],
        files=[FileSpec(path="etc/motd", contents="hi\n", mode="0644")],
    )


def _build(
    s: Spec, store: Path, out: Path, *, use_cache: bool = True, write: bool = False
) -> tuple[list[bytes], list[str]]:
    """The artifacts' bytes and the progress lines of one build."""
    out.mkdir()
    lines: list[str] = []
    request = BuildRequest(
        spec=s,
        base_dir=out,
        formats=FORMATS,
        out_dir=out,
        cache_dir=store,
        arch=None,  # as the CLI builds: the build cache's keys hold the arch asked for
        progress=lambda e: lines.append(str(e)),
    )
    paths = NativeBackend(use_cache=use_cache, write_layers=write).build(request)
    return [p.read_bytes() for p in paths], lines


def _warnings(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("warning:")]


def _layer_descs(store: Path, ref: str) -> list[dict[str, Any]]:
    return ImageStore(store).resolve(ref, "amd64").layers


def _spoil_layer_blobs(store: Path, *refs: str) -> None:
    """Overwrite the layers of ``refs`` in the store (a build that reads one fails its digest
    check): only the layer cache can give their content now."""
    for ref in refs:
        for desc in _layer_descs(store, ref):
            path = ImageStore(store).blob_path(desc["digest"])
            path.chmod(0o644)
            path.write_bytes(b"spoiled")


def _cache(store: Path) -> LayerCache:
    return LayerCache(store / ".layer-cache")


def _key(store: Path, ref: str) -> str:
    return layers_key(_layer_descs(store, ref), True)


def test_cached_headers_and_bodies_round_trip(tmp_path: Path) -> None:
    """Every header field (names and link targets beyond 100 bytes, owners, devices, xattrs,
    sub-second times) and every body reads back from an entry exactly as flatten yielded it."""
    store = make_store(tmp_path / "store")
    images = ImageStore(store)
    descs = _layer_descs(store, BASE)

    def members(source: Any) -> list[tuple[Any, bytes]]:
        return [(hdr.copy(), body.read()) for hdr, body in source]

    warned: list[str] = []
    openers = [(lambda d=d: images.open_layer(d)) for d in descs]
    live = members(flatten(openers, warn=warned.append, what=BASE))
    cache = LayerCache(tmp_path / "lc", write=[BASE])
    replayed: list[str] = []
    written = members(
        cache.flattened(BASE, descs, images.open_layer, honour_opaque=True, warn=replayed.append)
    )
    read = members(
        cache.flattened(BASE, descs, images.open_layer, honour_opaque=True, warn=replayed.append)
    )
    assert cache.written == cache.hits == [layers_key(descs, True)]
    assert written == live and read == live
    assert warned == [DROPPED] and replayed == [DROPPED, DROPPED]
    names = {hdr.name: hdr for hdr, _ in live}
    assert LONG in names and names["lib/far"].linkname.startswith("/ttt")
    assert names["var/when"].mtime_text == "1700000000.25"
    assert names["dev/null"].devmajor == 1 and names["var/x"].pax == {"SCHILY.xattr.user.k": "v"}
    assert "etc/gone.conf" not in names and "opt/stale/a.txt" not in names


def test_concurrent_writers_of_one_key_leave_one_good_entry(tmp_path: Path) -> None:
    store = make_store(tmp_path / "store")
    images = ImageStore(store)
    descs = _layer_descs(store, APP)
    root = tmp_path / "lc"
    writers = [LayerCache(root, write=True) for _ in range(2)]
    streams = {
        i: iter(w.flattened(APP, descs, images.open_layer, honour_opaque=True, warn=print))
        for i, w in enumerate(writers)
    }
    seen: list[list[tuple[Any, bytes]]] = [[], []]
    while streams:  # member by member, in turn, as two worker processes might
        for i, stream in list(streams.items()):
            member = next(stream, None)
            if member is None:
                del streams[i]
            else:
                seen[i].append((member[0].copy(), member[1].read()))
    assert writers[0].written == writers[1].written == [layers_key(descs, True)]
    assert sorted(p.name for p in root.iterdir()) == [
        f"{layers_key(descs, True)}.{x}" for x in ("json", "tar")
    ]
    reader = LayerCache(root)
    again = [
        (hdr.copy(), body.read())
        for hdr, body in reader.flattened(
            APP, descs, images.open_layer, honour_opaque=True, warn=print
        )
    ]
    assert reader.hits == writers[0].written and again == seen[0] == seen[1]


def test_streams_from_the_layer_cache_give_the_same_bytes(tmp_path: Path) -> None:
    store = make_store(tmp_path / "store")
    expected, plain = _build(spec(), store, tmp_path / "plain", use_cache=False)
    assert DROPPED in " ".join(plain)
    teed, _ = _build(spec(), store, tmp_path / "teed", write=True)
    assert teed == expected  # writing the entries changes nothing downstream
    assert {e.key for e in _cache(store).entries()} == {
        _key(store, r) for r in (KERNEL, BASE, APP, OTHER)
    }
    shutil.rmtree(store / ".build-cache")
    _spoil_layer_blobs(store, KERNEL, BASE, APP, OTHER)
    cached, lines = _build(spec(), store, tmp_path / "cached")
    assert cached == expected
    assert _warnings(lines) == _warnings(plain)  # the dropped member's warning, in its place
    assert f"Extract kernel image: {KERNEL} (cached layers)" in lines
    assert f"Process init image: {BASE} (cached layers)" in lines
    assert f"  Create OCI config for {OTHER} (cached layers)" in lines


VARIANTS_PY = textwrap.dedent(
    """\
    from systemkit import File, Kernel, Onboot, Service, System

    def variant(setup: str) -> System:
        return System(
            kernel=Kernel("lc/kernel:1", cmdline="console=ttyS0"),
            init=["lc/base:1"],
            onboot=[Onboot("setup", "lc/app:1", command=["/bin/app", setup])],
            services=[
                Service("base", "lc/base:1", command=["/bin/sh"]),
                Service("other", "lc/other:1", command=["/bin/other", "o"]),
            ],
            files=[File("/etc/motd", contents="hi\\n", mode=0o644)],
        )

    systems = {"v0": variant("a"), "v1": variant("b"), "v2": variant("c")}
    """
)


def test_variants_differing_in_their_first_container_share_the_later_images(
    tmp_path: Path,
) -> None:
    """A single build writes no entry; ``build --all`` writes those of the images its variants
    stream after the prefix they share (not the kernel's), and a later variant that differs
    in its first container streams them from there; ``cache layers``/``cache prune``."""
    store = make_store(tmp_path / "store")
    (tmp_path / "system.py").write_text(VARIANTS_PY)
    common = ["--cache", str(store), "-f", "tar", "-f", "kernel+initrd", "--quiet"]
    one = systemkit_cli(
        "build", "system.py", "--system", "v0", "--dir", "one", *common, cwd=tmp_path
    )
    assert one.returncode == 0, one.stderr
    assert _cache(store).entries() == []
    many = systemkit_cli(
        "build", "system.py", "--system", "v0", "--system", "v1", "-j", "1", "--dir", "all",
        *common, cwd=tmp_path,
    )  # fmt: skip
    assert many.returncode == 0, many.stderr
    assert {e.key for e in _cache(store).entries()} == {_key(store, r) for r in (APP, BASE, OTHER)}

    v2 = lower(load(tmp_path / "system.py")["v2"], base_dir=tmp_path, name="v2").spec
    expected, _ = _build(v2, store, tmp_path / "plain", use_cache=False)
    _spoil_layer_blobs(store, KERNEL, BASE, APP, OTHER)
    got, lines = _build(v2, store, tmp_path / "v2")
    assert got == expected
    assert "Reusing the unchanged part of an earlier build (up to onboot[0])" in lines
    assert f"  Create OCI config for {APP} (cached layers)" in lines, lines

    listing = systemkit_cli("cache", "layers", "--cache", str(store))
    assert listing.returncode == 0, listing.stderr
    assert _key(store, APP)[:16] in listing.stdout and APP in listing.stdout
    assert "3 entries" in listing.stdout.splitlines()[-1]
    kept = systemkit_cli("cache", "prune", "--cache", str(store))  # the build cache only
    assert kept.returncode == 0 and len(_cache(store).entries()) == 3
    pruned = systemkit_cli("cache", "prune", "--layers", "--keep", "1", "--cache", str(store))
    assert pruned.returncode == 0 and "removed 2 layer cache entries" in pruned.stdout
    assert len(_cache(store).entries()) == 1
    pruned = systemkit_cli("cache", "prune", "--layers", "--cache", str(store))
    assert pruned.returncode == 0 and _cache(store).entries() == []


def test_images_to_write_follows_what_the_variants_stream() -> None:
    assert images_to_write([spec()], FORMATS, None) == []
    assert images_to_write([spec("a"), spec("b")], FORMATS, None) == [APP, BASE, OTHER]
    assert images_to_write([spec(), spec(last="p")], FORMATS, None) == [OTHER]
    other_init = attrs_evolve(spec(), init=[BASE, APP])
    assert images_to_write([spec(), other_init], FORMATS, None) == [KERNEL, BASE, APP, OTHER]
    # the kernel command line is not part of the initrd: shared as kernel+initrd only
    other_cmdline = attrs_evolve(spec(), kernel=KernelSpec(image=KERNEL, cmdline="quiet"))
    assert images_to_write([spec(), other_cmdline], ("kernel+initrd",), None) == []
    assert len(images_to_write([spec(), other_cmdline], FORMATS, None)) == 4


def attrs_evolve(s: Spec, **changes: Any) -> Spec:
    import attrs

    return attrs.evolve(s, **changes)


def test_an_entry_found_damaged_before_streaming_is_replaced_by_the_layers(
    tmp_path: Path,
) -> None:
    """A truncated entry is seen before anything is streamed from it (its size): the build
    warns, removes it and reads the image's layers, to the same bytes."""
    store = make_store(tmp_path / "store")
    expected, _ = _build(spec(), store, tmp_path / "teed", write=True)
    shutil.rmtree(store / ".build-cache")
    tar = store / ".layer-cache" / f"{_key(store, APP)}.tar"
    tar.write_bytes(tar.read_bytes()[:4096])
    got, lines = _build(spec(), store, tmp_path / "out")
    assert got == expected
    assert any(f"layer cache entry {tar} was damaged" in line for line in lines), lines
    assert not tar.exists() and not tar.with_suffix(".json").exists()


def test_a_damaged_entry_fails_the_build_and_is_removed(tmp_path: Path) -> None:
    """A change inside an entry shows only at its end, after members went downstream: the
    build fails, nothing is written, the entry goes, and building again works."""
    store = make_store(tmp_path / "store")
    expected, _ = _build(spec(), store, tmp_path / "teed", write=True)
    shutil.rmtree(store / ".build-cache")
    key = _key(store, APP)
    tar = store / ".layer-cache" / f"{key}.tar"
    data = bytearray(tar.read_bytes())
    data[2048 + 700] ^= 0x01  # inside bin/app's content
    tar.write_bytes(bytes(data))
    out = tmp_path / "out"
    with pytest.raises(LayerCacheError, match="build again") as info:
        _build(spec(), store, out)
    assert str(tar) in str(info.value)
    assert list(out.iterdir()) == []
    assert not tar.exists() and not tar.with_suffix(".json").exists()
    again, _ = _build(spec(), store, tmp_path / "again")
    assert again == expected


@pytest.mark.parametrize("damaged", [False, True])
def test_a_stream_stopped_early_still_checks_its_entry(tmp_path: Path, damaged: bool) -> None:
    """A build that fails downstream before an entry's end (perhaps because of what a damaged
    entry said) checks the rest: a damaged entry goes, an intact one stays."""
    store = make_store(tmp_path / "store")
    images = ImageStore(store)
    descs = _layer_descs(store, BASE)
    cache = LayerCache(tmp_path / "lc", write=True)
    for _ in cache.flattened(BASE, descs, images.open_layer, honour_opaque=True, warn=print):
        pass
    tar = tmp_path / "lc" / f"{layers_key(descs, True)}.tar"
    if damaged:
        data = bytearray(tar.read_bytes())
        data[-1500] ^= 0x01  # near the end: after the first member
        tar.write_bytes(bytes(data))
    stream = cache.flattened(BASE, descs, images.open_layer, honour_opaque=True, warn=print)
    next(iter(stream))
    stream.close()  # type: ignore[attr-defined]
    assert tar.exists() is not damaged


def test_a_build_failing_mid_stream_leaves_no_litter(tmp_path: Path) -> None:
    store = make_store(tmp_path / "store")
    good = _layer(*(_member(f"f{i}", data=b"x" * 3000) for i in range(5)))
    _put_layers(ImageStore(store), "docker.io/lc/broken:1", [b"\x01" * 2048, good])
    broken = attrs_evolve(spec(), services=[ImageSpec(name="b", image="docker.io/lc/broken:1")])
    with pytest.raises(SystemkitError, match="not a valid tar archive"):
        _build(broken, store, tmp_path / "out", write=True)
    names = [p.name for p in (store / ".layer-cache").iterdir()]
    assert not any(n.startswith(".new-") for n in names)
    assert f"{_key(store, 'docker.io/lc/broken:1')}.tar" not in names


def test_a_killed_writer_s_temporary_file_is_reclaimed(tmp_path: Path) -> None:
    store = make_store(tmp_path / "store")
    (tmp_path / "spec.json").write_bytes(spec_bytes(spec()))
    script = f"""
import os, signal
from pathlib import Path
from systemkit.backends.base import BuildRequest
from systemkit.backends.native import NativeBackend
from systemkit.spec.codec import load_spec
def progress(event):
    if "dropped layer member" in str(event):  # in the middle of the init image's stream
        os.kill(os.getpid(), signal.SIGKILL)
out = Path({str(tmp_path / "out")!r})
out.mkdir()
request = BuildRequest(spec=load_spec(Path({str(tmp_path / "spec.json")!r}).read_bytes()),
    base_dir=out, formats=("tar",), out_dir=out, cache_dir=Path({str(store)!r}), arch="amd64",
    progress=progress)
NativeBackend(write_layers=True).build(request)
"""
    proc = subprocess.run([sys.executable, "-c", script], timeout=120, check=False)
    assert proc.returncode == -9
    root = store / ".layer-cache"
    (left,) = [p for p in root.iterdir() if p.name.startswith(".new-")]
    live = root / ".new-live.tar"  # a writer that is still at work holds its file's lock
    live.write_bytes(b"")
    old = time.time() - 60
    with live.open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        for path in (left, live):
            os.utime(path, (old, old))
        LayerCache(root).prune()
        assert not left.exists() and live.exists()


def test_the_size_limit_prunes_least_recently_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store(tmp_path / "store")
    _build(spec(), store, tmp_path / "o", write=True)
    cache = _cache(store)
    order = [_key(store, r) for r in (KERNEL, BASE, APP, OTHER)]  # oldest first
    for age, key in enumerate(reversed(order)):
        stamp = time.time() - 100 * (age + 1)
        os.utime(store / ".layer-cache" / f"{key}.json", (stamp, stamp))
    sizes = {e.key: e.size for e in cache.entries()}
    monkeypatch.setenv("SYSTEMKIT_LAYER_CACHE_SIZE", str(sizes[order[-1]] + sizes[order[-2]]))
    removed = cache.prune()
    assert [e.key for e in removed] == [order[1], order[0]]
    assert [e.key for e in cache.entries()] == [order[-1], order[-2]]
    # a record left without its tar (a use noted while a prune removed the entry) goes too
    orphan = store / ".layer-cache" / f"{order[-1]}.json"
    (store / ".layer-cache" / f"{order[-1]}.tar").unlink()
    cache.prune()
    assert not orphan.exists()
    # a build prunes after each write: a limit below any entry leaves none
    monkeypatch.setenv("SYSTEMKIT_LAYER_CACHE_SIZE", "1K")
    shutil.rmtree(store / ".build-cache")
    _build(spec(), store, tmp_path / "p", write=True)
    assert cache.entries() == []


def test_a_store_without_file_locks_builds_without_writing_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a filesystem without ``flock`` (NFS mounted ``nolock``: ENOLCK) a writer cannot mark
    its temporary file as live, so it writes no entry; the build streams the layers as
    usual instead of failing."""
    import errno

    store = make_store(tmp_path / "store")
    images = ImageStore(store)
    descs = _layer_descs(store, BASE)
    openers = [(lambda d=d: images.open_layer(d)) for d in descs]
    live = [(hdr.copy(), body.read()) for hdr, body in flatten(openers, what=BASE)]

    def no_locks(fd: object, operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    cache = LayerCache(tmp_path / "lc", write=True)
    got = [
        (hdr.copy(), body.read())
        for hdr, body in cache.flattened(
            BASE, descs, images.open_layer, honour_opaque=True, warn=lambda _: None
        )
    ]
    assert got == live and cache.written == []
    assert list((tmp_path / "lc").iterdir()) == []


def test_a_corrupt_layer_is_refused_and_not_cached_by_a_build_run_in_an_except_block(
    tmp_path: Path,
) -> None:
    """A build started while the caller handles an exception (a retry) still verifies every
    layer: a corrupt blob fails it and no layer cache entry keeps its bytes for later builds."""
    import gzip

    from systemkit.assemble.verify import CorruptBlob

    store = make_store(tmp_path / "store")
    blob = ImageStore(store).blob_path(_layer_descs(store, APP)[0]["digest"])
    data = gzip.decompress(blob.read_bytes()).replace(b"A" * 100, b"B" * 100, 1)
    blob.chmod(0o644)
    blob.write_bytes(gzip.compress(data, mtime=0))
    try:
        raise KeyError("the first attempt failed")
    except KeyError:
        with pytest.raises(CorruptBlob):
            _build(spec(), store, tmp_path / "retry", write=True)
    assert _key(store, APP) not in {e.key for e in _cache(store).entries()}


def test_one_image_ref_given_as_a_string_is_one_ref() -> None:
    """``write_layers="REF"`` (as a backend option from a command line or JSON) is that one
    image, not the set of its characters."""
    assert NativeBackend(write_layers=APP).write_layers == frozenset({APP})
    assert LayerCache(Path("/nonexistent"), write=APP).write == frozenset({APP})
