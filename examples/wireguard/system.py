"""Two WireGuard tunnels between network namespaces: LinuxKit's ``examples/wireguard.yml``.

Each tunnel is an onboot container with a **new** network namespace. Before it starts, LinuxKit's
init creates a ``wireguard`` interface in the root namespace and moves it into the container's
namespace (``create_in_root``), and bind-mounts that namespace at ``/run/netns/<name>``
(``bind_ns``) so that it outlives the container. The container configures the interface from
``/etc/wireguard/<name>.conf`` and exits. Services then *join* a tunnel's namespace by giving
its path as ``net``: nginx only answers on ``wg0``, the getty lives in ``wg1``.

The two tunnels are each other's peer over the loopback address, which makes the example
self-contained. The keys are LinuxKit's published example keys: never reuse them.

    systemkit lower examples/wireguard/system.py --format linuxkit
"""

from __future__ import annotations

from typing import NamedTuple

from systemkit import (
    Bind,
    BindNS,
    Capability,
    File,
    Interface,
    Kernel,
    Onboot,
    Runtime,
    Service,
    System,
)

KERNEL = "linuxkit/kernel:6.12.59"
INIT = "linuxkit/init:b5506cc74a6812dc40982cacfd2f4328f8a4b12a"
RUNC = "linuxkit/runc:9442aa234715e751a16144f1d4ae3fd1a00fd492"
CONTAINERD = "linuxkit/containerd:ba19f64efd3331a8fd0a33e00eabd14f6ee1780e"
CA_CERTIFICATES = "linuxkit/ca-certificates:256f1950df59f2f209e9f0b81374177409eb11de"
SYSCTL = "linuxkit/sysctl:43ac1d39da329c3567fcb9689e5ca99de6d169b6"
DHCPCD = "linuxkit/dhcpcd:b87e9ececac55a65eaa592f4dd8b4e0c3009afdb"
IP = "linuxkit/ip:3c0676ee83a0dc739685be1253b8326f08581ef7"
GETTY = "linuxkit/getty:a86d74c8f89be8956330c3b115b0b1f2e09ef6e0"
RNGD = "linuxkit/rngd:984eb580ecb63986f07f626b61692a97aacd7198"
NGINX = "nginx:1.13.8-alpine"

CONFIG_DIR = "/etc/wireguard"


class Peer(NamedTuple):
    """The other end of a tunnel."""

    public_key: str
    endpoint: str
    allowed_ips: str = "0.0.0.0/0"


class Tunnel(NamedTuple):
    """One WireGuard interface: its name, address, key, port and peer (``wg-quick`` format)."""

    name: str
    address: str
    private_key: str
    listen_port: int
    peer: Peer
    dns: str | None = None

    def config(self) -> str:
        lines = ["[Interface]", f"Address = {self.address}"]
        if self.dns is not None:
            lines.append(f"DNS = {self.dns}")
        lines += [
            f"PrivateKey = {self.private_key}",
            f"ListenPort = {self.listen_port}",
            "[Peer]",
            f"PublicKey = {self.peer.public_key}",
            f"AllowedIPs = {self.peer.allowed_ips}",
            f"Endpoint = {self.peer.endpoint}",
        ]
        return "\n".join(lines) + "\n"


def netns(name: str) -> str:
    """Where the network namespace of tunnel ``name`` is bind-mounted (what services join)."""
    return f"/run/netns/{name}"


def tunnel_up(t: Tunnel) -> Onboot:
    """Create ``t``'s interface in a new network namespace, configure it, keep the namespace."""
    return Onboot(
        t.name,
        IP,
        net="new",
        binds=[Bind(CONFIG_DIR, CONFIG_DIR)],
        command=["/usr/bin/lk-wg-config", "configure", f"{CONFIG_DIR}/{t.name}.conf"],
        runtime=Runtime(
            interfaces=[Interface(name=t.name, add="wireguard", create_in_root=True)],
            bind_ns=BindNS(net=netns(t.name)),
        ),
    )


def tunnel_config(t: Tunnel) -> File:
    return File(f"{CONFIG_DIR}/{t.name}.conf", contents=t.config())


WG0 = Tunnel(
    "wg0",
    address="192.168.2.1/24",
    dns="192.168.2.2",
    private_key="KG7EKkHDkp7THfW5mOXcZzo3RbGAjq+ARMfJGFm5G1s=",
    listen_port=51820,
    peer=Peer("ZP7h1OjA1oIAmsAvMKujp2RAAC/f0kY814b3Xq6j/0Y=", endpoint="127.0.0.1:51821"),
)
WG1 = Tunnel(
    "wg1",
    address="192.168.2.2/24",
    private_key="SCGCKDuTm4PMOw+LXdK/2s8mxnv145QHOohKRq3vc2A=",
    listen_port=51821,
    peer=Peer("AcS5t3PC5nL/oj0sYhc3yFpDlRaXoJ0mfEq6iq0rFF4=", endpoint="127.0.0.1:51820"),
)
TUNNELS = (WG0, WG1)

system = System(
    kernel=Kernel(KERNEL, cmdline="console=tty0 console=ttyS0 console=ttyAMA0"),
    init=[INIT, RUNC, CONTAINERD, CA_CERTIFICATES],
    onboot=[
        Onboot("sysctl", SYSCTL),
        Onboot(
            "dhcpcd", DHCPCD, command=["/sbin/dhcpcd", "--nobackground", "-f", "/dhcpcd.conf", "-1"]
        ),
        *(tunnel_up(t) for t in TUNNELS),
    ],
    services=[
        Service("getty", GETTY, env={"INSECURE": "true"}, net=netns(WG1.name)),
        Service("rngd", RNGD),
        Service(
            "nginx",
            NGINX,
            net=netns(WG0.name),
            capabilities=[
                Capability.NET_BIND_SERVICE,
                Capability.CHOWN,
                Capability.SETUID,
                Capability.SETGID,
                Capability.DAC_OVERRIDE,
            ],
        ),
    ],
    files=[tunnel_config(t) for t in TUNNELS],
)
