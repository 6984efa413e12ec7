"""Assemble the filesystem tar of a system exactly as ``linuxkit build`` lays it out.

Stream order (conformance README §5.1): kernel, init images, the merged apk database, volumes,
onboot, onshutdown, services, files. Every member carries ``LINUXKIT.source`` and
``LINUXKIT.location``. Image content is streamed layer by layer; only small things (the apk
databases, JSON documents, file sources) are held in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import attrs

from systemkit.assemble import ociconfig
from systemkit.assemble.errors import BuildError
from systemkit.assemble.files import file_entries
from systemkit.assemble.filters import (
    RESOLV_SYMLINK,
    Guard,
    Member,
    image_members,
)
from systemkit.assemble.flatten import flatten
from systemkit.assemble.members import dir_member, file_member, tar_prefix
from systemkit.assemble.ociimage import oci_layout_members
from systemkit.assemble.tarstream import (
    DEFAULT_MTIME,
    DIR,
    LOCATION,
    REG,
    SOURCE,
    Body,
    TarHeader,
    TarWriter,
    go_join,
    iter_tar,
)
from systemkit.assemble.volumes import bind_volumes, volume_dir, volume_tail
from systemkit.codes import (
    CONTAINER_CONFIG,
    IMAGE_UNAVAILABLE,
    KERNEL_CONTENT,
    NAME_UNUSABLE,
)
from systemkit.diagnostics import SystemkitError
from systemkit.progress import Progress, silent, step, warning
from systemkit.spec.codec import SpecError, from_data, to_data
from systemkit.spec.types import ImageConfig, ImageSpec, Spec, VolumeSpec
from systemkit.spec.walk import first_uses

__all__ = [
    "AssembleResult",
    "Assembler",
    "BuildError",
    "Images",
    "LayerStreams",
    "ResolvedLike",
    "assemble",
]

APK_DB = "lib/apk/db/installed"
APK_SOURCE = "LINUXKIT.apkinit"


class ResolvedLike(Protocol):
    """A resolved image (see :class:`systemkit.images.store.ResolvedImage`)."""

    @property
    def ref(self) -> str: ...

    @property
    def root(self) -> dict[str, Any]: ...

    @property
    def config(self) -> dict[str, Any]: ...

    @property
    def layers(self) -> list[dict[str, Any]]: ...

    @property
    def label(self) -> dict[str, Any] | None: ...


class LayerStreams(Protocol):
    """Flattened image streams that may come from a cache
    (:class:`systemkit.backends.layercache.LayerCache`)."""

    def has(self, layers: Sequence[Mapping[str, Any]], honour_opaque: bool) -> bool:
        """Whether the flattened stream of ``layers`` is cached."""
        ...

    def flattened(
        self,
        ref: str,
        layers: Sequence[dict[str, Any]],
        open_layer: Callable[[dict[str, Any]], BinaryIO],
        *,
        honour_opaque: bool,
        warn: Callable[[str], None],
    ) -> Iterator[tuple[TarHeader, Body]]:
        """What :func:`~systemkit.assemble.flatten.flatten` yields for image ``ref``."""
        ...


class Images(Protocol):
    """What the assembler needs from the image layer: resolve a ref, open layers and blobs."""

    def resolve(self, ref: str) -> ResolvedLike: ...

    def open_layer(self, desc: dict[str, Any]) -> BinaryIO: ...

    def open_blob(self, digest: str, size: int | None = None) -> BinaryIO: ...

    def read_json(self, digest: str) -> Any: ...


@attrs.define
class AssembleResult:
    """What the assembler found out while writing the stream."""

    members: int = 0
    warnings: list[str] = attrs.Factory(list)
    images: dict[str, str] = attrs.Factory(dict)
    """ref -> root digest (manifest or index) of every image used."""
    files_offset: int | None = None
    """Bytes of the stream before the files section."""
    links: list[tuple[str, str, str]] = attrs.Factory(list)
    """Every symlink (path, target, root) as the guard knew it before the files section (all of
    them, not only those leaving their destination: a later member may chain through any)."""


class Assembler:
    """Writes one system's filesystem stream; see :func:`assemble`."""

    def __init__(
        self,
        spec: Spec,
        images: Images,
        *,
        base_dir: Path,
        progress: Progress = silent,
        honour_opaque: bool = True,
        layer_cache: LayerStreams | None = None,
    ) -> None:
        self.spec = spec
        self.images = images
        self.base_dir = Path(base_dir)
        self.progress = progress
        self.honour_opaque = honour_opaque
        self.layer_cache = layer_cache
        """Where flattened image streams may come from (None: always from the layers)."""
        self.result = AssembleResult()
        self.guard = Guard(warn=self._warn)
        self.bundles: dict[str, str] = {}
        """Image ref -> the root its first container unpacked it to (later ones share it)."""
        self.on_resume_point: Callable[[int], None] | None = None
        """Called with each resume point's index as the stream reaches it (the rebuild cache
        records the writers' state there)."""
        self._resolved: dict[str, ResolvedLike] = {}
        self._first_use = first_uses(spec)
        self.id_map: dict[str, int] = {}
        next_id = 100
        for section in (spec.onboot, spec.onshutdown, spec.services):
            for entry in section:
                self.id_map[entry.name] = next_id
                next_id += 1

    def _warn(self, msg: str) -> None:
        self.result.warnings.append(msg)
        self.progress(warning(msg))

    def resolve(self, ref: str) -> ResolvedLike:
        if ref not in self._resolved:
            try:
                img = self.images.resolve(ref)
            except SystemkitError as exc:
                raise BuildError(
                    IMAGE_UNAVAILABLE,
                    self._first_use.get(ref),
                    f"could not pull image {ref}: {exc}",
                    hint="import it into the image store (`systemkit cache import FILE`, "
                    "`--cache DIR` to choose the store), or make its registry reachable",
                ) from exc
            self._resolved[ref] = img
            self.result.images[ref] = str(img.root.get("digest", ""))
        return self._resolved[ref]

    # -- writing --------------------------------------------------------------------------------

    def write(self, writer: TarWriter) -> AssembleResult:
        """Write the whole stream; ``result.files_offset`` is where the files section starts."""
        for hdr, body in self.image_members():
            writer.add(hdr, body)
            self.result.members += 1
        self.result.files_offset = writer.bytes_written
        self.result.links = sorted((p, t, r) for p, (t, r) in self.guard.links.items())
        return self.write_files(writer)

    def write_files(
        self, writer: TarWriter, links: Iterable[tuple[str, str, str]] = ()
    ) -> AssembleResult:
        """Write the files section and close the stream (``links``: every symlink the guard saw
        in the part of the stream written before, when resuming)."""
        self.guard.links.update((p, (t, r)) for p, t, r in links)
        for hdr, body in self._files_section():
            writer.add(hdr, body)
            self.result.members += 1
        writer.close()
        return self.result

    def members(self) -> Iterator[Member]:
        """Every member of the stream, in order."""
        yield from self.image_members()
        yield from self._files_section()

    def _files_section(self) -> Iterator[Member]:
        if self.spec.files:
            self.progress(step("Add files:", "files"))
        yield from self._files()

    def image_members(self, resume: int | None = None) -> Iterator[Member]:
        """Everything before the files section: kernel, init, volumes, containers.

        ``resume`` starts at that resume point (see :meth:`resume_points`): kernel, init,
        volumes and the containers before it are skipped (their state restored with
        :meth:`restore`). ``on_resume_point`` is called as each point is reached."""
        spec = self.spec
        start = resume or 0
        if resume is None:
            if spec.kernel is not None and spec.kernel.image:
                note = self._cached(spec.kernel.image)
                self.progress(step(f"Extract kernel image: {spec.kernel.image}{note}", "kernel"))
                yield from self._kernel()
            if spec.init:
                self.progress(step("Add init containers:", "init"))
            yield from self._init()
            for i, vol in enumerate(spec.volumes):
                streamed = (vol.format or "filesystem") != "oci"
                note = self._cached(vol.image) if vol.image and streamed else ""
                self.progress(step(f"Add volume: {vol.name}{note}", "volume", vol.name))
                yield from self._volume(i, vol)
        point = 0
        for section, entries in (
            ("onboot", spec.onboot),
            ("onshutdown", spec.onshutdown),
            ("services", spec.services),
        ):
            if entries and point + len(entries) > start:
                self.progress(step(f"Add {section} containers:", section))
            for i, entry in enumerate(entries):
                if point >= start:
                    if self.on_resume_point is not None:
                        self.on_resume_point(point)
                    prefix = f"{i:03d}-" if section != "services" else ""
                    yield from self._bundle(section, i, prefix, entry, self.bundles)
                point += 1
        if self.on_resume_point is not None:
            self.on_resume_point(point)

    def resume_points(self) -> list[str]:
        """Where a build can resume: the location of each container (``onboot[0]``, ...,
        ``services[2]``, in stream order), then ``files``. Everything before a point depends
        only on the spec before it (plus the container names, which give uids)."""
        spec = self.spec
        points = [
            f"{section}[{i}]"
            for section, entries in (
                ("onboot", spec.onboot),
                ("onshutdown", spec.onshutdown),
                ("services", spec.services),
            )
            for i in range(len(entries))
        ]
        return [*points, "files"]

    def resume_state(self) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
        """What the stream written so far leaves behind for the rest: the container roots by
        image (shared by later containers of the same image) and every symlink the guard
        knows."""
        return dict(self.bundles), sorted((p, t, r) for p, (t, r) in self.guard.links.items())

    def restore(self, bundles: dict[str, str], links: Iterable[tuple[str, str, str]]) -> None:
        """Take up :meth:`resume_state` of an earlier build to resume after its prefix."""
        self.bundles.update(bundles)
        self.guard.links.update((p, (t, r)) for p, t, r in links)

    def write_from(
        self,
        writer: TarWriter,
        start: int,
        bundles: dict[str, str],
        links: Iterable[tuple[str, str, str]],
    ) -> AssembleResult:
        """Write the stream from resume point ``start`` (``writer`` placed after the reused
        prefix) and close it."""
        self.restore(bundles, links)
        if start >= len(self.resume_points()) - 1:
            return self.write_files(writer)
        for hdr, body in self.image_members(start):
            writer.add(hdr, body)
            self.result.members += 1
        self.result.files_offset = writer.bytes_written
        self.result.links = sorted((p, t, r) for p, (t, r) in self.guard.links.items())
        return self.write_files(writer)

    def _guarded(self, members: Iterable[Member], root: str = "") -> Iterator[Member]:
        for hdr, body in members:
            if self.guard.admit(hdr, root):
                yield hdr, body

    def _cached(self, ref: str) -> str:
        """`` (cached layers)`` when image ``ref``'s flattened stream comes from the layer
        cache (a note for the step that streams it), else ``""``."""
        if self.layer_cache is None:
            return ""
        try:
            img = self.resolve(ref)
        except BuildError:
            return ""  # raised again where the image is used
        return " (cached layers)" if self.layer_cache.has(img.layers, self.honour_opaque) else ""

    def _image(self, ref: str, *, prefix: str, location: str, resolv: str = "") -> Iterator[Member]:
        img = self.resolve(ref)
        flat: Iterable[tuple[TarHeader, Body]]
        if self.layer_cache is not None:
            flat = self.layer_cache.flattened(
                ref,
                img.layers,
                self.images.open_layer,
                honour_opaque=self.honour_opaque,
                warn=self._warn,
            )
        else:
            layers = [(lambda d=desc: self.images.open_layer(d)) for desc in img.layers]
            flat = flatten(layers, honour_opaque=self.honour_opaque, warn=self._warn, what=ref)
        yield from image_members(
            flat, prefix=prefix, source=ref, location=location, resolv=resolv, guard=self.guard
        )

    # -- kernel ---------------------------------------------------------------------------------

    def _kernel(self) -> Iterator[Member]:
        kernel = self.spec.kernel
        assert kernel is not None and kernel.image
        ref = kernel.image
        binary = kernel.binary or "kernel"
        tar_name = (
            "kernel.tar" if kernel.tar is None else ("" if kernel.tar == "none" else kernel.tar)
        )
        ucode = kernel.ucode or ""
        cmdline = (kernel.cmdline or "").encode()
        found_kernel = found_tar = found_ucode = False
        for hdr, body in self._image(ref, prefix="", location="kernel"):
            name = hdr.name
            if name == binary:
                if found_kernel:
                    raise BuildError(
                        KERNEL_CONTENT,
                        "$.kernel",
                        f"{ref}: found more than one possible kernel image",
                    )
                found_kernel = True
                if not found_ucode:
                    yield self._boot_member(TarHeader("boot", DIR, 0o755), hdr), None
                yield (
                    self._boot_member(
                        TarHeader("boot/cmdline", REG, 0o644, size=len(cmdline)), hdr
                    ),
                    cmdline,
                )
                yield (
                    self._boot_member(TarHeader("boot/kernel", REG, hdr.mode, size=hdr.size), hdr),
                    body,
                )
            elif tar_name and name == tar_name:
                found_tar = True
                assert isinstance(body, Body)
                for inner, inner_body in iter_tar(body):  # type: ignore[arg-type]
                    inner.pax.update({SOURCE: ref, LOCATION: "kernel"})
                    yield from self._guarded([(inner, inner_body)])
            elif ucode and name == ucode:
                found_ucode = True
                if not found_kernel:
                    yield self._boot_member(TarHeader("boot", DIR, 0o755), hdr), None
                yield (
                    self._boot_member(
                        TarHeader("boot/ucode.cpio", REG, hdr.mode, size=hdr.size), hdr
                    ),
                    body,
                )
        if not found_kernel:
            raise BuildError(
                KERNEL_CONTENT, "$.kernel", f"{ref}: did not find kernel {binary!r} in kernel image"
            )
        if tar_name and not found_tar:
            raise BuildError(
                KERNEL_CONTENT,
                "$.kernel",
                f"{ref}: did not find kernel tar {tar_name!r} in kernel image",
            )

    @staticmethod
    def _boot_member(new: TarHeader, image_hdr: TarHeader) -> TarHeader:
        new.mtime = DEFAULT_MTIME
        new.pax = dict(image_hdr.pax)
        return new

    # -- init -----------------------------------------------------------------------------------

    def _init(self) -> Iterator[Member]:
        dbs: list[bytes] = []
        for i, ref in enumerate(self.spec.init):
            self.progress(step(f"Process init image: {ref}{self._cached(ref)}", "init", ref))
            for hdr, body in self._image(
                ref, prefix="", location=f"init[{i}]", resolv=RESOLV_SYMLINK
            ):
                if hdr.name == APK_DB and hdr.typeflag == REG:
                    data = body if isinstance(body, bytes) else (body.read() if body else b"")
                    dbs.append(data)
                    yield hdr, data
                else:
                    yield hdr, body
        if len(dbs) > 1:
            merged = b"".join(db + b"\n\n" for db in dbs)
            hdr = file_member(APK_DB, merged, APK_SOURCE, "init")
            hdr.mtime = 0
            yield from self._guarded([(hdr, merged)])

    # -- volumes --------------------------------------------------------------------------------

    def _volume(self, index: int, vol: VolumeSpec) -> Iterator[Member]:
        location = f"volume[{index}]"
        base = volume_dir(index, vol)
        lower = base + "/lower/"
        if not vol.image:
            yield from self._guarded(tar_prefix(lower, "empty", location))
        elif (vol.format or "filesystem") == "oci":
            img = self.resolve(vol.image)
            yield from self._guarded(tar_prefix(lower, vol.image, location))
            yield from self._guarded(
                oci_layout_members(
                    self.images,
                    img,
                    prefix=lower,
                    source=vol.image,
                    location=location,
                    platforms=vol.platforms,
                )
            )
        else:
            yield from self._guarded(tar_prefix(lower, vol.image, location))
            yield from self._image(
                vol.image, prefix=lower, location=location, resolv=RESOLV_SYMLINK
            )
        yield from self._guarded(volume_tail(base, location))

    # -- bundles --------------------------------------------------------------------------------

    def _yaml_with_volumes(self, entry: ImageSpec, where: str, spec_path: str) -> dict[str, Any]:
        data: dict[str, Any] = to_data(entry)
        data.pop("name", None)
        data.pop("image", None)
        return bind_volumes(data, self.spec.volumes, where, spec_path)

    def _label(self, img: ResolvedLike, location: str, spec_path: str) -> dict[str, Any] | None:
        label = img.label
        if label is None:
            return None
        if "name" in label or "image" in label:
            raise BuildError(
                CONTAINER_CONFIG,
                spec_path,
                f"{img.ref}: name and image cannot be set in the metadata label",
                where=location,
            )
        try:
            data: dict[str, Any] = to_data(from_data(label, ImageConfig))
            return data
        except SpecError as exc:
            problems = "; ".join(
                f"{d.message} at {d.spec_path.replace('$', 'label', 1)}"
                if d.spec_path
                else d.message
                for d in exc.diagnostics
            )
            raise BuildError(
                CONTAINER_CONFIG,
                spec_path,
                f"{img.ref}: invalid org.mobyproject.config label: {problems}",
                where=location,
            ) from None

    def _bundle(
        self, section: str, index: int, prefix: str, entry: ImageSpec, dup: dict[str, str]
    ) -> Iterator[Member]:
        location = f"{section}[{index}]"
        spec_path = f"$.{section}[{index}]"
        name = entry.name
        parts = name.split("/")
        if not name or any(p in ("", ".", "..") for p in parts):
            raise BuildError(
                NAME_UNUSABLE,
                f"{spec_path}.name",
                f"container name {name!r} is not a usable directory name",
                where=location,
            )
        ref = entry.image
        note = "" if ref in dup else self._cached(ref)
        self.progress(step(f"  Create OCI config for {ref}{note}", section, entry.name))
        img = self.resolve(ref)
        yaml = self._yaml_with_volumes(entry, location, spec_path)
        try:
            oci, runtime = ociconfig.config_to_oci(
                yaml, self._label(img, location, spec_path), img.config.get("config"), self.id_map
            )
        except ociconfig.ConfigError as exc:
            raise BuildError(
                CONTAINER_CONFIG,
                spec_path,
                f"failed to create OCI spec for {ref}: {exc}",
                where=location,
            ) from None
        config = ociconfig.go_json(oci)
        path = go_join("containers", section, prefix + name)
        readonly = bool(oci["root"].get("readonly"))
        root = go_join(path, "rootfs" if readonly else "lower")
        found_elsewhere = ref in dup
        if not found_elsewhere:
            yield from self._guarded(tar_prefix(root + "/", ref, location))
            yield from self._image(ref, prefix=root + "/", location=location)
            dup[ref] = root
        else:
            yield from self._guarded(tar_prefix(path + "/", ref, location))
            root = dup[ref]
        members: list[Member] = [
            (file_member(go_join(path, "config.json"), config, ref, location), config)
        ]
        if not readonly:
            tmp = go_join(path, "tmp")
            members.append((dir_member(tmp, ref, location), None))
            members.append((dir_member(go_join(path, "rootfs"), ref, location), None))
            rootfs_mounts: list[dict[str, Any]] = [
                {"destination": "/" + tmp, "type": "tmpfs", "source": "tmpfs"},
                {"destination": "/" + tmp, "options": ["remount", "private"]},
                {
                    "destination": "/" + go_join(path, "rootfs"),
                    "type": "overlay",
                    "source": "overlay",
                    "options": [
                        "lowerdir=/" + root,
                        "upperdir=/" + go_join(tmp, "upper"),
                        "workdir=/" + go_join(tmp, "work"),
                    ],
                },
            ]
        else:
            if found_elsewhere:
                members.append((dir_member(go_join(path, "rootfs"), ref, location), None))
            rootfs_mounts = [
                {
                    "destination": "/" + go_join(path, "rootfs"),
                    "source": "/" + root,
                    "options": ["bind"],
                }
            ]
        runtime["mounts"] = rootfs_mounts + runtime["mounts"]
        runtime_bytes = ociconfig.go_json(runtime)
        runtime_json = file_member(go_join(path, "runtime.json"), runtime_bytes, ref, location)
        members.append((runtime_json, runtime_bytes))
        yield from self._guarded(members)

    # -- files ----------------------------------------------------------------------------------

    def _files(self) -> Iterator[Member]:
        for members in file_entries(self.spec, self.base_dir, self.id_map):
            yield from self._guarded(members)


def assemble(
    spec: Spec,
    images: Images,
    out: BinaryIO,
    *,
    base_dir: Path,
    progress: Progress = silent,
    honour_opaque: bool = True,
) -> AssembleResult:
    """Write the filesystem tar of ``spec`` to ``out``; image content comes from ``images``."""
    asm = Assembler(spec, images, base_dir=base_dir, progress=progress, honour_opaque=honour_opaque)
    return asm.write(TarWriter(out))
