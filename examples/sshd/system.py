"""A system you can log in to over SSH: LinuxKit's ``examples/sshd.yml`` in Python.

Everything of the minimal system, plus entropy (``rngd``), kernel tuning (``sysctl``), a DHCP
client that keeps running, and ``sshd``. Your public key ``~/.ssh/id_rsa.pub`` becomes root's
``authorized_keys``; it is optional, so the system still builds on a machine without one (and then
nobody can log in over SSH).

``binds_add`` *appends* a bind to the ones the sshd image's label already declares, where
``binds`` would replace them all (LinuxKit's ``binds.add`` / ``binds``).

    systemkit lower examples/sshd/system.py --format linuxkit
"""

from __future__ import annotations

from systemkit import Bind, File, Service, System, catalog

# LinuxKit's sshd.yml copies a key file from the build machine, where `catalog.sshd` takes the
# keys themselves: the file is spelled out here to mean exactly what LinuxKit's example means.
SSHD = catalog.IMAGES["sshd"]
SSH_DIR = "/root/.ssh"


def authorized_keys(public_key: str = "~/.ssh/id_rsa.pub") -> File:
    """Root's ``authorized_keys``, copied from ``public_key`` on the build machine if it exists."""
    return File(f"{SSH_DIR}/authorized_keys", source=public_key, mode=0o600, optional=True)


def sshd() -> Service:
    """OpenSSH, with root's ``~/.ssh`` (where ``authorized_keys`` lands) bound in."""
    return Service("sshd", SSHD, binds_add=[Bind(SSH_DIR, SSH_DIR)])


system = System(
    kernel=catalog.kernel(cmdline="console=tty0 console=ttyS0 console=ttyAMA0 console=ttysclp0"),
    init=[catalog.init(), catalog.runc(), catalog.containerd(), catalog.ca_certificates()],
    onboot=[catalog.sysctl(), catalog.rngd(once=True)],
    services=[
        catalog.getty(insecure=True),
        catalog.rngd(),
        catalog.dhcpcd(),
        sshd(),
    ],
    files=[authorized_keys()],
)
