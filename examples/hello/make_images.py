"""Make the hello system's images locally, from Debian packages, as OCI archives.

Usage: ``python3 examples/hello/make_images.py OUTDIR [--cache-dir DIR]``

Writes three OCI archives (a tar of an OCI image layout holding one image each) to OUTDIR:

* ``kernel.oci.tar``  -> ``systemkit.local/hello/kernel:6.1``: ``/kernel`` is the vmlinuz of
  Debian's ``linux-image-<abi>-cloud-amd64``; ``/kernel.tar`` holds only the modules the system
  needs (``DEFAULT_MODULES`` and what they depend on) with a ``modules.dep`` that busybox
  modprobe reads.
* ``init.oci.tar``    -> ``systemkit.local/hello/init:1``: busybox-static with its applet links,
  runc with the shared libraries it links, and the small ``/init`` of ``init/init.sh``.
* ``busybox.oci.tar`` -> ``systemkit.local/hello/busybox:1``: busybox-static with applet links,
  for the onboot and service containers.

The only network access is ``apt-get download`` (Debian's archive); the .deb files are cached
in ``--cache-dir`` (default ``$XDG_CACHE_HOME/systemkit/debs``) so that reruns are offline.
The archives are deterministic: the same .debs give the same bytes (fixed mtimes, sorted
entries, root ownership, gzip mtime 0).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REGISTRY = "systemkit.local/hello"
KERNEL_TAG = "6.1"
"""The kernel image's tag: Debian 12's kernel series (the ABI version is in a label)."""
MTIME = 0
"""Every member of every tar written here gets this mtime."""
DEFAULT_MODULES = (
    "overlay",
    "isofs",
    "sr_mod",
    "ata_piix",
    "squashfs",
    "erofs",
    "virtio_blk",
    "virtio_pci",
)
"""Kernel modules the hello system needs (overlay for its containers; the rest let the boot
initrd of the iso, squashfs and erofs formats reach their root); their dependencies are
added."""

MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


class MakeImagesError(Exception):
    """A step failed; the message says which and why."""


# ---- Debian packages ---------------------------------------------------------------------------


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "systemkit" / "debs"


def _run(cmd: Sequence[str], *, cwd: Path | None = None) -> str:
    try:
        proc = subprocess.run(
            list(cmd), cwd=cwd, check=False, capture_output=True, text=True, env=_c_env()
        )
    except FileNotFoundError as exc:
        raise MakeImagesError(f"{cmd[0]} is not installed ({exc})") from exc
    if proc.returncode != 0:
        raise MakeImagesError(
            f"{' '.join(cmd)} failed with status {proc.returncode}: {proc.stderr.strip()}"
        )
    return proc.stdout


_updated = False


def _apt(cmd: Sequence[str], *, cwd: Path | None = None) -> str:
    """Run an apt command; if it fails (no or stale package lists), run ``apt-get update`` once
    (as root) and try again."""
    global _updated
    try:
        return _run(cmd, cwd=cwd)
    except MakeImagesError as exc:
        if _updated or os.geteuid() != 0:
            raise MakeImagesError(f"{exc}\n(run 'apt-get update' and try again)") from exc
    _updated = True
    print("make_images: running apt-get update", file=sys.stderr)
    _run(["apt-get", "update", "-qq"])
    return _run(cmd, cwd=cwd)


def _c_env() -> dict[str, str]:
    env = dict(os.environ)
    env["LC_ALL"] = "C"
    return env


@dataclass
class Debs:
    """Fetches Debian packages into a cache directory and unpacks them."""

    cache_dir: Path
    work_dir: Path
    _unpacked: dict[str, Path] = field(default_factory=dict)

    def candidate(self, package: str) -> tuple[str, str]:
        """The (version, file name) apt would download for ``package``."""
        out = _apt(["apt-cache", "show", "--no-all-versions", package])
        version = re.search(r"^Version: (.+)$", out, re.M)
        filename = re.search(r"^Filename: (.+)$", out, re.M)
        if not version or not filename:
            raise MakeImagesError(f"apt-cache show {package}: no Version/Filename")
        return version.group(1).strip(), Path(filename.group(1).strip()).name

    def fetch(self, package: str) -> Path:
        """The cached .deb of ``package``'s candidate version, downloaded if missing."""
        try:
            version, filename = self.candidate(package)
        except MakeImagesError:
            # no package lists: whatever version is cached will do
            cached = sorted(self.cache_dir.glob(f"{package}_*.deb"))
            if cached:
                return cached[-1]
            raise
        deb = self.cache_dir / filename
        if deb.is_file():
            return deb
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        print(f"make_images: downloading {package} {version}", file=sys.stderr)
        with tempfile.TemporaryDirectory(dir=self.cache_dir, prefix=".download-") as tmp:
            # _apt must be able to write there, or apt falls back to an unsandboxed download
            os.chmod(tmp, 0o755)
            _apt(["apt-get", "download", "-q", f"{package}={version}"], cwd=Path(tmp))
            got = list(Path(tmp).glob("*.deb"))
            if len(got) != 1:
                raise MakeImagesError(f"apt-get download {package}: expected one .deb, got {got}")
            os.replace(got[0], deb)
        return deb

    def unpack(self, package: str) -> Path:
        """A directory holding ``package``'s files (``dpkg-deb -x``)."""
        if package not in self._unpacked:
            deb = self.fetch(package)
            dest = self.work_dir / package
            dest.mkdir(parents=True)
            _run(["dpkg-deb", "-x", str(deb), str(dest)])
            self._unpacked[package] = dest
        return self._unpacked[package]


