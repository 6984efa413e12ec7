"""Model constructors: coercion of friendly inputs and value errors at the user's line."""

from __future__ import annotations

import pytest

from systemkit import (
    Bind,
    Capability,
    Device,
    File,
    Kernel,
    Onboot,
    Rlimit,
    Service,
    System,
    Tmpfs,
    UserError,
    Volume,
)
from systemkit.diagnostics import collecting


def test_service_reads_like_the_issue_example() -> None:
    svc = Service(
        "getty", "linuxkit/getty:a86d74c8", env={"INSECURE": "true"}, binds_add=["/etc/x:/etc/x"]
    )
    assert svc.name == "getty"
    assert svc.env == ("INSECURE=true",)
    assert svc.binds_add == ("/etc/x:/etc/x",)


def test_at_run_time_any_iterable_works_where_a_list_is_expected() -> None:
    # mypy and pyright ask for a list or a tuple (so that a bare str is refused); at run time
    # a generator is read into a tuple.
    words = (x for x in ["/bin/sh", "-c", "true"])
    svc = Service("s", "alpine", command=words)  # type: ignore[arg-type]
    assert svc.command == ("/bin/sh", "-c", "true")


def test_env_accepts_key_value_strings_and_mappings_alike() -> None:
    a = Service("s", "alpine", env=["A=1", "B=2"])
    b = Service("s", "alpine", env={"A": "1", "B": "2"})
    assert a == b


def test_binds_take_strings_or_bind_objects() -> None:
    a = Service("s", "alpine", binds=["/a:/b:ro,rshared"])
    b = Service("s", "alpine", binds=[Bind("/a", "/b", ["ro", "rshared"])])
    assert a.binds == b.binds == ("/a:/b:ro,rshared",)


def test_tmpfs_and_rlimit_objects_lower_to_linuxkit_strings() -> None:
    svc = Service(
        "s", "alpine", tmpfs=[Tmpfs("/run", ["size=1m"])], rlimits=[Rlimit("nofile", 10, 20)]
    )
    assert svc.tmpfs == ("/run:size=1m",)
    assert svc.rlimits == ("nofile,10,20",)


def test_capability_enum_and_strings_are_interchangeable() -> None:
    a = Service("s", "alpine", capabilities=[Capability.NET_ADMIN, "CAP_SYS_ADMIN"])
    assert a.capabilities == ("CAP_NET_ADMIN", "CAP_SYS_ADMIN")


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda: Service("s", "alpine", capabilities=["CAP_NOPE"]), "SK101"),  # type: ignore[list-item]
        (lambda: Service("s", "alpine", capabilities=["all", "CAP_CHOWN"]), "SK102"),
        (lambda: File("/etc/x", contents="", mode=0o17777), "SK103"),
        (lambda: Tmpfs("relative"), "SK111"),
        (lambda: Service("s", "Not A Ref"), "SK105"),
        (lambda: Service("s", "alpine", binds=["/only-one-part"]), "SK106"),
        (lambda: Service("s", "alpine", env=["NOEQUALS"]), "SK107"),
        (lambda: Service("s", "alpine", rlimits=["nofiles,1,2"]), "SK108"),
        (lambda: Service("s", "alpine", net="sideways"), "SK109"),
        (lambda: Service("a/b", "alpine"), "SK110"),
        (lambda: Device("/dev/x", type="z", major=1, minor=1, mode=0o600), "SK112"),
        (lambda: Volume("Bad Name"), "SK116"),
        (lambda: File("/etc/x", contents="a", source="b"), "SK117"),
        (lambda: Service("s", "alpine", command="ls -l"), "SK121"),  # type: ignore[arg-type]
        (lambda: System(kernel="linuxkit/kernel:6.6"), "SK121"),  # type: ignore[arg-type]
    ],
)
def test_bad_values_raise_a_located_user_error(make: object, code: str) -> None:
    with pytest.raises(UserError) as info:
        make()  # type: ignore[operator]
    (diag,) = info.value.diagnostics
    assert diag.code == code
    assert diag.location is not None
    assert diag.location.file.endswith("test_model_values.py")


def test_value_error_points_at_the_constructor_call_line() -> None:
    with pytest.raises(UserError) as info:
        Service("s", "alpine", capabilities=["CAP_NOPE"])  # type: ignore[list-item]
    loc = info.value.diagnostics[0].location
    assert loc is not None
    import inspect

    this_line = inspect.currentframe().f_lineno  # type: ignore[union-attr]
    assert loc.line == this_line - 5
    assert loc.column == 9


