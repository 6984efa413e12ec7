"""The images a command's systems need: shared by ``images``, ``lock`` and ``cache pull``."""

from __future__ import annotations

import argparse
from pathlib import Path

import attrs

from systemkit.cli.common import load_many
from systemkit.cli.locking import with_lock
from systemkit.spec.lowered import Lowered
from systemkit.spec.walk import image_paths


@attrs.frozen
class ImageUse:
    """One image reference and where the selected systems use it."""

    ref: str
    """As lowered (normalised; pinned when a lock applied)."""
    users: tuple[str, ...]
    """``system: spec path`` of each use."""


def selected_systems(args: argparse.Namespace, *, lock: bool = True) -> list[Lowered]:
    """The lowered systems the command's FILE and ``--system``/``--all`` select (the file's
    default system without them), pinned by the lock unless ``lock=False``."""
    from systemkit.variants.select import selection_of

    files = list(args.files)
    many = load_many(files, selection_of(args))
    return [with_lock(lowered, files, args) for lowered in many] if lock else many


def image_uses(systems: list[Lowered]) -> list[ImageUse]:
    """Every image reference of ``systems``, in build order, each once."""
    users: dict[str, list[str]] = {}
    for lowered in systems:
        for path, ref in image_paths(lowered.spec):
            where = f"{lowered.name}: {path}" if lowered.name else path
            users.setdefault(ref, []).append(where)
    return [ImageUse(ref, tuple(u)) for ref, u in users.items()]


def input_files(values: list[Path]) -> bool:
    """Whether command arguments name system files (a system.py or LinuxKit YAML)."""
    return all(Path(v).suffix in (".py", ".yml", ".yaml") for v in values)
