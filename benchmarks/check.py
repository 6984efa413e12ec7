"""Benchmark: semantic checks on a 500-container system, and mypy's cold/warm time (not a test).

Prints, measured in the same run:
  rules     run_checks() on the lowered 500-container system (no mypy): target < 0.5 s
  baseline  one plain pass over the same spec touching every container's fields (the cheapest
            possible walk), so the ratio shows what the rules cost on top of visiting the data
With ``--mypy`` also the whole ``systemkit check system.py`` command (a subprocess, as a user
runs it) on a 30-line system.py: cold (empty mypy cache), warm (cache filled, file edited) and
``--no-mypy``.

Usage: python benchmarks/check.py [N] [--mypy]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from systemkit import File, Kernel, Mount, Onboot, Service, System, Volume, lower
from systemkit.check import LabelSource, run_checks
from systemkit.spec.lowered import Lowered


def make_system(n: int) -> System:
    onboot = [
        Onboot(f"boot{j}", "linuxkit/dhcpcd:1", command=["/sbin/dhcpcd", "-1"]) for j in range(10)
    ]
    services = [
        Service(
            f"svc{j}",
            f"example/svc{j}:1.{j % 7}",
            env=["PATH=/bin:/usr/bin", f"INDEX={j}"],
            binds_add=[f"data{j % 20}:/data", f"/var/lib/svc{j}:/var/lib/svc:rw,rbind"],
            capabilities_add=["CAP_NET_ADMIN"],
            tmpfs=["/tmp:size=64m,mode=1777"],
            mounts=[Mount("/sys/fs/cgroup", type="cgroup", options=["rw", "nosuid"])],
            command=["/bin/svc", f"--id={j}"],
            rlimits=["nofile,1024,4096"],
            sysctl={"net.ipv4.ip_forward": "1"},
            uid=f"boot{j % 10}",
        )
        for j in range(n - len(onboot))
    ]
    return System(
        kernel=Kernel("linuxkit/kernel:6.6", cmdline="console=ttyS0"),
        init=["linuxkit/init:1", "linuxkit/runc:1", "linuxkit/containerd:1"],
        onboot=onboot,
        services=services,
        files=[File(f"/etc/app/{j}.conf", contents=f"{j}\n", mode=0o644) for j in range(50)],
        volumes=[Volume(f"data{j}") for j in range(20)],
    )


def baseline(lowered: Lowered) -> int:
    seen = 0
    for section in ("onboot", "onshutdown", "services"):
        for c in getattr(lowered.spec, section):
            for value in (c.name, c.image, c.capabilities_add, c.binds_add, c.env, c.tmpfs):
                seen += value is not None
    return seen


def bench_rules(n: int) -> None:
    lowered = lower(make_system(n))
    labels = LabelSource(use_store=False)
    run_checks(lowered, labels=labels)  # warm-up: imports, caches
    rounds = 5
    t0 = time.perf_counter()
    for _ in range(rounds):
        diags = run_checks(lowered, labels=LabelSource(use_store=False))
    t1 = time.perf_counter()
    for _ in range(rounds):
        baseline(lowered)
    t2 = time.perf_counter()
    rules = (t1 - t0) / rounds
    base = (t2 - t1) / rounds
    print(f"containers            {n}")
    print(f"findings              {len(diags)}")
    print(f"rules (run_checks)    {rules * 1000:8.1f} ms   (target < 500 ms)")
    print(f"baseline (one walk)   {base * 1000:8.1f} ms   ratio {rules / base:6.1f}x")


SAMPLE = """\
from systemkit import File, Kernel, Onboot, Service, System

system = System(
    kernel=Kernel("linuxkit/kernel:6.6.13", cmdline="console=ttyS0"),
    init=["linuxkit/init:8eea386739975a43af558eec757a7dcb3a3d2e7b"],
    onboot=[Onboot("dhcpcd", "linuxkit/dhcpcd:52d2c4df0311b182e99241cdc382ff726755c450")],
    services=[
        Service(
            "web",
            "nginx:1.27",
            capabilities_add=["CAP_NET_BIND_SERVICE"],
            env=["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
            command=["/usr/sbin/nginx", "-g", "daemon off;"],
        ),
    ],
    files=[File("/etc/motd", contents="hello {n}\\n", mode=0o644)],
)
"""


def _timed(args: list[str], env: dict[str, str], cwd: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "systemkit", "check", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        check=False,
    )
    return time.perf_counter() - t0


def bench_mypy() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = dict(os.environ, SYSTEMKIT_MYPY_CACHE=str(work / "cache"))
        (work / "system.py").write_text(SAMPLE.replace("{n}", "0"))
        cold = _timed(["system.py"], env, work)
        (work / "system.py").write_text(SAMPLE.replace("{n}", "1"))
        warm = _timed(["system.py"], env, work)
        no_mypy = _timed(["system.py", "--no-mypy"], env, work)
    print(f"check, cold mypy      {cold:8.2f} s")
    print(f"check, warm mypy      {warm:8.2f} s   (file edited between runs)")
    print(f"check --no-mypy       {no_mypy:8.2f} s   baseline: mypy adds {warm - no_mypy:.2f} s")


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    bench_rules(int(args[0]) if args else 500)
    if "--mypy" in sys.argv:
        bench_mypy()


if __name__ == "__main__":
    main()
