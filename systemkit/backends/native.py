"""The native backend: assembles the filesystem in Python, without LinuxKit or Docker."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, BinaryIO

from systemkit.assemble.build import ResolvedLike, assemble
from systemkit.assemble.tarstream import TarWriter
from systemkit.backends.base import BuildRequest
from systemkit.diagnostics import SystemkitError
from systemkit.images.store import ImageStore
from systemkit.outputs import FORMATS, NEEDS_KERNEL, AtomicOutputs, write_formats


class StoreImages:
    """The assembler's view of the image store: refs resolved (and pulled) for one arch."""

    def __init__(
        self, store: ImageStore, arch: str | None, pull: bool, progress: Any = None
    ) -> None:
        self.store = store
        self.arch = arch
        self.pull = pull
        self.progress = progress

    def resolve(self, ref: str) -> ResolvedLike:
        from systemkit.images.registry import ensure_image

        return ensure_image(self.store, ref, self.arch, pull=self.pull)

    def open_layer(self, desc: dict[str, Any]) -> BinaryIO:
        return self.store.open_layer(desc)

    def open_blob(self, digest: str) -> BinaryIO:
        return self.store.open_blob(digest)

    def read_json(self, digest: str) -> Any:
        return self.store.read_json(digest)


class NativeBackend:
    """Builds ``tar``, ``kernel+initrd`` and ``tar-kernel-initrd`` from the image store."""

    name = "native"
    formats = frozenset(FORMATS)

    def build(self, request: BuildRequest) -> list[Path]:
        formats = list(dict.fromkeys(request.formats))
        unknown = [f for f in formats if f not in self.formats]
        if unknown:
            raise SystemkitError(
                f"the native backend cannot build format {unknown[0]!r} "
                f"(it builds: {', '.join(sorted(self.formats))})"
            )
        if not formats:
            raise SystemkitError("no output format requested")
        spec = request.spec
        if NEEDS_KERNEL & set(formats) and (spec.kernel is None or not spec.kernel.image):
            raise SystemkitError(
                f"format {sorted(NEEDS_KERNEL & set(formats))[0]!r} needs a kernel, and the "
                "system has none"
            )
        out_dir = Path(request.out_dir)
        if not out_dir.is_dir():
            raise SystemkitError(f"output directory {str(out_dir)!r} does not exist")
        progress = request.progress or (lambda _msg: None)
        store = ImageStore(request.cache_dir) if request.cache_dir else ImageStore.default()
        images = StoreImages(store, request.arch, request.pull)
        started = time.monotonic()
        with AtomicOutputs(out_dir) as outs:
            tar_path = (
                outs.temp(f"{request.name}.tar") if "tar" in formats else outs.scratch("fs.tar")
            )
            with tar_path.open("wb") as fh:
                result = assemble(spec, images, fh, base_dir=request.base_dir, progress=progress)
                del result
            write_formats(tar_path, formats, outs, request.name)
            paths = outs.commit()
        progress(f"Built {', '.join(p.name for p in paths)} in {time.monotonic() - started:.1f}s")
        return paths


# Keep the writer importable from here for third-party backends that wrap the native one.
__all__ = ["NativeBackend", "StoreImages", "TarWriter"]
