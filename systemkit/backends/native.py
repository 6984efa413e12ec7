"""The native backend: assembles the filesystem in Python, without LinuxKit or Docker."""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO, cast

from systemkit.assemble.build import Assembler, BuildError, ResolvedLike
from systemkit.assemble.tarstream import TarWriter
from systemkit.assemble.verify import GunzipStream, VerifiedBlob
from systemkit.backends.base import BuildRequest
from systemkit.backends.buildcache import (
    BuildCache,
    CacheEntry,
    ResumePoint,
    point_keys,
    resumes_initrd_only,
)
from systemkit.backends.buildcache import max_size as buildcache_max_size
from systemkit.backends.layercache import LayerCache, images_written
from systemkit.backends.layercache import max_size as layercache_max_size
from systemkit.diagnostics import Diagnostic, SystemkitError, UserError
from systemkit.images import mediatypes as mt
from systemkit.images.store import ImageStore
from systemkit.outputs import FORMATS, NEEDS_KERNEL, AtomicOutputs, write_formats
from systemkit.outputs.formats import (
    InitrdParts,
    copy_file,
    copy_range,
    initrd_parts,
    resume_initrd,
)
from systemkit.outputs.hosttools import require_for
from systemkit.progress import Progress, ProgressEvent, silent, step, warning
from systemkit.spec.codec import spec_digest
from systemkit.spec.walk import image_refs


class StoreImages:
    """The assembler's view of the image store: refs resolved (and pulled) for one arch."""

    def __init__(
        self,
        store: ImageStore,
        arch: str | None,
        pull: bool,
        offline: bool = False,
        progress: Progress | None = None,
    ) -> None:
        self.store = store
        self.arch = arch
        self.pull = pull
        self.offline = offline
        self.progress = progress
        self._ready: dict[str, ResolvedLike | SystemkitError] = {}

    def prefetch(self, refs: list[str], workers: int = 4) -> None:
        """Resolve (and pull) every ref at once, in parallel; :meth:`resolve` then answers
        from what was found, so a build learns about every missing image in one go."""
        todo = [r for r in dict.fromkeys(refs) if r not in self._ready]
        if not todo:
            return

        def one(ref: str) -> ResolvedLike | SystemkitError:
            try:
                return self._resolve(ref)
            except SystemkitError as exc:
                return exc

        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(todo)))) as pool:
            for ref, found in zip(todo, pool.map(one, todo), strict=True):
                self._ready[ref] = found

    def resolve(self, ref: str) -> ResolvedLike:
        found = self._ready.get(ref)
        if isinstance(found, SystemkitError):
            raise found
        return found if found is not None else self._resolve(ref)

    def _resolve(self, ref: str) -> ResolvedLike:
        if self.offline:
            return self.store.resolve(ref, self.arch)
        from systemkit.images.registry import ensure_image

        return ensure_image(self.store, ref, self.arch, pull=self.pull, progress=self.progress)

    def open_layer(self, desc: dict[str, Any]) -> BinaryIO:
        """The uncompressed layer; plain and gzip layers are verified against their digest
        as they stream (other compressions use the store's reader)."""
        kind = mt.layer_compression(desc.get("mediaType", ""))
        if kind not in ("tar", "gzip"):
            return self.store.open_layer(desc)
        blob = self.open_blob(desc["digest"], desc.get("size"))
        return blob if kind == "tar" else cast(BinaryIO, GunzipStream(blob))

    def open_blob(self, digest: str, size: int | None = None) -> BinaryIO:
        """A blob, verified against ``digest`` (and ``size``) when it is closed."""
        return cast(BinaryIO, VerifiedBlob(self.store.open_blob(digest), digest, size))

    def read_json(self, digest: str) -> Any:
        return self.store.read_json(digest)


