"""The smallest useful bootable system: LinuxKit's ``examples/minimal.yml`` in Python.

A kernel, LinuxKit's init with runc and containerd, ``dhcpcd`` configuring the network once at
boot, and a ``getty`` service giving a root shell on the console without a password
(``insecure=True``: for a lab, never for production).

Every part comes from :mod:`systemkit.catalog`, LinuxKit's standard components pinned to the
references LinuxKit's own example uses; hover a function in your editor to see what it does
and which defaults its image's label brings.

Try it::

    systemkit lower examples/minimal/system.py                     # the canonical spec (JSON)
    systemkit lower examples/minimal/system.py --format linuxkit   # the same, as LinuxKit YAML
    systemkit build examples/minimal/system.py                     # kernel + initrd
"""

from __future__ import annotations

from systemkit import System, catalog

system = System(
    # consoles on the screen, the first x86 serial port and the arm64 PL011
    kernel=catalog.kernel(cmdline="console=tty0 console=ttyS0 console=ttyAMA0"),
    init=[catalog.init(), catalog.runc(), catalog.containerd()],
    # dhcpcd in the foreground, exiting after the first lease so that boot goes on
    onboot=[catalog.dhcpcd(once=True)],
    services=[catalog.getty(insecure=True)],
)
