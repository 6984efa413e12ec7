"""``systemkit cache import | ls | rm | pull`` on a store given with --cache."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from systemkit.cli import main
from systemkit.images import synth
from systemkit.images.store import ImageStore

CONFORMANCE = Path("/work/shared/conformance/images")


def test_cache_import_ls_rm(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = str(tmp_path / "c")
    files = [str(CONFORMANCE / "plain.oci.tar"), str(CONFORMANCE / "multiarch.oci.tar")]
    assert main(["cache", "import", *files, "--cache", cache]) == 0
    out = capsys.readouterr().out
    assert "imported docker.io/sktest/plain:1" in out
    assert "imported docker.io/sktest/multiarch:1" in out
    assert main(["cache", "ls", "--cache", cache]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["REF", "DIGEST", "PLATFORMS", "SIZE"]
    assert lines[1].startswith("docker.io/sktest/multiarch:1 ")
    assert "linux/arm64,linux/amd64" in lines[1]
    assert lines[2].startswith("docker.io/sktest/plain:1 ")
    assert main(["cache", "rm", "sktest/plain:1", "--cache", cache]) == 0
    assert [r for r, _ in ImageStore(Path(cache)).refs()] == ["docker.io/sktest/multiarch:1"]


def test_cache_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = str(tmp_path / "c")
    assert main(["cache", "rm", "sktest/absent:1", "--cache", cache]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: sktest/absent:1 is not in the image store")
    assert "Traceback" not in err
    assert main(["cache", "import", str(tmp_path / "absent.tar"), "--cache", cache]) == 1
    assert "no such file" in capsys.readouterr().err
    assert main(["cache", "rm", "Not A Ref", "--cache", cache]) == 1
    assert "white space" in capsys.readouterr().err


@pytest.mark.registry
def test_cache_pull(registry: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = ImageStore(tmp_path / "src")
    desc = synth.put_image(source, [{"etc/cli": "pulled\n"}], arch="arm64")
    manifest = source.read_json(desc["digest"])
    base = f"http://{registry}/v2/sktest/cli"
    for blob in [manifest["config"], *manifest["layers"]]:
        loc = requests.post(f"{base}/blobs/uploads/", timeout=10).headers["Location"]
        with source.open_blob(blob["digest"]) as f:
            r = requests.put(loc, params={"digest": blob["digest"]}, data=f, timeout=10)
        assert r.status_code == 201
    with source.open_blob(desc["digest"]) as f:
        r = requests.put(
            f"{base}/manifests/1",
            data=f.read(),
            headers={"Content-Type": desc["mediaType"]},
            timeout=10,
        )
    assert r.status_code == 201
    cache = str(tmp_path / "c")
    ref = f"{registry}/sktest/cli:1"
    assert main(["cache", "pull", ref, "--arch", "arm64", "--cache", cache]) == 0
    captured = capsys.readouterr()
    assert f"pulled {ref} ({desc['digest']})" in captured.out
    assert "fetched sha256:" in captured.err
    assert ImageStore(Path(cache)).resolve(ref, "arm64").manifest_digest == desc["digest"]
