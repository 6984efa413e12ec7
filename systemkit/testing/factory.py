"""``VMFactory``: build a system with the agent added, boot it under qemu, hand out a Machine."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from systemkit.model import System
from systemkit.spec.lowered import Lowered
from systemkit.spec.types import Spec
from systemkit.testing.machine import Machine
from systemkit.testing.vm import VMProcess

SystemLike = System | Lowered | str | os.PathLike[str]
"""What a VMFactory boots: a System, a Lowered system, or the path of a system file."""


def _lowered(system: SystemLike, system_name: str | None) -> Lowered:
    from systemkit.loader import load_lowered
    from systemkit.model import lower

    if isinstance(system, Lowered):
        return system
    if isinstance(system, System):
        return lower(system)
    if isinstance(system, str | os.PathLike):
        return load_lowered([Path(system)], system_name)
    raise TypeError(
        f"systemkit_vm takes a System, a Lowered system or the path of a system file, "
        f"not {type(system).__name__}"
    )


class BuildCache:
    """kernel+initrd builds of this test session, by the digest of the spec (agent included):
    a system booted by several tests is built once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._done: dict[str, Path] = {}

    def build(self, lowered: Lowered, spec_with_agent: Spec, store_root: Path) -> Path:
        """The NAME prefix of the build of ``spec_with_agent`` (built on first use)."""
        from systemkit.backends import build
        from systemkit.spec.codec import spec_digest

        digest = spec_digest(spec_with_agent).split(":")[-1][:16]
        with self._lock:
            if digest in self._done:
                return self._done[digest]
            out = self.root / digest
            build(
                spec_with_agent,
                base_dir=lowered.base_dir,
                formats=("kernel+initrd",),
                out_dir=out,
                name="system",
                cache_dir=store_root,
                quiet=True,
            )
            self._done[digest] = out / "system"
            return out / "system"


class VMFactory:
    """Builds and boots systems for a test: ``m = systemkit_vm(system, memory="512M")``.

    The fixture ``systemkit_vm`` is one of these. Every machine it made is stopped when the
    test (``systemkit_vm``) or the module (``systemkit_vm_module``) ends, or left running with
    ``--systemkit-keep-vm``.
    """

    def __init__(
        self,
        *,
        store_root: Path,
        builds: BuildCache,
        log_dir: Path,
        keep: bool = False,
        busybox: str | None = None,
        accel: str = "tcg",
        on_keep: Callable[[Machine], None] | None = None,
    ) -> None:
        self.store_root = store_root
        self.builds = builds
        self.log_dir = log_dir
        self.keep = keep
        self.busybox = busybox
        self.accel = accel
        self.on_keep = on_keep
        self.machines: list[Machine] = []
        self._open: list[tuple[Machine, Path]] = []
        """Machines not closed yet, with their socket directories."""

    def __call__(
        self,
        system: SystemLike,
        *,
        memory: str = "512M",
        cpus: int = 1,
        cmdline_append: str = "",
        name: str | None = None,
        system_name: str | None = None,
        boot_timeout: float = 300.0,
    ) -> Machine:
        """Build ``system`` (a :class:`~systemkit.System`, a :class:`~systemkit.Lowered` or
        the path of a ``system.py`` / LinuxKit YAML file; ``system_name`` picks one of a
        file's systems) with the agent added, boot it, and return its :class:`Machine` at
        once (commands wait for the agent, up to ``boot_timeout`` seconds).

        ``cmdline_append`` is added to the kernel command line of this boot only.
        The system's own checks run first: an error raises :class:`~systemkit.UserError`.
        """
        from systemkit.check import gate
        from systemkit.check.labels import LabelSource
        from systemkit.images.store import ImageStore
        from systemkit.run.artifacts import find_kernel_initrd
        from systemkit.testing.agent import ensure_agent_image, find_busybox, with_agent

        lowered = _lowered(system, system_name)
        store = ImageStore(self.store_root)
        gate(lowered, formats=("kernel+initrd",), labels=LabelSource(store=store, opened=True))
        ref = ensure_agent_image(store, find_busybox(self.busybox))
        spec = with_agent(lowered.spec, ref)
        prefix = self.builds.build(lowered, spec, store.root)
        artifacts = find_kernel_initrd(prefix)
        cmdline = " ".join(p for p in (artifacts.cmdline, cmdline_append) if p)
        label = name or lowered.name or "system"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        n = sum(1 for m in self.machines if m.name == label)
        log = self.log_dir / (f"{label}-console.log" if n == 0 else f"{label}-{n}-console.log")
        # unix socket paths must stay short (108 bytes): a directory of its own in /tmp
        sockdir = Path(tempfile.mkdtemp(prefix="systemkit-vm-"))
        try:
            vm = VMProcess(
                artifacts.kernel,
                artifacts.initrd,
                cmdline,
                workdir=sockdir,
                console_log=log,
                memory=memory,
                cpus=cpus,
                accel=self.accel,
                keep=self.keep,
            )
        except BaseException:
            shutil.rmtree(sockdir, ignore_errors=True)
            raise
        machine = Machine(
            label,
            vm,
            services=tuple(s.name for s in spec.services),
            boot_timeout=boot_timeout,
        )
        self.machines.append(machine)
        self._open.append((machine, sockdir))
        return machine

    def close(self) -> None:
        """Stop every machine (or, with ``keep``, leave the running ones running); the
        machines stay listed (their consoles and histories can still be read)."""
        while self._open:
            machine, sockdir = self._open.pop()
            if self.keep and machine.running:
                machine._vm.detach()
                if self.on_keep is not None:
                    self.on_keep(machine)
                continue
            machine.stop()
            shutil.rmtree(sockdir, ignore_errors=True)
