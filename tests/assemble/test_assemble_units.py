"""Unit tests of the assembler's parts: tar writer/reader, flattening, filters, OCI config."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable
from typing import Any, BinaryIO

import pytest

from systemkit.assemble import ociconfig
from systemkit.assemble.filters import Guard, image_members
from systemkit.assemble.flatten import flatten
from systemkit.assemble.tarstream import (
    DIR,
    LNK,
    REG,
    SYM,
    TarHeader,
    TarWriter,
    encode_header,
    go_clean,
    go_join,
    iter_tar,
    pax_record,
)
from tests.support.tarlayers import layer

# --- helpers ---------------------------------------------------------------------------------


def openers(*layers: bytes) -> list[Callable[[], BinaryIO]]:
    def opener(data: bytes) -> Callable[[], BinaryIO]:
        return lambda: io.BytesIO(data)

    return [opener(data) for data in layers]


def names(layers: list[Callable[[], BinaryIO]], **kw: Any) -> list[str]:
    out = []
    for hdr, body in flatten(layers, **kw):
        body.drain()
        out.append(hdr.name)
    return out


# --- tar writer --------------------------------------------------------------------------------


def test_go_path_helpers() -> None:
    assert go_clean("./x/") == "x"
    assert go_clean("./") == "."
    assert go_clean("a/../../b") == "../b"
    assert go_clean("/../a") == "/a"
    assert go_join("lib/", "PaxHeaders.0", "") == "lib/PaxHeaders.0"
    assert go_join("", "PaxHeaders.0", "boot") == "PaxHeaders.0/boot"


def test_pax_record_length_counts_itself() -> None:
    rec = pax_record("LINUXKIT.source", "docker.io/sktest/plain:1")
    assert rec == b"44 LINUXKIT.source=docker.io/sktest/plain:1\n"
    assert int(rec.split(b" ")[0]) == len(rec)
    long = pax_record("k", "v" * 95)
    assert int(long.split(b" ")[0]) == len(long)


def test_header_layout_matches_go() -> None:
    """An x header named <dir>/PaxHeaders.0/<base>, sorted records, octal fields with NUL."""
    hdr = TarHeader(
        "boot/kernel", REG, 0o644, size=3, pax={"LINUXKIT.source": "s", "LINUXKIT.location": "l"}
    )
    raw = encode_header(hdr)
    assert len(raw) == 3 * 512
    assert raw[0:18] == b"boot/PaxHeaders.0/"
    assert raw[156:157] == b"x"
    assert raw[100:108] == b"0000000\0"
    assert raw[257:265] == b"ustar\x0000"
    assert raw[512:].startswith(b"23 LINUXKIT.location=l\n21 LINUXKIT.source=s\n")
    main = raw[1024:]
    assert main[0:11] == b"boot/kernel"
    assert main[100:108] == b"0000644\0"
    assert main[124:136] == b"00000000003\0"
    assert main[329:337] == b"0000000\0"  # devmajor formatted even for files, as Go does
    assert main[154:156] == b"\0 "


def test_writer_reader_roundtrip_long_names_and_records() -> None:
    long = "containers/onboot/000-x/lower/" + "d" * 120 + "/file"
    buf = io.BytesIO()
    tw = TarWriter(buf)
    tw.add(
        TarHeader(long, REG, 0o600, uid=5, gid=6, size=5, pax={"LINUXKIT.source": "s"}), b"hello"
    )
    tw.add(TarHeader("lnk", SYM, 0o777, linkname="/" + "t" * 150))
    tw.add(TarHeader("dir/", DIR, 0o755))
    tw.close()
    buf.seek(0)
    got = [(h, b.read()) for h, b in iter_tar(buf)]
    assert [h.name for h, _ in got] == [long, "lnk", "dir/"]
    assert got[0][1] == b"hello" and got[0][0].pax == {"LINUXKIT.source": "s"}
    assert (got[0][0].uid, got[0][0].gid, got[0][0].mode) == (5, 6, 0o600)
    assert got[1][0].linkname == "/" + "t" * 150
    # Python's tarfile reads it too (a standard PAX archive)
    buf.seek(0)
    with tarfile.open(fileobj=buf) as tar:
        assert tar.getnames() == [long, "lnk", "dir"]


def test_writer_streams_bodies_from_readers() -> None:
    buf = io.BytesIO()
    tw = TarWriter(buf)
    tw.CHUNK = 7
    tw.add(TarHeader("f", REG, size=20), io.BytesIO(b"x" * 20))
    tw.close()
    assert len(buf.getvalue()) == 512 + 512 + 1024  # no PAX records: header, data, end
    buf.seek(0)
    ((_hdr, body),) = list((h, b.read()) for h, b in iter_tar(buf))
    assert body == b"x" * 20


# --- flattening -------------------------------------------------------------------------------


def test_flatten_upper_layer_wins_and_whiteouts() -> None:
    lower = layer(
        ("app", "dir", None),
        ("app/a", "file", "a1"),
        ("app/old", "file", "old"),
        ("app/cache", "dir", None),
        ("app/cache/c", "file", "c"),
        ("app/x", "dir", None),
        ("app/x/under", "file", "u"),
    )
    upper = layer(
        ("app", "dir", None),
        ("app/a", "file", "a2"),
        ("app/.wh.old", "file", ""),
        ("app/.wh.cache", "file", ""),
        ("app/x", "file", "now a file"),
    )
    out = {}
    order = []
    for hdr, body in flatten(openers(lower, upper)):
        out[hdr.name] = body.read()
        order.append(hdr.name)
    assert order == ["app", "app/a", "app/x"]  # top layer first, lower duplicates skipped
    assert out["app/a"] == b"a2"


def test_flatten_opaque_marker_is_honoured() -> None:
    lower = layer(("d", "dir", None), ("d/stale", "file", "old"), ("e/keep", "file", "k"))
    upper = layer(("d", "dir", None), ("d/.wh..wh..opq", "file", ""), ("d/fresh", "file", "new"))
    assert names(openers(lower, upper)) == ["d", "d/fresh", "e/keep"]
    # LinuxKit's behaviour (the marker only hides a file called .wh..opq) on request:
    assert names(openers(lower, upper), honour_opaque=False) == [
        "d",
        "d/fresh",
        "d/stale",
        "e/keep",
    ]


def test_flatten_drops_names_that_leave_the_root() -> None:
    warnings: list[str] = []
    data = layer(
        ("../../etc/passwd", "file", "x"), ("a/../../b", "file", "y"), ("/abs", "file", "z")
    )
    assert names(openers(data), warn=warnings.append) == ["abs"]
    assert len(warnings) == 2 and all("leaves the image root" in w for w in warnings)


def test_flatten_cleans_names() -> None:
    data = layer(("./", "dir", None), ("./x/", "dir", None), ("./x/f", "file", "1"))
    assert names(openers(data)) == [".", "x", "x/f"]


# --- per-image filtering ---------------------------------------------------------------------


def _filtered(data: bytes, prefix: str = "", resolv: str = "") -> list[TarHeader]:
    guard = Guard(warn=lambda _m: None)
    out = []
    for hdr, _body in image_members(
        flatten(openers(data)),
        prefix=prefix,
        source="src",
        location="loc",
        resolv=resolv,
        guard=guard,
    ):
        out.append(hdr)
    return out


def test_filter_drops_rewrites_and_touches() -> None:
    data = layer(
        (".dockerenv", "file", ""),
        ("etc", "dir", None),
        ("etc/hostname", "file", "h"),
        ("etc/hosts", "file", "1.2.3.4 x\n"),
        ("etc/resolv.conf", "file", "nameserver 1.1.1.1\n"),
        ("etc/mtab", "symlink", "/proc/self/mounts"),
    )
    got = _filtered(data, prefix="p/")
    assert [h.name for h in got] == [
        "p/etc",
        "p/etc/hosts",
        "p/etc/resolv.conf",
        "p/etc/mtab",
        "p/dev",
        "p/dev/pts",
        "p/dev/shm",
        "p/etc",
        "p/etc/hosts",
        "p/etc/resolv.conf",
        "p/proc",
        "p/sys",
    ]
    assert all(h.pax == {"LINUXKIT.source": "src", "LINUXKIT.location": "loc"} for h in got)
    mtab = got[3]
    assert mtab.mtime == 1492533000 and mtab.linkname == "/proc/self/mounts"
    resolv = _filtered(data, resolv="/run/resolvconf/resolv.conf")[2]
    assert resolv.typeflag == SYM and resolv.mode == 0o644 and resolv.size == 0


def test_filter_touch_adds_mtab_when_missing() -> None:
    got = _filtered(layer(("bin/x", "file", "x")))
    mtab = next(h for h in got if h.name == "etc/mtab")
    assert (mtab.typeflag, mtab.linkname, mtab.mode) == (SYM, "/proc/mounts", 0o755)


def test_hard_links_must_stay_in_the_same_image() -> None:
    data = layer(
        ("good", "file", "g"),
        ("ok", "link", "good"),
        ("escape", "link", "../../outside"),
        ("absent", "link", "/etc/shadow"),
    )
    got = {h.name: h for h in _filtered(data, prefix="containers/onboot/000-x/lower/")}
    assert got["containers/onboot/000-x/lower/ok"].linkname == "containers/onboot/000-x/lower/good"
    assert got["containers/onboot/000-x/lower/ok"].typeflag == LNK
    assert "containers/onboot/000-x/lower/escape" not in got
    assert "containers/onboot/000-x/lower/absent" not in got


def test_members_below_escaping_symlinks_are_resolved_inside() -> None:
    """Across images sharing a destination (init images at /), a later member below a symlink
    that leaves the destination would be written through it by an in-order extractor; it is
    placed where the link leads inside the destination instead, as the booted system does."""
    warnings: list[str] = []
    guard = Guard(warn=warnings.append)
    first = layer(
        ("evil", "symlink", "/etc"), ("rel", "symlink", "../../x"), ("inside", "symlink", "sub")
    )
    second = layer(
        ("evil/passwd", "file", "root::0:0"), ("rel/y", "file", "y"), ("inside/ok", "file", "ok")
    )
    got = []
    for i, data in enumerate((first, second)):
        for hdr, _body in image_members(
            flatten(openers(data)), prefix="", source="s", location=f"init[{i}]", guard=guard
        ):
            got.append(hdr.name)
    assert "evil" in got and "rel" in got and "inside" in got
    assert "evil/passwd" not in got and "etc/passwd" in got
    assert "rel/y" not in got and "x/y" in got
    assert "inside/ok" in got  # a link that stays inside is written through, as LinuxKit does
    assert guard.redirected == 2 and guard.dropped == 0
    assert any("placed 'evil/passwd' at 'etc/passwd'" in w for w in warnings)


def test_resolve_in_root_clamps_to_the_destination() -> None:
    from systemkit.assemble.filters import resolve_in_root

    root = "containers/onboot/000-x/lower"
    assert resolve_in_root(root, root + "/a/link", "/etc") == root + "/etc"
    assert resolve_in_root(root, root + "/a/link", "../../../../../x") == root + "/x"
    assert resolve_in_root(root, root + "/a/link", "b/c") == root + "/a/b/c"
    assert resolve_in_root("", "var/run", "/run") == "run"
    assert resolve_in_root("", "a/b", "../../..") == "."


def test_only_a_symlink_may_replace_an_escaping_symlink() -> None:
    guard = Guard(warn=lambda _m: None)
    assert guard.admit(TarHeader("x", SYM, linkname="/etc"), "")
    below = TarHeader("x/f", REG)
    assert guard.admit(below, "") and below.name == "etc/f"  # moved inside
    assert guard.admit(TarHeader("x", DIR), "")  # mkdir keeps the link ...
    again = TarHeader("x/g", REG)
    assert guard.admit(again, "") and again.name == "etc/g"  # ... so below it is still moved
    assert not guard.admit(TarHeader("x", REG, pax={"LINUXKIT.source": "docker.io/a/b:1"}), "")
    assert guard.admit(TarHeader("x", SYM, linkname="inside"), "")
    kept = TarHeader("x/f", REG)
    assert guard.admit(kept, "") and kept.name == "x/f"
    assert guard.admit(TarHeader("y", SYM, linkname="/run/y"), "")
    assert guard.admit(TarHeader("y", REG, pax={"LINUXKIT.source": "linuxkit.files"}), "")
    assert guard.admit(TarHeader("y/z", REG), "")
    assert not guard.admit(TarHeader("../f", REG), "")
    assert guard.admit(TarHeader("l1", SYM, linkname="/l2"), "")
    assert guard.admit(TarHeader("l2", SYM, linkname="/l1"), "")
    assert not guard.admit(TarHeader("l1/x", REG), "")  # the links loop


def _through_images(guard: Guard, *images: bytes) -> list[str]:
    """The names the guard lets through for init images written one after the other at /."""
    got = []
    for i, data in enumerate(images):
        for hdr, _body in image_members(
            flatten(openers(data)), prefix="", source="s", location=f"init[{i}]", guard=guard
        ):
            got.append(hdr.name)
    return got


def test_a_chain_to_an_escaping_link_is_resolved_across_images() -> None:
    """x -> y looks harmless, but y leaves: x/PWNED must not be written below x."""
    warnings: list[str] = []
    guard = Guard(warn=warnings.append)
    first = layer(("y", "symlink", "../../../../tmp/skpwn"), ("x", "symlink", "y"))
    second = layer(("x/PWNED", "file", "pwned"))
    got = _through_images(guard, first, second)
    assert "x/PWNED" not in got and "tmp/skpwn/PWNED" in got
    assert guard.link_leaves("x") and guard.link_leaves("y")
    assert any("placed 'x/PWNED' at 'tmp/skpwn/PWNED'" in w for w in warnings)


def test_a_link_that_only_later_leads_out_is_resolved() -> None:
    """x -> y is written while y does not exist; y -> outside comes from a later image."""
    guard = Guard(warn=lambda _m: None)
    got = _through_images(
        guard,
        layer(("x", "symlink", "y")),
        layer(("y", "symlink", "/etc")),
        layer(("x/passwd", "file", "root::0:0")),
    )
    assert "x/passwd" not in got and "etc/passwd" in got


def test_a_three_link_chain_is_resolved() -> None:
    guard = Guard(warn=lambda _m: None)
    got = _through_images(
        guard,
        layer(("c", "symlink", "../../../../out")),
        layer(("b", "symlink", "c"), ("d/a", "symlink", "../b")),
        layer(("d/a/PWNED", "file", "x"), ("d/a/sub/f", "file", "y")),
    )
    assert "d/a/PWNED" not in got and "out/PWNED" in got and "out/sub/f" in got


def test_dotdot_after_a_link_to_dot_is_resolved_physically() -> None:
    """``b -> .`` stays inside, and ``c -> b/..`` is ``.`` lexically, but an extractor
    resolves b first, so c leads to the destination's parent."""
    guard = Guard(warn=lambda _m: None)
    got = _through_images(
        guard,
        layer(("b", "symlink", "."), ("c", "symlink", "b/..")),
        layer(("c/PWNED", "file", "x"), ("b/ok", "file", "ok")),
    )
    assert "c/PWNED" not in got and "PWNED" in got
    assert "b/ok" in got  # b stays inside: written as it is, as LinuxKit does


