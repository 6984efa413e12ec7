"""The ``systemkit`` command line: thin argument parsing over the library.

Each subcommand lives in its own module under :mod:`systemkit.cli` and exposes ``NAME``,
``HELP``, ``DESCRIPTION``, ``add_arguments(parser)`` and ``run(args) -> int``.

Exit codes: 0 ok, 1 the input has errors (or the build failed), 2 usage errors.
A user error is printed as located diagnostics, never as a Python traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from systemkit.cli.common import UsageError
from systemkit.diagnostics import SystemkitError, UserError
from systemkit.version import __version__

COMMANDS = (
    "lower",
    "check",
    "build",
    "run",
    "import",
    "diff",
    "schema",
    "cache",
    "ls",
    "images",
    "lock",
    "explain",
)
"""Subcommand modules, in the order ``--help`` lists them."""


def _module(name: str) -> ModuleType | None:
    modname = "systemkit.cli.cmd_" + name
    try:
        return importlib.import_module(modname)
    except ModuleNotFoundError as exc:
        if exc.name == modname:
            return None
        raise


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="systemkit",
        description=(
            "Define LinuxKit-style bootable systems in typed Python, check them, lower them to a "
            "canonical spec or LinuxKit YAML, and build them into bootable artifacts."
        ),
        epilog="Run 'systemkit COMMAND --help' for the options of one command.",
    )
    parser.add_argument("--version", action="version", version=f"systemkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        mod = _module(name)
        if mod is None:
            continue
        p = sub.add_parser(
            mod.NAME,
            help=mod.HELP,
            description=getattr(mod, "DESCRIPTION", mod.HELP),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``systemkit`` console script."""
    try:
        parser = build_parser()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        code: int = args._run(args)
        sys.stdout.flush()  # a closed pipe shows here, not as an error at interpreter exit
    except UsageError as exc:
        print(f"systemkit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except UserError as exc:
        print(exc.render(), file=sys.stderr)
        return 1
    except SystemkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _closed_pipe()
    return code


def _closed_pipe() -> int:
    """The reader of our output went away (``systemkit diff ... | head``): stop quietly, as
    other command-line tools do, without a traceback or a second error at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by the closed pipe


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