def kernel_package(cache_dir: Path) -> str:
    """The versioned package behind Debian's ``linux-image-cloud-amd64`` metapackage (or, with
    no package lists, the newest one cached)."""
    pattern = r"(linux-image-[0-9][^\s_]*-cloud-amd64)"
    try:
        out = _apt(["apt-cache", "depends", "linux-image-cloud-amd64"])
    except MakeImagesError:
        cached = sorted(cache_dir.glob("linux-image-*-cloud-amd64_*.deb"))
        found = re.match(pattern, cached[-1].name) if cached else None
        if found:
            return found.group(1)
        raise
    found = re.search("Depends: " + pattern, out)
    if not found:
        raise MakeImagesError("apt-cache depends linux-image-cloud-amd64 names no kernel")
    return found.group(1)


def resolve_in(root: Path, path: str, depth: int = 0) -> Path:
    """``path`` (absolute, as the guest sees it) inside the unpacked tree ``root``, following
    symlinks inside the tree; Debian 12 also has files under /usr for /lib (merged /usr)."""
    if depth > 20:
        raise MakeImagesError(f"symlink loop at {path} in {root}")
    parts = [p for p in path.split("/") if p]
    current = root
    for i, part in enumerate(parts):
        candidate = current / part
        if candidate.is_symlink():
            target = os.readlink(candidate)
            rest = "/".join(parts[i + 1 :])
            base = "/" if target.startswith("/") else "/" + str(current.relative_to(root))
            joined = os.path.normpath(os.path.join(base, target, rest))
            return resolve_in(root, joined, depth + 1)
        if not candidate.exists():
            if current == root and part in ("lib", "lib64", "bin", "sbin"):
                return resolve_in(root, "/usr/" + "/".join(parts), depth + 1)
            raise MakeImagesError(f"{path} is not in {root}")
        current = candidate
    return current


# ---- deterministic tar and OCI layout ----------------------------------------------------------


@dataclass
class Entry:
    kind: str  # "dir", "file", "symlink"
    mode: int = 0o755
    data: bytes | None = None
    source: Path | None = None
    target: str = ""


