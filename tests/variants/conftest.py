"""A small image store and a file of variants to build: some identical, one failing."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from systemkit.images import synth
from systemkit.images.store import ImageStore

VARIANTS_PY = textwrap.dedent(
    """\
    from systemkit import File, Kernel, Onboot, Service, System

    def variant(motd: str, kernel: str = "t/kernel:1", port: int = 80) -> System:
        return System(
            kernel=Kernel(kernel, cmdline="console=ttyS0", tar="none"),
            init=["t/init:1"],
            onboot=[Onboot("setup", "t/app:1", command=["/bin/app", "setup"])],
            services=[Service("web", "t/app:1", command=["/bin/app", f"--port={port}"])],
            files=[File("/etc/motd", contents=motd)],
        )

    systems = {
        "alpha": variant("alpha\\n"),
        "alpha-again": variant("alpha\\n"),  # the same spec as alpha: built once
        "beta": variant("beta\\n", port=8080),
        "broken": variant("broken\\n", kernel="t/nokernel:1"),  # no kernel in the image
        "gamma": variant("gamma\\n", port=9090),
    }
    """
)


@pytest.fixture(scope="session")
def variants_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An image store with a kernel, an init and an app image (and a kernel image that has
    no kernel)."""
    root = tmp_path_factory.mktemp("variants-store")
    store = ImageStore(root)
    store.tag("docker.io/t/kernel:1", synth.put_image(store, [{"kernel": b"K" * 4096}]))
    store.tag("docker.io/t/nokernel:1", synth.put_image(store, [{"other": "x"}]))
    store.tag(
        "docker.io/t/init:1",
        synth.put_image(store, [{"sbin/init": b"I" * 70000, "etc/init.d/rc": "#!/bin/sh\n"}]),
    )
    store.tag(
        "docker.io/t/app:1",
        synth.put_image(
            store,
            [{"bin/app": b"A" * 50000}, {"etc/app.conf": "x=1\n"}],
            config={"Cmd": ["/bin/app"]},
        ),
    )
    return root


@pytest.fixture
def variants_py(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "system.py"
    path.parent.mkdir()
    path.write_text(VARIANTS_PY)
    return path