def test_links_that_stay_inside_through_a_chain_keep_names() -> None:
    guard = Guard(warn=lambda _m: None)
    got = _through_images(
        guard,
        layer(("real", "dir", None), ("b", "symlink", "real"), ("a", "symlink", "b")),
        layer(("a/f", "file", "x")),
    )
    assert "a/f" in got and guard.redirected == 0 and guard.dropped == 0


def test_looping_links_drop_what_is_below_them() -> None:
    guard = Guard(warn=lambda _m: None)
    got = _through_images(
        guard,
        layer(("p", "symlink", "q"), ("q", "symlink", "r/x"), ("r", "symlink", "p")),
        layer(("p/f", "file", "x"), ("ok", "file", "ok")),
    )
    assert "ok" in got and not any(n.endswith("/f") or n == "f" for n in got)
    assert guard.link_leaves("p")  # a loop is treated as leaving


def test_image_content_cannot_replace_a_link_that_leads_out_through_a_chain() -> None:
    guard = Guard(warn=lambda _m: None)
    got = _through_images(
        guard,
        layer(("y", "symlink", "/etc/shadow"), ("x", "symlink", "y")),
        layer(("x", "file", "overwrite")),
    )
    assert got.count("x") == 1  # only the symlink: the file would be written through it


def test_hard_links_cannot_go_through_or_to_a_leaving_chain() -> None:
    guard = Guard(warn=lambda _m: None)
    assert guard.admit(TarHeader("y", SYM, linkname="/etc"), "")
    assert guard.admit(TarHeader("x", SYM, linkname="y"), "")
    assert not guard.admit(TarHeader("h1", LNK, linkname="x/shadow"), "")
    assert not guard.admit(TarHeader("h2", LNK, linkname="x"), "")  # os.link follows x
    assert guard.admit(TarHeader("f", REG), "")
    assert guard.admit(TarHeader("h3", LNK, linkname="f"), "")


