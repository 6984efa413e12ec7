"""Backends are found through the ``systemkit.backends`` entry-point group."""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

from systemkit.backends.base import Backend
from systemkit.diagnostics import SystemkitError

GROUP = "systemkit.backends"


class BackendError(SystemkitError):
    """An unknown or broken backend."""


def _entry_points() -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=GROUP):
        found.setdefault(ep.name, ep)
    if "native" not in found:
        found["native"] = EntryPoint(
            name="native", value="systemkit.backends.native:NativeBackend", group=GROUP
        )
    return found


def available_backends() -> list[str]:
    """The names of every installed backend, sorted."""
    return sorted(_entry_points())


def get_backend(name: str) -> Backend:
    """An instance of the backend registered as ``name``."""
    eps = _entry_points()
    ep = eps.get(name)
    if ep is None:
        known = ", ".join(sorted(eps)) or "none"
        raise BackendError(f"unknown backend {name!r} (known backends: {known})")
    try:
        factory = ep.load()
        backend = factory()
    except Exception as exc:
        raise BackendError(f"backend {name!r} ({ep.value}) cannot be loaded: {exc}") from exc
    if not isinstance(backend, Backend):
        raise BackendError(f"backend {name!r} ({ep.value}) does not implement the Backend protocol")
    return backend
