"""A lab server made only of catalog components: ``systemkit.catalog`` at a glance.

A DHCP'd machine that loads its NIC driver and firmware, fetches its cloud metadata, formats
and mounts a data disk for Docker, and lets two administrators in over SSH; the login prompt on
the console asks for a password (``getty()`` is secure unless ``insecure=True``). The message of
the day is a jinja2 template (``motd.j2``) filled in from the same values that configure the
disk, so the two cannot disagree.

    systemkit lower examples/lab/system.py --format linuxkit
    systemkit images examples/lab/system.py        # every image it needs, stored or not
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

from systemkit import File, System, catalog

SITE = "ber-1"


class Disk(NamedTuple):
    """The data disk: formatted and mounted by label, described in the motd."""

    device: str
    label: str
    type: catalog.FsType


DISK = Disk(device="/dev/sdb", label="docker", type="xfs")
DOCKER_DATA = "/var/lib/docker"
DAEMON_JSON = "/etc/docker/daemon.json"
ADMINS = {
    "alice": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHjQ0Bq2i9qv3cO8pX0nJr0kG9Uu7yJ6c3m3bqzS5l1a "
    "alice@lab",
    "bob": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPn0c0vB3s8m2M6m2j1y0l8gq0xN9wqJ8ZlQqk7m2b0B "
    "bob@lab",
}
"""Who may log in over SSH (example keys: replace them with yours)."""

system = System(
    kernel=catalog.kernel(),
    init=[
        catalog.init(),
        catalog.runc(),
        catalog.containerd(),
        catalog.ca_certificates(),
        catalog.firmware(),
    ],
    onboot=[
        catalog.sysctl(),
        catalog.modprobe(["ixgbe", "xfs"]),
        catalog.rngd(once=True),
        catalog.dhcpcd(once=True),
        catalog.metadata("openstack", "cdrom"),
        catalog.format(DISK.device, label=DISK.label, type=DISK.type),
        catalog.mount(DOCKER_DATA, label=DISK.label),
    ],
    services=[
        catalog.getty(),
        catalog.rngd(),
        catalog.dhcpcd(name="dhcpcd-renew"),  # onboot's dhcpcd took the first lease
        catalog.openntpd(),
        catalog.dockerd(data_dir=DOCKER_DATA, daemon_json=DAEMON_JSON),
    ],
    files=[
        File(DAEMON_JSON, contents=json.dumps({"data-root": DOCKER_DATA}), mode=0o644),
        File.template(
            "/etc/motd", Path("motd.j2"), site=SITE, disk=DISK, admins=sorted(ADMINS), mode=0o644
        ),
    ],
) + catalog.sshd(authorized_keys=[ADMINS[name] for name in sorted(ADMINS)])
