"""Lowering with a lock (systemkit.locking.pin): every reference pinned; --locked problems named
at the user's line (SK630 missing, SK631 disagreeing digest or platform)."""

from __future__ import annotations

from pathlib import Path

import pytest

from systemkit import File, Kernel, Onboot, Service, System, Volume, lower
from systemkit.diagnostics import UserError
from systemkit.images.lock import Lock, LockedImage
from systemkit.locking import pin

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def _entry(
    ref: str, digest: str = D1, platforms: tuple[str, ...] = ("linux/amd64",)
) -> LockedImage:
    return LockedImage(
        ref=ref,
        digest=digest,
        media_type="application/vnd.oci.image.index.v1+json",
        platforms={p: D2 for p in platforms},
        platform=platforms[0],
        label=None,
        config={},
    )


def _system() -> System:
    return System(
        kernel=Kernel("example.com/kernel:1"),
        init=["example.com/init:1"],
        volumes=[Volume("data", image="example.com/vol:1")],
        onboot=[Onboot("one", "example.com/one:1")],
        services=[Service("two", f"example.com/two:1@{D2}")],
        files=[File("/etc/motd", contents="x\n")],
    )


def test_every_reference_is_pinned() -> None:
    refs = ["kernel", "init", "vol", "one"]
    lock = Lock({f"example.com/{r}:1": _entry(f"example.com/{r}:1") for r in refs})
    spec = pin(lower(_system()), lock).spec
    assert spec.kernel is not None and spec.kernel.image == f"example.com/kernel:1@{D1}"
    assert spec.init == [f"example.com/init:1@{D1}"]
    assert spec.volumes[0].image == f"example.com/vol:1@{D1}"
    assert spec.onboot[0].image == f"example.com/one:1@{D1}"
    assert spec.services[0].image == f"example.com/two:1@{D2}"  # its own digest, not locked


def test_locked_names_each_problem_at_its_line() -> None:
    lock = Lock(
        {
            "example.com/kernel:1": _entry("example.com/kernel:1"),
            "example.com/init:1": _entry("example.com/init:1", platforms=("linux/arm64",)),
            "example.com/vol:1": _entry("example.com/vol:1"),
            "example.com/two:1": _entry("example.com/two:1", digest=D1),
        }
    )
    lowered = lower(_system())
    with pytest.raises(UserError) as info:
        pin(lowered, lock, locked=True, arch="amd64")
    found = {(d.code, d.spec_path) for d in info.value.diagnostics}
    assert found == {
        ("SK631", "$.init[0]"),  # no linux/amd64 manifest locked
        ("SK630", "$.onboot[0].image"),  # not in the lock
        ("SK631", "$.services[0].image"),  # names another digest than the lock
    }
    for d in info.value.diagnostics:
        assert d.location is not None and Path(d.location.file).resolve() == Path(__file__)
    messages = " ".join(d.message for d in info.value.diagnostics)
    assert "example.com/one:1 is not in systemkit.lock" in messages
    # without --locked nothing fails: what the lock has is pinned, the rest left as written
    assert pin(lowered, lock).spec.onboot[0].image == "example.com/one:1"


def test_lock_bytes_are_sorted_and_round_trip() -> None:
    lock = Lock({r: _entry(r) for r in ["example.com/b:1", "example.com/a:1"]})
    data = lock.to_bytes()
    assert data.index(b"example.com/a:1") < data.index(b"example.com/b:1")
    assert sorted(Lock.from_bytes(data).images) == ["example.com/a:1", "example.com/b:1"]
    assert Lock.from_bytes(data).to_bytes() == data
    assert data.endswith(b"}\n")


def test_the_recorded_platform_does_not_depend_on_the_machine(tmp_path: Path) -> None:
    from systemkit.images import synth
    from systemkit.images.lock import from_store
    from systemkit.images.store import ImageStore

    store = ImageStore(tmp_path / "s")
    arm = synth.put_image(store, [{"a": "1"}], arch="arm64", config={"Cmd": ["/arm"]})
    s390 = synth.put_image(store, [{"a": "2"}], arch="s390x", config={"Cmd": ["/s390"]})
    amd = synth.put_image(store, [{"a": "3"}], arch="amd64", config={"Cmd": ["/amd"]})
    store.tag("example.com/multi:1", synth.put_index(store, [arm, s390, amd]))
    store.tag("example.com/noamd:1", synth.put_index(store, [s390, arm]))
    multi = from_store(store, "example.com/multi:1", None)
    assert multi is not None and multi.platform == "linux/amd64"
    assert multi.config["Cmd"] == ["/amd"]
    noamd = from_store(store, "example.com/noamd:1", None)
    assert noamd is not None and noamd.platform == "linux/arm64"  # the first, sorted
    asked = from_store(store, "example.com/multi:1", "s390x")
    assert asked is not None and asked.config["Cmd"] == ["/s390"]
