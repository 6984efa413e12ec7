"""The smallest useful bootable system: LinuxKit's ``examples/minimal.yml`` in Python.

A kernel, LinuxKit's init with runc and containerd, ``dhcpcd`` configuring the network once at
boot, and a ``getty`` service giving a root shell on the console without a password
(``INSECURE=true``: for a lab, never for production).

Try it::

    systemkit lower examples/minimal/system.py                     # the canonical spec (JSON)
    systemkit lower examples/minimal/system.py --format linuxkit   # the same, as LinuxKit YAML
    systemkit build examples/minimal/system.py                     # kernel + initrd
"""

from __future__ import annotations

from systemkit import Kernel, Onboot, Service, System

# Images are pinned exactly as in LinuxKit's example: a tag for the kernel, commit hashes for
# LinuxKit's own packages. Keeping them in one place makes bumping a version a one-line change.
KERNEL = "linuxkit/kernel:6.12.59"
INIT = "linuxkit/init:b5506cc74a6812dc40982cacfd2f4328f8a4b12a"
RUNC = "linuxkit/runc:9442aa234715e751a16144f1d4ae3fd1a00fd492"
CONTAINERD = "linuxkit/containerd:ba19f64efd3331a8fd0a33e00eabd14f6ee1780e"
DHCPCD = "linuxkit/dhcpcd:b87e9ececac55a65eaa592f4dd8b4e0c3009afdb"
GETTY = "linuxkit/getty:a86d74c8f89be8956330c3b115b0b1f2e09ef6e0"

CONSOLES = ("tty0", "ttyS0", "ttyAMA0")
"""Consoles the kernel writes to: the screen, the first serial port (x86) and PL011 (arm64)."""


def cmdline(consoles: tuple[str, ...]) -> str:
    """A kernel command line sending the console to every device in ``consoles``."""
    return " ".join(f"console={tty}" for tty in consoles)


def dhcp_once() -> Onboot:
    """dhcpcd in the foreground, exiting after the first lease (``-1``) so that boot goes on."""
    return Onboot(
        "dhcpcd",
        DHCPCD,
        command=["/sbin/dhcpcd", "--nobackground", "-f", "/dhcpcd.conf", "-1"],
    )


system = System(
    kernel=Kernel(KERNEL, cmdline=cmdline(CONSOLES)),
    init=[INIT, RUNC, CONTAINERD],
    onboot=[dhcp_once()],
    services=[Service("getty", GETTY, env={"INSECURE": "true"})],
)
