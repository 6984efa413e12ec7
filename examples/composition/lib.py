"""Reusable parts for the composition example: what a team keeps in its own helper module.

Everything here is plain Python: constants, functions returning model objects, and a
:class:`Getty` subclass of :class:`~systemkit.Service` that carries its own defaults. Objects
made here remember *this* file and line as their location, so an error about one of them points
at the helper that made it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Unpack

from systemkit import ContainerOptions, Kernel, Onboot, Service, System

KERNEL = "linuxkit/kernel:6.12.59"
INIT = "linuxkit/init:b5506cc74a6812dc40982cacfd2f4328f8a4b12a"
RUNC = "linuxkit/runc:9442aa234715e751a16144f1d4ae3fd1a00fd492"
CONTAINERD = "linuxkit/containerd:ba19f64efd3331a8fd0a33e00eabd14f6ee1780e"
DHCPCD = "linuxkit/dhcpcd:b87e9ececac55a65eaa592f4dd8b4e0c3009afdb"
GETTY = "linuxkit/getty:a86d74c8f89be8956330c3b115b0b1f2e09ef6e0"
RNGD = "linuxkit/rngd:984eb580ecb63986f07f626b61692a97aacd7198"
NODE_EXPORTER = "linuxkit/node_exporter:f334791f344bdf477317840e14cee57904fee95a"
ALPINE = "alpine:3.13"


class Getty(Service):
    """A console login: LinuxKit's getty image, passwordless unless told otherwise.

    Every argument has a default and every :class:`~systemkit.Service` keyword can still be
    given (``Getty(env={})``, ``Getty("getty-secure", net="/run/netns/mgmt")``); mypy checks
    the overrides because ``**options`` is typed with :class:`~systemkit.ContainerOptions`.
    """

    def __init__(
        self, name: str = "getty", image: str = GETTY, **options: Unpack[ContainerOptions]
    ) -> None:
        options.setdefault("env", {"INSECURE": "true"})
        super().__init__(name, image, **options)


def base(*, cmdline: str = "console=tty0 console=ttyS0") -> System:
    """A function returning components: kernel, init and a DHCP client run once at boot."""
    return System(
        kernel=Kernel(KERNEL, cmdline=cmdline),
        init=[INIT, RUNC, CONTAINERD],
        onboot=[
            Onboot(
                "dhcpcd",
                DHCPCD,
                command=["/sbin/dhcpcd", "--nobackground", "-f", "/dhcpcd.conf", "-1"],
            )
        ],
    )


def tickers(intervals: Mapping[str, int]) -> list[Service]:
    """A loop generating services: one log-writing ``ticker-<name>`` per entry of ``intervals``."""
    services = []
    for name, seconds in sorted(intervals.items()):
        script = f"while true; do echo {name} $(date); sleep {seconds}; done"
        services.append(Service(f"ticker-{name}", ALPINE, command=["/bin/sh", "-c", script]))
    return services


def monitoring() -> System:
    """A system fragment meant to be merged into others (``base() + monitoring()``)."""

    def exporter(name: str, image: str) -> Service:
        # Made in a nested function: the location is still this line of lib.py.
        return Service(name, image, net="host", pid="host")

    return System(services=[Service("rngd", RNGD), exporter("node_exporter", NODE_EXPORTER)])