# --- config.json ------------------------------------------------------------------------------


IMAGE = {"Env": ["PATH=/bin"], "Entrypoint": ["/bin/e"], "Cmd": ["--x"], "WorkingDir": "/w"}


def test_go_json_escapes_like_encoding_json() -> None:
    assert ociconfig.go_json({"a": "<&>", "b": []}) == (
        b'{\n    "a": "\\u003c\\u0026\\u003e",\n    "b": []\n}'
    )


def test_precedence_yaml_label_image() -> None:
    oci, runtime = ociconfig.config_to_oci({}, None, IMAGE, {})
    assert oci["process"]["args"] == ["/bin/e", "--x"]
    assert oci["process"]["env"] == ["PATH=/bin"] and oci["process"]["cwd"] == "/w"
    assert oci["process"]["capabilities"] == {}
    assert [n["type"] for n in oci["linux"]["namespaces"]] == ["pid", "mount"]
    label = {"command": ["/l"], "cwd": "/lab", "env": ["L=1"], "capabilities": ["CAP_CHOWN"]}
    oci, _ = ociconfig.config_to_oci({"capabilities.add": ["CAP_KILL"]}, label, IMAGE, {})
    assert oci["process"]["args"] == ["/l"] and oci["process"]["cwd"] == "/lab"
    assert oci["process"]["capabilities"]["effective"] == ["CAP_CHOWN", "CAP_KILL"]
    oci, _ = ociconfig.config_to_oci({"command": [], "env": [], "cwd": ""}, label, IMAGE, {})
    assert "args" not in oci["process"] and "env" not in oci["process"]
    assert oci["process"]["cwd"] == "/lab"  # an empty cwd falls through
    assert list(runtime) == ["cgroups", "mounts", "mkdir", "interfaces", "bindNS", "namespace"]


