"""``systemkit diff``: what differs between two systems, by spec path."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from systemkit.cli.common import load_input
from systemkit.spec.codec import spec_digest
from systemkit.spec.diff import diff_specs

NAME = "diff"
HELP = "show what differs between two systems (two files, or two systems of one file)"
DESCRIPTION = """\
Lower two systems and list their differences by spec path, after normalisation (so a
system.py and the LinuxKit YAML it was imported from show no difference). Containers,
volumes and files are matched by name and path, not by position.

  ~ $.kernel.cmdline: "console=ttyS0" -> "console=ttyAMA0"    changed
  + $.services[name=agent]: {...}                              only in B
  - $.files[path=etc/motd]: {...}                              only in A

Examples:
  systemkit diff examples/variants/system.py --system acme-qemu --system-b acme-aws
  systemkit diff minimal.yml examples/minimal/system.py
  systemkit diff old/system.py new/system.py --exit-code

Exit code: 0 (also when the systems differ, unless --exit-code), 1 on input errors or with
--exit-code when they differ, 2 on usage errors.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", metavar="A", type=Path, help="the first system (system.py or .yml)")
    parser.add_argument(
        "b",
        metavar="B",
        type=Path,
        nargs="?",
        help="the second system (default: A again, to compare two of its systems)",
    )
    parser.add_argument("--system", metavar="NAME", help="which system of A")
    parser.add_argument("--system-b", metavar="NAME", help="which system of B")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--exit-code", action="store_true", help="exit with 1 when the systems differ"
    )


def run(args: argparse.Namespace) -> int:
    a = load_input([args.a], args.system)
    b = load_input([args.b or args.a], args.system_b)
    changes = diff_specs(a.spec, b.spec)
    if args.format == "json":
        print(
            json.dumps(
                [{"kind": c.kind, "path": c.path, "old": c.old, "new": c.new} for c in changes],
                indent=2,
                sort_keys=True,
                ensure_ascii=False,
            )
        )
    elif changes:
        for change in changes:
            print(change.render())
    else:
        print(f"no differences (both {spec_digest(a.spec)})")
    return 1 if (args.exit_code and changes) else 0
