"""The backend protocol: something that turns a spec into artifacts on disk."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import attrs

from systemkit.progress import Progress
from systemkit.spec.types import Spec


@attrs.frozen
class BuildRequest:
    """Everything a backend needs for one build.

    ``base_dir`` is what relative ``files[].source`` paths are relative to; ``cache_dir`` is the
    image store root (None: the default store); ``progress`` receives a
    :class:`~systemkit.progress.ProgressEvent` per step, transfer and warning (None: silent);
    ``quiet`` asks the backend not to print anything itself.
    """

    spec: Spec
    base_dir: Path
    formats: tuple[str, ...]
    out_dir: Path
    name: str = "system"
    arch: str | None = None
    cache_dir: Path | None = None
    pull: bool = False
    progress: Progress | None = None
    quiet: bool = False


@runtime_checkable
class Backend(Protocol):
    """A build backend. ``formats`` lists the output formats it can make; ``build`` writes them
    to ``request.out_dir`` (atomically) and returns the paths written, in a stable order."""

    name: str
    formats: frozenset[str]

    def build(self, request: BuildRequest) -> list[Path]: ...
