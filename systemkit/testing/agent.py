"""The guest agent: its image (made offline from Debian's busybox-static) and its service entry.

The agent is one service container added to the system under test, ``systemkit-agent``:
Debian's static busybox and the shell script ``agent.sh``, nothing else. It runs with the
guest's pid, network, IPC and UTS namespaces and all capabilities, opens the second serial port
(``/dev/ttyS1``, qemu's ``-serial`` number two, which the host connects to a unix socket) and
runs each command it is sent inside pid 1's namespaces (``nsenter -t 1``). Nothing else of the
system under test changes: same kernel, command line, init, onboot, services, files, volumes.

Why a serial port and not virtio-serial: the agent must not need anything from the user's
kernel image, and virtio (``virtio_pci``, ``virtio_console``) is a module in Debian's kernels
(so in the hello example's), while the 8250 UART is built into every x86 kernel that has a
serial console.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import struct
import tarfile
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from systemkit.diagnostics import SystemkitError
from systemkit.images import mediatypes as mt
from systemkit.images.store import ImageStore
from systemkit.spec.types import DeviceSpec, ImageSpec, Spec

AGENT_NAME = "systemkit-agent"
"""The name of the service the agent runs as."""
AGENT_REPOSITORY = "systemkit.local/testing/agent"
"""The agent image's repository; the tag is a digest of its content."""
AGENT_PORT = "/dev/ttyS1"
"""The guest device the agent reads commands from."""
BUSYBOX_CANDIDATES = ("/bin/busybox", "/usr/bin/busybox")
"""Where Debian's busybox-static installs its binary."""


class AgentError(SystemkitError):
    """The agent image cannot be made (no static busybox)."""


def agent_script() -> bytes:
    """The agent's shell script (``agent.sh`` next to this module)."""
    return resources.files("systemkit.testing").joinpath("agent.sh").read_bytes()


def is_static_elf(path: Path) -> bool:
    """True for an ELF executable without a program interpreter (statically linked)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(64)
            if len(head) < 64 or head[:4] != b"\x7fELF" or head[4] != 2:  # 64-bit only
                return False
            endian = "<" if head[5] == 1 else ">"
            phoff, phentsize, phnum = (
                struct.unpack_from(endian + "Q", head, 32)[0],
                struct.unpack_from(endian + "H", head, 54)[0],
                struct.unpack_from(endian + "H", head, 56)[0],
            )
            fh.seek(phoff)
            table = fh.read(phentsize * phnum)
    except OSError:
        return False
    for i in range(phnum):
        (p_type,) = struct.unpack_from(endian + "I", table, i * phentsize)
        if p_type == 3:  # PT_INTERP
            return False
    return True


def find_busybox(explicit: str | Path | None = None) -> Path:
    """The static busybox the agent image is made of: ``explicit``, else Debian's
    busybox-static (``/bin/busybox``)."""
    candidates = [Path(explicit)] if explicit else [Path(p) for p in BUSYBOX_CANDIDATES]
    for candidate in candidates:
        if candidate.is_file() and is_static_elf(candidate):
            return candidate
    where = ", ".join(map(str, candidates))
    raise AgentError(
        f"the systemkit test agent needs a statically linked busybox, and {where} is not one: "
        "install Debian's busybox-static (apt-get install busybox-static) or name one with "
        "--systemkit-busybox PATH"
    )


def _layer(busybox: Path, script: bytes) -> bytes:
    """The agent image's only layer, as an uncompressed, deterministic tar."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:

        def add(name: str, kind: bytes, mode: int, data: bytes = b"", link: str = "") -> None:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = kind, mode, 0
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.linkname = link
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data else None)

        for d in ("bin", "dev", "proc", "sys", "tmp"):
            add(d, tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755)
        add("bin/busybox", tarfile.REGTYPE, 0o755, busybox.read_bytes())
        add("bin/sh", tarfile.SYMTYPE, 0o777, link="busybox")
        add("systemkit-agent", tarfile.REGTYPE, 0o755, script)
    return buf.getvalue()


def _put_json(store: ImageStore, media_type: str, doc: Any) -> dict[str, Any]:
    data = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    digest, size = store.put_bytes(data)
    return {"mediaType": media_type, "digest": digest, "size": size}


def ensure_agent_image(store: ImageStore, busybox: Path) -> str:
    """Put the agent image into ``store`` (if not there yet); returns its reference, whose
    tag is derived from the content, so a changed busybox or script gives a new image."""
    script = agent_script()
    content = hashlib.sha256(busybox.read_bytes() + b"\0" + script).hexdigest()[:16]
    ref = f"{AGENT_REPOSITORY}:{content}"
    if store.lookup(ref) is not None:
        return ref
    tar = _layer(busybox, script)
    diff_id = "sha256:" + hashlib.sha256(tar).hexdigest()
    with tempfile.TemporaryFile() as tmp:
        with gzip.GzipFile(fileobj=tmp, mode="wb", mtime=0) as gz:
            gz.write(tar)
        tmp.seek(0)
        digest, size = store.put_blob(tmp)
    layer = {"mediaType": mt.OCI_LAYER_GZIP, "digest": digest, "size": size}
    config = _put_json(
        store,
        mt.OCI_CONFIG,
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Cmd": ["/bin/busybox", "sh", "/systemkit-agent"]},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        },
    )
    manifest = _put_json(
        store,
        mt.OCI_MANIFEST,
        {"schemaVersion": 2, "mediaType": mt.OCI_MANIFEST, "config": config, "layers": [layer]},
    )
    manifest["platform"] = {"architecture": "amd64", "os": "linux"}
    store.tag(ref, manifest)
    return ref


def agent_service(ref: str) -> ImageSpec:
    """The service entry that runs the agent (image ``ref``)."""
    return ImageSpec(
        name=AGENT_NAME,
        image=ref,
        command=["/bin/busybox", "sh", "/systemkit-agent", AGENT_PORT],
        capabilities=["all"],
        pid="host",
        net="host",
        ipc="host",
        uts="host",
        binds=["/dev:/dev"],
        devices=[DeviceSpec(path="all", type="a")],
        tmpfs=["/tmp"],
        readonly=True,
    )


def with_agent(spec: Spec, ref: str) -> Spec:
    """``spec`` with the agent service appended (the only change)."""
    import attrs

    if any(s.name == AGENT_NAME for s in spec.services):
        raise AgentError(f"the system already has a service named {AGENT_NAME!r}")
    return attrs.evolve(spec, services=[*spec.services, agent_service(ref)])


__all__ = [
    "AGENT_NAME",
    "AGENT_PORT",
    "AgentError",
    "agent_service",
    "ensure_agent_image",
    "find_busybox",
    "with_agent",
]