def test_collecting_keeps_going_after_a_bad_value() -> None:
    with collecting() as found:
        system = System(
            onboot=[Onboot("a", "alpine", capabilities=["CAP_NOPE"])],  # type: ignore[list-item]
            services=[Service("b", "alpine", net="sideways")],
            files=[File("/x", mode=0o644)],
        )
    assert [d.code for d in found] == ["SK101", "SK109", "SK117"]
    assert len(system.services) == 1


def test_unlimited_rlimits_in_any_case_are_accepted_as_linuxkit_does() -> None:
    assert Service("s", "alpine", rlimits=["nofile,Unlimited,UNLIMITED"]).rlimits


def test_mode_errors_are_shown_in_octal() -> None:
    with pytest.raises(UserError, match="0o10000"):
        File("/x", contents="", mode=0o10000)


def test_objects_are_frozen_and_hashable() -> None:
    svc = Service("s", "alpine", env={"A": "1"}, sysctl={"net.ipv4.ip_forward": 1})
    with pytest.raises(AttributeError):
        svc.name = "t"  # type: ignore[misc]
    with pytest.raises(TypeError):
        svc.sysctl["x"] = "y"  # type: ignore[index]
    assert hash(svc) == hash(
        Service("s", "alpine", env={"A": "1"}, sysctl={"net.ipv4.ip_forward": "1"})
    )


def test_location_is_not_part_of_equality() -> None:
    a = Kernel("linuxkit/kernel:6.6", cmdline="console=ttyS0")
    b = Kernel("linuxkit/kernel:6.6", cmdline="console=ttyS0")
    assert a == b
    assert a.location != b.location


def test_the_capability_enum_and_the_literal_name_the_same_capabilities() -> None:
    from systemkit.capabilities import KNOWN_CAPABILITIES

    assert len(KNOWN_CAPABILITIES) == 41 == len(set(KNOWN_CAPABILITIES))
    assert [c.value for c in Capability] == [*KNOWN_CAPABILITIES, "all", "none"]


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: Service("s", "alpine", readonly="false"), "readonly"),  # type: ignore[arg-type]
        (lambda: Service("s", "alpine", uid=1.5), "uid"),  # type: ignore[arg-type]
        (lambda: Service("s", "alpine", uid=True), "uid"),
        (lambda: Service("s", "alpine", oom_score_adj=1.5), "oom_score_adj"),  # type: ignore[arg-type]
        (lambda: Service("s", "alpine", net=5), "net"),  # type: ignore[arg-type]
        (lambda: Service("s", "alpine", additional_gids=[1.5]), "additional_gids"),  # type: ignore[list-item]
        (lambda: Kernel("linuxkit/kernel:6.6", cmdline=5), "cmdline"),  # type: ignore[arg-type]
        (lambda: File("etc/x", contents=b"\xff"), "contents"),  # type: ignore[arg-type]
        (lambda: File(None, contents="x"), "path"),  # type: ignore[arg-type]
        (lambda: File("etc/x", source=5), "source"),  # type: ignore[arg-type]
    ],
)
def test_a_value_of_the_wrong_type_is_a_located_error_not_a_crash(make: object, field: str) -> None:
    """lower and build do not run mypy: the objects check their own field types."""
    with pytest.raises(UserError) as info:
        make()  # type: ignore[operator]
    diag = info.value.diagnostics[0]
    assert diag.code == "SK121" and diag.message.startswith(f"{field} must be ")
    assert diag.location is not None and diag.location.file.endswith("test_model_values.py")


def test_wrong_types_are_collected_and_unset_so_the_rest_still_lowers() -> None:
    from systemkit import lower

    with collecting() as found:
        system = System(services=[Service("s", "alpine", readonly="no", uid=1.5)])  # type: ignore[arg-type]
    assert [d.code for d in found] == ["SK121", "SK121"]
    spec = lower(system).spec
    assert spec.services[0].readonly is None and spec.services[0].uid is None


def test_ids_beyond_32_bits_are_refused() -> None:
    with pytest.raises(UserError, match="does not fit in 32 bits"):
        Service("s", "alpine", uid=2**32)
