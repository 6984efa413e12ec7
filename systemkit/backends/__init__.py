"""Build backends: the protocol, the registry (entry points) and the ``build`` entry point."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from systemkit.backends.base import Backend, BuildRequest
from systemkit.backends.registry import BackendError, available_backends, get_backend
from systemkit.diagnostics import SystemkitError
from systemkit.progress import Progress
from systemkit.spec.types import Spec

__all__ = [
    "Backend",
    "BackendError",
    "BuildRequest",
    "available_backends",
    "build",
    "get_backend",
]


def build(
    spec: Spec,
    *,
    base_dir: Path,
    formats: Iterable[str] = ("kernel+initrd",),
    out_dir: Path,
    name: str = "system",
    backend: str = "native",
    arch: str | None = None,
    cache_dir: Path | None = None,
    pull: bool = False,
    progress: Progress | None = None,
    quiet: bool = False,
    backend_options: Mapping[str, object] | None = None,
) -> list[Path]:
    """Build ``spec`` into ``formats`` in ``out_dir`` with the named backend; the paths written.

    Outputs appear atomically: on any error (or KeyboardInterrupt) nothing is left behind.
    ``out_dir`` is created if missing. ``backend_options`` are passed to the backend's
    constructor (:func:`get_backend`), e.g. ``{"binary": path}`` for the linuxkit backend;
    ``progress`` receives :class:`~systemkit.progress.ProgressEvent` s.
    """
    if not name or "/" in name or "\0" in name or name in (".", ".."):
        raise SystemkitError(
            f"output name {name!r} must be a plain file name (no '/'): outputs are written "
            "only inside the output directory"
        )
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SystemkitError(f"output directory {str(out)!r} is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    request = BuildRequest(
        spec=spec,
        base_dir=Path(base_dir),
        formats=tuple(formats),
        out_dir=Path(out_dir),
        name=name,
        arch=arch,
        cache_dir=None if cache_dir is None else Path(cache_dir),
        pull=pull,
        progress=progress,
        quiet=quiet,
    )
    return get_backend(backend, **(backend_options or {})).build(request)
