"""``systemkit run qemu``: boot a build (kernel+initrd or a disk image) under qemu with its
console on stdout."""

from __future__ import annotations

import argparse
import sys

from systemkit.run.detect import boot_plan
from systemkit.run.qemu import run_qemu

NAME = "run"
HELP = "boot a built system (kernel+initrd or a disk image) under qemu, console on stdout"
DESCRIPTION = """\
Boot a build and show its serial console.

  qemu PATH   boot a build under qemu-system-x86_64. PATH is a kernel+initrd build's NAME
              prefix (out/hello/hello: NAME-kernel, NAME-initrd.img, NAME-cmdline), one of
              those files, or a directory holding one build; or a disk-image artifact
              (NAME.iso, NAME-efi.iso, NAME-efi-initrd.iso, NAME-efi.img, NAME-bios.img,
              NAME-efi.qcow2, NAME.efi, NAME-squashfs.img, NAME-erofs.img), whose format is
              detected from its bytes: EFI artifacts boot with OVMF, BIOS ones with SeaBIOS
              (--uefi boots with OVMF where the artifact does not say).

For kernel+initrd, squashfs and erofs the kernel command line is the build's cmdline file
(plus --cmdline-append); the other disk images carry theirs in the bootloader. It needs
console=ttyS0 for the console to reach stdout. qemu runs with -no-reboot, so the run ends when
the guest powers off (exit status 0) or reboots; after --timeout seconds qemu is stopped
(exit status 1). A kernel panic also stops it (exit status 1).

Examples:
  systemkit run qemu out/hello/hello --timeout 120
  systemkit run qemu out/hello --mem 1G --cpus 2 --cmdline-append systemkit.linger=30
  systemkit run qemu out/hello/hello-efi.iso --timeout 300
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
        help="boot a kernel+initrd build or a disk image under qemu",
        description=(
            "Boot a kernel+initrd build or a disk image (iso, raw, qcow2, UKI, squashfs, "
            "erofs; detected from the file) under qemu-system-x86_64 with the serial console "
            "on stdout. Exit status 0 when the guest powered off, 1 on timeout, reboot, panic "
            "or failure."
        ),
        epilog=(
            "examples:\n"
            "  systemkit run qemu out/hello/hello --timeout 120\n"
            "  systemkit run qemu out/hello --mem 1G --cpus 2 "
            "--cmdline-append systemkit.linger=30\n"
            "  systemkit run qemu out/hello/hello --qemu-arg=-nic --qemu-arg=user,model=virtio\n"
            "  systemkit run qemu out/hello/hello-efi.qcow2 --timeout 300"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    qemu.add_argument(
        "path",
        metavar="PATH",
        help=(
            "the build's NAME prefix (out/hello/hello), one of its files, its directory, "
            "or a disk-image artifact (out/hello/hello.iso)"
        ),
    )
    qemu.add_argument(
        "--uefi",
        action="store_true",
        help=(
            "boot with UEFI firmware (OVMF, Debian package ovmf) where the artifact does not "
            "say: kernel+initrd builds, raw or qcow2 disks with an MBR, ISOs with a BIOS "
            "entry too. EFI-only artifacts always boot with OVMF"
        ),
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
        help=(
            "text appended to the kernel command line (kernel+initrd, squashfs and erofs; "
            "other disk images keep their bootloader's)"
        ),
    )
    qemu.add_argument(
        "--qemu-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="an extra argument passed to qemu as is (repeatable; use --qemu-arg=-foo)",
    )


def run(args: argparse.Namespace) -> int:
    with boot_plan(args.path, uefi=args.uefi) as plan:
        if args.cmdline_append and not plan.direct:
            print(
                f"systemkit: --cmdline-append is ignored for a {plan.format} image "
                "(its bootloader holds the command line)",
                file=sys.stderr,
            )
        cmdline = " ".join(x for x in (plan.cmdline, args.cmdline_append) if x)
        result = run_qemu(
            plan.kernel,
            plan.initrd,
            cmdline,
            memory=args.mem,
            cpus=args.cpus,
            timeout=args.timeout,
            accel=args.accel,
            extra_args=(*plan.args, *args.qemu_arg),
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
