"""Argument helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from systemkit.diagnostics import Severity, SystemkitError, UserError
from systemkit.outputs.atomic import special_file, write_file
from systemkit.spec.lowered import Lowered

if TYPE_CHECKING:
    from systemkit.variants.select import Selection


def add_input_arguments(parser: argparse.ArgumentParser, *, many: bool = True) -> None:
    """FILE [FILE ...], ``--system NAME|GLOB`` (repeatable) and, when ``many``, ``--all``:
    a system.py, or LinuxKit YAML files merged in order (see :mod:`systemkit.variants.select`)."""
    parser.add_argument(
        "files",
        metavar="FILE",
        nargs="+",
        type=Path,
        help="a system.py, or one or more LinuxKit .yml files (merged in order, as LinuxKit does)",
    )
    from systemkit.variants.select import add_selection_arguments

    add_selection_arguments(parser, many=many)


def load_input(files: list[Path], system: str | Sequence[str] | None) -> Lowered:
    """Load a command's one system; on errors report every error of the file at once.

    ``system`` is ``--system``'s value (a name, a glob matching one system, or a list of
    them as ``add_input_arguments`` collects them; several must select exactly one system).
    Loading stops at the first kind of problem (value errors, say); the checks are then run
    (without mypy; YAML read leniently) so that the user sees all of the input's errors in one
    go.
    """
    from systemkit.loader import load_lowered

    patterns = [system] if isinstance(system, str) else list(system or [])
    if len(patterns) > 1:
        from systemkit.variants.select import Selection

        chosen = load_many(files, Selection(tuple(patterns)))
        if len(chosen) != 1:
            raise UsageError(f"--system selects {len(chosen)} systems; this command works on one")
        return chosen[0]
    name = patterns[0] if patterns else None
    try:
        return load_lowered(files, name)
    except UserError as exc:
        _explain(files, name, exc)
        raise


def _explain(files: list[Path], name: str | None, exc: UserError) -> None:
    """Raise every error of the input (the checks, without mypy) for the failed load that
    raised ``exc``; a ``system.py`` is not run again (its run is ``exc``'s). Returns when the
    input is neither a system.py nor YAML (``exc`` says it all)."""
    from systemkit.check import check_file
    from systemkit.loader import YAML_SUFFIXES, ran_of

    one_py = len(files) == 1 and files[0].suffix == ".py"
    if not (one_py or (files and all(f.suffix in YAML_SUFFIXES for f in files))):
        return
    found = check_file(files, system=name, mypy=False, ran=ran_of(exc))
    errors = [d for d in found if d.severity is Severity.ERROR]
    raise UserError(errors or exc.diagnostics) from None


def load_many(files: list[Path], selection: Selection) -> list[Lowered]:
    """Load the input once and lower every selected system (``--system``/``--all``).

    On errors every error is reported at once; for a ``system.py`` whose selected systems do
    not lower, the checks of those systems say why (without mypy), each finding once, where
    ``check`` puts it (:func:`systemkit.variants.checks.selected_errors`).
    """
    from systemkit.variants.select import load_selected

    try:
        return load_selected(files, selection)
    except UserError as exc:
        if not (len(files) == 1 and files[0].suffix == ".py") or any(
            d.code in ("SK055", "SK056") for d in exc.diagnostics
        ):
            raise
        from systemkit.loader import ran_of

        if selection.single:
            _explain(files, selection.patterns[0] if selection.patterns else None, exc)
            raise
        from systemkit.variants.checks import selected_errors

        errors = selected_errors(files, selection, ran_of(exc))
        if errors is None:
            raise
        raise errors from None


def output_file_name(name: str) -> str:
    """``name`` when it is usable as one file name inside an output directory."""
    if not name or "/" in name or "\0" in name or name in (".", "..") or name.startswith("."):
        raise SystemkitError(
            f"system name {name!r} cannot name a file in the output directory (no '/', no "
            "leading '.')"
        )
    return name


class UsageError(SystemkitError):
    """The command line asks for something the command cannot do (exit status 2)."""


def write_output(data: bytes, out: Path | None) -> None:
    """Write to ``out`` atomically (temp file + rename), or to stdout when ``out`` is None."""
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    if special_file(out):  # /dev/null, /dev/stdout, a pipe: written into, never replaced
        write_file(out, data)
        return
    out = out.resolve()
    if out.is_dir():
        raise SystemkitError(f"{str(out)!r} is a directory: give a file name to write")
    if not out.parent.is_dir():
        raise SystemkitError(f"directory {str(out.parent)!r} does not exist")
    write_file(out, data)
