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

from systemkit import File, Onboot, System, catalog

DOCKER_DATA = "/var/lib/docker"
DAEMON_JSON = "/etc/docker/daemon.json"
SYSFS = "linuxkit/sysfs:6d5bd933762f6b216744c711c6e876756cee9600"


system = System(
    kernel=catalog.kernel(cmdline="console=tty0 console=ttyS0 console=ttyAMA0 console=ttysclp0"),
    init=[catalog.init(), catalog.runc(), catalog.containerd(), catalog.ca_certificates()],
    onboot=[
        catalog.sysctl(),
        Onboot("sysfs", SYSFS),
        # format the first unformatted disk (if any), then mount the data disk
        catalog.format(),
        catalog.mount(DOCKER_DATA),
    ],
    services=[
        catalog.getty(insecure=True),
        catalog.rngd(),
        catalog.dhcpcd(),
        catalog.openntpd(),
        catalog.dockerd(data_dir=DOCKER_DATA, daemon_json=DAEMON_JSON),
    ],
    files=[
        # The mount point must exist in the image for `mount` to mount the disk on it.
        File(DOCKER_DATA, directory=True),
        File(DAEMON_JSON, contents=json.dumps({"debug": True})),
    ],
)
