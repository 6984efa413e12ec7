"""Benchmark: the docker backend's build time as a ratio to the native backend's (not a test).

Makes a benchmark system in Python (deterministic content: a kernel image, two init images,
and service images with several layers; ``--mb`` megabytes of image content in total, half of
it incompressible), imports the images into a native image store and loads the same images
into the Docker Engine with skopeo, then measures, in the same run, ``--runs`` times each:

* full build: ``tar`` + ``kernel+initrd`` with no rebuild cache; docker starts from an empty
  mirror, so every image is exported from the engine (the export alone is timed too);
* rebuild of the unchanged system: native with its rebuild cache, docker with its mirror up to
  date (the engine is still asked for every image's id).

Prints the medians and the ratio docker / native for each, and checks that both backends'
outputs are byte-identical every time.

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
        warm_docker = tmp / "docker-cache"
        try:
            full: dict[str, list[float]] = {"native": [], "docker": [], "export": []}
            warm: dict[str, list[float]] = {"native": [], "docker": []}
            for run in range(args.runs):
                outs = {}
                for name, backend, cache in (
                    ("native", NativeBackend(use_cache=False), native_store.root),
                    ("docker", DockerBackend(use_cache=False), tmp / f"fresh{run}"),
                ):
                    out = outs[name] = tmp / f"full-{name}{run}"
                    out.mkdir()
                    req = BuildRequest(
                        spec=spec, base_dir=tmp, formats=FORMATS, out_dir=out, name="bench",
                        cache_dir=cache,
                    )  # fmt: skip
                    full[name].append(_time(lambda b=backend, r=req: b.build(r)))
                with connect() as conn, tempfile.TemporaryDirectory(dir=tmp) as export_dir:
                    engine = EngineImages(conn.client, ImageStore(Path(export_dir) / "s"))
                    full["export"].append(_time(lambda e=engine: e.fetch_all(spec)))
                _same(outs["native"], outs["docker"])
            # Rebuilds of the unchanged system: native with its rebuild cache, docker with its
            # mirror up to date (one build first to warm both).
            for run in range(args.runs + 1):
                outs = {}
                for name, backend, cache in (
                    ("native", NativeBackend(), native_store.root),
                    ("docker", DockerBackend(), warm_docker),
                ):
                    out = outs[name] = tmp / f"warm-{name}{run}"
                    out.mkdir()
                    req = BuildRequest(
                        spec=spec, base_dir=tmp, formats=FORMATS, out_dir=out, name="bench",
                        cache_dir=cache,
                    )  # fmt: skip
                    took = _time(lambda b=backend, r=req: b.build(r))
                    if run:
                        warm[name].append(took)
                _same(outs["native"], outs["docker"])
            size = sum(p.stat().st_size for p in (tmp / "full-native0").iterdir())
        finally:
            if not args.keep_images:
                subprocess.run(["docker", "rmi", "-f", *refs], capture_output=True, check=False)
    med = {k: statistics.median(v) for k, v in full.items()}
    wmed = {k: statistics.median(v) for k, v in warm.items()}
    print(
        f"images: {args.mb} MB in {len(refs)} images; "
        f"outputs: {size / 1e6:.0f} MB ({', '.join(FORMATS)}); medians of {args.runs} runs"
    )
    print(f"full build    native {med['native']:7.2f} s   docker {med['docker']:7.2f} s"
          f"   ratio {med['docker'] / med['native']:.2f}"
          f"   (docker image export alone: {med['export']:.2f} s)")  # fmt: skip
    print(f"rebuild       native {wmed['native']:7.2f} s   docker {wmed['docker']:7.2f} s"
          f"   ratio {wmed['docker'] / wmed['native']:.2f}   (nothing changed)")  # fmt: skip
    print("outputs byte-identical between the backends: yes")
    return 0


def _same(a: Path, b: Path) -> None:
    for path in sorted(a.iterdir()):
        if path.read_bytes() != (b / path.name).read_bytes():
            raise SystemExit(f"MISMATCH: {path.name} differs between native and docker")


if __name__ == "__main__":
    sys.exit(main())
