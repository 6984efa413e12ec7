"""The ``files`` section: LinuxKit's rules for each entry and the members it becomes.

Parents are created once per build with the entry's mode plus ``x`` (LinuxKit's quirk), uid
and gid may name a container (its allocated id), a ``source`` is read from the base directory
and verified against the digest recorded when the system was lowered, ``metadata`` is the
system's own configuration. Every problem is SK624 at the entry.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from systemkit.assemble import ociconfig
from systemkit.assemble.errors import file_error
from systemkit.assemble.filters import FILES_SOURCE, Member, canonical
from systemkit.assemble.metadata import metadata_bytes
from systemkit.assemble.tarstream import (
    DIR,
    LOCATION,
    REG,
    SOURCE,
    SYM,
    TarHeader,
    go_clean,
    go_split,
)
from systemkit.spec.types import Spec


def read_source(base_dir: Path, index: int, source: str, digest: str) -> bytes:
    """The content of ``files[index].source``, verified against ``digest``."""
    path = Path(os.path.expanduser(source)) if source.startswith("~/") else Path(source)
    if not path.is_absolute():
        path = base_dir / path
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise file_error(index, f"cannot read source {str(path)!r}: {exc.strerror}") from None
    actual = "sha256:" + hashlib.sha256(data).hexdigest()
    if actual != digest:
        raise file_error(
            index,
            f"source {str(path)!r} changed since the system was lowered "
            f"(expected {digest}, found {actual})",
        )
    return data


def file_entries(spec: Spec, base_dir: Path, id_map: dict[str, int]) -> Iterator[list[Member]]:
    """The members of each ``files`` entry in order (its parents not made before, then the
    entry), one list per entry; raises :class:`~systemkit.assemble.errors.BuildError`."""
    added: set[str] = set()
    for index, f in enumerate(spec.files):
        location = f"files[{index}]"
        fpath = f.path[1:] if f.path.startswith("/") else f.path
        if not fpath:
            raise file_error(index, "did not specify path for file")
        if ".." in canonical(fpath).split("/"):
            raise file_error(index, f"path {f.path!r} leaves the filesystem root")
        mode = 0o700 if f.directory else 0o600
        if f.mode is not None and f.mode != "":
            try:
                mode = int(f.mode, 8)
            except ValueError:
                raise file_error(index, f"cannot parse file mode {f.mode!r} as octal") from None
        dir_mode = mode
        for bits, x in ((0o700, 0o100), (0o070, 0o010), (0o007, 0o001)):
            if dir_mode & bits:
                dir_mode |= x
        try:
            uid = ociconfig.id_numeric(f.uid, id_map)
            gid = ociconfig.id_numeric(f.gid, id_map)
        except ociconfig.ConfigError as exc:
            raise file_error(index, str(exc)) from None
        if f.contents is not None and f.source:
            raise file_error(index, f"specified contents and source for file {f.path}")
        if f.contents is not None and f.metadata:
            raise file_error(index, f"specified contents and metadata for file {f.path}")
        if f.source and f.metadata:
            raise file_error(index, f"specified source and metadata for file {f.path}")
        if f.directory and f.contents is not None:
            raise file_error(index, f"directory with contents not allowed ({f.path})")
        contents: bytes | None = f.contents.encode() if f.contents is not None else None
        if not f.directory and not f.symlink and f.contents is None:
            if f.source:
                if f.source_digest is None:
                    continue
                contents = read_source(base_dir, index, f.source, f.source_digest)
            elif f.metadata:
                contents = metadata_bytes(spec, f.metadata)
            else:
                raise file_error(index, f"contents of file ({f.path}) not specified")
        records = {SOURCE: FILES_SOURCE, LOCATION: location}
        dirpart = go_clean(go_split(fpath)[0])
        parts = [p for p in dirpart.split("/") if p not in (".", "")]
        out: list[Member] = []
        root = ""
        for p in parts:
            root = p if not root else root + "/" + p
            if root not in added:
                out.append(
                    (TarHeader(root, DIR, dir_mode, uid=uid, gid=gid, pax=dict(records)), None)
                )
                added.add(root)
        added.add(fpath)
        hdr = TarHeader(fpath, REG, mode, uid=uid, gid=gid, pax=dict(records))
        if f.directory:
            hdr.typeflag = DIR
            out.append((hdr, None))
        elif f.symlink:
            hdr.typeflag, hdr.linkname = SYM, f.symlink
            out.append((hdr, None))
        else:
            assert contents is not None
            hdr.size = len(contents)
            out.append((hdr, contents))
        yield out
