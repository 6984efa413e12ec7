"""Backends are found through the ``systemkit.backends`` entry-point group."""

from __future__ import annotations

import inspect
import os
import sys
from importlib.metadata import EntryPoint, entry_points

from systemkit.backends.base import Backend
from systemkit.diagnostics import SystemkitError

GROUP = "systemkit.backends"


class BackendError(SystemkitError):
    """An unknown or broken backend."""


_found: tuple[tuple[str, ...], dict[str, EntryPoint]] | None = None


def _entry_points() -> dict[str, EntryPoint]:
    """The registered backends; the scan of the installed distributions (~10 ms) is done again
    only when ``sys.path`` or one of its directories changed (a build of many systems asks
    once per system; installing a plugin adds a directory to one of them)."""
    global _found
    key = tuple(f"{entry}\0{_mtime(entry)}" for entry in sys.path)
    if _found is None or _found[0] != key:
        _found = (key, _scan())
    return dict(_found[1])


def _mtime(entry: str) -> int:
    try:
        return os.stat(entry or ".").st_mtime_ns
    except OSError:
        return 0


def _scan() -> dict[str, EntryPoint]:
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


def get_backend(name: str, **options: object) -> Backend:
    """An instance of the backend registered as ``name``, made with ``options`` (its
    constructor's keyword arguments: ``get_backend("linuxkit", binary=path)``,
    ``get_backend("native", use_cache=False)``). An option the backend does not take is a
    :class:`BackendError` naming it."""
    eps = _entry_points()
    ep = eps.get(name)
    if ep is None:
        known = ", ".join(sorted(eps)) or "none"
        raise BackendError(f"unknown backend {name!r} (known backends: {known})")
    try:
        factory = ep.load()
    except Exception as exc:
        raise BackendError(f"backend {name!r} ({ep.value}) cannot be loaded: {exc}") from exc
    if options:
        try:
            inspect.signature(factory).bind(**options)
        except TypeError as exc:
            raise BackendError(f"backend {name!r} does not take these options: {exc}") from None
        except ValueError:
            pass  # no signature to check: the call says
    try:
        backend = factory(**options)
    except Exception as exc:
        raise BackendError(f"backend {name!r} ({ep.value}) cannot be loaded: {exc}") from exc
    if not isinstance(backend, Backend):
        raise BackendError(f"backend {name!r} ({ep.value}) does not implement the Backend protocol")
    return backend
