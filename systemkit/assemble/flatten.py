"""Flatten an image's layers into one member stream (go-containerregistry ``mutate.Extract``).

Layers are read from the top layer down; inside a layer members keep their order; a path that
was already seen is skipped, so the upper layer wins and the output is "top layer first".
``.wh.<name>`` hides ``<name>`` and everything below it in lower layers and is not written; a
non-directory also hides a lower directory of the same name with its children.

Deliberate deviations from LinuxKit (see docs/deviations-build.md):

* ``.wh..wh..opq`` (an opaque directory) is honoured as the OCI image spec says: lower-layer
  content below that directory is hidden. LinuxKit treats the marker as a whiteout of a file
  called ``.wh..opq`` and lets the stale lower content through.
* A member whose cleaned name leaves the image root (``../x``, ``a/../../x``) is dropped with a
  warning instead of being written outside its destination; absolute names are made relative.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from typing import BinaryIO

from systemkit.assemble.tarstream import (
    DIR,
    Body,
    TarFormatError,
    TarHeader,
    go_clean,
    go_join,
    iter_tar,
)

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"

Warn = Callable[[str], None]


def _ignore(_msg: str) -> None:
    return None


def _parent(path: str) -> str:
    i = path.rfind("/")
    return path[:i] if i > 0 else "."


def _hidden(path: str, tombstones: dict[str, bool], opaque: set[str]) -> bool:
    """True if an ancestor of ``path`` was whited out / replaced by a non-directory above, or is
    an opaque directory of an upper layer."""
    current = path
    while True:
        parent = _parent(current)
        if parent == current:
            return False
        if tombstones.get(parent) or parent in opaque:
            return True
        if parent == ".":
            return False
        current = parent


def _layer_members(stream: BinaryIO, what: str, number: int) -> Iterator[tuple[TarHeader, Body]]:
    """The members of one layer; a layer that is not a tar archive is named in the error."""
    try:
        yield from iter_tar(stream)
    except TarFormatError as exc:
        raise TarFormatError(
            f"{what}: layer {number} (counting from the bottom) is not a valid tar archive: {exc}"
        ) from None


def dropped_warning(what: str, name: str) -> str:
    """The warning of a layer member dropped because its name leaves the image root."""
    return f"{what}: dropped layer member {name!r}: it leaves the image root"


def flatten(
    layers: Iterable[Callable[[], BinaryIO]],
    *,
    honour_opaque: bool = True,
    warn: Warn = _ignore,
    what: str = "image",
    dropped: Callable[[str], None] | None = None,
) -> Iterator[tuple[TarHeader, Body]]:
    """Yield the flattened members of ``layers`` (openers of uncompressed tar streams, listed
    bottom layer first, as in a manifest). Names are cleaned like Go's ``filepath.Clean``.

    ``dropped`` is told the raw name of each member dropped because it leaves the image root
    (after ``warn`` got :func:`dropped_warning`), so the layer cache can replay the warning."""
    openers = list(layers)
    seen: dict[str, bool] = {}
    opaque: set[str] = set()
    for number, opener in reversed(list(enumerate(openers))):
        layer_opaque: set[str] = set()
        with closing(opener()) as stream:
            for hdr, body in _layer_members(stream, what, number):
                name = go_clean(hdr.name)
                if name.startswith("/"):
                    name = go_clean(name.lstrip("/") or ".")
                if name == ".." or name.startswith("../"):
                    warn(dropped_warning(what, hdr.name))
                    if dropped is not None:
                        dropped(hdr.name)
                    continue
                hdr.name = name
                slash = name.rfind("/")
                dirname, basename = (name[:slash], name[slash + 1 :]) if slash >= 0 else ("", name)
                if honour_opaque and basename == OPAQUE:
                    layer_opaque.add(dirname or ".")
                    continue
                tombstone = basename.startswith(WHITEOUT)
                if tombstone:
                    basename = basename[len(WHITEOUT) :]
                key = name if hdr.typeflag == DIR else go_join(dirname, basename)
                if key in seen:
                    continue
                if _hidden(key, seen, opaque):
                    continue
                seen[key] = tombstone or hdr.typeflag != DIR
                if tombstone:
                    continue
                yield hdr, body
        opaque |= layer_opaque
