"""One file, many systems: every customer on every platform.

Teams that ship one appliance to several customers and several clouds or machines usually keep
one LinuxKit YAML per combination, or a base file plus fragments merged on the command line
(``linuxkit build platform-equinixmetal.yml platform-equinixmetal.arm64.yml``). Here the
combinations are *computed*: a :class:`Platform` says what differs per machine (kernel image
and command line, microcode, firmware, the cloud metadata agent, its own services), a
:class:`Customer` what differs per customer (services, keys, message of the day), and
:func:`appliance` combines one of each. The module-level ``systems`` dict exposes them all,
named ``<customer>-<platform>``::

    systemkit lower examples/variants/system.py --system acme-aws --format linuxkit
    systemkit lower examples/variants/system.py --system globex-metal-arm64 --digest

The arm64 metal machines are the metal system with a fragment merged last, as LinuxKit's
``platform-equinixmetal.arm64.yml`` is. The images are those of LinuxKit's ``platform-*.yml``
examples.
"""

from __future__ import annotations

from typing import NamedTuple

from systemkit import Bind, Capability, File, Kernel, Onboot, Service, System

KERNEL = "linuxkit/kernel:6.12.59"
KERNEL_RT = "linuxkit/kernel:6.6.71-rt"
INIT = "linuxkit/init:b5506cc74a6812dc40982cacfd2f4328f8a4b12a"
RUNC = "linuxkit/runc:9442aa234715e751a16144f1d4ae3fd1a00fd492"
CONTAINERD = "linuxkit/containerd:ba19f64efd3331a8fd0a33e00eabd14f6ee1780e"
CA_CERTIFICATES = "linuxkit/ca-certificates:256f1950df59f2f209e9f0b81374177409eb11de"
FIRMWARE = "linuxkit/firmware:68c2b29f28f2639020b9f8d55254d333498a30aa"
SYSCTL = "linuxkit/sysctl:43ac1d39da329c3567fcb9689e5ca99de6d169b6"
RNGD = "linuxkit/rngd:984eb580ecb63986f07f626b61692a97aacd7198"
DHCPCD = "linuxkit/dhcpcd:b87e9ececac55a65eaa592f4dd8b4e0c3009afdb"
METADATA = "linuxkit/metadata:4bbf406678d376e1ae9c9efae6ca2421f63fb4ff"
MODPROBE = "linuxkit/modprobe:4248cdc3494779010e7e7488fc17b6fd45b73aeb"
GETTY = "linuxkit/getty:a86d74c8f89be8956330c3b115b0b1f2e09ef6e0"
SSHD = "linuxkit/sshd:08e5d4a46603eff485d5d1b14001cc932a530858"
NGINX = "nginx:1.13.8-alpine"
OPEN_VM_TOOLS = "linuxkit/open-vm-tools:ce668b7064e26dbb4767a9106aae8cb888a3a61c"


class Platform(NamedTuple):
    """What differs from one machine type to another."""

    name: str
    consoles: tuple[str, ...]
    kernel: str = KERNEL
    metadata: str | None = None
    """Provider given to LinuxKit's metadata agent (``aws``, ``equinixmetal`` ...), if any."""
    ucode: str | None = None
    """Microcode cpio in the kernel image, prepended to the initrd."""
    firmware: bool = False
    """Add LinuxKit's firmware package (bare metal NICs and disks need it)."""
    services: tuple[Service, ...] = ()
    """Agents the platform needs (e.g. the hypervisor's guest tools)."""


class Customer(NamedTuple):
    """What differs from one customer to another."""

    name: str
    motd: str
    authorized_keys: tuple[str, ...] = ()
    services: tuple[Service, ...] = ()
    cmdline: tuple[str, ...] = ()
    """Extra kernel parameters the customer asked for."""


def cmdline(consoles: tuple[str, ...], customer: Customer) -> str:
    """Kernel parameters: the platform's consoles, then what the customer asked for."""
    return " ".join([*(f"console={c}" for c in consoles), *customer.cmdline])


