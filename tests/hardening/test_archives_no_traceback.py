"""Malformed image archives: ``systemkit cache import`` ends in one clear error (exit 1), never
a traceback, and names nothing. One test per shape the probes found, plus the limits (layer
count, document size, JSON depth) at import and at pull, and a gzip layer that is not a tar."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from systemkit.cli import main
from systemkit.images.errors import ImageError
from systemkit.images.registry import pull
from systemkit.images.store import ImageStore
from systemkit.limits import MAX_JSON_DEPTH, MAX_LAYERS
from systemkit.progress import ProgressEvent
from tests.hardening import archives as a

LAYER = gzip.compress(a.tar_layer({"bin/app": b"x"}), mtime=0)


def _import(path: Path, store: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``systemkit cache import`` in this process: an exception would escape as a traceback."""
    code = main(["cache", "import", str(path), "--cache", str(store)])
    return code, capsys.readouterr().err


def _deep(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def _docker_ok(tmp: Path, **entry: Any) -> Path:
    raw = a.tar_layer({"bin/app": b"x"})
    config = a.config_json([a.sha(raw)])
    base: dict[str, Any] = {"Config": "config.json", "RepoTags": ["t/app:1"], "Layers": ["l.tar"]}
    return a.docker_archive(
        tmp / "d.tar", [{**base, **entry}], {"config.json": config, "l.tar": raw}
    )


def _oci_manifest(**change: Any) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        manifest, blobs = a.good_manifest([LAYER])
        manifest.update(change)
        manifest = {k: v for k, v in manifest.items() if v is not None}
        return a.oci_image(tmp / "o.tar", "t/app:1", manifest, blobs)

    return make


CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "deep-manifest-json": (
        lambda t: a.oci_image(t / "o.tar", "t/app:1", _deep(100_000)),
        f"nests deeper than {MAX_JSON_DEPTH} levels",
    ),
    "deep-index-json": (
        lambda t: a.oci_archive(t / "o.tar", b"[" * 50_000 + b"]" * 50_000),
        "index.json nests deeper than",
    ),
    "manifest-without-config": (_oci_manifest(config=None), "has no 'config'"),
    "manifest-is-a-list": (
        lambda t: a.oci_image(t / "o.tar", "t/app:1", [1, 2]),
        "is a list, not a JSON object",
    ),
    "layers-as-strings": (_oci_manifest(layers=["sha256:" + "0" * 64]), "layer 0 is a string"),
    "config-descriptor-a-string": (_oci_manifest(config="config.json"), "config is a string"),
    "index-json-children-not-objects": (
        lambda t: a.oci_archive(t / "o.tar", {"manifests": ["x", 1]}),
        "index.json: entry 0 is a string",
    ),
    "nested-index-children-not-objects": (
        lambda t: a.oci_archive(
            t / "o.tar",
            {"manifests": [a.named(b'{"manifests": [[]]}', a.OCI_INDEX, "t/app:1")]},
            [b'{"manifests": [[]]}'],
        ),
        "entry 0 is a list",
    ),
    "index-json-is-a-list": (lambda t: a.oci_archive(t / "o.tar", []), "index.json is a list"),
    "oci-config-is-a-list": (
        lambda t: a.oci_image(
            t / "o.tar",
            "t/app:1",
            {"config": a.desc(b"[]", a.OCI_CONFIG), "layers": []},
            [b"[]"],
        ),
        "config sha256:",
    ),
    "docker-config-is-a-list": (
        lambda t: a.docker_archive(
            t / "d.tar", [{"Config": "c.json", "RepoTags": ["t/a:1"]}], {"c.json": b"[]"}
        ),
        "config is a list, not a JSON object",
    ),
    "docker-repotags-a-string": (
        lambda t: _docker_ok(t, RepoTags="t/app:1"),
        "RepoTags is not a list of strings",
    ),
    "docker-layers-a-string": (lambda t: _docker_ok(t, Layers="l.tar"), "Layers is not a list"),
    "docker-manifest-an-object": (
        lambda t: a.docker_archive(t / "d.tar", {"Config": "c"}, {}),
        "manifest.json is not a list of images",
    ),
    "symlink-loop": (
        lambda t: a.write_tar(
            t / "d.tar", {}, [("manifest.json", "sym", "a"), ("a", "sym", "b"), ("b", "sym", "a")]
        ),
        "too many links (a link loop)",
    ),
    "symlink-to-missing": (
        lambda t: a.write_tar(t / "d.tar", {}, [("manifest.json", "sym", "nothere")]),
        "is a link to 'nothere', which is not in the archive",
    ),
    "hardlink-to-missing": (
        lambda t: a.write_tar(t / "d.tar", {}, [("manifest.json", "hard", "nothere")]),
        "is a link to 'nothere', which is not in the archive",
    ),
    "symlink-outside": (
        lambda t: a.write_tar(t / "d.tar", {}, [("manifest.json", "sym", "../../etc/passwd")]),
        "outside the archive",
    ),
    "symlink-absolute": (
        lambda t: a.write_tar(t / "d.tar", {}, [("manifest.json", "sym", "/etc/passwd")]),
        "outside the archive",
    ),
    "hardlink-outside": (
        lambda t: a.write_tar(t / "d.tar", {}, [("manifest.json", "hard", "../x")]),
        "outside the archive",
    ),
    "blob-symlink-loop": (
        lambda t: a.oci_archive(
            t / "o.tar",
            {"manifests": [a.named(b"{}", a.OCI_MANIFEST, "t/app:1")]},
            links=[
                ("blobs/sha256/" + a.sha(b"{}")[7:], "sym", "x"),
                ("blobs/sha256/x", "sym", a.sha(b"{}")[7:]),
            ],
        ),
        "a link loop",
    ),
    "not-a-tar": (lambda t: _write(t / "x.tar", b"\x1f\x8b" + b"junk" * 100), "not a readable"),
    "bad-digest-in-descriptor": (
        lambda t: a.oci_archive(
            t / "o.tar", {"manifests": [{"mediaType": a.OCI_MANIFEST, "digest": "md5:x"}]}
        ),
        "malformed digest",
    ),
    "size-not-an-integer": (
        lambda t: a.oci_archive(
            t / "o.tar",
            {"manifests": [{**a.named(b"{}", a.OCI_MANIFEST, "t/a:1"), "size": "big"}]},
        ),
        "invalid 'size'",
    ),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_archive_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    make, words = CASES[case]
    archive = make(tmp_path)
    code, err = _import(archive, tmp_path / "store", capsys)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert words in err
    assert ImageStore(tmp_path / "store").refs() == []  # nothing named


def _many_layers_manifest(count: int) -> tuple[dict[str, Any], list[bytes]]:
    manifest, blobs = a.good_manifest([LAYER])
    manifest["layers"] = manifest["layers"] * count
    return manifest, blobs


def test_too_many_layers_are_refused_at_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest, blobs = _many_layers_manifest(MAX_LAYERS + 1)
    code, err = _import(a.oci_image(tmp_path / "o.tar", "t/a:1", manifest, blobs), tmp_path, capsys)
    assert code == 1
    assert f"has {MAX_LAYERS + 1} layers; at most {MAX_LAYERS} are accepted (the limit)" in err
    raw = a.tar_layer({"f": b"x"})
    entries = [{"Config": "c.json", "RepoTags": ["t/d:1"], "Layers": ["l.tar"] * 300}]
    d = a.docker_archive(tmp_path / "d.tar", entries, {"c.json": b"{}", "l.tar": raw})
    code, err = _import(d, tmp_path, capsys)
    assert code == 1 and "has 300 layers; at most 256 are accepted" in err


def test_eighty_thousand_layers_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The manifest alone is over the 4 MiB limit: refused before a layer is looked at.
    manifest, blobs = _many_layers_manifest(80_000)
    archive = a.oci_image(tmp_path / "o.tar", "t/a:1", manifest, blobs)
    code, err = _import(archive, tmp_path / "store", capsys)
    assert code == 1
    assert "is larger than 4 MiB (the limit" in err
    assert ImageStore(tmp_path / "store").refs() == []


def test_gzip_layer_that_is_not_a_tar_fails_the_build_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_tar = gzip.compress(b"this is not a tar archive\n" * 40, mtime=0)
    manifest, blobs = a.good_manifest([not_tar])
    store = tmp_path / "store"
    archive = a.oci_image(tmp_path / "o.tar", "t/bad:1", manifest, blobs)
    assert _import(archive, store, capsys)[0] == 0  # layers are verified, not unpacked, here
    (tmp_path / "s.yml").write_text("onboot:\n  - name: bad\n    image: t/bad:1\n")
    out = tmp_path / "out"
    out.mkdir()
    args = ["build", str(tmp_path / "s.yml"), "--cache", str(store), "--dir", str(out)]
    code = main([*args, "--format", "tar", "--arch", "amd64", "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert "docker.io/t/bad:1: layer 0 (counting from the bottom) is not a valid tar" in err
    assert "Traceback" not in err
    assert list(out.iterdir()) == []


def test_too_many_layers_are_refused_at_pull_before_any_download(
    registry: str, tmp_path: Path
) -> None:
    manifest, blobs = _many_layers_manifest(MAX_LAYERS + 1)
    a.push(registry, "hardening/many", "1", manifest, blobs)
    store = ImageStore(tmp_path / "store")
    events: list[ProgressEvent] = []
    with pytest.raises(ImageError, match=f"at most {MAX_LAYERS} are accepted"):
        pull(store, f"{registry}/hardening/many:1", "amd64", progress=events.append)
    # the pull began and its manifest arrived; neither the config nor a layer was fetched
    assert [e.kind for e in events] == ["step", "advance"]
    assert store.refs() == []


def test_depth_is_checked_without_recursion() -> None:
    from systemkit.limits import LimitExceeded, load_json

    with pytest.raises(LimitExceeded):
        load_json(b"[" * 1_000_000 + b"]" * 1_000_000, "x", 4 << 20)
    # strings holding brackets do not count
    assert load_json(json.dumps({"a": "[[[[" * 100}).encode(), "x", 1 << 20) == {"a": "[[[[" * 100}
