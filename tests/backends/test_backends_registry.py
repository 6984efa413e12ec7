"""Backends come from the ``systemkit.backends`` entry-point group."""

from __future__ import annotations

import importlib
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from systemkit.backends import (
    Backend,
    BackendError,
    BuildRequest,
    available_backends,
    build,
    get_backend,
)
from systemkit.backends.native import NativeBackend
from systemkit.spec.types import Spec

PLUGIN = '''
from pathlib import Path

class EchoBackend:
    """A third-party backend: writes the spec's init list to NAME.echo."""

    name = "echo"
    formats = frozenset({"echo"})

    def build(self, request):
        path = Path(request.out_dir) / (request.name + ".echo")
        path.write_text(",".join(request.spec.init) + "|" + ",".join(request.formats))
        return [path]


class NotABackend:
    pass
'''


@pytest.fixture
def plugin_dist(tmp_path: Path) -> Iterator[Path]:
    """Install a tiny distribution with entry points on sys.path (a real dist-info)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sk_echo_backend.py").write_text(PLUGIN)
    info = site / "sk_echo_backend-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: sk-echo-backend\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[systemkit.backends]\n"
        "echo = sk_echo_backend:EchoBackend\n"
        "broken = sk_echo_backend:NotABackend\n"
        "missing = sk_echo_backend_nope:X\n"
    )
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    try:
        yield site
    finally:
        sys.path.remove(str(site))
        sys.modules.pop("sk_echo_backend", None)
        importlib.invalidate_caches()


def test_native_is_registered() -> None:
    assert "native" in available_backends()
    backend = get_backend("native")
    assert isinstance(backend, NativeBackend) and isinstance(backend, Backend)
    assert {"tar", "kernel+initrd", "tar-kernel-initrd"} <= backend.formats


def test_unknown_backend_lists_known_names() -> None:
    with pytest.raises(BackendError, match=r"unknown backend 'nope' \(known backends: .*native"):
        get_backend("nope")


def test_third_party_backend_through_entry_point(plugin_dist: Path, tmp_path: Path) -> None:
    assert {"echo", "native"} <= set(available_backends())
    out = tmp_path / "out"
    out.mkdir()
    paths = build(
        Spec(init=["docker.io/a/b:1"]),
        base_dir=tmp_path,
        formats=("echo",),
        out_dir=out,
        name="demo",
        backend="echo",
    )
    assert paths == [out / "demo.echo"]
    assert paths[0].read_text() == "docker.io/a/b:1|echo"


def test_broken_backends_are_reported(plugin_dist: Path) -> None:
    with pytest.raises(BackendError, match="does not implement the Backend protocol"):
        get_backend("broken")
    with pytest.raises(BackendError, match="cannot be loaded"):
        get_backend("missing")


def test_native_refuses_unknown_formats(tmp_path: Path) -> None:
    request = BuildRequest(spec=Spec(), base_dir=tmp_path, formats=("vhd",), out_dir=tmp_path)
    with pytest.raises(Exception, match="cannot build format 'vhd'"):
        NativeBackend().build(request)


def test_backend_options_reach_the_constructor(tmp_path: Path) -> None:
    from systemkit.backends.linuxkit_cli import LinuxkitBackend

    backend = get_backend("linuxkit", binary=tmp_path / "linuxkit")
    assert isinstance(backend, LinuxkitBackend) and backend.binary == tmp_path / "linuxkit"
    native = get_backend("native", use_cache=False)
    assert isinstance(native, NativeBackend) and native.use_cache is False
    with pytest.raises(BackendError, match=r"backend 'native' does not take these options"):
        get_backend("native", binary="x")


def test_a_plugin_installed_into_a_directory_already_on_sys_path_is_found(
    plugin_dist: Path, tmp_path: Path
) -> None:
    """The entry-point scan is kept between builds, but not past a change to a directory on
    sys.path: a plugin pip-installed there later (a long-lived Jupyter kernel) is found."""
    info = plugin_dist / "sk_echo_backend-1.0.dist-info"
    shutil.move(info, tmp_path / "aside")
    importlib.invalidate_caches()
    assert "echo" not in available_backends()
    time.sleep(0.05)  # past the filesystem's timestamp granularity
    shutil.move(tmp_path / "aside", info)
    importlib.invalidate_caches()
    assert "echo" in available_backends()
