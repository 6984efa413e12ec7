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

from systemkit import Bind, File, Kernel, Onboot, Service, System

KERNEL = "linuxkit/kernel:6.12.59"
INIT = "linuxkit/init:b5506cc74a6812dc40982cacfd2f4328f8a4b12a"
RUNC = "linuxkit/runc:9442aa234715e751a16144f1d4ae3fd1a00fd492"
CONTAINERD = "linuxkit/containerd:ba19f64efd3331a8fd0a33e00eabd14f6ee1780e"
CA_CERTIFICATES = "linuxkit/ca-certificates:256f1950df59f2f209e9f0b81374177409eb11de"
SYSCTL = "linuxkit/sysctl:43ac1d39da329c3567fcb9689e5ca99de6d169b6"
RNGD = "linuxkit/rngd:984eb580ecb63986f07f626b61692a97aacd7198"
GETTY = "linuxkit/getty:a86d74c8f89be8956330c3b115b0b1f2e09ef6e0"
DHCPCD = "linuxkit/dhcpcd:b87e9ececac55a65eaa592f4dd8b4e0c3009afdb"
SSHD = "linuxkit/sshd:08e5d4a46603eff485d5d1b14001cc932a530858"

SSH_DIR = "/root/.ssh"


def authorized_keys(public_key: str = "~/.ssh/id_rsa.pub") -> File:
    """Root's ``authorized_keys``, copied from ``public_key`` on the build machine if it exists."""
    return File(f"{SSH_DIR}/authorized_keys", source=public_key, mode=0o600, optional=True)


def sshd() -> Service:
    """OpenSSH, with root's ``~/.ssh`` (where ``authorized_keys`` lands) bound in."""
    return Service("sshd", SSHD, binds_add=[Bind(SSH_DIR, SSH_DIR)])


system = System(
    kernel=Kernel(KERNEL, cmdline="console=tty0 console=ttyS0 console=ttyAMA0 console=ttysclp0"),
    init=[INIT, RUNC, CONTAINERD, CA_CERTIFICATES],
    onboot=[
        Onboot("sysctl", SYSCTL),
        Onboot("rngd1", RNGD, command=["/sbin/rngd", "-1"]),
    ],
    services=[
        Service("getty", GETTY, env={"INSECURE": "true"}),
        Service("rngd", RNGD),
        Service("dhcpcd", DHCPCD),
        sshd(),
    ],
    files=[authorized_keys()],
)
