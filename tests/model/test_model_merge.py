"""Merging systems: LinuxKit's multi-file meaning."""

from __future__ import annotations

import pytest

from systemkit import File, Kernel, Onboot, Service, System, UserError, evolve, lower


def test_kernel_fields_override_and_lists_append() -> None:
    base = System(
        kernel=Kernel("linuxkit/kernel:6.6", cmdline="console=ttyS0", ucode="intel-ucode.cpio"),
        init=["linuxkit/init:1"],
        onboot=[Onboot("a", "alpine")],
        files=[File("/etc/a", contents="a")],
    )
    arm = System(
        kernel=Kernel("linuxkit/kernel:6.6-arm64", cmdline="console=ttyAMA0", ucode=""),
        onboot=[Onboot("b", "alpine")],
    )
    merged = base + arm
    assert merged.kernel is not None
    assert merged.kernel.image == "linuxkit/kernel:6.6-arm64"
    assert merged.kernel.cmdline == "console=ttyAMA0"
    assert merged.kernel.ucode == ""  # present-but-empty clears, as in LinuxKit
    assert [c.name for c in merged.onboot] == ["a", "b"]
    assert merged.init == ("linuxkit/init:1",)
    assert merged == base.merge(arm)


def test_unset_kernel_fields_keep_the_earlier_value() -> None:
    a = System(kernel=Kernel("k:1", cmdline="console=ttyS0", tar="none"))
    b = System(kernel=Kernel("k:2"))
    merged = a + b
    assert merged.kernel is not None
    assert (merged.kernel.image, merged.kernel.cmdline, merged.kernel.tar) == (
        "k:2",
        "console=ttyS0",
        "none",
    )


def test_duplicate_service_name_is_a_clear_error_with_both_locations() -> None:
    a = System(services=[Service("getty", "linuxkit/getty:1")])
    b = System(services=[Service("getty", "linuxkit/getty:2")])
    with pytest.raises(UserError) as info:
        _ = a + b
    (diag,) = info.value.diagnostics
    assert diag.code == "SK201"
    assert "getty" in diag.message
    assert diag.location is not None and diag.related


def test_evolve_copies_with_changes() -> None:
    svc = Service("getty", "linuxkit/getty:1", env={"INSECURE": "true"})
    other = evolve(svc, name="getty2")
    assert other.name == "getty2" and other.env == svc.env
    assert lower(System(services=[svc, other])).spec.services[1].name == "getty2"
