"""``systemkit check``: list every problem of a system, each at the user's line."""

from __future__ import annotations

import argparse
import os
import sys

from systemkit.check import check_file, errors_in, render_json, render_sarif, render_text
from systemkit.cli.common import add_input_arguments
from systemkit.diagnostics import Diagnostic, Severity
from systemkit.variants.select import selection_of

NAME = "check"
HELP = "report every mistake in a system.py or LinuxKit YAML, at its line, before building"
DESCRIPTION = """\
Check a system.py (or LinuxKit YAML files) without building anything: every rule of the
catalogue (docs/checks.md), plus mypy --strict on a system.py, all reported in one run,
sorted by location, each at the line and column that caused it.

Exit status: 1 when there is an error (or a warning, with --strict), 0 otherwise.
Silence one finding with a `# systemkit: ignore[SK210]` comment on its line, a whole code
with --ignore SK210, and everything below a severity with --min-severity warning.

Examples:
  systemkit check system.py
  systemkit check system.py --format sarif > systemkit.sarif
  systemkit check system.py --ignore SK280 --min-severity warning
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
        "--ignore",
        metavar="SKnnn",
        action="append",
        default=[],
        type=_code,
        help="leave out the findings of this code (repeatable; e.g. --ignore SK280); they do not "
        "count for the exit status either",
    )
    parser.add_argument(
        "--min-severity",
        choices=("info", "warning", "error"),
        default="info",
        help="show only findings of this severity or above (default: info, i.e. all); the ones "
        "left out do not count for the exit status",
    )
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the text output (default: when writing to a terminal)",
    )


def _code(text: str) -> str:
    from systemkit import codes

    code = text.strip().upper()
    if code not in codes.CODES:
        known = sorted(codes.CODES)
        import difflib

        close = difflib.get_close_matches(code, known, n=3, cutoff=0.6)
        also = f" (did you mean {', '.join(close)}?)" if close else ""
        raise argparse.ArgumentTypeError(f"{text!r} is no systemkit code{also}; see docs/checks.md")
    return code


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


def kept(diag: Diagnostic, ignore: list[str], min_severity: str) -> bool:
    """Whether ``--ignore`` and ``--min-severity`` leave ``diag`` in the report."""
    return diag.code not in ignore and _RANK[diag.severity] >= _RANK[Severity(min_severity)]


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
    keep = [kept(d, args.ignore, args.min_severity) for d in diags]
    diags = [d for d, k in zip(diags, keep, strict=True) if k]
    if systems is not None:
        systems = [s for s, k in zip(systems, keep, strict=True) if k]
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
