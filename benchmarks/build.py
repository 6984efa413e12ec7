"""Benchmark the native build (not a test).

Generates a system with >= 300 MB of image content in a local image store (warm cache), then
measures, each in a fresh child process:

* the ``tar`` build and the ``kernel+initrd`` build: wall time, MB/s of image content, peak RSS;
* ``tar -cf - DIR | gzip -6`` of the same content laid out in a directory, in the same run, as
  the yardstick (ratio = our time / its time);
* a rebuild after changing one ``files`` source, as a fraction of the full build;
* each disk-image format (iso-efi, raw-bios, squashfs, uki, ...) built alone from an empty
  rebuild cache, as a ratio to the ``kernel+initrd`` build of the same system in the same run
  (skip with ``--no-disk``; ``--disk-formats`` picks some).

Usage: python benchmarks/build.py [--workdir DIR] [--mb 320] [--keep] [--no-disk]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from systemkit.images import mediatypes as mt  # noqa: E402
from systemkit.images import synth  # noqa: E402
from systemkit.images.store import ImageStore  # noqa: E402
from systemkit.outputs.diskimages import DISK_FORMATS  # noqa: E402
from systemkit.spec.codec import spec_bytes  # noqa: E402
from systemkit.spec.types import FileSpec, ImageSpec, KernelSpec, Spec  # noqa: E402

MB = 1 << 20


def _content(rng: random.Random, size: int) -> bytes:
    """Half incompressible, half text-like: a realistic mix for gzip."""
    half = size // 2
    words = b"lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
    text = (words * (half // len(words) + 1))[:half]
    return rng.randbytes(size - half) + text


def make_image(store: ImageStore, ref: str, mirror: Path, total: int, seed: int) -> int:
    """One single-layer image of about ``total`` bytes, also laid out below ``mirror``."""
    rng = random.Random(seed)
    written = 0
    with tempfile.TemporaryFile() as raw:
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
            n = 0
            while written < total:
                big = n % 10 == 0
                size = rng.randint(1 * MB, 4 * MB) if big else rng.randint(1000, 60_000)
                name = f"usr/lib/pkg{n % 37}/file{n}.bin"
                data = _content(rng, size)
                info = tarfile.TarInfo(name)
                info.size, info.mode, info.mtime = len(data), 0o644, 1700000000
                tar.addfile(info, io.BytesIO(data))
                target = mirror / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                written += size
                n += 1
        raw.seek(0)
        with tempfile.TemporaryFile() as gz:
            with gzip.GzipFile(fileobj=gz, mode="wb", compresslevel=1, mtime=0) as z:
                shutil.copyfileobj(raw, z, MB)
            gz.seek(0)
            digest, size = store.put_blob(gz)
    layer = {"mediaType": mt.OCI_LAYER_GZIP, "digest": digest, "size": size}
    config = synth.put_json(
        store,
        mt.OCI_CONFIG,
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Cmd": ["/bin/app"], "Env": ["PATH=/bin"]},
            "rootfs": {"type": "layers", "diff_ids": []},
        },
    )
    manifest = synth.put_json(
        store,
        mt.OCI_MANIFEST,
        {"schemaVersion": 2, "mediaType": mt.OCI_MANIFEST, "config": config, "layers": [layer]},
    )
    store.tag(ref, manifest)
    return written


CHILD = """
import json, resource, sys, time
from pathlib import Path
from systemkit.backends import build, get_backend
from systemkit.spec.codec import load_spec
args = json.loads(sys.argv[1])
spec = load_spec(Path(args["spec"]).read_bytes())
get_backend("native")  # module imports are a per-process cost, not the build's
t0 = time.monotonic()
build(spec, base_dir=Path(args["base"]), formats=tuple(args["formats"]), out_dir=Path(args["out"]),
      name="bench", cache_dir=Path(args["store"]), arch="amd64")
