"""Build safety: hostile layers cannot place content outside their destination, an
interrupted build leaves nothing behind, and a rebuild gives identical bytes."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from systemkit.backends import build
from systemkit.images import synth
from systemkit.images.store import ImageStore
from systemkit.progress import ProgressEvent
from systemkit.spec.types import FileSpec, ImageSpec, KernelSpec, Spec
from tests.support.progress import collect
from tests.support.tarextract import extract_all
from tests.support.tarlayers import layer

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
sys.path.insert(0, str(SHARED / "conformance" / "tools"))
import skgen  # noqa: E402


def put_raw_image(store: ImageStore, ref: str, layers: list[bytes]) -> None:
    store.tag(ref, synth.put_tar_layers(store, layers, config={"Cmd": ["/bin/x"]}))


def naive_extract(tar_path: Path, dest: Path) -> None:
    """Extract in stream order the way a careless tool does: open() and makedirs() follow
    symlinks, hard links are made with os.link. Names are joined below ``dest`` as they are."""
    for m in skgen.read_tar(str(tar_path)):
        target = os.path.join(dest, m["name"].lstrip("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if m["type"] == "dir":
            os.makedirs(target, exist_ok=True)
        elif m["type"] == "symlink":
            if os.path.lexists(target):
                os.unlink(target)
            os.symlink(m["linkname"], target)
        elif m["type"] == "hardlink":
            if os.path.lexists(target):
                os.unlink(target)
            os.link(os.path.join(dest, m["linkname"].lstrip("/")), target)
        elif m["type"] == "file":
            with open(target, "wb") as fh:
                fh.write(m["data"])


def listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_hostile_layers_stay_inside(tmp_path: Path) -> None:
    area = tmp_path / "area"
    outside = area / "outside"
    outside.mkdir(parents=True)
    (outside / "sentinel").write_text("untouched")
    dest = area / "x" / "y" / "dest"
    dest.mkdir(parents=True)
    store = ImageStore(tmp_path / "store")
    attack = layer(
        ("../../../outside/dotdot", "file", "escaped via .."),
        ("a/../../../../outside/dotdot2", "file", "escaped via a/.."),
        ("/abs-name", "file", "absolute name, kept inside"),
        ("evil", "symlink", str(outside)),
        ("rel", "symlink", "../../../../../outside"),
        ("good", "file", "good"),
        ("hl-ok", "link", "good"),
        ("hl-out", "link", "../../../outside/sentinel"),
        ("hl-abs", "link", str(outside / "sentinel")),
    )
    # a second image writes below the first one's links (init images share /)
    follow = layer(("evil/pwned", "file", "through abs link"), ("rel/pwned", "file", "x"))
    put_raw_image(store, "docker.io/hostile/attack:1", [attack])
    put_raw_image(store, "docker.io/hostile/follow:1", [follow])
    spec = Spec(
        init=["docker.io/hostile/attack:1", "docker.io/hostile/follow:1"],
        onboot=[ImageSpec(name="a", image="docker.io/hostile/attack:1")],
        services=[ImageSpec(name="f", image="docker.io/hostile/follow:1")],
        files=[
            FileSpec(path="evil2", symlink=str(outside)),
            FileSpec(path="evil2/f", contents="x"),
        ],
    )
    out = tmp_path / "out"
    out.mkdir()
    lines: list[str] = []
    (tar,) = build(
        spec,
        base_dir=tmp_path,
        formats=("tar",),
        out_dir=out,
        cache_dir=tmp_path / "store",
        arch="amd64",
        progress=collect(lines),
    )
    members = skgen.read_tar(str(tar))
    names = [skgen.norm_path(m["name"]) for m in members]
    assert not any(".." in n.split("/") for n in names)
    assert "abs-name" in names and "containers/onboot/000-a/lower/abs-name" in names
    for bad in ("evil/pwned", "rel/pwned", "evil2/f", "hl-out", "hl-abs"):
        assert bad not in names
        assert f"containers/onboot/000-a/lower/{bad}" not in names
    # below a link that points outside, content lands where the link leads inside the root
    inside_outside = str(outside).lstrip("/")
    assert f"{inside_outside}/pwned" in names and "outside/pwned" in names
    assert f"{inside_outside}/f" in names
    links = {skgen.norm_path(m["name"]): m["linkname"] for m in members if m["type"] == "hardlink"}
    assert links == {
        "hl-ok": "good",
        "containers/onboot/000-a/lower/hl-ok": "containers/onboot/000-a/lower/good",
    }
    assert any("leaves the image root" in line for line in lines)
    assert any(line.startswith("warning: placed 'evil/pwned' at") for line in lines)
    before = listing(area)
    naive_extract(tar, dest)
    assert listing(area) - before <= {str(p.relative_to(area)) for p in dest.rglob("*")}
    assert sorted(p.name for p in outside.iterdir()) == ["sentinel"]
    assert (outside / "sentinel").read_text() == "untouched"
    # GNU tar agrees: extraction succeeds and nothing lands outside.
    gnu = area / "gnu"
    gnu.mkdir()
    subprocess.run(["tar", "-xf", str(tar), "-C", str(gnu)], check=True)
    assert sorted(p.name for p in outside.iterdir()) == ["sentinel"]


# Chains of symlinks across images: only the last link leaves, the others look harmless. OUT is
# replaced by a relative path from the extraction directory to a directory outside it.
CHAINS: dict[str, tuple[list[list[tuple[str, str, str]]], list[FileSpec]]] = {
    "two links across two images": (
        [[("y", "symlink", "OUT"), ("x", "symlink", "y")], [("x/PWNED", "file", "pwned")]],
        [],
    ),
    "two links, then a files entry": (
        [[("y", "symlink", "OUT"), ("x", "symlink", "y")]],
        [FileSpec(path="x/PWNED", contents="pwned")],
    ),
    "two links, the leaving one last": (
        [[("x", "symlink", "y")], [("y", "symlink", "OUT")], [("x/PWNED", "file", "pwned")]],
        [],
    ),
    "three links": (
        [
            [("c", "symlink", "OUT")],
            [("b", "symlink", "c"), ("d/a", "symlink", "../b")],
            [("d/a/PWNED", "file", "pwned"), ("d/a/sub/deep", "file", "pwned")],
        ],
        [FileSpec(path="d/a/byfiles", contents="pwned")],
    ),
    "a loop": (
        [
            [("p", "symlink", "q"), ("q", "symlink", "r"), ("r", "symlink", "p")],
            [("p/PWNED", "file", "pwned")],
        ],
        [FileSpec(path="q/PWNED", contents="pwned")],
    ),
}


@pytest.mark.parametrize("case", sorted(CHAINS))
def test_symlink_chains_stay_inside(tmp_path: Path, case: str) -> None:
    """Extracting the tar with Python's tarfile (no filter: 'fully_trusted') and with GNU tar
    writes nothing outside the extraction directory, whatever chain of links the images lay."""
    images, files = CHAINS[case]
    area = tmp_path / "area"
    outside = area / "outside"
    outside.mkdir(parents=True)
    (outside / "sentinel").write_text("untouched")
    # every extraction directory is area/<name>/dest, so OUT leads to area/outside from it
    rel_out = "../../outside"
    store = ImageStore(tmp_path / "store")
    refs = []
    for i, members in enumerate(images):
        ref = f"docker.io/hostile/chain{i}:1"
        lay = [(n, k, rel_out if d == "OUT" else d) for n, k, d in members]
        put_raw_image(store, ref, [layer(*lay)])
        refs.append(ref)
    out = tmp_path / "out"
    out.mkdir()
    (tar,) = build(
        Spec(init=refs, files=files),
        base_dir=tmp_path,
        formats=("tar",),
        out_dir=out,
        cache_dir=tmp_path / "store",
        arch="amd64",
    )
    names = [skgen.norm_path(m["name"]) for m in skgen.read_tar(str(tar))]
    assert not any(n.endswith("PWNED") and n.split("/")[0] in {"x", "d", "p", "q"} for n in names)

    def with_tarfile(dest: Path) -> None:
        with tarfile.open(tar) as tf:
            extract_all(tf, dest, "fully_trusted")

    def with_gnu_tar(dest: Path) -> None:
        run = subprocess.run(["tar", "-xf", str(tar), "-C", str(dest)], capture_output=True)
        # GNU tar defers links that climb with '..' (a placeholder file first); a directory
        # member later written over such a link (a files entry's parents) then makes it fail
        # to put the link back: that is its own protection, and reported as an error.
        errors = [
            line
            for line in run.stderr.decode().splitlines()
            if "unknown extended header" not in line
            and "Cannot unlink: Is a directory" not in line
            and "Exiting with failure status" not in line
        ]
        assert errors == [], errors

    extractions = {"tarfile": with_tarfile, "gnu": with_gnu_tar}
    for name, extract in extractions.items():
        dest = area / name / "dest"
        dest.mkdir(parents=True)
        before = listing(area)
        extract(dest)
        written = listing(area) - before
        assert written <= {str(p.relative_to(area)) for p in dest.rglob("*")}, name
        assert sorted(p.name for p in outside.iterdir()) == ["sentinel"], name
        assert (outside / "sentinel").read_text() == "untouched"
        assert not (area / name / "PWNED").exists(), name


def test_a_resumed_build_still_knows_every_symlink(tmp_path: Path) -> None:
    """A rebuild that changes only files resumes after the images: the guard must still know
    the harmless-looking x -> y, not only the leaving y, to resolve a files entry below x."""
    store = ImageStore(tmp_path / "store")
    put_raw_image(
        store, "docker.io/hostile/chain:1", [layer(("y", "symlink", "/z"), ("x", "symlink", "y"))]
    )
    names = []
    for i, path in enumerate(("x/first", "x/PWNED")):
        lines: list[str] = []
        out = tmp_path / f"out{i}"
        out.mkdir()
        (tar,) = build(
            Spec(init=["docker.io/hostile/chain:1"], files=[FileSpec(path=path, contents="p")]),
            base_dir=tmp_path,
            formats=("tar",),
            out_dir=out,
            cache_dir=tmp_path / "store",
            arch="amd64",
            progress=collect(lines),
        )
        names.append([skgen.norm_path(m["name"]) for m in skgen.read_tar(str(tar))])
    assert "Reusing the unchanged part of the previous build" in lines
    assert "x/first" not in names[0] and "z/first" in names[0]
    assert "x/PWNED" not in names[1] and "z/PWNED" in names[1]


def _small_system(tmp_path: Path) -> tuple[Spec, Path]:
    store = ImageStore(tmp_path / "store")
    kernel = synth.put_image(store, [{"kernel": b"K" * 4096, "kernel.tar": _modules()}])
    store.tag("docker.io/t/kernel:1", kernel)
    init = synth.put_image(store, [{"init": "#!/bin/sh\n", "bin/sh": "sh"}])
    store.tag("docker.io/t/init:1", init)
    app = synth.put_image(store, [{"bin/app": os.urandom(2_500_000)}], config={"Cmd": ["/bin/app"]})
    store.tag("docker.io/t/app:1", app)
    spec = Spec(
        kernel=KernelSpec(image="docker.io/t/kernel:1", cmdline="console=ttyS0"),
        init=["docker.io/t/init:1"],
        onboot=[ImageSpec(name="app", image="docker.io/t/app:1")],
        services=[ImageSpec(name="svc", image="docker.io/t/app:1", readonly=True)],
        files=[FileSpec(path="etc/motd", contents="hi\n", mode="0644")],
    )
    return spec, tmp_path / "store"


def _modules() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("lib/modules/1.0/m.ko")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"mod"))
    return buf.getvalue()


ALL = ("tar", "kernel+initrd", "tar-kernel-initrd")


def test_interrupted_build_leaves_nothing(tmp_path: Path) -> None:
    spec, store = _small_system(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    for stop_at in ("Add onboot containers:", "Add files:"):

        def progress(event: ProgressEvent, stop_at: str = stop_at) -> None:
            if str(event).startswith(stop_at):
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            build(
                spec,
                base_dir=tmp_path,
                formats=ALL,
                out_dir=out,
                cache_dir=store,
                arch="amd64",
                progress=progress,
            )
        assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_failed_derivation_leaves_nothing(tmp_path: Path) -> None:
    """A format that cannot be made (no kernel) fails before anything appears."""
    spec, store = _small_system(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    from systemkit.diagnostics import SystemkitError

    no_kernel = Spec(init=spec.init, onboot=spec.onboot)
    with pytest.raises(SystemkitError, match="needs a kernel"):
        build(
            no_kernel,
            base_dir=tmp_path,
            formats=("tar", "kernel+initrd"),
            out_dir=out,
            cache_dir=store,
            arch="amd64",
        )
    assert list(out.iterdir()) == []


def test_sigint_in_a_subprocess_leaves_nothing(tmp_path: Path) -> None:
    spec, store = _small_system(tmp_path)
    from systemkit.spec.codec import spec_bytes

    (tmp_path / "spec.json").write_bytes(spec_bytes(spec))
    out = tmp_path / "out"
    out.mkdir()
    script = f"""
