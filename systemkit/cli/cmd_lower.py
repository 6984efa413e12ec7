"""``systemkit lower``: print the canonical spec or LinuxKit YAML of a system."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from systemkit.cli.common import add_input_arguments, load_input, write_output
from systemkit.cli.locking import add_lock_arguments, with_lock
from systemkit.spec.codec import spec_bytes, spec_digest

NAME = "lower"
HELP = "print a system's canonical spec (JSON) or its LinuxKit YAML"
DESCRIPTION = """\
Load a system.py (or LinuxKit YAML files) and print what it lowers to:

  json      the canonical spec: versioned, sorted keys, identical bytes on every machine
  linuxkit  LinuxKit YAML that `linuxkit build` accepts

With a systemkit.lock next to the file, every image reference it has is pinned to its
locked digest (`name:tag@sha256:...`); --locked fails when the lock lacks one or disagrees.

Examples:
  systemkit lower examples/minimal/system.py
  systemkit lower examples/minimal/system.py --format linuxkit -o minimal.yml
  systemkit lower examples/variants/system.py --system globex-metal-arm64 --digest
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_arguments(parser)
    parser.add_argument(
        "--format",
        choices=("json", "linuxkit"),
        default="json",
        help="output format (default: json)",
    )
    parser.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")
    parser.add_argument("--digest", action="store_true", help="print only the spec's sha256 digest")
    add_lock_arguments(parser)


def run(args: argparse.Namespace) -> int:
    lowered = with_lock(load_input(args.files, args.system), list(args.files), args)
    for diag in lowered.diagnostics:
        print(diag.render(), file=sys.stderr)
    if args.digest:
        write_output((spec_digest(lowered.spec) + "\n").encode(), args.output)
        return 0
    if args.format == "json":
        data = spec_bytes(lowered.spec)
    else:
        from systemkit.linuxkit.emit import emit_yaml

        data = emit_yaml(lowered.spec).encode()
    write_output(data, args.output)
    return 0
