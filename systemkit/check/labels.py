"""Image labels for the label-dependent rules: from the lock or the local store, never the network.

An image's ``org.mobyproject.config`` label may set default ``capabilities`` and ``binds``
that a container's ``capabilities``/``binds`` replace. The label is known when the system's
``systemkit.lock`` has the image (:mod:`systemkit.images.lock`), or when the image is already
in the local store. Docker's official images (``docker.io/library/...``) are taken to
have no such label (they are not built by ``linuxkit pkg``). Otherwise the label is unknown and
the rules assume it may set defaults.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import attrs

from systemkit.images.lock import CONFIG_FIELDS, Lock


def _store_root() -> Path:
    """Where :meth:`ImageStore.default` keeps images (computed without creating anything)."""
    explicit = os.environ.get("SYSTEMKIT_CACHE")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "systemkit" / "images"


OFFICIAL_PREFIX = "docker.io/library/"
"""Docker official images: never built by ``linuxkit pkg``, so they carry no LinuxKit label."""


@attrs.define
class LabelSource:
    """Looks up image labels in the local store, caching answers; ``use_store=False`` never does.

    :meth:`label` returns the label mapping, ``{}`` for a stored image without a label, and
    ``None`` when the image (or the store) is not available.
    """

    use_store: bool = True
    lock: Lock | None = None
    """Consulted first: the system's lock file."""
    _cache: dict[str, dict[str, Any] | None] = attrs.field(factory=dict)
    _store: Any = None
    _opened: bool = False

    def _open(self) -> Any:
        if not self._opened:
            self._opened = True
            root = _store_root()
            if self.use_store and (root / "index.json").is_file():
                try:
                    from systemkit.images.store import ImageStore

                    self._store = ImageStore(root)
                except Exception:
                    self._store = None
        return self._store

    def label(self, ref: str) -> dict[str, Any] | None:
        if ref in self._cache:
            return self._cache[ref]
        if self.lock is not None and (entry := self.lock.find(ref)) is not None:
            return dict(entry.label or {})
        if ref.startswith(OFFICIAL_PREFIX):
            return {}
        store = self._open()
        found: dict[str, Any] | None = None
        if store is not None:
            try:
                label = store.resolve(ref).label
                found = dict(label) if isinstance(label, dict) else {}
            except Exception:  # not stored, wrong platform, unreadable: unknown
                found = None
        self._cache[ref] = found
        return found

    def image_config(self, ref: str) -> dict[str, Any] | None:
        """``Cmd``, ``Entrypoint``, ``Env``, ``User``, ``WorkingDir`` of the image's config,
        from the lock or the store; None when unknown."""
        if self.lock is not None and (entry := self.lock.find(ref)) is not None:
            return dict(entry.config)
        store = self._open()
        if store is None:
            return None
        try:
            section = store.resolve(ref).config.get("config") or {}
        except Exception:  # not stored, wrong platform, unreadable: unknown
            return None
        return {k: section.get(k) for k in CONFIG_FIELDS}
