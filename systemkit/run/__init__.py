"""Run built systems: boot a kernel+initrd build under qemu and watch its console."""

from __future__ import annotations

from systemkit.run.artifacts import ArtifactNotFound, KernelInitrd, find_kernel_initrd
from systemkit.run.qemu import ExpectTimeout, QemuError, QemuSession, RunResult, run_qemu

__all__ = [
    "ArtifactNotFound",
    "ExpectTimeout",
    "KernelInitrd",
    "QemuError",
    "QemuSession",
    "RunResult",
    "find_kernel_initrd",
    "run_qemu",
]