@dataclass
class Tree:
    """The content of a layer or a tar: paths (no leading /) to entries."""

    entries: dict[str, Entry] = field(default_factory=dict)

    def _parents(self, path: str) -> None:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            self.entries.setdefault("/".join(parts[:i]), Entry("dir", 0o755))

    def dir(self, path: str, mode: int = 0o755) -> None:
        path = path.strip("/")
        self._parents(path)
        self.entries[path] = Entry("dir", mode)

    def file(
        self, path: str, *, data: bytes | None = None, source: Path | None = None, mode: int = 0o644
    ) -> None:
        path = path.strip("/")
        self._parents(path)
        self.entries[path] = Entry("file", mode, data=data, source=source)

    def symlink(self, path: str, target: str) -> None:
        path = path.strip("/")
        self._parents(path)
        self.entries[path] = Entry("symlink", 0o777, target=target)

    def write_tar(self, fileobj: io.BufferedIOBase | io.BytesIO | gzip.GzipFile) -> None:
        with tarfile.open(fileobj=fileobj, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            for path in sorted(self.entries):
                entry = self.entries[path]
                info = tarfile.TarInfo(path)
                info.mtime = MTIME
                info.mode = entry.mode
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                if entry.kind == "dir":
                    info.type = tarfile.DIRTYPE
                    tar.addfile(info)
                elif entry.kind == "symlink":
                    info.type = tarfile.SYMTYPE
                    info.linkname = entry.target
                    tar.addfile(info)
                elif entry.source is not None:
                    info.size = entry.source.stat().st_size
                    with entry.source.open("rb") as fh:
                        tar.addfile(info, fh)
                else:
                    data = entry.data or b""
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))

    def tar_bytes(self) -> bytes:
        buf = io.BytesIO()
        self.write_tar(buf)
        return buf.getvalue()


class _HashingWriter(io.RawIOBase):
    """A write-only file that hashes (and counts) what goes through it into ``out``."""

    def __init__(self, out: io.BufferedWriter) -> None:
        self.out = out
        self.sha = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, b: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        data = bytes(b)
        self.sha.update(data)
        self.size += len(data)
        self.out.write(data)
        return len(data)


@dataclass
class Blob:
    digest: str
    size: int
    path: Path


def _blob_from_bytes(work: Path, data: bytes) -> Blob:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = work / digest.replace(":", "-")
    path.write_bytes(data)
    return Blob(digest, len(data), path)


def _layer_blob(work: Path, tree: Tree) -> tuple[Blob, str]:
    """The gzip'd layer blob of ``tree`` and its diff_id, streamed through a temp file."""
    tmp = work / "layer.tmp"
    with tmp.open("wb") as raw:
        compressed = _HashingWriter(raw)
        with gzip.GzipFile(
            filename="", mode="wb", fileobj=compressed, mtime=0, compresslevel=6
        ) as gz:
            uncompressed = _HashingWriter(gz)  # type: ignore[arg-type]
            tree.write_tar(uncompressed)  # type: ignore[arg-type]
    digest = "sha256:" + compressed.sha.hexdigest()
    path = work / digest.replace(":", "-")
    os.replace(tmp, path)
    return Blob(digest, compressed.size, path), "sha256:" + uncompressed.sha.hexdigest()