def base(platform: Platform, customer: Customer) -> System:
    """What every appliance runs, on the platform's kernel."""
    init = [INIT, RUNC, CONTAINERD, CA_CERTIFICATES]
    if platform.firmware:
        init.append(FIRMWARE)
    onboot = [
        Onboot("rngd1", RNGD, command=["/sbin/rngd", "-1"]),
        Onboot("sysctl", SYSCTL),
        Onboot(
            "dhcpcd", DHCPCD, command=["/sbin/dhcpcd", "--nobackground", "-f", "/dhcpcd.conf", "-1"]
        ),
    ]
    if platform.metadata is not None:
        onboot.append(
            Onboot("metadata", METADATA, command=["/usr/bin/metadata", platform.metadata])
        )
    return System(
        kernel=Kernel(
            platform.kernel, cmdline=cmdline(platform.consoles, customer), ucode=platform.ucode
        ),
        init=init,
        onboot=onboot,
        services=[Service("rngd", RNGD), Service("getty", GETTY), *platform.services],
        files=[File("/etc/motd", contents=customer.motd, mode=0o644)],
    )


def remote_access(customer: Customer) -> System:
    """sshd with the customer's keys; nothing at all for a customer without keys."""
    if not customer.authorized_keys:
        return System()
    keys = "".join(k + "\n" for k in customer.authorized_keys)
    return System(
        services=[Service("sshd", SSHD, binds_add=[Bind("/root/.ssh", "/root/.ssh")])],
        files=[File("/root/.ssh/authorized_keys", contents=keys, mode=0o600)],
    )


def appliance(platform: Platform, customer: Customer) -> System:
    """The system of ``customer`` on ``platform``: parts merged as LinuxKit merges files."""
    return base(platform, customer) + remote_access(customer) + System(services=customer.services)


def arm64_fragment(customer: Customer) -> System:
    """LinuxKit's ``platform-equinixmetal.arm64.yml`` fragment, to merge after a metal system.

    It overrides the kernel command line (the arm64 serial console), clears the Intel microcode
    (``ucode=""`` overrides; ``None`` would keep the earlier value) and loads the NIC driver.
    """
    return System(
        kernel=Kernel(KERNEL, cmdline=cmdline(ARM64_CONSOLES, customer), ucode=""),
        onboot=[Onboot("modprobe", MODPROBE, command=["modprobe", "nicvf"])],
    )


QEMU = Platform("qemu", consoles=("ttyS0",))
AWS = Platform("aws", consoles=("ttyS0",), metadata="aws")
METAL = Platform(
    "metal", consoles=("ttyS1",), metadata="equinixmetal", ucode="intel-ucode.cpio", firmware=True
)
VMWARE_RT = Platform(
    "vmware-rt",
    consoles=("tty0",),
    kernel=KERNEL_RT,
    services=(Service("open-vm-tools", OPEN_VM_TOOLS),),
)
PLATFORMS = (QEMU, AWS, METAL, VMWARE_RT)
ARM64_CONSOLES = ("ttyAMA0",)
CUSTOMERS = (
    Customer(
        "acme",
        motd="Acme appliance. Authorised use only.\n",
        # A placeholder, not a real key: put the customer's public keys here.
        authorized_keys=(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAcmeOpsKeyForTheExampleOnly ops@acme",
        ),
    ),
    Customer(
        "globex",
        motd="Globex edge node\n",
        cmdline=("quiet",),
        services=(
            Service(
                "nginx",
                NGINX,
                capabilities=[
                    Capability.NET_BIND_SERVICE,
                    Capability.CHOWN,
                    Capability.SETUID,
                    Capability.SETGID,
                    Capability.DAC_OVERRIDE,
                ],
                binds=[Bind("/etc/resolv.conf", "/etc/resolv.conf")],
            ),
        ),
    ),
)


def variants() -> dict[str, System]:
    """Every customer on every platform, plus arm64 metal machines, by name."""
    found: dict[str, System] = {}
    for customer in CUSTOMERS:
        for platform in PLATFORMS:
            found[f"{customer.name}-{platform.name}"] = appliance(platform, customer)
        # arm64 metal: the metal system with LinuxKit's arm64 fragment merged last.
        found[f"{customer.name}-metal-arm64"] = appliance(METAL, customer) + arm64_fragment(
            customer
        )
    return found


systems = variants()
