"""``systemkit lock``: write ``systemkit.lock`` next to a system file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from systemkit.cli.common import add_input_arguments
from systemkit.cli.systemimages import image_uses, selected_systems

NAME = "lock"
HELP = "record what every image reference means in systemkit.lock (digests, label, config)"
DESCRIPTION = """\
Write systemkit.lock next to FILE: for every image reference of the selected system, the
digest of the index (or manifest) it names, each platform's manifest digest, and the image
config's org.mobyproject.config label and Cmd/Entrypoint/Env/User/WorkingDir. The format is
JSON, sorted, one fact per line (docs/images.md), so a change reads well in a diff.

Entries already in the lock are kept (an image is asked for again only with --update); with
--all the lock then holds exactly the images of every system of the file (others are dropped).
A new reference is taken from the image store when it has it, else from its registry (only
manifests and the config are fetched). Every image that cannot be locked is listed at once.

With the lock in place, `lower`, `build`, `check` and `images` pin every reference to its
locked digest; `build --locked` fails when the lock lacks an image or disagrees.

Examples:
  systemkit lock examples/hello/system.py
  systemkit lock examples/variants/system.py --all         # one lock for every variant
  systemkit lock system.py --update                      # ask the registries again for all
  systemkit lock system.py --update linuxkit/getty       # only this image (any tag)
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_arguments(parser)
    parser.add_argument(
        "--update",
        nargs="*",
        metavar="IMAGE",
        help="refresh these images from their registries (a reference, or a name for every "
        "tag of it); with no IMAGE, all of them. Put it after FILE.",
    )
    parser.add_argument("--cache", type=Path, metavar="DIR", help="image store directory")
    parser.add_argument(
        "--arch",
        help="architecture whose config and label are recorded (default: amd64, else the "
        "image's first linux platform: the same lock on every machine)",
    )
    parser.add_argument(
        "--insecure-registry",
        metavar="HOST",
        action="append",
        default=[],
        help="registry HOST[:PORT] to speak plain HTTP to (repeatable)",
    )


def _matches(ref: str, wanted: str) -> bool:
    from systemkit.images.ref import ImageRef
    from systemkit.images.store import normalise_ref

    try:
        parsed = ImageRef.parse(normalise_ref(wanted))
    except Exception:
        return False
    have = ImageRef.parse(ref)
    if str(parsed) == ref:
        return True
    return parsed.tag in (None, "latest") and "@" not in wanted and parsed.name == have.name


def run(args: argparse.Namespace) -> int:
    from systemkit.diagnostics import SystemkitError
    from systemkit.images.lock import LockedImage, lock_images, lock_path, read_lock, write_lock
    from systemkit.images.store import ImageStore

    refs = [u.ref for u in image_uses(selected_systems(args, lock=False))]
    path = lock_path(args.files)
    previous = read_lock(path)
    update: list[str] | None = None
    if args.update is not None:
        update = []
        for wanted in args.update:
            hits = [r for r in refs if _matches(r, wanted)]
            if not hits:
                raise SystemkitError(f"--update {wanted}: the system uses no such image")
            update.extend(hits)
    store = ImageStore(args.cache) if args.cache else ImageStore.default()

    def report(entry: LockedImage, source: str) -> None:
        print(f"locked {entry.ref} {entry.digest} (from the {source})", file=sys.stderr)

    lock = lock_images(
        refs,
        store,
        arch=args.arch,
        previous=previous,
        update=update,
        prune=bool(getattr(args, "all", False)),
        insecure=args.insecure_registry,
        on_entry=report,
    )
    write_lock(path, lock)
    print(path)
    return 0