import os, signal, sys, time
from pathlib import Path
from systemkit.backends import build
from systemkit.spec.codec import load_spec
spec = load_spec(Path({str(tmp_path / "spec.json")!r}).read_bytes())
def progress(event):
    if str(event).startswith("Add services"):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)
try:
    build(spec, base_dir=Path({str(tmp_path)!r}), formats={ALL!r}, out_dir=Path({str(out)!r}),
          cache_dir=Path({str(store)!r}), arch="amd64", progress=progress)
except KeyboardInterrupt:
    sys.exit(130)
"""
    proc = subprocess.run([sys.executable, "-c", script], timeout=60, check=False)
    assert proc.returncode == 130
    assert list(out.iterdir()) == []


def test_rebuild_is_byte_identical(tmp_path: Path) -> None:
    spec, store = _small_system(tmp_path)
    first = tmp_path / "one"
    second = tmp_path / "two"
    first.mkdir()
    second.mkdir()
    a = build(spec, base_dir=tmp_path, formats=ALL, out_dir=first, cache_dir=store, arch="amd64")
    b = build(spec, base_dir=tmp_path, formats=ALL, out_dir=second, cache_dir=store, arch="amd64")
    assert [p.name for p in a] == [
        "system.tar",
        "system-kernel",
        "system-initrd.img",
        "system-cmdline",
        "system-initrd.tar",
    ]
    for x, y in zip(a, b, strict=True):
        assert x.read_bytes() == y.read_bytes(), x.name
    initrd = (first / "system-initrd.img").read_bytes()
    assert initrd[:2] == b"\x1f\x8b" and initrd[4:8] == b"\0\0\0\0"  # gzip mtime 0
    assert initrd[3] & 0x08 == 0  # no file name in the gzip header
    _segments, entries = skgen.parse_initrd(str(first / "system-initrd.img"))
    paths = [e["path"] for e in entries]
    assert "boot" in paths and not any(p.startswith("boot/") for p in paths)
    assert "lib/modules/1.0/m.ko" in paths
    with tarfile.open(first / "system-initrd.tar") as t:
        assert t.getnames() == ["kernel", "initrd.img", "cmdline"]
        kernel = t.extractfile("kernel")
        assert kernel is not None and kernel.read() == b"K" * 4096


def _full_build(spec: Spec, base: Path, store: Path, out: Path) -> list[Path]:
    from systemkit.backends.base import BuildRequest
    from systemkit.backends.native import NativeBackend

    out.mkdir()
    request = BuildRequest(
        spec=spec, base_dir=base, formats=ALL, out_dir=out, cache_dir=store, arch="amd64"
    )
    return NativeBackend(use_cache=False).build(request)


@pytest.mark.parametrize("kind", ["contents", "source", "metadata"])
def test_rebuild_after_a_files_change_reuses_the_prefix(tmp_path: Path, kind: str) -> None:
    """Changing only files reuses the previous build's prefix, and the outputs are exactly
    those of a full build from scratch."""
    import hashlib

    import attrs

    spec, store = _small_system(tmp_path)
    src = tmp_path / "conf.txt"
    src.write_text("one\n")

    def with_files(text: str) -> Spec:
        files = [FileSpec(path="etc/motd", contents=text, mode="0644")]
        if kind == "source":
            src.write_text(text)
            digest = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
            files = [FileSpec(path="etc/conf", source="conf.txt", source_digest=digest)]
        if kind == "metadata":
            files.append(FileSpec(path="etc/linuxkit.yml", metadata="yaml"))
        return attrs.evolve(spec, files=files)

    first = tmp_path / "first"
    first.mkdir()
    build(
        with_files("one\n"),
        base_dir=tmp_path,
        formats=ALL,
        out_dir=first,
        cache_dir=store,
        arch="amd64",
    )
    lines: list[str] = []
    second = tmp_path / "second"
    second.mkdir()
    changed = with_files("two, and longer\n")
    got = build(
        changed,
        base_dir=tmp_path,
        formats=ALL,
        out_dir=second,
        cache_dir=store,
        arch="amd64",
        progress=collect(lines),
    )
    assert "Reusing the unchanged part of the previous build" in lines
    expected = _full_build(changed, tmp_path, store, tmp_path / "full")
    assert [p.name for p in got] == [p.name for p in expected]
    for a, b in zip(got, expected, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    # a change outside files is a full build again
    lines.clear()
    other = attrs.evolve(changed, onboot=[ImageSpec(name="app2", image="docker.io/t/app:1")])
    third = tmp_path / "third"
    third.mkdir()
    build(
        other,
        base_dir=tmp_path,
        formats=("tar",),
        out_dir=third,
        cache_dir=store,
        arch="amd64",
        progress=collect(lines),
    )
    assert "Reusing the unchanged part of the previous build" not in lines


def test_rebuild_reuse_with_ucode_matches_full_build(tmp_path: Path) -> None:
    import attrs

    spec, store_dir = _small_system(tmp_path)
    store = ImageStore(store_dir)
    ucode = b"070701" + b"0" * 200
    kernel = synth.put_image(store, [{"vmlinuz": b"V" * 5000, "intel-ucode.cpio": ucode}])
    store.tag("docker.io/t/kernel-ucode:1", kernel)
    spec = attrs.evolve(
        spec,
        kernel=KernelSpec(
            image="docker.io/t/kernel-ucode:1",
            binary="vmlinuz",
            tar="none",
            ucode="intel-ucode.cpio",
        ),
    )
    a = tmp_path / "a"
    a.mkdir()
    build(spec, base_dir=tmp_path, formats=ALL, out_dir=a, cache_dir=store_dir, arch="amd64")
    changed = attrs.evolve(spec, files=[FileSpec(path="etc/motd", contents="changed\n")])
    b = tmp_path / "b"
    b.mkdir()
    got = build(
        changed, base_dir=tmp_path, formats=ALL, out_dir=b, cache_dir=store_dir, arch="amd64"
    )
    expected = _full_build(changed, tmp_path, store_dir, tmp_path / "full")
    for x, y in zip(got, expected, strict=True):
        assert x.read_bytes() == y.read_bytes(), x.name
    assert (b / "system-initrd.img").read_bytes().startswith(ucode)
    assert not (b / "system-cmdline").exists()  # no cmdline: no file, no tar member
    with tarfile.open(b / "system-initrd.tar") as t:
        assert t.getnames() == ["kernel", "initrd.img", "ucode.cpio"]
        member = t.extractfile("ucode.cpio")
        assert member is not None and member.read() == ucode


def test_rebuild_reuse_of_kernel_initrd_alone(tmp_path: Path) -> None:
    """Without a tar output the reused build writes only the files section to scratch."""
    import attrs

    from systemkit.backends.base import BuildRequest
    from systemkit.backends.native import NativeBackend

    spec, store = _small_system(tmp_path)
    only = ("kernel+initrd",)
    a = tmp_path / "a"
    a.mkdir()
    build(spec, base_dir=tmp_path, formats=only, out_dir=a, cache_dir=store, arch="amd64")
    changed = attrs.evolve(spec, files=[FileSpec(path="etc/motd", contents="new\n", uid=5)])
    b = tmp_path / "b"
    b.mkdir()
    lines: list[str] = []
    got = build(
        changed,
        base_dir=tmp_path,
        formats=only,
        out_dir=b,
        cache_dir=store,
        arch="amd64",
        progress=collect(lines),
    )
    assert "Reusing the unchanged part of the previous build" in lines
    full = tmp_path / "full"
    full.mkdir()
    expected = NativeBackend(use_cache=False).build(
        BuildRequest(
            spec=changed,
            base_dir=tmp_path,
            formats=only,
            out_dir=full,
            cache_dir=store,
            arch="amd64",
        )
    )
    assert [p.name for p in got] == ["system-kernel", "system-initrd.img", "system-cmdline"]
    for x, y in zip(got, expected, strict=True):
        assert x.read_bytes() == y.read_bytes(), x.name
    assert sorted(p.name for p in b.iterdir()) == sorted(p.name for p in got)


def test_corrupt_layer_fails_the_build(tmp_path: Path) -> None:
    """A layer whose stored bytes no longer match its digest (here: a changed gzip header
    that still decompresses) fails the build, and nothing is written."""
    from systemkit.diagnostics import SystemkitError

    spec, store_dir = _small_system(tmp_path)
    store = ImageStore(store_dir)
    app = store.resolve("docker.io/t/app:1", "amd64")
    path = store.blob_path(app.layers[0]["digest"])
    data = bytearray(path.read_bytes())
    data[4:8] = b"\x01\x02\x03\x04"  # gzip mtime: same content, different bytes
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(SystemkitError, match=r"blob sha256:[0-9a-f]+ is corrupt"):
        build(spec, base_dir=tmp_path, formats=ALL, out_dir=out, cache_dir=store_dir, arch="amd64")
    assert list(out.iterdir()) == []


def test_rebuild_cache_ignores_an_output_changed_in_place(tmp_path: Path) -> None:
    """The cache shares the output tar's inode (no copy); if someone rewrites that file in
    place, the cache must notice and build from scratch, still giving a full build's bytes."""
    import attrs

    spec, store = _small_system(tmp_path)
    out = tmp_path / "out"

    def with_motd(text: str) -> Spec:
        return attrs.evolve(spec, files=[FileSpec(path="etc/motd", contents=text, mode="0644")])

    (tar,) = build(
        with_motd("one\n"), base_dir=tmp_path, formats=("tar",), out_dir=out, cache_dir=store
    )
    with tar.open("r+b") as fh:  # corrupt the output where the cached prefix lives
        fh.seek(600)
        fh.write(b"XXXX")
    lines: list[str] = []
    changed = with_motd("two\n")
    (again,) = build(
        changed,
        base_dir=tmp_path,
        formats=("tar",),
        out_dir=out,
        cache_dir=store,
        progress=collect(lines),
    )
    assert "Reusing the unchanged part of the previous build" not in lines
    from systemkit.backends.base import BuildRequest
    from systemkit.backends.native import NativeBackend

    full = tmp_path / "full"
    full.mkdir()
    request = BuildRequest(
        spec=changed, base_dir=tmp_path, formats=("tar",), out_dir=full, cache_dir=store
    )
    (expected,) = NativeBackend(use_cache=False).build(request)
    assert again.read_bytes() == expected.read_bytes()
