"""``systemkit ls``: the systems a file defines, with their spec digests."""

from __future__ import annotations

import argparse
import json
import sys

from systemkit.cli.common import add_input_arguments, load_many
from systemkit.spec.codec import spec_digest
from systemkit.variants.select import Selection, selection_of

NAME = "ls"
HELP = "list the systems a system.py defines (name and spec digest)"
DESCRIPTION = """\
Load a system.py once and list every system it defines (module-level System variables and
the entries of a `systems` mapping), in the file's order, each with the sha256 digest of its
canonical spec. Systems with the same digest are the same system (a build makes them once).
--system NAME|GLOB (repeatable) lists only those.

Examples:
  systemkit ls examples/variants/system.py
  systemkit ls examples/variants/system.py --system 'acme-*' --format json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_arguments(parser)
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text (NAME  DIGEST per line, default) or json (a list of {name, digest})",
    )


def run(args: argparse.Namespace) -> int:
    selection = selection_of(args)
    if selection.is_default:
        selection = Selection(all=True)
    rows = [(lw.name or "", spec_digest(lw.spec)) for lw in load_many(args.files, selection)]
    if args.format == "json":
        data = [{"name": name, "digest": digest} for name, digest in rows]
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        width = max((len(name) for name, _ in rows), default=0)
        sys.stdout.write("".join(f"{name:<{width}}  {digest}\n" for name, digest in rows))
    sys.stdout.flush()
    return 0