def test_caps_all_none_and_unknown() -> None:
    oci, _ = ociconfig.config_to_oci({"capabilities": ["All"]}, None, IMAGE, {})
    assert len(oci["process"]["capabilities"]["bounding"]) == 41
    oci, _ = ociconfig.config_to_oci(
        {"capabilities": ["none"]}, {"capabilities": ["CAP_KILL"]}, IMAGE, {}
    )
    assert oci["process"]["capabilities"] == {}
    with pytest.raises(ociconfig.ConfigError, match="unknown capability: all"):
        ociconfig.config_to_oci({"capabilities": ["all", "CAP_CHOWN"]}, None, IMAGE, {})


def test_mounts_binds_rlimits_devices_ids() -> None:
    yaml = {
        "binds": ["/a:/dev:ro"],
        "tmpfs": ["/t:size=1m"],
        "rlimits": [" nofile , 10, unlimited"],
        "devices": [{"path": "/dev/null", "type": "c", "major": 1, "minor": 3, "mode": "0666"}],
        "uid": "svc",
        "additionalGids": ["root", 7],
    }
    oci, _ = ociconfig.config_to_oci(yaml, None, IMAGE, {"svc": 101})
    dests = [m["destination"] for m in oci["mounts"]]
    assert dests == sorted(dests)
    dev = next(m for m in oci["mounts"] if m["destination"] == "/dev")
    assert dev == {
        "destination": "/dev",
        "type": "bind",
        "source": "/a",
        "options": ["ro", "rbind"],
    }
    assert oci["process"]["rlimits"] == [
        {"type": "RLIMIT_NOFILE", "hard": 18446744073709551615, "soft": 10}
    ]
    assert oci["linux"]["devices"][0]["fileMode"] == 0o666
    assert oci["linux"]["resources"]["devices"][-1]["access"] == "rwm"
    assert oci["process"]["user"] == {"uid": 101, "gid": 0, "additionalGids": [0, 7]}
    with pytest.raises(ociconfig.ConfigError, match="Cannot find id: nobody"):
        ociconfig.config_to_oci({"uid": "nobody"}, None, IMAGE, {})


