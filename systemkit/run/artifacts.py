"""Find the files of a ``kernel+initrd`` build: NAME-kernel, NAME-initrd.img, NAME-cmdline."""

from __future__ import annotations

from pathlib import Path

import attrs

from systemkit.diagnostics import SystemkitError

KERNEL_SUFFIX = "-kernel"
INITRD_SUFFIX = "-initrd.img"
CMDLINE_SUFFIX = "-cmdline"


class ArtifactNotFound(SystemkitError):
    """The path names no kernel+initrd build (or more than one)."""


@attrs.frozen
class KernelInitrd:
    """The files of one kernel+initrd build."""

    kernel: Path
    initrd: Path
    cmdline: str
    """The content of NAME-cmdline (stripped), or "" when the build wrote none."""


def find_kernel_initrd(path: str | Path) -> KernelInitrd:
    """The kernel+initrd build named by ``path``: the NAME prefix (``out/hello/hello``), one of
    its files (``out/hello/hello-kernel``), or a directory holding exactly one such build."""
    p = Path(path)
    prefix: Path | None = None
    if p.is_dir():
        kernels = sorted(p.glob("*" + KERNEL_SUFFIX))
        if not kernels:
            raise ArtifactNotFound(f"{p} holds no NAME{KERNEL_SUFFIX} (a kernel+initrd build)")
        if len(kernels) > 1:
            names = ", ".join(k.name for k in kernels)
            raise ArtifactNotFound(f"{p} holds more than one build ({names}); name one")
        prefix = kernels[0].with_name(kernels[0].name[: -len(KERNEL_SUFFIX)])
    else:
        for suffix in (KERNEL_SUFFIX, INITRD_SUFFIX, CMDLINE_SUFFIX):
            if p.name.endswith(suffix) and p.exists():
                prefix = p.with_name(p.name[: -len(suffix)])
                break
        else:
            prefix = p
    kernel = prefix.with_name(prefix.name + KERNEL_SUFFIX)
    initrd = prefix.with_name(prefix.name + INITRD_SUFFIX)
    cmdline_file = prefix.with_name(prefix.name + CMDLINE_SUFFIX)
    for what, f in (("kernel", kernel), ("initrd", initrd)):
        if not f.is_file():
            raise ArtifactNotFound(
                f"no {what} at {f} (expected a kernel+initrd build: NAME{KERNEL_SUFFIX}, "
                f"NAME{INITRD_SUFFIX}, NAME{CMDLINE_SUFFIX})"
            )
    cmdline = cmdline_file.read_text().strip() if cmdline_file.is_file() else ""
    return KernelInitrd(kernel=kernel, initrd=initrd, cmdline=cmdline)
