"""Benchmark: lower and serialise N variants of a 20-container system (not a test).

Prints variants per second on one core for three stages, each measured in the same run:
  build     constructing the model objects (user code + validation + locations)
  lower     lowering to the spec
  serialise canonical JSON bytes + sha256 digest
and the baseline ``json.dumps`` of an equivalent plain dict, so the ratio shows systemkit's
overhead over the cheapest possible serialisation. Target: >= 2,000 variants/s for
lower + serialise (issue 2).

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
    lowered = [lower(s) for s in systems]
    t2 = time.perf_counter()
    digests = [spec_digest(lw.spec) for lw in lowered]
    blobs = [spec_bytes(lw.spec) for lw in lowered]
    t3 = time.perf_counter()
    plain = [to_data(lw.spec) for lw in lowered]
    t4 = time.perf_counter()
    for d in plain:
        hashlib.sha256(json.dumps(d, sort_keys=True, indent=2).encode()).hexdigest()
    t5 = time.perf_counter()
    assert len(set(digests)) == n and all(blobs)
    build, low, ser, base = t1 - t0, t2 - t1, (t3 - t2) / 2, t5 - t4
    print(f"variants: {n} (20 containers each)")
    print(f"build model:        {n / build:10.0f} variants/s")
    print(f"lower:              {n / low:10.0f} variants/s")
    print(f"serialise+digest:   {n / ser:10.0f} variants/s")
    print(f"lower+serialise:    {n / (low + ser):10.0f} variants/s   (target >= 2000)")
    print(f"baseline json.dumps+sha256 of the same data: {n / base:10.0f} variants/s")
    print(f"ratio lower+serialise / baseline: {(low + ser) / base:.2f}x the baseline's time")


if __name__ == "__main__":
    main()
