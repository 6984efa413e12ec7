"""The OCI values (Resources, Memory, IDMapping, Interface, BindNS ...) are model objects like
the rest: checked at the user's line, immutable all the way down, hashable, lowered to the
spec's plain values."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from systemkit import (
    CPU,
    BindNS,
    BlockIO,
    DeviceCgroup,
    IDMapping,
    Interface,
    Memory,
    Resources,
    Runtime,
    Service,
    System,
    ThrottleDevice,
    lower,
)
from systemkit.diagnostics import UserError, collecting
from systemkit.spec import types as st


def test_a_wrong_type_is_refused_at_the_users_line() -> None:
    with pytest.raises(UserError) as info:
        Memory(limit="lots")  # type: ignore[arg-type]
    (diag,) = info.value.diagnostics
    assert diag.code == "SK121" and "limit" in diag.message
    assert diag.location is not None and Path(diag.location.file).name == Path(__file__).name
    with collecting() as found:
        mem = Memory(limit="lots", swap=1)  # type: ignore[arg-type]
    assert [d.code for d in found] == ["SK121"]
    assert mem.limit is None and mem.swap == 1  # the wrong value is dropped, the rest kept


def test_immutable_all_the_way_down() -> None:
    res = Resources(devices=[DeviceCgroup(allow=False, access="rwm")], memory=Memory(limit=1))
    assert isinstance(res.devices, tuple)
    with pytest.raises(AttributeError):
        res.devices.append(DeviceCgroup(allow=True))  # type: ignore[attr-defined]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        res.memory = None  # type: ignore[misc]
    blockio = BlockIO(throttle_read_bps_device=[ThrottleDevice(major=8, minor=0, rate=1)])
    assert isinstance(blockio.throttle_read_bps_device, tuple)


def test_a_service_holding_resources_is_hashable() -> None:
    def make() -> Service:
        return Service(
            "db",
            "postgres:16",
            resources=Resources(memory=Memory(limit=1 << 30), cpu=CPU(shares=512)),
            uid_mappings=[IDMapping(host_id=100000, container_id=0, size=65536)],
            runtime=Runtime(interfaces=[Interface(name="eth1", add="veth", peer="v1")]),
        )

    assert hash(make()) == hash(make()) and len({make(), make()}) == 1


def test_lowered_to_the_specs_plain_values() -> None:
    system = System(
        services=[
            Service(
                "db",
                "postgres:16",
                resources=Resources(devices=[DeviceCgroup(allow=False)], memory=Memory(limit=5)),
                uid_mappings=[IDMapping(host_id=1, container_id=0, size=2)],
                runtime=Runtime(bind_ns=BindNS(net="/run/netns/db")),
            )
        ]
    )
    svc = lower(system).spec.services[0]
    assert svc.resources == st.Resources(
        devices=[st.DeviceCgroup(allow=False)], memory=st.Memory(limit=5)
    )
    assert svc.uid_mappings == [st.IDMapping(host_id=1, container_id=0, size=2)]
    assert svc.runtime is not None and svc.runtime.bind_ns == st.BindNS(net="/run/netns/db")
