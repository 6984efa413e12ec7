"""``systemkit images``: every image a system needs, its digest and whether the store has it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from systemkit.cli.common import add_input_arguments
from systemkit.cli.locking import add_lock_arguments
from systemkit.cli.systemimages import image_uses, selected_systems

NAME = "images"
HELP = "list the images a system needs: reference, digest, whether the store has them"
DESCRIPTION = """\
List every image the selected system needs (kernel, init, volumes, onboot, onshutdown,
services), each once, with:

  REF      the reference (pinned to the locked digest when systemkit.lock has it)
  DIGEST   the digest it resolves to: from systemkit.lock, else from the image store, else -
  STORED   yes when the image store has it for the architecture, else no
  USED BY  the parts of the system that use it

Nothing is fetched: `systemkit cache pull FILE` fetches the missing images, `systemkit lock
FILE` records what the references mean.

Examples:
  systemkit images examples/hello/system.py
  systemkit images examples/variants/system.py --system acme-qemu --json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_arguments(parser)
    parser.add_argument("--cache", type=Path, metavar="DIR", help="image store directory")
    parser.add_argument("--arch", help="architecture (default: this machine's)")
    parser.add_argument("--json", action="store_true", help="one JSON object per image")
    add_lock_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from systemkit.images.errors import ImageError
    from systemkit.images.lock import lock_path, read_lock
    from systemkit.images.store import ImageStore

    systems = selected_systems(args)
    lock = None if args.no_lock else read_lock(lock_path(args.files))
    store = ImageStore(args.cache) if args.cache else ImageStore.default()
    rows = []
    for use in image_uses(systems):
        entry = lock.find(use.ref) if lock is not None else None
        digest = entry.digest if entry is not None else None
        try:
            resolved = store.resolve(use.ref, args.arch)
            stored = True
            digest = digest or str(resolved.root.get("digest"))
        except ImageError:
            stored = False
        rows.append({"ref": use.ref, "digest": digest, "stored": stored, "usedBy": list(use.users)})
    if args.json:
        for row in rows:
            sys.stdout.write(json.dumps(row, sort_keys=True) + "\n")
        return 0
    width = max([len(str(r["ref"])) for r in rows] + [3])
    print(f"{'REF':<{width}}  {'DIGEST':<19}  STORED  USED BY")
    for row in rows:
        digest = str(row["digest"] or "-")[:19]
        have = "yes" if row["stored"] else "no"
        used = ", ".join(row["usedBy"])  # type: ignore[arg-type]
        print(f"{row['ref']:<{width}}  {digest:<19}  {have:<6}  {used}")
    missing = sum(1 for r in rows if not r["stored"])
    if missing:
        print(
            f"{missing} of {len(rows)} images are not in the store "
            f"(fetch them: systemkit cache pull {' '.join(map(str, args.files))})",
            file=sys.stderr,
        )
    return 0
