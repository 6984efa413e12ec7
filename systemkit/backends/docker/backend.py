"""``DockerBackend``: the native build on images mirrored from a Docker Engine."""

from __future__ import annotations

import tempfile
from pathlib import Path

import attrs

from systemkit.backends.base import BuildRequest
from systemkit.backends.docker.connection import connect
from systemkit.backends.docker.endpoint import EngineEndpoint
from systemkit.backends.docker.mirror import MIRROR_DIR, EngineImages
from systemkit.backends.native import NativeBackend
from systemkit.diagnostics import SystemkitError
from systemkit.images.mediatypes import host_arch
from systemkit.images.store import ImageStore
from systemkit.progress import silent


class DockerBackend:
    """Builds the native formats from images held by (or pulled through) a Docker Engine.

    The images are exported from the engine into a mirror store, ``.docker-engine/`` inside the
    image store directory (``cache_dir``, or the default store), and the native assembly runs
    on it. Every build asks the engine for each image's content-addressed id, so the mirror
    cannot go stale: an image is exported again as soon as the engine's image changes.
    ``endpoint`` overrides the engine the docker CLI would use; ``use_cache`` is the native
    backend's rebuild cache.
    """

    name = "docker"
    formats = NativeBackend.formats

    def __init__(self, endpoint: EngineEndpoint | None = None, use_cache: bool = True) -> None:
        self.endpoint = endpoint
        self.use_cache = use_cache

    @staticmethod
    def mirror_root(cache_dir: Path | None) -> Path:
        """Where the engine's images are mirrored for a build with ``cache_dir``."""
        root = Path(cache_dir) if cache_dir is not None else ImageStore.default().root
        return root / MIRROR_DIR

    def build(self, request: BuildRequest) -> list[Path]:
        unknown = [f for f in request.formats if f not in self.formats]
        if unknown:
            raise SystemkitError(
                f"the docker backend cannot build format {unknown[0]!r} "
                f"(it builds: {', '.join(sorted(self.formats))})"
            )
        if not Path(request.out_dir).is_dir():
            raise SystemkitError(f"output directory {str(request.out_dir)!r} does not exist")
        progress = request.progress or silent
        with connect(self.endpoint) as conn:
            store = ImageStore(self.mirror_root(request.cache_dir))
            with tempfile.TemporaryDirectory(prefix=".export-", dir=store.root) as tmp:
                engine = EngineImages(
                    conn.client,
                    store,
                    arch=request.arch or host_arch(),
                    pull=request.pull,
                    progress=progress,
                    workdir=Path(tmp),
                )
                engine.fetch_all(request.spec)
            native = attrs.evolve(request, cache_dir=store.root, pull=False)
            return NativeBackend(use_cache=self.use_cache, offline=True).build(native)
