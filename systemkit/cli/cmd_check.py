"""``systemkit check``: list every problem of a system, each at the user's line."""

from __future__ import annotations

import argparse
import os
import sys

from systemkit.check import check_file, errors_in, render_json, render_sarif, render_text
from systemkit.cli.common import add_input_arguments

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
    diags = check_file(args.files, system=args.system, mypy=not args.no_mypy, formats=formats)
    if args.format == "json":
        sys.stdout.write(render_json(diags))
    elif args.format == "sarif":
        sys.stdout.write(render_sarif(diags))
    else:
        color = args.color == "always" or (
            args.color == "auto" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        )
        sys.stdout.write(render_text(diags, color=color))
    sys.stdout.flush()
    return 1 if errors_in(diags, strict=args.strict) else 0
