"""Benchmark: the systemkit test driver under TCG (not a test).

Boots the hello example (images made from Debian packages by examples/hello/make_images.py)
``--runs`` times each way, in the same run:

* plain: the system as built by ``systemkit build``, booted with ``systemkit.run.QemuSession``
  until the console says ``systemkit-init: all services started`` (the baseline);
* driven: the same system with the test agent added, booted by ``systemkit.testing.VMFactory``
  (what the ``systemkit_vm`` fixture does), until the first command (``true``) has returned;
  then ``--commands`` more commands, one after the other, for the round trip.

Prints the medians: plain boot, boot to first command, their ratio, and the per-command round
trip. Both clocks start when qemu is started: builds are not timed.

Usage: python benchmarks/vm.py [--runs 3] [--commands 20] [--cache STORE]
(``--cache``: a store that already holds the hello images; default: make them into a
temporary store.)
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from systemkit import load, lower
from systemkit.backends import build
from systemkit.images.archive import import_archive
from systemkit.images.store import ImageStore
from systemkit.run import QemuSession, find_kernel_initrd
from systemkit.testing.factory import BuildCache, VMFactory

REPO = Path(__file__).resolve().parents[1]
HELLO = REPO / "examples" / "hello" / "system.py"
READY = "systemkit-init: all services started"
LINGER = "systemkit.linger=forever"
MEMORY = "384M"


def hello_store(work: Path, given: Path | None) -> Path:
    if given is not None:
        return given
    images = work / "images"
    subprocess.run(
        [sys.executable, str(REPO / "examples" / "hello" / "make_images.py"), str(images)],
        check=True,
        capture_output=True,
    )
    store = ImageStore(work / "store")
    for archive in sorted(images.glob("*.oci.tar")):
        import_archive(store, archive)
    return store.root


def plain_boot(prefix: Path) -> float:
    art = find_kernel_initrd(prefix)
    with QemuSession(
        art.kernel, art.initrd, f"{art.cmdline} {LINGER}", memory=MEMORY, console=None
    ) as vm:
        vm.expect(READY, timeout=600)
        return vm.elapsed()


def driven_boot(factory: VMFactory, commands: int) -> tuple[float, float]:
    lowered = lower(load(HELLO)["system"])
    m = factory(lowered, memory=MEMORY, cmdline_append=LINGER, boot_timeout=600)
    try:
        m.succeed("true", timeout=600)
        first = time.monotonic() - m.started_at
        start = time.monotonic()
        for _ in range(commands):
            m.succeed("true")
        return first, (time.monotonic() - start) / commands
    finally:
        factory.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="boots of each kind (default 3)")
    parser.add_argument("--commands", type=int, default=20, help="commands timed per boot")
    parser.add_argument("--cache", type=Path, default=None, help="a store with the hello images")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-vm-") as tmp:
        work = Path(tmp)
        store = hello_store(work, args.cache)
        lowered = lower(load(HELLO)["system"])
        plain = work / "plain"
        build(
            lowered.spec,
            base_dir=lowered.base_dir,
            out_dir=plain,
            name="hello",
            cache_dir=store,
            quiet=True,
        )
        builds = BuildCache(work / "builds")
        factory = VMFactory(store_root=store, builds=builds, log_dir=work / "logs")
        plains, firsts, trips = [], [], []
        for run in range(args.runs):
            plains.append(plain_boot(plain / "hello"))
            first, trip = driven_boot(factory, args.commands)
            firsts.append(first)
            trips.append(trip)
            print(
                f"run {run + 1}: plain boot {plains[-1]:.1f}s, boot to first command "
                f"{first:.1f}s, round trip {trip * 1000:.0f} ms",
                flush=True,
            )
    p, f, t = (statistics.median(x) for x in (plains, firsts, trips))
    print(f"plain boot to '{READY}' (median):  {p:.1f}s")
    print(f"boot to first command (median):      {f:.1f}s  ({f / p:.2f}x the plain boot)")
    print(f"per-command round trip (median):     {t * 1000:.0f} ms ('true', {args.commands}/boot)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
