"""A Docker host: LinuxKit's ``examples/docker.yml`` in Python.

Docker-in-Docker (the official ``docker:dind`` image) runs as a service with every capability,
the host's network and a read-write cgroup mount. Its state lives on a persistent disk: at boot
``format`` puts a filesystem on the first empty disk it finds (and leaves an already formatted
one alone) and ``mount`` mounts it at ``/var/lib/docker``, so images and containers survive a
reboot.

    systemkit lower examples/docker-host/system.py --format linuxkit
"""

from __future__ import annotations

import json

from systemkit import Bind, Capability, File, Kernel, Mount, Onboot, Service, System

KERNEL = "linuxkit/kernel:6.12.59"
INIT = "linuxkit/init:b5506cc74a6812dc40982cacfd2f4328f8a4b12a"
RUNC = "linuxkit/runc:9442aa234715e751a16144f1d4ae3fd1a00fd492"
CONTAINERD = "linuxkit/containerd:ba19f64efd3331a8fd0a33e00eabd14f6ee1780e"
CA_CERTIFICATES = "linuxkit/ca-certificates:256f1950df59f2f209e9f0b81374177409eb11de"
SYSCTL = "linuxkit/sysctl:43ac1d39da329c3567fcb9689e5ca99de6d169b6"
SYSFS = "linuxkit/sysfs:6d5bd933762f6b216744c711c6e876756cee9600"
FORMAT = "linuxkit/format:4f779c0b0d0ba145b7f03211b5cbf59fbbe12e54"
MOUNT = "linuxkit/mount:bd1c3bb45e48e68e47a9456d1669f7119f855184"
GETTY = "linuxkit/getty:a86d74c8f89be8956330c3b115b0b1f2e09ef6e0"
RNGD = "linuxkit/rngd:984eb580ecb63986f07f626b61692a97aacd7198"
DHCPCD = "linuxkit/dhcpcd:b87e9ececac55a65eaa592f4dd8b4e0c3009afdb"
OPENNTPD = "linuxkit/openntpd:2508f1d040441457a0b3e75744878afdf61bc473"
DOCKER = "docker:20.10.6-dind"

DOCKER_DATA = "/var/lib/docker"
DAEMON_JSON = "/etc/docker/daemon.json"


def persistent_disk(mountpoint: str) -> list[Onboot]:
    """Format the first unformatted disk (if any), then mount the data disk at ``mountpoint``."""
    return [
        Onboot("format", FORMAT),
        Onboot("mount", MOUNT, command=["/usr/bin/mountie", mountpoint]),
    ]


def same_path(*paths: str) -> list[Bind]:
    """Bind each host path at the same path in the container."""
    return [Bind(p, p) for p in paths]


def dockerd(daemon_config: str) -> Service:
    """The Docker daemon: all capabilities, host network, writable cgroups, state on disk."""
    return Service(
        "docker",
        DOCKER,
        capabilities=[Capability.ALL],
        net="host",
        # A writable cgroup mount replaces the read-only default at /sys/fs/cgroup (LinuxKit
        # infers the destination and source from the type).
        mounts=[Mount(type="cgroup", options=["rw", "nosuid", "noexec", "nodev", "relatime"])],
        binds=same_path("/etc/resolv.conf", DOCKER_DATA, "/lib/modules", daemon_config),
        command=["/usr/local/bin/docker-init", "/usr/local/bin/dockerd"],
    )


system = System(
    kernel=Kernel(KERNEL, cmdline="console=tty0 console=ttyS0 console=ttyAMA0 console=ttysclp0"),
    init=[INIT, RUNC, CONTAINERD, CA_CERTIFICATES],
    onboot=[
        Onboot("sysctl", SYSCTL),
        Onboot("sysfs", SYSFS),
        *persistent_disk(DOCKER_DATA),
    ],
    services=[
        Service("getty", GETTY, env={"INSECURE": "true"}),
        Service("rngd", RNGD),
        Service("dhcpcd", DHCPCD),
        Service("ntpd", OPENNTPD),
        dockerd(DAEMON_JSON),
    ],
    files=[
        # The mount point must exist in the image for `mount` to mount the disk on it.
        File(DOCKER_DATA, directory=True),
        File(DAEMON_JSON, contents=json.dumps({"debug": True})),
    ],
)
