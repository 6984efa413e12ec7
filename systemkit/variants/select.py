"""Choosing systems from a file that defines many: by name, by glob, or all of them.

Every command that works on the systems of one ``system.py`` (``lower``, ``check``, ``build``,
``diff``, ``ls``, and the image commands) selects them through this module, so they all accept
the same ``--system NAME|GLOB`` (repeatable) and ``--all``, load the file **once**, and report a
name that matches nothing with at most three "did you mean" suggestions.

* :func:`match_names` is the pure selection rule over a list of names;
* :func:`load_selected` loads a ``system.py`` (or LinuxKit YAML files) once and lowers the
  selected systems, in the file's order;
* :func:`add_selection_arguments` / :func:`selection_of` are the argparse side.

Names are the systems' names as :func:`systemkit.loader.load` returns them (module variables and
``systems`` keys). A pattern is a glob when it holds ``*``, ``?`` or ``[``; a glob that matches
nothing is an error too (a typo must not silently select nothing).
"""

from __future__ import annotations

import argparse
import difflib
import fnmatch
from collections.abc import Iterable, Sequence
from pathlib import Path

import attrs

from systemkit.diagnostics import Diagnostic, Severity, UserError
from systemkit.spec.lowered import Lowered

MAX_SUGGESTIONS = 3
"""At most this many "did you mean" names for a name that matches nothing."""
MAX_LISTED = 3
"""A message that names a file's systems shows at most this many (``systemkit ls`` has all)."""

_GLOB_CHARS = frozenset("*?[")


@attrs.frozen
class Selection:
    """What the user asked for: ``patterns`` (names or globs, in order) or ``all``.

    An empty selection (no pattern, not ``all``) means the file's default system: its only
    one, or the one called ``system``.
    """

    patterns: tuple[str, ...] = ()
    all: bool = False

    @property
    def is_default(self) -> bool:
        return not self.patterns and not self.all

    @property
    def single(self) -> bool:
        """Whether at most one system can be selected (no ``--all``, one plain name)."""
        return not self.all and (
            not self.patterns or (len(self.patterns) == 1 and not is_glob(self.patterns[0]))
        )


def is_glob(pattern: str) -> bool:
    return any(c in _GLOB_CHARS for c in pattern)


def suggestions(name: str, names: Iterable[str]) -> list[str]:
    """The (at most three) names closest to ``name``."""
    pool = list(names)
    close = difflib.get_close_matches(name, pool, n=MAX_SUGGESTIONS, cutoff=0.6)
    if not close:
        low = name.lower()
        close = [n for n in pool if low in n.lower() or n.lower() in low][:MAX_SUGGESTIONS]
    return close


def listed(names: Sequence[str]) -> str:
    """``a, b, c`` or ``a, b, c and 997 more``: never the whole of a long list."""
    ordered = sorted(names)
    if len(ordered) <= MAX_LISTED:
        return ", ".join(ordered)
    return f"{', '.join(ordered[:MAX_LISTED])} and {len(ordered) - MAX_LISTED} more"


def _no_match(pattern: str, names: Sequence[str], source: str) -> Diagnostic:
    if is_glob(pattern):
        message = f"{source}: no system matches {pattern!r} ({len(names)} systems: {listed(names)})"
        hint = "`systemkit ls FILE` lists every system"
    else:
        message = f"{source} has no system named {pattern!r}"
        close = suggestions(pattern, names)
        hint = (
            "did you mean " + ", ".join(repr(c) for c in close) + "?"
            if close
            else f"it has {len(names)}: {listed(names)} (`systemkit ls FILE` lists them)"
        )
    return Diagnostic("SK055", Severity.ERROR, message, hint=hint)


def match_names(names: Sequence[str], selection: Selection, source: str = "the input") -> list[str]:
    """The names ``selection`` picks from ``names``, in the order of ``names``.

    Raises :class:`UserError` (every pattern that matches nothing, each with suggestions, in
    one run) or, for a default selection among several systems none of which is called
    ``system``, SK056.
    """
    if selection.all:
        return list(names)
    if selection.is_default:
        if len(names) == 1:
            return list(names)
        if "system" in names:
            return ["system"]
        raise UserError(
            Diagnostic(
                "SK056",
                Severity.ERROR,
                f"{source} defines several systems ({listed(names)}): choose with "
                "--system NAME (a name or a glob, repeatable) or --all",
                hint="`systemkit ls FILE` lists them",
            )
        )
    chosen: set[str] = set()
    errors: list[Diagnostic] = []
    known = set(names)
    for pattern in selection.patterns:
        if is_glob(pattern):
            found = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
        else:
            found = [pattern] if pattern in known else []
        if not found:
            errors.append(_no_match(pattern, names, source))
        chosen.update(found)
    if errors:
        raise UserError(errors)
    return [n for n in names if n in chosen]


def load_selected(paths: Sequence[Path], selection: Selection = Selection()) -> list[Lowered]:
    """Load the input once and lower the selected systems (in the file's order).

    The input is one ``system.py`` or LinuxKit YAML files merged in order (one system, named
    after the first file). Raises :class:`UserError` with every problem found: loading errors,
    patterns that match nothing, and the lowering errors of every selected system.
    """
    from systemkit.loader import LoadError, load_collecting, load_lowered, output_name
    from systemkit.model.lower import lower

    paths = list(paths)
    if len(paths) != 1 or paths[0].suffix != ".py":
        # LinuxKit YAML is one system (--system is refused there); anything else gets the
        # usual "give one system.py" error
        return [load_lowered(paths, selection.patterns[0] if selection.patterns else None)]
    path = paths[0]
    ran = systems, errors = load_collecting(path)
    if errors:
        raise LoadError(errors, ran)
    try:
        chosen = match_names(list(systems), selection, str(path))
    except UserError as exc:
        raise LoadError(exc.diagnostics, ran) from None
    base = path.resolve().parent
    out: list[Lowered] = []
    problems: list[Diagnostic] = []
    for name in chosen:
        try:
            out.append(lower(systems[name], base_dir=base, name=output_name(path, name)))
        except UserError as exc:
            problems.extend(exc.diagnostics)
    if problems:
        raise LoadError(problems, ran)
    return out


def add_selection_arguments(parser: argparse.ArgumentParser, *, many: bool = True) -> None:
    """``--system NAME|GLOB`` (repeatable) and, when ``many``, ``--all``."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--system",
        metavar="NAME",
        action="append",
        default=[],
        help="which system of a system.py that defines several: a name or a glob "
        "('acme-*'); repeat it to select several"
        if many
        else "which system of a system.py that defines several",
    )
    if many:
        group.add_argument(
            "--all", action="store_true", help="every system the file defines (loaded once)"
        )


def selection_of(args: argparse.Namespace) -> Selection:
    """The :class:`Selection` of parsed ``--system``/``--all`` arguments."""
    patterns = args.system or []
    if isinstance(patterns, str):
        patterns = [patterns]
    return Selection(tuple(patterns), bool(getattr(args, "all", False)))