class NativeBackend:
    """Builds ``tar``, ``kernel+initrd``, ``tar-kernel-initrd`` and the disk-image formats
    (:mod:`systemkit.outputs.diskimages`) from the image store.

    A rebuild that changes only the ``files`` section reuses the previous build's prefix
    (see :mod:`systemkit.backends.buildcache`); the bytes are the same as a full build's.
    With ``use_cache``, images whose flattened layers are in the layer cache are streamed from
    it (:mod:`systemkit.backends.layercache`); ``write_layers`` says which images' flattened
    layers this build writes there: ``True`` every image, or a list of image refs (default:
    none, as writing costs a single build an extra write of the decompressed bytes;
    ``systemkit build --all`` passes the images its variants will stream).
    """

    name = "native"
    formats = frozenset(FORMATS)

    def __init__(
        self,
        use_cache: bool = True,
        offline: bool = False,
        write_layers: bool | Sequence[str] = False,
    ) -> None:
        self.use_cache = use_cache
        self.offline = offline
        """Only the store: an image missing from it is an error, no registry is asked."""
        self.write_layers = images_written(write_layers)

    def build(self, request: BuildRequest) -> list[Path]:
        """Build; a problem that belongs to a part of the spec is raised as a
        :class:`UserError` whose diagnostic names that part (``spec_path``)."""
        try:
            return self._build(request)
        except BuildError as exc:
            if exc.spec_path is None:
                raise
            raise UserError(exc.diagnostic()) from None

    def _build(self, request: BuildRequest) -> list[Path]:
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
        needs_kernel = bool(NEEDS_KERNEL & set(formats))
        if needs_kernel and (spec.kernel is None or not spec.kernel.image):
            raise SystemkitError(
                f"format {sorted(NEEDS_KERNEL & set(formats))[0]!r} needs a kernel, and the "
                "system has none"
            )
        require_for(formats)
        out_dir = Path(request.out_dir)
        if not out_dir.is_dir():
            raise SystemkitError(f"output directory {str(out_dir)!r} does not exist")
        progress = request.progress or silent
        store = ImageStore(request.cache_dir) if request.cache_dir else ImageStore.default()
        images = StoreImages(
            store, request.arch, request.pull, offline=self.offline, progress=progress
        )
        if self.use_cache:  # a bad size limit fails here, not after the build's work
            buildcache_max_size()
            layercache_max_size()
        layers = (
            LayerCache.of_store(store.root, write=self.write_layers) if self.use_cache else None
        )
        asm = Assembler(
            spec, images, base_dir=request.base_dir, progress=progress, layer_cache=layers
        )
        started = time.monotonic()
        refs = image_refs(spec)
        images.prefetch(refs)
        missing: list[Diagnostic] = []
        for ref in refs:
            try:
                asm.resolve(ref)
            except BuildError as exc:
                if exc.spec_path is None:
                    raise
                missing.append(exc.diagnostic())
        if missing:
            raise UserError(missing)
        cache = BuildCache.of_store(store.root) if self.use_cache else None
        digests = dict(sorted(asm.result.images.items()))
        keys = point_keys(spec, digests, request.arch)
        key = keys[-1]
        initrd_keys = (
            point_keys(spec, digests, request.arch, initrd_only=True) if needs_kernel else None
        )
        # A tar output, or a format made from the whole filesystem (an ISO holding it,
        # squashfs, erofs), needs the whole stream; the others only the initrd's part, which
        # the kernel command line does not change.
        whole = not resumes_initrd_only(formats)
        lookup = keys if whole or initrd_keys is None else initrd_keys
        entry = cache.lookup_points(lookup, initrd=needs_kernel) if cache is not None else None
        points: dict[int, ResumePoint] = {}
        with AtomicOutputs(out_dir) as outs:
            tar_path = (
                outs.temp(f"{request.name}.tar") if "tar" in formats else outs.scratch("fs.tar")
            )
            if entry is not None:
                progress(
                    step(
                        "Reusing the unchanged part of the previous build"
                        if entry.last
                        else f"Reusing the unchanged part of an earlier build (up to "
                        f"{asm.resume_points()[entry.point]})",
                        "cache",
                    )
                )
                # Without a whole-filesystem output only the rest of the stream is needed.
                start = entry.offset if whole else 0
                with tar_path.open("wb") as fh:
                    if start:
                        # copy_file_range: in the kernel, and extent-sharing on reflink
                        # filesystems (btrfs, XFS), where the copy is then nearly free
                        with entry.tar.open("rb") as prefix:
                            copy_range(prefix, fh, start)
                    writer = TarWriter(fh)
                    writer.bytes_written = start
                    result = asm.write_from(writer, entry.point, entry.bundles, entry.links)
                files_offset, links = entry.files_offset, list(entry.links)
                cmdline = (spec.kernel.cmdline if spec.kernel else None) or ""
                parts = (
                    self._resumed_parts(entry, tar_path, start, outs, cmdline)
                    if needs_kernel
                    else None
                )
            else:
                with tar_path.open("wb") as fh:
                    writer = TarWriter(fh)

                    def record(point: int) -> None:
                        bundles, known = asm.resume_state()
                        points[point] = ResumePoint(writer.bytes_written, bundles, known)

                    asm.on_resume_point = record
                    result = asm.write(writer)
                assert result.files_offset is not None
                files_offset, links = result.files_offset, result.links
                parts = initrd_parts(tar_path, outs, asm.resume_points()) if needs_kernel else None
            save = cache is not None and (
                entry is None or (needs_kernel and entry.checkpoint is None)
            )
            parts = write_formats(
                tar_path,
                formats,
                outs,
                request.name,
                parts,
                seed=spec_digest(spec),
                progress=progress,
            )
            if cache is not None and save:
                try:
                    cache.save(
                        key,
                        tar_path,
                        files_offset,
                        links,
                        parts,
                        "tar" not in formats,
                        points,
                        keys,
                        initrd_keys,
                    )
                except OSError as exc:
                    progress(warning(f"could not save the rebuild cache: {exc}", "cache"))
            paths = outs.commit()
        built = ", ".join(p.name for p in paths)
        progress(
            ProgressEvent("done", f"Built {built} in {time.monotonic() - started:.1f}s", "build")
        )
        return paths

    @staticmethod
    def _resumed_parts(
        entry: CacheEntry, tar_path: Path, files_at: int, outs: AtomicOutputs, cmdline: str
    ) -> InitrdParts:
        """The kernel formats' parts of a resumed build; ``cmdline`` is this system's (the
        entry may come from a variant with another one: it is not part of the initrd)."""
        assert entry.checkpoint is not None
        kernel, gz = outs.scratch("kernel"), outs.scratch("initrd")
        # The output's own copy (copy_file_range: shared extents on btrfs and XFS): a hard link
        # would make the kernels of every build resumed from this entry, in any directory, one
        # file, and `cp` over one of them would write into all.
        copy_file(entry.dir / "kernel", kernel)
        resume_initrd(tar_path, files_at, entry.dir / "initrd.gz", entry.checkpoint, gz)
        ucode = entry.dir / "ucode.cpio"
        return InitrdParts(kernel, gz, ucode if ucode.exists() else None, cmdline, entry.checkpoint)


__all__ = ["NativeBackend", "StoreImages", "image_refs"]
