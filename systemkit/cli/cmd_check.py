"""``systemkit check``: list every problem of a system, each at the user's line."""

from __future__ import annotations

import argparse
import os
import sys

from systemkit.check import check_file, errors_in, render_json, render_sarif, render_text
from systemkit.cli.common import add_input_arguments
from systemkit.variants.select import selection_of

NAME = "check"
HELP = "report every mistake in a system.py or LinuxKit YAML, at its line, before building"
DESCRIPTION = """\
Check a system.py (or LinuxKit YAML files) without building anything: every rule of the
catalogue (docs/checks.md), plus mypy --strict on a system.py, all reported in one run,
sorted by location, each at the line and column that caused it.

Exit status: 1 when there is an error (or a warning, with --strict), 0 otherwise.
Silence one finding with a `# systemkit: ignore[SK210]` comment on its line.

Examples:
  systemkit check system.py
  systemkit check system.py --format sarif > systemkit.sarif
  systemkit check linuxkit.yml platform-qemu.yml --format-target kernel+initrd
  systemkit check examples/variants/system.py --all --no-mypy

Several systems (--all, a glob, a repeated --system) are loaded once and checked one by one;
a finding that several of them share (the same line, the same mistake) is reported once and
says how many systems it affects and which (`= affects 7 of 10 systems: ...`; in JSON a
"systems" list, in SARIF properties.systems).
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_arguments(parser)
    parser.add_argument(
        "--format",
        choices=("text", "json", "sarif"),
        default="text",
        help="text (compiler style, default), json (one object per line), sarif (SARIF 2.1.0)",
    )
    parser.add_argument("--no-mypy", action="store_true", help="skip the mypy type check")
    parser.add_argument("--strict", action="store_true", help="warnings are fatal too")
    parser.add_argument(
        "--format-target",
        metavar="F",
        action="append",
        default=[],
        help="an output format the system will be built as (repeatable; e.g. kernel+initrd): "
        "bootable formats need a kernel",
    )
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the text output (default: when writing to a terminal)",
    )


def run(args: argparse.Namespace) -> int:
    formats = [f for item in args.format_target for f in item.split(",") if f]
    selection = selection_of(args)
    systems: list[tuple[str, ...]] | None = None
    total = 1
    if selection.single:
        name = selection.patterns[0] if selection.patterns else None
        diags = check_file(args.files, system=name, mypy=not args.no_mypy, formats=formats)
    else:
        from systemkit.variants.checks import check_selected

        found, total = check_selected(args.files, selection, mypy=not args.no_mypy, formats=formats)
        diags = [f.diagnostic for f in found]
        systems = [f.systems for f in found]
    if args.format == "json":
        sys.stdout.write(render_json(diags, systems))
    elif args.format == "sarif":
        sys.stdout.write(render_sarif(diags, systems=systems))
    else:
        color = args.color == "always" or (
            args.color == "auto" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        )
        sys.stdout.write(render_text(diags, color=color, systems=systems, total=total))
    sys.stdout.flush()
    return 1 if errors_in(diags, strict=args.strict) else 0
