"""LinuxKit's standard components, typed: ``from systemkit import catalog``.

Each function returns what a system is made of (an init image reference, an
:class:`~systemkit.Onboot` or :class:`~systemkit.Service`, or for ``sshd`` a
:class:`~systemkit.System` fragment to add with ``+``), pinned to the reference LinuxKit's own
examples use (:data:`IMAGES`), with typed parameters for what users vary. Every container
keyword can still be given (``getty(insecure=True, net="host")``): it is passed on, and mypy
checks it against :class:`~systemkit.ContainerOptions`. Anything left unset keeps the image
label's defaults (``docs/images.md`` shows how to see them: ``systemkit explain``).

::

    from systemkit import System, catalog

    system = System(
        kernel=catalog.kernel(),
        init=[catalog.init(), catalog.runc(), catalog.containerd(), catalog.ca_certificates()],
        onboot=[catalog.sysctl(), catalog.dhcpcd(once=True)],
        services=[catalog.getty(insecure=True), catalog.rngd()],
    ) + catalog.sshd(authorized_keys=["ssh-ed25519 AAAA... me@laptop"])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, Unpack, overload

from systemkit.capabilities import Capability
from systemkit.model.containers import ContainerOptions, Onboot, Service
from systemkit.model.parts import Bind, Mount
from systemkit.model.system import File, Kernel, System

IMAGES: Mapping[str, str] = {
    "kernel": "linuxkit/kernel:6.12.59",
    "init": "linuxkit/init:b5506cc74a6812dc40982cacfd2f4328f8a4b12a",
    "runc": "linuxkit/runc:9442aa234715e751a16144f1d4ae3fd1a00fd492",
    "containerd": "linuxkit/containerd:ba19f64efd3331a8fd0a33e00eabd14f6ee1780e",
    "ca-certificates": "linuxkit/ca-certificates:256f1950df59f2f209e9f0b81374177409eb11de",
    "firmware": "linuxkit/firmware:68c2b29f28f2639020b9f8d55254d333498a30aa",
    "getty": "linuxkit/getty:a86d74c8f89be8956330c3b115b0b1f2e09ef6e0",
    "sshd": "linuxkit/sshd:08e5d4a46603eff485d5d1b14001cc932a530858",
    "dhcpcd": "linuxkit/dhcpcd:b87e9ececac55a65eaa592f4dd8b4e0c3009afdb",
    "rngd": "linuxkit/rngd:984eb580ecb63986f07f626b61692a97aacd7198",
    "sysctl": "linuxkit/sysctl:43ac1d39da329c3567fcb9689e5ca99de6d169b6",
    "openntpd": "linuxkit/openntpd:2508f1d040441457a0b3e75744878afdf61bc473",
    "format": "linuxkit/format:4f779c0b0d0ba145b7f03211b5cbf59fbbe12e54",
    "mount": "linuxkit/mount:bd1c3bb45e48e68e47a9456d1669f7119f855184",
    "metadata": "linuxkit/metadata:4bbf406678d376e1ae9c9efae6ca2421f63fb4ff",
    "modprobe": "linuxkit/modprobe:4248cdc3494779010e7e7488fc17b6fd45b73aeb",
    "dockerd": "docker:20.10.6-dind",
}
"""Each component's image, pinned as in LinuxKit's published examples (linuxkit/linuxkit
``examples/*.yml``, the same packages ``linuxkit pkg`` published); ``dockerd`` is Docker's
official ``dind`` image that LinuxKit's ``docker.yml`` runs."""

DEFAULT_CMDLINE = "console=tty0 console=ttyS0 console=ttyAMA0"
"""Consoles on the screen, the first x86 serial port and the arm64 PL011."""

FsType = Literal["ext4", "xfs", "btrfs"]
"""Filesystems ``linuxkit/format`` can create."""

MetadataProvider = Literal[
    "aws",
    "gcp",
    "hetzner",
    "openstack",
    "scaleway",
    "vultr",
    "digitalocean",
    "equinixmetal",
    "metaldata",
    "vmware",
    "cdrom",
]
"""Where ``linuxkit/metadata`` looks for user data (it tries them in the order given)."""


# -- the kernel and init images ------------------------------------------------------------------


def kernel(cmdline: str = DEFAULT_CMDLINE, *, image: str = IMAGES["kernel"]) -> Kernel:
    """LinuxKit's kernel (``linuxkit/kernel``) with this command line."""
    return Kernel(image, cmdline=cmdline)


def init() -> str:
    """``linuxkit/init``: the init process, ``/etc`` basics and the service supervisor."""
    return IMAGES["init"]


def runc() -> str:
    """``linuxkit/runc``: the OCI runtime that runs the onboot and onshutdown containers."""
    return IMAGES["runc"]


def containerd() -> str:
    """``linuxkit/containerd``: the daemon that runs the services."""
    return IMAGES["containerd"]


def ca_certificates() -> str:
    """``linuxkit/ca-certificates``: the CA bundle at ``/etc/ssl/certs`` (for TLS clients)."""
    return IMAGES["ca-certificates"]


def firmware() -> str:
    """``linuxkit/firmware``: device firmware under ``/lib/firmware`` (an init image)."""
    return IMAGES["firmware"]


# -- onboot ----------------------------------------------------------------------------------------


def sysctl(*, name: str = "sysctl", **options: Unpack[ContainerOptions]) -> Onboot:
    """``linuxkit/sysctl``: applies LinuxKit's kernel tuning (and ``/etc/sysctl.d``) at boot.

    Label defaults: ``pid: host``, read-only root, ``CAP_SYS_ADMIN`` and ``CAP_NET_ADMIN``.
    """
    return Onboot(name, IMAGES["sysctl"], **options)


def format(
    device: str | None = None,
    label: str | None = None,
    type: FsType | None = None,
    *,
    partition: Literal["dos", "gpt"] | None = None,
    force: bool = False,
    name: str = "format",
    **options: Unpack[ContainerOptions],
) -> Onboot:
    """``linuxkit/format``: partition and format a disk at boot, once.

    Without ``device`` it takes the first block device that has no partition (and leaves a
    formatted one alone, so data survives a reboot); ``device`` names one (``/dev/sda``),
    ``force`` formats it even when it holds data. ``label`` is the filesystem label that
    :func:`mount` can find it by; ``type`` defaults to ext4, ``partition`` to dos.
    Label defaults: ``/dev`` bound, every block device, ``CAP_SYS_ADMIN``, ``CAP_MKNOD``.
    """
    args: list[str] = []
    if force:
        args.append("-force")
    if label is not None:
        args += ["-label", label]
    if type is not None:
        args += ["-type", type]
    if partition is not None:
        args += ["-partition", partition]
    if device is not None:
        args.append(device)
    if args:
        options.setdefault("command", ["/usr/bin/format", *args])
    return Onboot(name, IMAGES["format"], **options)


def mount(
    mountpoint: str,
    *,
    label: str | None = None,
    device: str | None = None,
    uuid: str | None = None,
    name: str = "mount",
    **options: Unpack[ContainerOptions],
) -> Onboot:
    """``linuxkit/mount``: mount a disk at ``mountpoint`` (under ``/var``) at boot.

    The disk is the one with filesystem ``label``, ``uuid`` or the ``device`` given, else the
    first formatted one; the mount point is created when missing.
    Label defaults: ``/dev`` and ``/var`` (rshared) bound, every block device, ``CAP_SYS_ADMIN``.
    """
    args: list[str] = []
    if label is not None:
        args += ["-label", label]
    if uuid is not None:
        args += ["-uuid", uuid]
    if device is not None:
        args += ["-device", device]
    options.setdefault("command", ["/usr/bin/mountie", *args, mountpoint])
    return Onboot(name, IMAGES["mount"], **options)


def metadata(
    *providers: MetadataProvider,
    name: str = "metadata",
    **options: Unpack[ContainerOptions],
) -> Onboot:
    """``linuxkit/metadata``: fetch the cloud's metadata and user data into ``/run/config``.

    ``providers`` are tried in order (default: all of them). Label defaults: ``/dev``, ``/var``,
    ``/run``, ``/sys`` bound, a ``/tmp`` tmpfs, read-only root, network capabilities.
    """
    if providers:
        options.setdefault("command", ["/usr/bin/metadata", *providers])
    return Onboot(name, IMAGES["metadata"], **options)


def modprobe(
    modules: Sequence[str], *, name: str = "modprobe", **options: Unpack[ContainerOptions]
) -> Onboot:
    """``linuxkit/modprobe``: load kernel ``modules`` at boot (``/lib/modules`` is bound by
    the label, with ``CAP_SYS_MODULE``)."""
    if not modules:
        raise ValueError("modprobe() needs at least one module name")
    names = list(modules)
    command = ["modprobe", *names] if len(names) == 1 else ["modprobe", "-a", *names]
    options.setdefault("command", command)
    return Onboot(name, IMAGES["modprobe"], **options)


# -- onboot or service ---------------------------------------------------------------------------


ONCE_DHCP = ["/sbin/dhcpcd", "--nobackground", "-f", "/dhcpcd.conf", "-1"]
"""dhcpcd in the foreground, exiting after the first lease."""


@overload
def dhcpcd(
    *, once: Literal[True], name: str = ..., **options: Unpack[ContainerOptions]
) -> Onboot: ...
@overload
def dhcpcd(
    *, once: Literal[False] = ..., name: str = ..., **options: Unpack[ContainerOptions]
) -> Service: ...
def dhcpcd(
    *, once: bool = False, name: str = "dhcpcd", **options: Unpack[ContainerOptions]
) -> Onboot | Service:
    """``linuxkit/dhcpcd``: DHCP for every interface.

    ``once=True`` gives an onboot container that exits after the first lease, so later onboot
    containers have the network; otherwise a service that keeps renewing leases.
    Label defaults: ``/run/resolvconf`` bound at ``/etc``, network capabilities.
    """
    if once:
        options.setdefault(
            "command", ["/sbin/dhcpcd", "--nobackground", "-f", "/dhcpcd.conf", "-1"]
        )
        return Onboot(name, IMAGES["dhcpcd"], **options)
    return Service(name, IMAGES["dhcpcd"], **options)


@overload
def rngd(
    *, once: Literal[True], name: str = ..., **options: Unpack[ContainerOptions]
) -> Onboot: ...
@overload
def rngd(
    *, once: Literal[False] = ..., name: str = ..., **options: Unpack[ContainerOptions]
) -> Service: ...
def rngd(
    *, once: bool = False, name: str | None = None, **options: Unpack[ContainerOptions]
) -> Onboot | Service:
    """``linuxkit/rngd``: feed the kernel's entropy pool from the hardware generator.

    ``once=True`` gives an onboot container (named ``rngd1``) that fills the pool once, early;
    otherwise a service (``rngd``). Label defaults: ``CAP_SYS_ADMIN``, ``oomScoreAdj: -800``,
    read-only root, new network and IPC namespaces.
    """
    if once:
        options.setdefault("command", ["/sbin/rngd", "-1"])
        return Onboot(name or "rngd1", IMAGES["rngd"], **options)
    return Service(name or "rngd", IMAGES["rngd"], **options)


# -- services --------------------------------------------------------------------------------------


def getty(
    insecure: bool = False, *, name: str = "getty", **options: Unpack[ContainerOptions]
) -> Service:
    """``linuxkit/getty``: a login prompt on the consoles of the kernel command line.

    ``insecure=True`` gives a root shell without a password (``INSECURE=true``): for a lab,
    never for production. Label defaults: host pid and network, ``/dev``, ``/run``, ``/etc``
    (at ``/hostroot/etc``) and more bound, the console devices, every capability.
    """
    if insecure:
        options.setdefault("env", {"INSECURE": "true"})
    return Service(name, IMAGES["getty"], **options)


SSH_DIR = "/root/.ssh"


def sshd(
    authorized_keys: Sequence[str], *, name: str = "sshd", **options: Unpack[ContainerOptions]
) -> System:
    """``linuxkit/sshd``: OpenSSH, root logging in with one of ``authorized_keys``.

    Returns a fragment to add to a system with ``+``: the service, which binds root's
    ``~/.ssh`` in (``binds_add``, keeping the label's binds), and the
    ``/root/.ssh/authorized_keys`` file (mode 0600) holding the keys, one per line.
    Label defaults: host pid, ``/dev``, ``/run``, ``/etc`` (at ``/hostroot/etc``) bound, every
    capability and device.
    """
    keys = [k.strip() for k in authorized_keys]
    if not keys or any(not k or "\n" in k for k in keys):
        raise ValueError("sshd() needs one or more public keys, each a single non-empty line")
    options.setdefault("binds_add", [Bind(SSH_DIR, SSH_DIR)])
    return System(
        services=[Service(name, IMAGES["sshd"], **options)],
        files=[
            File(f"{SSH_DIR}/authorized_keys", contents="".join(k + "\n" for k in keys), mode=0o600)
        ],
    )


def openntpd(*, name: str = "ntpd", **options: Unpack[ContainerOptions]) -> Service:
    """``linuxkit/openntpd``: keeps the clock in time over NTP (``CAP_SYS_TIME`` and the
    other capabilities it needs come from the label)."""
    return Service(name, IMAGES["openntpd"], **options)


def dockerd(
    *,
    data_dir: str = "/var/lib/docker",
    daemon_json: str | None = None,
    name: str = "docker",
    **options: Unpack[ContainerOptions],
) -> Service:
    """Docker-in-Docker (``docker:dind``) as LinuxKit's ``docker.yml`` runs it: every
    capability, the host's network, a writable cgroup mount, its state in ``data_dir`` (put a
    disk there with :func:`format` and :func:`mount`) and ``daemon_json`` bound when given.
    """
    binds = [Bind(p, p) for p in ("/etc/resolv.conf", data_dir, "/lib/modules")]
    if daemon_json is not None:
        binds.append(Bind(daemon_json, daemon_json))
    options.setdefault("capabilities", [Capability.ALL])
    options.setdefault("net", "host")
    options.setdefault(
        "mounts", [Mount(type="cgroup", options=["rw", "nosuid", "noexec", "nodev", "relatime"])]
    )
    options.setdefault("binds", binds)
    options.setdefault("command", ["/usr/local/bin/docker-init", "/usr/local/bin/dockerd"])
    return Service(name, IMAGES["dockerd"], **options)


__all__ = [
    "DEFAULT_CMDLINE",
    "IMAGES",
    "FsType",
    "MetadataProvider",
    "ca_certificates",
    "containerd",
    "dhcpcd",
    "dockerd",
    "firmware",
    "format",
    "getty",
    "init",
    "kernel",
    "metadata",
    "modprobe",
    "mount",
    "openntpd",
    "rngd",
    "runc",
    "sshd",
    "sysctl",
]