def test_runtime_bindns_per_key_merge() -> None:
    _, runtime = ociconfig.config_to_oci(
        {"runtime": {"bindNS": {"net": "/y"}}},
        {"runtime": {"bindNS": {"net": "/l", "uts": "/u"}, "mkdir": ["/m"]}},
        IMAGE,
        {},
    )
    assert runtime["bindNS"]["net"] == "/y" and runtime["bindNS"]["uts"] == "/u"
    assert runtime["mkdir"] == ["/m"]
    assert json.loads(ociconfig.go_json(runtime))["namespace"] == ""


def test_camelcase_keys_are_dropped_like_linuxkit() -> None:
    yaml = {
        "resources": {"memory": {"limit": 5, "kernelTCP": 1}, "hugepageLimits": [{"limit": 1}]},
        "uidMappings": [{"hostID": 1000, "containerID": 1, "size": 1}],
    }
    oci, _ = ociconfig.config_to_oci(yaml, None, IMAGE, {})
    assert oci["linux"]["resources"] == {"memory": {"limit": 5}}
    assert oci["linux"]["uidMappings"] == [{"containerID": 0, "hostID": 0, "size": 1}]


def test_metadata_yaml_and_json_render_go_structs() -> None:
    import yaml as pyyaml

    from systemkit.assemble.metadata import metadata_bytes
    from systemkit.spec.types import FileSpec, IDMapping, ImageSpec, MountSpec, Spec

    spec = Spec(
        onboot=[
            ImageSpec(
                name="m",
                image="docker.io/a/b:1",
                mounts=[MountSpec(destination="/b", type="bind", source="/a")],
                uid_mappings=[IDMapping(host_id=1000, container_id=0, size=1)],
                command=[],
            )
        ],
        files=[FileSpec(path="etc/x.yml", metadata="yaml", mode="0644")],
    )
    text = metadata_bytes(spec, "yaml").decode()
    data = pyyaml.safe_load(text)
    entry = data["onboot"][0]
    assert entry["mounts"] == [
        {
            "destination": "/b",
            "type": "bind",
            "source": "/a",
            "options": [],
            "uidmappings": [],
            "gidmappings": [],
        }
    ]
    assert entry["uidMappings"] == [{"containerid": 0, "hostid": 0, "size": 1}]
    assert entry["command"] == [] and data["services"] == [] and data["kernel"] == {"image": ""}
    assert '  mode: "0644"' in text and "&id" not in text
    js = json.loads(metadata_bytes(spec, "json"))
    assert js["onboot"][0]["mounts"] == [{"destination": "/b", "type": "bind", "source": "/a"}]
    assert js["onboot"][0]["uidMappings"] == [{"containerID": 0, "hostID": 0, "size": 1}]
    assert js["services"] is None and js["init"] is None


