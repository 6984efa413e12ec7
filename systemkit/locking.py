"""Lowering with a lock: every image reference of a spec pinned to the digest the lock has.

``pin(lowered, lock, locked=...)`` rewrites ``image: linuxkit/getty:TAG`` into
``linuxkit/getty:TAG@sha256:...`` (the reference keeps its tag, LinuxKit accepts both). With
``locked=True`` a reference the lock lacks is an error (SK630), and so is a lock that
disagrees with the system (SK631: the reference names another digest, or the lock has no
manifest for the platform built for); each names the reference at the user's line.
"""

from __future__ import annotations

from typing import Any

import attrs

from systemkit import codes
from systemkit.diagnostics import Diagnostic, Severity, UserError
from systemkit.images.lock import LOCK_FILE, Lock
from systemkit.images.ref import ImageRef
from systemkit.spec import types as st
from systemkit.spec.lowered import Lowered
from systemkit.spec.walk import image_paths

NOT_LOCKED = codes.NOT_LOCKED.code
LOCK_DISAGREES = codes.LOCK_DISAGREES.code


def _replace(spec: st.Spec, path: str, ref: str) -> st.Spec:
    if path == "$.kernel.image":
        assert spec.kernel is not None
        return attrs.evolve(spec, kernel=attrs.evolve(spec.kernel, image=ref))
    head, _, rest = path[2:].partition("[")
    index = int(rest.split("]", 1)[0])
    items = list(getattr(spec, head))
    if head == "init":
        items[index] = ref
    else:
        items[index] = attrs.evolve(items[index], image=ref)
    changes: dict[str, Any] = {head: items}
    return attrs.evolve(spec, **changes)


def pin(lowered: Lowered, lock: Lock, *, locked: bool = False, arch: str | None = None) -> Lowered:
    """``lowered`` with every reference the lock knows pinned to its locked digest.

    Raises :class:`UserError` (every problem at once) when ``locked`` and the lock lacks a
    reference or disagrees with it.
    """
    spec = lowered.spec
    problems: list[Diagnostic] = []

    def problem(code: str, path: str, message: str, hint: str) -> None:
        problems.append(
            Diagnostic(code, Severity.ERROR, message, lowered.location_of(path), path, hint)
        )

    for path, ref in image_paths(spec):
        entry = lock.find(ref)
        if entry is None:
            if locked:
                problem(
                    NOT_LOCKED,
                    path,
                    f"image {ref} is not in {LOCK_FILE}",
                    "run `systemkit lock FILE` to add it (or drop --locked)",
                )
            continue
        own = ImageRef.parse(ref).digest if "@" in ref else None
        if own is not None and own != entry.digest:
            if locked:
                problem(
                    LOCK_DISAGREES,
                    path,
                    f"image {ref} names {own}, but {LOCK_FILE} has {entry.digest} for it",
                    f"run `systemkit lock FILE --update {ref}`",
                )
            continue
        if locked and arch is not None:
            from systemkit.images import mediatypes as mt

            want = f"linux/{mt.normalise_arch(arch)}"
            if not any(p == want or p.startswith(want + "/") for p in entry.platforms):
                problem(
                    LOCK_DISAGREES,
                    path,
                    f"{LOCK_FILE} has no {want} manifest for image {ref} "
                    f"(it has: {', '.join(sorted(entry.platforms)) or 'none'})",
                    f"run `systemkit lock FILE --update {ref}`, or build for a locked platform",
                )
                continue
        if own is None:
            spec = _replace(spec, path, entry.pinned)
    if problems:
        raise UserError(problems)
    return attrs.evolve(lowered, spec=spec)