elapsed = time.monotonic() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": elapsed, "peak_rss_kb": rss}))
"""


def run_build(
    spec_path: Path, base: Path, store: Path, out: Path, formats: list[str]
) -> dict[str, float]:
    args = json.dumps(
        {
            "spec": str(spec_path),
            "base": str(base),
            "store": str(store),
            "out": str(out),
            "formats": formats,
        }
    )
    res = subprocess.run(
        [sys.executable, "-c", CHILD, args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    data: dict[str, float] = json.loads(res.stdout.strip().splitlines()[-1])
    return data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--mb", type=int, default=320, help="image content to generate (MB)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument(
        "--no-disk", action="store_true", help="skip the disk-image formats (iso, raw, ...)"
    )
    parser.add_argument(
        "--disk-formats",
        default=",".join(DISK_FORMATS),
        help="comma-separated disk-image formats to time (default: all)",
    )
    opts = parser.parse_args()
    work = opts.workdir or Path(tempfile.mkdtemp(prefix="sk-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        store_dir = work / "store"
        store = ImageStore(store_dir)
        mirror = work / "mirror"
        print(f"generating {opts.mb} MB of image content in {work} ...", flush=True)
        t0 = time.monotonic()
        total = 0
        per = opts.mb * MB // 3
        for i in range(3):
            total += make_image(store, f"docker.io/bench/app{i}:1", mirror / f"app{i}", per, i)
        kernel = synth.put_image(store, [{"kernel": os.urandom(8 * MB), "kernel.tar": b""}])
        store.tag("docker.io/bench/kernel:1", kernel)
        print(f"  generated {total / MB:.0f} MB in {time.monotonic() - t0:.1f}s", flush=True)

        base = work / "src"
        base.mkdir(exist_ok=True)
        source = base / "config.txt"
        source.write_text("version 1\n")

        def spec_for(content: bytes) -> Spec:
            return Spec(
                kernel=KernelSpec(
                    image="docker.io/bench/kernel:1", cmdline="console=ttyS0", tar="none"
                ),
                init=["docker.io/bench/app0:1"],
                onboot=[ImageSpec(name="one", image="docker.io/bench/app1:1")],
                services=[ImageSpec(name="two", image="docker.io/bench/app2:1")],
                files=[
                    FileSpec(
                        path="etc/app/config.txt",
                        source="config.txt",
                        source_digest="sha256:" + hashlib.sha256(content).hexdigest(),
                        mode="0644",
                    )
                ],
            )

        spec_path = work / "spec.json"
        spec_path.write_bytes(spec_bytes(spec_for(source.read_bytes())))
        results: dict[str, dict[str, float]] = {}
        both = ["tar", "kernel+initrd"]
        for version, (label, formats) in enumerate(
            (("tar", ["tar"]), ("kernel+initrd", ["kernel+initrd"]), ("both", both)), start=1
        ):
            # a full build from an empty rebuild cache, then a rebuild after one file changed
            shutil.rmtree(store_dir / ".build-cache", ignore_errors=True)
            source.write_text(f"version {version}\n")
            spec_path.write_bytes(spec_bytes(spec_for(source.read_bytes())))
            out = work / f"out-{label}"
            out.mkdir(exist_ok=True)
            results[label] = run_build(spec_path, base, store_dir, out, formats)
            source.write_text(f"version {version}.1\n")
            spec_path.write_bytes(spec_bytes(spec_for(source.read_bytes())))
            results[f"rebuild {label}"] = run_build(spec_path, base, store_dir, out, formats)

        disk: dict[str, float] = {}
        if not opts.no_disk:
            # each format alone from an empty rebuild cache, against kernel+initrd likewise
            for fmt in ["kernel+initrd", *opts.disk_formats.split(",")]:
                shutil.rmtree(store_dir / ".build-cache", ignore_errors=True)
                out = work / f"out-disk-{fmt}"
                out.mkdir(exist_ok=True)
                print(f"  building {fmt} ...", flush=True)
                disk[fmt] = run_build(spec_path, base, store_dir, out, [fmt])["seconds"]
                shutil.rmtree(out, ignore_errors=True)

        t0 = time.monotonic()
        subprocess.run(
            f"tar -C {mirror} -cf - . | gzip -6 > {work / 'plain.tar.gz'}", shell=True, check=True
        )
        plain = time.monotonic() - t0
        t0 = time.monotonic()
        subprocess.run(f"tar -C {mirror} -cf {work / 'plain.tar'} .", shell=True, check=True)
        plain_tar = time.monotonic() - t0

        mb = total / MB
        print(f"\nimage content: {mb:.0f} MB (3 images, each unpacked once)")
        for label, r in results.items():
            print(
                f"{label:24s} {r['seconds']:7.2f} s  {mb / r['seconds']:7.1f} MB/s  "
                f"peak RSS {r['peak_rss_kb'] / 1024:6.1f} MB"
            )
        print(f"{'tar | gzip -6 (yardstick)':24s} {plain:7.2f} s  {mb / plain:7.1f} MB/s")
        print(f"{'tar alone (yardstick)':24s} {plain_tar:7.2f} s  {mb / plain_tar:7.1f} MB/s")
        print(
            f"ratio kernel+initrd / (tar | gzip): {results['kernel+initrd']['seconds'] / plain:.2f}"
        )
        print(f"ratio tar / (tar alone): {results['tar']['seconds'] / plain_tar:.2f}")
        ki = results["rebuild kernel+initrd"]["seconds"] / results["kernel+initrd"]["seconds"]
        tr = results["rebuild tar"]["seconds"] / results["tar"]["seconds"]
        bo = results["rebuild both"]["seconds"] / results["both"]["seconds"]
        print(
            f"rebuild after one file change / full build: kernel+initrd {ki:.2f}, tar {tr:.2f}, "
            f"tar and kernel+initrd in one build {bo:.2f}   (target < 0.20)"
        )
        if disk:
            base_s = disk["kernel+initrd"]
            print(f"\ndisk-image formats, each a full build, vs kernel+initrd ({base_s:.2f} s):")
            for fmt, seconds in disk.items():
                if fmt != "kernel+initrd":
                    print(f"  {fmt:16s} {seconds:7.2f} s  ratio {seconds / base_s:5.2f}")
    finally:
        if not opts.keep and opts.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
