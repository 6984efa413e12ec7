"""Benchmark: the docker backend's build time as a ratio to the native backend's (not a test).

Makes a benchmark system in Python (deterministic content: a kernel image, two init images,
and service images with several layers; ``--mb`` megabytes of image content in total, half of
it incompressible), imports the images into a native image store (warm cache) and loads the
same images into the Docker Engine with skopeo (warm engine), then builds ``tar`` and
``kernel+initrd`` with both backends ``--runs`` times, alternating, in the same run. Prints the
median wall time of each and the ratio docker / native, plus how much of the docker time is the
image export (``docker save`` through the Engine API + verified import). Both outputs are also
compared byte for byte.

Needs a running Docker Engine (``docker info``) and skopeo.

Usage: python benchmarks/docker_vs_native.py [--mb 300] [--runs 3] [--keep-images]
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from systemkit.backends.base import BuildRequest
from systemkit.backends.docker import DockerBackend, EngineImages, connect
from systemkit.backends.native import NativeBackend
from systemkit.images import synth
from systemkit.images.archive import import_archive
from systemkit.images.store import ImageStore
from systemkit.spec.codec import from_data
from systemkit.spec.types import Spec

PREFIX = "systemkit.bench/dvn"
FORMATS = ("tar", "kernel+initrd")


def _content(rng: random.Random, size: int, i: int) -> bytes:
    """Half incompressible bytes, half repetitive text."""
    half = size // 2
    text = (f"line {i} of some configuration text, repeated\n" * (half // 40 + 1)).encode()
    return rng.randbytes(size - half) + text[:half]


def make_images(root: Path, total_mb: int) -> dict[str, Path]:
    """OCI layout directories of the benchmark images; ref -> directory."""
    rng = random.Random(20261128)
    per_file = 4 << 20
    budget = total_mb << 20
    plan: dict[str, list[int]] = {
        f"{PREFIX}/kernel:1": [1],
        f"{PREFIX}/init:1": [2, 1],
        f"{PREFIX}/runtime:1": [2],
    }
    services = 6
    for s in range(services):
        plan[f"{PREFIX}/svc{s}:1"] = [1, 1, 1]
    units = sum(sum(layers) for layers in plan.values())
    per_unit = max(budget // units, 4096)
    dirs: dict[str, Path] = {}
    counter = 0
    for n, (ref, layers) in enumerate(plan.items()):
        store = ImageStore(root / f"image{n}")
        layer_files = []
        for units_here in layers:
            files: dict[str, bytes | str] = {}
            remaining = units_here * per_unit
            while remaining > 0:
                size = min(per_file, remaining)
                counter += 1
                files[f"opt/data/{ref.rsplit('/', 1)[1].split(':')[0]}/f{counter}"] = _content(
                    rng, size, counter
                )
                remaining -= size
            if ref.endswith("kernel:1"):
                files = {"kernel": b"\x00bench kernel\x00" * 4096, **files}
            layer_files.append(files)
        desc = synth.put_image(store, layer_files, config={"Cmd": ["/bin/true"]})
        store.tag(ref, desc)
        dirs[ref] = store.root
    return dirs


def bench_spec(refs: list[str]) -> Spec:
    kernel, init, runtime, *svcs = refs
    spec: Spec = from_data(
        {
            "kernel": {"image": kernel, "cmdline": "console=ttyS0", "tar": "none"},
            "init": [init, runtime],
            "onboot": [{"name": "prepare", "image": svcs[0], "command": ["/bin/true"]}],
            "services": [{"name": f"svc{i}", "image": ref} for i, ref in enumerate(svcs)],
            "files": [{"path": "etc/bench", "contents": "benchmark\n"}],
        }
    )
    return spec


def _time(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, default=300, help="total image content in MB")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep-images", action="store_true", help="leave them in the engine")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="sk-bench-dvn-") as tmp_name:
        tmp = Path(tmp_name)
        print(f"making {args.mb} MB of benchmark images ...", flush=True)
        dirs = make_images(tmp / "layouts", args.mb)
        refs = list(dirs)
        native_store = ImageStore(tmp / "native-store")
        for path in dirs.values():
            import_archive(native_store, path)
        print("loading them into the Docker Engine (skopeo) ...", flush=True)
        for ref, path in dirs.items():
            subprocess.run(
                ["skopeo", "copy", "-q", f"oci:{path}:{ref}", f"docker-daemon:{ref}"], check=True
            )
        spec = bench_spec(refs)
        try:
            native_times, docker_times, export_times = [], [], []
            for run in range(args.runs):
                out_n, out_d = tmp / f"native{run}", tmp / f"docker{run}"
                out_n.mkdir()
                out_d.mkdir()
                req_n = BuildRequest(
                    spec=spec,
                    base_dir=tmp,
                    formats=FORMATS,
                    out_dir=out_n,
                    name="bench",
                    cache_dir=native_store.root,
                )
                req_d = BuildRequest(
                    spec=spec,
                    base_dir=tmp,
                    formats=FORMATS,
                    out_dir=out_d,
                    name="bench",
                    cache_dir=tmp / "unused",
                )
                native_times.append(_time(lambda r=req_n: NativeBackend().build(r)))
                docker_times.append(_time(lambda r=req_d: DockerBackend().build(r)))
                with connect() as conn, tempfile.TemporaryDirectory(dir=tmp) as export_dir:
                    engine = EngineImages(conn.client, ImageStore(Path(export_dir) / "s"))
                    export_times.append(_time(lambda e=engine: e.fetch_all(spec)))
                for a in sorted(out_n.iterdir()):
                    if a.read_bytes() != (out_d / a.name).read_bytes():
                        print(f"MISMATCH: {a.name} differs between native and docker")
                        return 1
            size = sum(p.stat().st_size for p in (tmp / "native0").iterdir())
        finally:
            if not args.keep_images:
                subprocess.run(["docker", "rmi", "-f", *refs], capture_output=True, check=False)
    n, d, e = (statistics.median(x) for x in (native_times, docker_times, export_times))
    print(
        f"images: {args.mb} MB in {len(refs)} images; "
        f"outputs: {size / 1e6:.0f} MB ({', '.join(FORMATS)})"
    )
    print(f"native build (median of {args.runs}): {n:7.2f} s")
    print(f"docker build (median of {args.runs}): {d:7.2f} s  (of which image export ~{e:.2f} s)")
    print(f"ratio docker / native: {d / n:.2f}")
    print("outputs byte-identical: yes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
