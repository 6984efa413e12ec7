"""Test images for the docker backend, written in Python, and a system that uses them all.

Each image is written as its own OCI image layout directory (by :mod:`systemkit.images.synth`,
independent of any engine). The native side imports those directories with
:func:`systemkit.images.archive.import_archive`; the engine side gets the same content through
a different path: ``skopeo copy oci:DIR:REF docker-daemon:REF`` (skopeo converts the OCI image
into a docker-archive and the engine loads it, decompressing every layer into its own store),
and the docker backend then exports it again with the Engine API.
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from systemkit.images import synth
from systemkit.images.store import ImageStore
from systemkit.spec.codec import from_data
from systemkit.spec.types import Spec

PREFIX = "systemkit.test/skdocker"
KERNEL = f"{PREFIX}/kernel:1"
INIT = f"{PREFIX}/init:1"
INIT2 = f"{PREFIX}/init-extra:1"
TOOLS = f"{PREFIX}/tools:1"
LABELLED = f"{PREFIX}/labelled:1"
DATA = f"{PREFIX}/data:1"


def _modules_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in (
            ("lib/modules/6.1.0/modules.dep", b"kernel/fs/x.ko:\n"),
            ("lib/modules/6.1.0/kernel/fs/x.ko", b"\x7fELF fake module"),
        ):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


Layers = Sequence[Mapping[str, bytes | str]]

IMAGES: dict[str, tuple[Layers, dict[str, Any]]] = {
    KERNEL: (
        [{"kernel": b"\x00fake bzImage\x00" * 64, "kernel.tar": _modules_tar()}],
        {},
    ),
    INIT: (
        [
            {
                "init": "#!/bin/sh\necho init\n",
                "etc/": b"",
                "etc/hostname": "first\n",
                "etc/old": "removed in the next layer\n",
                "usr/lib/gone/file": "hidden by an opaque whiteout\n",
                "bin/sh": b"\x7fELF not really a shell",
            },
            {
                "etc/.wh.old": b"",
                "etc/hostname": "second\n",
                "usr/lib/gone/.wh..wh..opq": b"",
                "usr/lib/gone/kept": "new\n",
            },
        ],
        {"Env": ["PATH=/bin"]},
    ),
    INIT2: ([{"etc/extra.conf": "extra=1\n"}], {}),
    TOOLS: (
        [{"bin/tool": b"\x7fELF tool", "etc/tool.conf": "a=b\n"}],
        {"Cmd": ["/bin/tool", "--serve"], "Env": ["PATH=/bin", "MODE=test"], "WorkingDir": "/"},
    ),
    LABELLED: (
        [{"bin/daemon": b"\x7fELF daemon", "var/lib/daemon/state": "0\n"}],
        {
            "Cmd": ["/bin/daemon"],
            "Labels": {
                "org.mobyproject.config": json.dumps(
                    {"pid": "host", "capabilities": ["CAP_SYS_ADMIN"], "binds": ["/var:/var"]}
                ),
                "org.example.other": "kept",
            },
        },
    ),
    DATA: ([{"data/a.txt": "volume content\n", "data/b/": b""}], {}),
}


def write_layouts(root: Path) -> dict[str, Path]:
    """One OCI layout directory per test image below ``root``; ref -> directory."""
    dirs = {}
    for i, (ref, (layers, config)) in enumerate(IMAGES.items()):
        path = root / f"image{i}"
        store = ImageStore(path)
        desc = synth.put_image(store, layers, config=config)
        store.tag(ref, desc)
        dirs[ref] = path
    return dirs


def system_spec() -> Spec:
    """A system using every image: kernel, two inits, onboot/service/shutdown, a volume."""
    data = {
        "kernel": {"image": KERNEL, "cmdline": "console=ttyS0"},
        "init": [INIT, INIT2],
        "onboot": [
            {"name": "setup", "image": TOOLS, "command": ["/bin/tool", "--once"]},
            {"name": "labelled", "image": LABELLED},
        ],
        "services": [
            {"name": "daemon", "image": LABELLED, "binds.add": ["/data:/data"]},
            {"name": "tools", "image": TOOLS},
        ],
        "onshutdown": [{"name": "bye", "image": TOOLS, "command": ["/bin/tool", "--bye"]}],
        "files": [
            {"path": "etc/motd", "contents": "hello from the test\n", "mode": "0644"},
            {"path": "etc/sk", "directory": True},
        ],
        "volumes": [{"name": "data", "image": DATA}],
    }
    spec: Spec = from_data(data)
    return spec


def docker(*args: str, input: bytes | None = None) -> str:
    """Run the docker CLI; fail the test with its stderr when it fails."""
    proc = subprocess.run(["docker", *args], input=input, capture_output=True, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {proc.stderr.decode()[-2000:]}")
    return proc.stdout.decode()


def skopeo(*args: str) -> None:
    proc = subprocess.run(["skopeo", *args], capture_output=True, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"skopeo {' '.join(args)} failed: {proc.stderr.decode()[-2000:]}")


def remove_images(refs: list[str]) -> None:
    """Remove images from the engine (those that are not there are ignored)."""
    subprocess.run(["docker", "rmi", "-f", *refs], capture_output=True, check=False)
