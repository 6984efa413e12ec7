"""Benchmark: how fast hostile inputs are refused, against ordinary inputs (not a test).

Prints, measured in the same run (median of a few repeats):
  80k-layers  ``cache import`` of an OCI archive whose manifest lists 80,000 layers (refused:
              the manifest is over 4 MiB)
  257-layers  the same with 257 layers (refused by the layer count, the manifest read whole)
  baseline    ``cache import`` of an ordinary one-layer image archive into an empty store
  deep-yaml   reading a system file nested 500 levels (flow style; refused at level 64)
  yaml-base   reading an ordinary 20-container system file
Target: each refusal costs no more than a few times its ordinary counterpart.

Usage: python benchmarks/limits.py [REPEATS]
"""

from __future__ import annotations

import gzip
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from systemkit.diagnostics import SystemkitError  # noqa: E402
from systemkit.images.archive import import_archive  # noqa: E402
from systemkit.images.store import ImageStore  # noqa: E402
from systemkit.linuxkit.parse import parse_yaml  # noqa: E402
from tests.hardening import archives as a  # noqa: E402


def median_time(action: Callable[[int], Any], repeats: int) -> float:
    times = []
    for i in range(repeats):
        started = time.perf_counter()
        action(i)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def refused(action: Callable[[], Any]) -> None:
    try:
        action()
    except SystemkitError:
        return
    raise AssertionError("the input was accepted")


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    layer = gzip.compress(a.tar_layer({"bin/app": b"x" * 4096}), mtime=0)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        manifest, blobs = a.good_manifest([layer])
        normal = a.oci_image(tmp / "normal.tar", "t/normal:1", manifest, blobs)
        huge = a.oci_image(
            tmp / "huge.tar", "t/huge:1", {**manifest, "layers": manifest["layers"] * 80_000}, blobs
        )
        many = a.oci_image(
            tmp / "many.tar", "t/many:1", {**manifest, "layers": manifest["layers"] * 257}, blobs
        )

        def store(i: int, kind: str) -> ImageStore:
            return ImageStore(tmp / f"store-{kind}-{i}")

        rows = {
            "baseline": median_time(lambda i: import_archive(store(i, "n"), normal), repeats),
            "80k-layers": median_time(
                lambda i: refused(lambda: import_archive(store(i, "h"), huge)), repeats
            ),
            "257-layers": median_time(
                lambda i: refused(lambda: import_archive(store(i, "m"), many)), repeats
            ),
        }
    services = "".join(
        f"  - name: s{i}\n    image: example/s{i}:1\n    command: [/bin/s, --id={i}]\n"
        f"    capabilities: [CAP_NET_ADMIN]\n    binds: [/var:/var]\n"
        for i in range(20)
    )
    ordinary = "kernel:\n  image: linuxkit/kernel:6.6\n  cmdline: console=ttyS0\nservices:\n"
    ordinary += services
    deep = "services: " + "[" * 500 + "]" * 500 + "\n"
    rows["yaml-base"] = median_time(lambda _: parse_yaml(ordinary, "s.yml"), repeats)
    rows["deep-yaml"] = median_time(lambda _: refused(lambda: parse_yaml(deep, "d.yml")), repeats)
    for name, seconds in rows.items():
        print(f"{name:11} {seconds * 1000:9.1f} ms")
    print(f"80k-layers / baseline: {rows['80k-layers'] / rows['baseline']:.2f}")
    print(f"257-layers / baseline: {rows['257-layers'] / rows['baseline']:.2f}")
    print(f"deep-yaml / yaml-base: {rows['deep-yaml'] / rows['yaml-base']:.2f}")


if __name__ == "__main__":
    main()
