"""Build-time refusals: names that would leave their directory, changed file sources,
unusable references; each a one-line error naming where it is."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from systemkit.assemble.build import BuildError, assemble
from systemkit.backends.native import StoreImages
from systemkit.images import synth
from systemkit.images.store import ImageStore, ResolvedImage
from systemkit.spec.types import FileSpec, ImageSpec, Spec, VolumeSpec


@pytest.fixture
def images(tmp_path: Path) -> StoreImages:
    store = ImageStore(tmp_path / "store")
    store.tag("docker.io/t/app:1", synth.put_image(store, [{"bin/app": "x"}]))
    return StoreImages(store, "amd64", pull=False)


def _build(spec: Spec, images: StoreImages, base: Path) -> bytes:
    out = io.BytesIO()
    assemble(spec, images, out, base_dir=base)
    return out.getvalue()


@pytest.mark.parametrize("name", ["../escape", "a/../../b", "", "x/./y", "/abs"])
def test_container_names_that_leave_their_section(
    name: str, images: StoreImages, tmp_path: Path
) -> None:
    spec = Spec(services=[ImageSpec(name=name, image="docker.io/t/app:1")])
    with pytest.raises(BuildError, match=r"services\[0\]: container name"):
        _build(spec, images, tmp_path)


def test_nested_container_names_pass_as_in_linuxkit(images: StoreImages, tmp_path: Path) -> None:
    data = _build(
        Spec(services=[ImageSpec(name="My/Svc", image="docker.io/t/app:1")]), images, tmp_path
    )
    assert b"containers/services/My/Svc/config.json" in data


def test_file_paths_that_climb_out(images: StoreImages, tmp_path: Path) -> None:
    spec = Spec(files=[FileSpec(path="etc/../../x", contents="x")])
    with pytest.raises(BuildError, match=r"files\[0\]: path 'etc/../../x' leaves"):
        _build(spec, images, tmp_path)


def test_file_source_must_match_its_digest(images: StoreImages, tmp_path: Path) -> None:
    (tmp_path / "conf").write_text("new content")
    old = "sha256:" + hashlib.sha256(b"old content").hexdigest()
    spec = Spec(files=[FileSpec(path="etc/conf", source="conf", source_digest=old)])
    with pytest.raises(
        BuildError, match=r"files\[0\]: source .* changed since the system was lowered"
    ):
        _build(spec, images, tmp_path)
    good = "sha256:" + hashlib.sha256(b"new content").hexdigest()
    ok = Spec(files=[FileSpec(path="etc/conf", source="conf", source_digest=good)])
    assert b"new content" in _build(ok, images, tmp_path)
    skipped = Spec(files=[FileSpec(path="etc/opt", source="missing", optional=True)])
    assert b"etc/opt" not in _build(skipped, images, tmp_path)


class StoreOnly(StoreImages):
    """The real store without the registry fallback (no network wait in this test)."""

    def resolve(self, ref: str) -> ResolvedImage:
        return self.store.resolve(ref, self.arch)


def test_missing_image_names_the_image(images: StoreImages, tmp_path: Path) -> None:
    spec = Spec(onboot=[ImageSpec(name="a", image="docker.io/none/such:1")])
    local = StoreOnly(images.store, "amd64", pull=False)
    with pytest.raises(BuildError, match=r"could not pull image docker.io/none/such:1: .*not in"):
        _build(spec, local, tmp_path)


def test_volume_checks(images: StoreImages, tmp_path: Path) -> None:
    ro = VolumeSpec(name="data", readonly=True)
    spec = Spec(
        volumes=[ro], onboot=[ImageSpec(name="a", image="docker.io/t/app:1", binds=["data:/d"])]
    )
    with pytest.raises(BuildError, match=r"onboot\[0\]: volume 'data' is read-only"):
        _build(spec, images, tmp_path)
    spec = Spec(onboot=[ImageSpec(name="a", image="docker.io/t/app:1", binds=["nope:/d"])])
    with pytest.raises(BuildError, match=r"volume 'nope' is not declared"):
        _build(spec, images, tmp_path)
    with pytest.raises(BuildError, match="invalid volume name"):
        _build(Spec(volumes=[VolumeSpec(name="../x")]), images, tmp_path)


def test_both_contents_and_source_is_refused(images: StoreImages, tmp_path: Path) -> None:
    spec = Spec(files=[FileSpec(path="a", contents="x", source="s", source_digest="sha256:0")])
    with pytest.raises(BuildError, match="specified contents and source"):
        _build(spec, images, tmp_path)


@pytest.mark.parametrize(
    ("spec", "code", "spec_path"),
    [
        (
            Spec(services=[ImageSpec(name="..", image="docker.io/t/app:1")]),
            "SK625",
            "$.services[0].name",
        ),
        (Spec(files=[FileSpec(path="etc/../../x", contents="x")]), "SK624", "$.files[0]"),
        (
            Spec(onboot=[ImageSpec(name="a", image="docker.io/t/app:1", binds=["nope:/d"])]),
            "SK623",
            "$.onboot[0]",
        ),
        (Spec(volumes=[VolumeSpec(name="../x")]), "SK623", "$.volumes[0]"),
        (
            Spec(services=[ImageSpec(name="a", image="docker.io/t/app:1", uid="nobody")]),
            "SK622",
            "$.services[0]",
        ),
    ],
)
def test_errors_carry_their_code_and_spec_path_from_where_they_are_raised(
    spec: Spec, code: str, spec_path: str, images: StoreImages, tmp_path: Path
) -> None:
    with pytest.raises(BuildError) as info:
        _build(spec, images, tmp_path)
    assert (info.value.code, info.value.spec_path) == (code, spec_path)
    diag = info.value.diagnostic()
    assert (diag.code, diag.spec_path, diag.message) == (code, spec_path, info.value.detail)
    assert str(info.value) == f"{info.value.where}: {info.value.detail}"