def test_verified_gunzip_streams_members_and_detects_corruption() -> None:
    import gzip
    import hashlib
    import os

    from systemkit.assemble.verify import CorruptBlob, GunzipStream, VerifiedBlob

    data = os.urandom(300_000) + b"layer " * 400_000
    blob = gzip.compress(data[:500_000], mtime=0) + gzip.compress(data[500_000:], mtime=0)
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    stream = GunzipStream(VerifiedBlob(io.BytesIO(blob), digest, len(blob)))
    got = b"".join(iter(lambda: stream.read(512), b""))
    stream.close()
    assert got == data
    changed = blob[:4] + b"\x01" + blob[5:]  # header mtime: still decompresses
    stream = GunzipStream(VerifiedBlob(io.BytesIO(changed), digest, len(blob)))
    assert stream.read(100) == data[:100]
    with pytest.raises(CorruptBlob, match="is corrupt"):
        stream.close()
    short = VerifiedBlob(io.BytesIO(blob[:-1]), digest, len(blob))
    with pytest.raises(CorruptBlob):
        short.close()


def test_a_blob_closed_inside_the_callers_except_block_is_still_verified() -> None:
    """A build run from an ``except`` block (a retry, say) must verify its blobs: the
    exception being handled out there is not one on its way through the blob's reader. One
    that is on its way still closes the blob quietly (it is not masked by CorruptBlob)."""
    from contextlib import closing

    from systemkit.assemble.verify import CorruptBlob, VerifiedBlob

    digest = "sha256:" + "0" * 64
    try:
        raise KeyError("handled by the caller")
    except KeyError:
        blob = VerifiedBlob(io.BytesIO(b"content"), digest, 7)
        assert blob.read() == b"content"
        with pytest.raises(CorruptBlob, match="is corrupt"):
            blob.close()
        with (
            pytest.raises(ValueError, match="on its way"),
            closing(VerifiedBlob(io.BytesIO(b"content"), digest, 7)),
        ):
            raise ValueError("on its way") from None
    with (
        pytest.raises(ValueError, match="on its way"),
        closing(VerifiedBlob(io.BytesIO(b"content"), digest, 7)),
    ):
        raise ValueError("on its way")
