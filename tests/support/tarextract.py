"""``TarFile.extractall`` with an extraction filter, on every Python this project supports.

Extraction filters arrived in Python 3.11.4; Debian 12's own ``python3`` is 3.11.2, where
``extractall`` takes no ``filter`` and always behaves as ``"fully_trusted"`` does. The tests that
extract with ``"data"`` or ``"tar"`` only extract archives they made themselves, so on such a
Python the unfiltered extraction is what they get; tests whose point is the unfiltered
(``"fully_trusted"``) behaviour get exactly it everywhere.
"""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import Literal

HAS_FILTERS = hasattr(tarfile, "data_filter")


def extract_all(
    tar: tarfile.TarFile, dest: Path, filter: Literal["fully_trusted", "tar", "data"]
) -> None:
    if HAS_FILTERS:
        tar.extractall(dest, filter=filter)
    else:
        tar.extractall(dest)
