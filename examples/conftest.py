"""Fixtures for the examples' own tests (``examples/*/test_*.py``).

Those tests boot systems built from the hello example's images, which are made locally from
Debian packages (``hello/make_images.py``). ``systemkit_cache_dir`` (the image store the
``systemkit_vm`` fixtures build from) is overridden here: the store named by ``--cache`` or
``$SYSTEMKIT_CACHE`` when one is given, else a temporary store for this run; the hello images
are made and imported into it when it does not hold them yet.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from systemkit.images.archive import import_archive
from systemkit.images.store import ImageStore

HERE = Path(__file__).resolve().parent
HELLO_IMAGES = (
    "systemkit.local/hello/busybox:1",
    "systemkit.local/hello/init:1",
    "systemkit.local/hello/kernel:6.1",
)


@pytest.fixture(scope="session")
def systemkit_cache_dir(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    systemkit_cache_dir: Path,
) -> Path:
    given = request.config.getoption("systemkit_cache") or os.environ.get("SYSTEMKIT_CACHE")
    root = systemkit_cache_dir if given else tmp_path_factory.mktemp("example-store")
    store = ImageStore(root)
    if all(store.lookup(ref) is not None for ref in HELLO_IMAGES):
        return root
    out = tmp_path_factory.mktemp("hello-images")
    proc = subprocess.run(
        [sys.executable, str(HERE / "hello" / "make_images.py"), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, f"hello/make_images.py failed:\n{proc.stderr}"
    for archive in sorted(out.glob("*.oci.tar")):
        import_archive(store, archive)
    return root
