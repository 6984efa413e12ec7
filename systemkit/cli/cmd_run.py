"""``systemkit run qemu``: boot a kernel+initrd build under qemu with its console on stdout."""

from __future__ import annotations

import argparse
import sys

from systemkit.run.artifacts import find_kernel_initrd
from systemkit.run.qemu import run_qemu

NAME = "run"
HELP = "boot a built system (kernel+initrd) under qemu, console on stdout"
DESCRIPTION = """\
Boot a build and show its serial console.

  qemu PATH   boot a kernel+initrd build under qemu-system-x86_64. PATH is the build's NAME
              prefix (out/hello/hello: NAME-kernel, NAME-initrd.img, NAME-cmdline), one of
              those files, or a directory holding one build.

The kernel command line is the build's NAME-cmdline (plus --cmdline-append); it needs
console=ttyS0 for the console to reach stdout. qemu runs with -no-reboot, so the run ends when
the guest powers off (exit status 0) or reboots; after --timeout seconds qemu is stopped
(exit status 1). A kernel panic also stops it (exit status 1).

Examples:
  systemkit run qemu out/hello/hello --timeout 120
  systemkit run qemu out/hello --mem 1G --cpus 2 --cmdline-append systemkit.linger=30
"""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return value


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="runner", metavar="RUNNER", required=True)
    qemu = sub.add_parser(
        "qemu",
        help="boot a kernel+initrd build under qemu",
        description=(
            "Boot a kernel+initrd build under qemu-system-x86_64 with the serial console on "
            "stdout. Exit status 0 when the guest powered off, 1 on timeout, reboot, panic "
            "or failure."
        ),
        epilog=(
            "examples:\n"
            "  systemkit run qemu out/hello/hello --timeout 120\n"
            "  systemkit run qemu out/hello --mem 1G --cpus 2 "
            "--cmdline-append systemkit.linger=30\n"
            "  systemkit run qemu out/hello/hello --qemu-arg=-nic --qemu-arg=user,model=virtio"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    qemu.add_argument(
        "path",
        metavar="PATH",
        help="the build's NAME prefix (out/hello/hello), one of its files, or its directory",
    )
    qemu.add_argument("--mem", default="512M", help="guest memory, as qemu's -m (default: 512M)")
    qemu.add_argument("--cpus", type=_positive_int, default=1, help="virtual CPUs (default: 1)")
    qemu.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=None,
        metavar="SECONDS",
        help="stop qemu after this many seconds and exit 1 (default: no limit)",
    )
    qemu.add_argument(
        "--accel",
        default="tcg",
        help="qemu accelerator: tcg (default, works everywhere) or kvm",
    )
    qemu.add_argument(
        "--cmdline-append",
        metavar="TEXT",
        default="",
        help="text appended to the kernel command line",
    )
    qemu.add_argument(
        "--qemu-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="an extra argument passed to qemu as is (repeatable; use --qemu-arg=-foo)",
    )


def run(args: argparse.Namespace) -> int:
    build = find_kernel_initrd(args.path)
    cmdline = " ".join(x for x in (build.cmdline, args.cmdline_append) if x)
    result = run_qemu(
        build.kernel,
        build.initrd,
        cmdline,
        memory=args.mem,
        cpus=args.cpus,
        timeout=args.timeout,
        accel=args.accel,
        extra_args=tuple(args.qemu_arg),
        console=sys.stdout,
    )
    if result.powered_off:
        print(f"systemkit: the guest powered off after {result.seconds:.1f}s", file=sys.stderr)
        return 0
    if result.timed_out:
        why = f"timed out after {args.timeout:g}s; qemu stopped"
    elif result.panicked:
        why = "the kernel panicked; qemu stopped"
    elif result.returncode == 0:
        why = "the guest rebooted (qemu runs with -no-reboot)"
    else:
        why = f"qemu exited with status {result.returncode}"
    print(f"systemkit: {why}", file=sys.stderr)
    return 1