def _canonical_json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def write_oci_archive(
    dest: Path, ref: str, tree: Tree, *, config: dict[str, object], labels: dict[str, str]
) -> str:
    """Write ``tree`` as a one-layer image named ``ref`` to the OCI archive ``dest`` (atomically).
    Returns the manifest digest."""
    with tempfile.TemporaryDirectory(prefix="make-images-") as tmpdir:
        work = Path(tmpdir)
        layer, diff_id = _layer_blob(work, tree)
        image_config: dict[str, object] = {
            "architecture": "amd64",
            "os": "linux",
            "config": {**config, **({"Labels": labels} if labels else {})},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        }
        cfg = _blob_from_bytes(work, _canonical_json(image_config))
        manifest = {
            "schemaVersion": 2,
            "mediaType": MEDIA_MANIFEST,
            "config": {"mediaType": MEDIA_CONFIG, "digest": cfg.digest, "size": cfg.size},
            "layers": [{"mediaType": MEDIA_LAYER_GZIP, "digest": layer.digest, "size": layer.size}],
        }
        man = _blob_from_bytes(work, _canonical_json(manifest))
        index = {
            "schemaVersion": 2,
            "mediaType": MEDIA_INDEX,
            "manifests": [
                {
                    "mediaType": MEDIA_MANIFEST,
                    "digest": man.digest,
                    "size": man.size,
                    "platform": {"architecture": "amd64", "os": "linux"},
                    "annotations": {
                        "io.containerd.image.name": ref,
                        "org.opencontainers.image.ref.name": ref,
                    },
                }
            ],
        }
        layout = Tree()
        layout.file("oci-layout", data=_canonical_json({"imageLayoutVersion": "1.0.0"}))
        layout.file("index.json", data=_canonical_json(index))
        for blob in (layer, cfg, man):
            layout.file("blobs/sha256/" + blob.digest.split(":", 1)[1], source=blob.path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmpname = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                layout.write_tar(out)
            os.chmod(tmpname, 0o644)
            os.replace(tmpname, dest)
        except BaseException:
            Path(tmpname).unlink(missing_ok=True)
            raise
    return man.digest


# ---- the three images --------------------------------------------------------------------------


def busybox_tree(debs: Debs, tree: Tree | None = None) -> Tree:
    """busybox-static at /bin/busybox with a symlink for every applet it lists."""
    tree = tree or Tree()
    root = debs.unpack("busybox-static")
    binary = resolve_in(root, "/bin/busybox")
    tree.file("bin/busybox", source=binary, mode=0o755)
    applets = _run([str(binary), "--list-full"]).split()
    for applet in sorted(applets):
        if applet in ("bin/busybox", "linuxrc") or "/" not in applet:
            continue
        tree.symlink(applet, "/bin/busybox")
    for d in ("dev", "proc", "sys", "tmp", "run", "etc", "root", "var"):
        tree.dir(d, 0o1777 if d == "tmp" else 0o755)
    return tree


def _ldd(binary: Path) -> list[str]:
    """Absolute paths of the shared libraries (and loader) ``binary`` needs."""
    out = _run(["ldd", str(binary)])
    paths: list[str] = []
    for line in out.splitlines():
        m = re.search(r"(?:=>\s*)?(/\S+)\s+\(0x", line)
        if m:
            paths.append(m.group(1))
    return paths


def _package_of(path: str) -> str:
    """The installed Debian package that owns ``path`` (with or without merged /usr)."""
    candidates = [path, os.path.realpath(path)]
    if not path.startswith("/usr/"):
        candidates.append("/usr" + path)
    for candidate in candidates:
        try:
            out = _run(["dpkg-query", "-S", candidate])
        except MakeImagesError:
            continue
        pkg = out.split(":", 1)[0].split(",")[0].strip()
        if pkg:
            return pkg
    raise MakeImagesError(f"no installed package owns {path} (dpkg-query -S)")


def init_tree(debs: Debs) -> Tree:
    tree = busybox_tree(debs)
    runc_root = debs.unpack("runc")
    runc = resolve_in(runc_root, "/usr/sbin/runc")
    tree.file("usr/sbin/runc", source=runc, mode=0o755)
    for lib in _ldd(runc):
        pkg = _package_of(lib)
        try:
            real = resolve_in(debs.unpack(pkg), lib)
        except MakeImagesError:
            real = resolve_in(debs.unpack(pkg), os.path.realpath(lib))
        tree.file(lib, source=real, mode=0o755)
    tree.file("init", source=HERE / "init" / "init.sh", mode=0o755)
    tree.file(
        "usr/lib/systemkit/runtime-json.awk",
        source=HERE / "init" / "runtime-json.awk",
        mode=0o644,
    )
    tree.dir("containers", 0o755)
    return tree


def _modinfo(ko: Path, key: str) -> str:
    data = ko.read_bytes()
    m = re.search(rb"(?:^|\0)" + key.encode() + rb"=([^\0]*)\0", data)
    return m.group(1).decode() if m else ""


def kernel_tree(debs: Debs, package: str, modules: Iterable[str]) -> tuple[Tree, str]:
    """``/kernel`` and ``/kernel.tar`` from the Debian kernel package; also the ABI version."""
    root = debs.unpack(package)
    abi = package.removeprefix("linux-image-")
    vmlinuz = root / "boot" / f"vmlinuz-{abi}"
    moddir = root / "lib" / "modules" / abi
    if not vmlinuz.is_file() or not moddir.is_dir():
        raise MakeImagesError(f"{package} has no boot/vmlinuz-{abi} or lib/modules/{abi}")
    by_name: dict[str, Path] = {}
    for ko in sorted(moddir.rglob("*.ko*")):
        by_name[re.sub(r"\.ko(\.[a-z]+)?$", "", ko.name).replace("-", "_")] = ko
    wanted: dict[str, Path] = {}
    todo = [m.replace("-", "_") for m in modules]
    while todo:
        name = todo.pop()
        if name in wanted:
            continue
        if name not in by_name:
            raise MakeImagesError(f"module {name} is not in {package}")
        wanted[name] = by_name[name]
        deps = _modinfo(by_name[name], "depends")
        todo.extend(d.replace("-", "_") for d in deps.split(",") if d)

    def rel(ko: Path) -> str:
        return str(ko.relative_to(moddir))

    mtree = Tree()
    base = f"lib/modules/{abi}"
    dep_lines = []
    for name in sorted(wanted):
        ko = wanted[name]
        mtree.file(f"{base}/{rel(ko)}", source=ko, mode=0o644)
        needs = [d.replace("-", "_") for d in _modinfo(ko, "depends").split(",") if d]
        dep_lines.append(f"{rel(ko)}: {' '.join(rel(wanted[d]) for d in needs)}".rstrip() + "\n")
    mtree.file(f"{base}/modules.dep", data="".join(dep_lines).encode())
    order = [
        line
        for line in (moddir / "modules.order").read_text().splitlines()
        if line and Path(line).name.split(".ko")[0].replace("-", "_") in wanted
    ]
    mtree.file(f"{base}/modules.order", data="".join(f"{x}\n" for x in order).encode())
    for name in ("modules.builtin", "modules.builtin.modinfo"):
        if (moddir / name).is_file():
            mtree.file(f"{base}/{name}", source=moddir / name)

    tree = Tree()
    tree.file("kernel", source=vmlinuz, mode=0o644)
    tree.file("kernel.tar", data=mtree.tar_bytes(), mode=0o644)
    return tree, abi


def make_images(
    outdir: Path, cache_dir: Path, modules: Sequence[str] = DEFAULT_MODULES
) -> dict[str, Path]:
    """Make the three archives in ``outdir``; returns image ref -> archive path."""
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="make-images-debs-") as tmp:
        debs = Debs(cache_dir=cache_dir, work_dir=Path(tmp))
        made: dict[str, Path] = {}
        package = kernel_package(cache_dir)
        ktree, abi = kernel_tree(debs, package, modules)
        ref = f"{REGISTRY}/kernel:{KERNEL_TAG}"
        write_oci_archive(
            outdir / "kernel.oci.tar",
            ref,
            ktree,
            config={},
            labels={"org.systemkit.kernel.release": abi, "org.systemkit.debian.package": package},
        )
        made[ref] = outdir / "kernel.oci.tar"

        ref = f"{REGISTRY}/init:1"
        write_oci_archive(
            outdir / "init.oci.tar",
            ref,
            init_tree(debs),
            config={"Entrypoint": ["/init"]},
            labels={},
        )
        made[ref] = outdir / "init.oci.tar"

        ref = f"{REGISTRY}/busybox:1"
        write_oci_archive(
            outdir / "busybox.oci.tar",
            ref,
            busybox_tree(debs),
            config={
                "Cmd": ["/bin/sh"],
                "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            },
            labels={},
        )
        made[ref] = outdir / "busybox.oci.tar"
    return made


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make_images.py",
        description="Make the hello system's kernel, init and busybox images (OCI archives) "
        "from Debian packages.",
    )
    parser.add_argument("outdir", type=Path, help="directory for the *.oci.tar archives")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="where downloaded .deb files are kept (default: $XDG_CACHE_HOME/systemkit/debs)",
    )
    parser.add_argument(
        "--module",
        action="append",
        dest="modules",
        default=None,
        help="a kernel module to put in kernel.tar (repeatable; default: overlay)",
    )
    args = parser.parse_args(argv)
    try:
        made = make_images(
            args.outdir,
            args.cache_dir or default_cache_dir(),
            tuple(args.modules or DEFAULT_MODULES),
        )
    except MakeImagesError as exc:
        print(f"make_images: error: {exc}", file=sys.stderr)
        return 1
    for ref, path in made.items():
        print(f"{path}\t{ref}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
