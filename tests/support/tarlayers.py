"""Image layers written in the tests with Python's tarfile, including hostile ones."""

from __future__ import annotations

import io
import tarfile
from typing import Any


def layer(*members: tuple[str, str, Any]) -> bytes:
    """A PAX layer tar: members are (name, kind, data) with kind file/dir/symlink/link; a
    file's data is str or bytes, a link's its target. Names are written as given (``..`` and
    absolute names too), every mtime is 1700000000."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, data in members:
            info = tarfile.TarInfo(name)
            info.mtime = 1700000000
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, data
                tar.addfile(info)
            elif kind == "link":
                info.type, info.linkname = tarfile.LNKTYPE, data
                tar.addfile(info)
            else:
                raw = data.encode() if isinstance(data, str) else data
                info.size, info.mode = len(raw), 0o644
                tar.addfile(info, io.BytesIO(raw))
    return buf.getvalue()
