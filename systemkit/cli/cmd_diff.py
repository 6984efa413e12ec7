"""``systemkit diff``: what differs between two systems, by spec path."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from systemkit.cli.common import UsageError, load_input, load_many
from systemkit.spec.codec import spec_digest
from systemkit.spec.diff import diff_specs
from systemkit.spec.lowered import Lowered
from systemkit.variants.select import selection_of

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
  systemkit diff examples/variants/system.py --all
  systemkit diff examples/variants/system.py --system 'acme-*'

Several systems of one file (--all, a glob, a repeated --system) are summarised instead: each
spec path that varies across them, how many distinct values it takes and in how many systems
it is present; lists of plain values also show the items added or removed compared with the
first selected system that has the list (`+ $.init[4]: ...`).

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
    parser.add_argument(
        "--system",
        metavar="NAME",
        action="append",
        default=[],
        help="which system of A; a glob or a repeated --system (or --all) summarises what "
        "varies across the selected systems instead",
    )
    parser.add_argument(
        "--all", action="store_true", help="summarise what varies across every system of A"
    )
    parser.add_argument("--system-b", metavar="NAME", help="which system of B")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--exit-code", action="store_true", help="exit with 1 when the systems differ"
    )


def run(args: argparse.Namespace) -> int:
    selection = selection_of(args)
    if args.b is not None and not selection.single:
        raise UsageError("--all and globs summarise the systems of one file: give only A")
    if not selection.single:
        if args.system_b:
            raise UsageError("--system-b compares two systems; it cannot go with --all or a glob")
        return _summary(args, load_many([args.a], selection))
    name = selection.patterns[0] if selection.patterns else None
    a = load_input([args.a], name)
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


def _summary(args: argparse.Namespace, many: list[Lowered]) -> int:
    from systemkit.variants.vary import variations

    found = variations([lw.spec for lw in many])
    digests = {spec_digest(lw.spec) for lw in many}
    if args.format == "json":
        data = {
            "systems": [lw.name for lw in many],
            "distinct_specs": len(digests),
            "variations": [
                {
                    "path": v.path,
                    "values": v.values,
                    "present": v.present,
                    "of": v.of,
                    "items": [
                        {"kind": i.kind, "path": i.path, "value": i.value, "systems": i.systems}
                        for i in v.items
                    ],
                }
                for v in found
            ],
        }
        print(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))
    else:
        print(
            f"{len(many)} systems, {len(digests)} distinct specs; {len(found)} spec paths vary "
            "(list items compared with the first system that has the list):"
        )
        for v in found:
            print("  " + v.render())
            for item in v.items:
                print(
                    f"    {item.kind} {item.path}: {_show(item.value)} "
                    f"({item.systems} system{'s' if item.systems != 1 else ''})"
                )
    return 1 if (args.exit_code and found) else 0


def _show(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
