"""The backend protocol: something that turns a spec into artifacts on disk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

import attrs

from systemkit.spec.types import Spec

ProgressFn = Callable[[str], None]


@attrs.frozen
class BuildRequest:
    """Everything a backend needs for one build.

    ``base_dir`` is what relative ``files[].source`` paths are relative to; ``cache_dir`` is the
    image store root (None: the default store); ``progress`` receives one human-readable line
    per step (None: silent); ``quiet`` asks the backend not to print anything itself.
    """

    spec: Spec
    base_dir: Path
    formats: tuple[str, ...]
    out_dir: Path
    name: str = "system"
    arch: str | None = None
    cache_dir: Path | None = None
    pull: bool = False
    progress: ProgressFn | None = None
    quiet: bool = False


@runtime_checkable
class Backend(Protocol):
    """A build backend. ``formats`` lists the output formats it can make; ``build`` writes them
    to ``request.out_dir`` (atomically) and returns the paths written, in a stable order."""

    name: str
    formats: frozenset[str]

    def build(self, request: BuildRequest) -> list[Path]: ...
