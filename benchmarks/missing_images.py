"""Benchmark: a build whose three images cannot be had, the registry host not resolving.

Prints, measured in the same run (median of N runs each):
  build     `systemkit build system.py` naming all three missing images: target < 2 s
  baseline  `systemkit --version`: starting the command line, the floor of any command
Before the retry policy changed, each of the three lookups was retried five times with
back-off (about 8 s each, the first image only: the build stopped there).

Usage: python benchmarks/missing_images.py [N]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SYSTEM = """\
from systemkit import Onboot, Service, System

system = System(
    onboot=[Onboot("one", "registry.invalid/sk/one:1"), Onboot("two", "registry.invalid/sk/two:1")],
    services=[Service("three", "registry.invalid/sk/three:1")],
)
"""


def timed(args: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.monotonic()
    res = subprocess.run(
        [sys.executable, "-m", "systemkit", *args], cwd=cwd, capture_output=True, text=True
    )
    return time.monotonic() - started, res


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "system.py").write_text(SYSTEM)
        builds, bases = [], []
        for i in range(n):
            args = ["build", "system.py", "--format", "tar", "--dir", f"out{i}", "--cache", "c"]
            took, res = timed(args, work)
            assert res.returncode == 1 and res.stderr.count("error[SK620]") == 3, res.stderr
            builds.append(took)
            bases.append(timed(["--version"], work)[0])
    build, base = statistics.median(builds), statistics.median(bases)
    print(f"build with 3 missing images: {build:.2f} s (median of {n}; target < 2 s)")
    print(f"baseline systemkit --version: {base:.2f} s; ratio {build / base:.2f}")


if __name__ == "__main__":
    main()
