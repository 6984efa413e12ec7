"""``check`` over many systems of one file: each finding once, with the systems it affects.

Variants made from the same helper share most of their lines, so a mistake on one line shows
up in every variant built from it. :func:`check_selected` loads the file once, checks every
selected system, and groups equal findings (same code, severity, message, location and hint;
the spec path may differ from variant to variant) into one :class:`Finding` that names the
systems it was found in. mypy runs once for the file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import attrs

from systemkit.check.labels import LabelSource
from systemkit.diagnostics import Diagnostic, Severity, UserError
from systemkit.loader import Ran
from systemkit.model.base import Located, walk_located
from systemkit.model.system import System
from systemkit.variants.select import Selection, match_names


@attrs.frozen
class Finding:
    """One finding and the systems it affects (empty: the file as a whole, e.g. mypy)."""

    diagnostic: Diagnostic
    systems: tuple[str, ...] = ()


class FindingsError(UserError):
    """The errors of several systems, each once, with the systems it affects (what
    ``check --all`` reports, as the error of a command that loads several systems)."""

    def __init__(self, findings: Sequence[Finding], total: int) -> None:
        self.findings = tuple(findings)
        self.total = total
        super().__init__([f.diagnostic for f in self.findings])

    def render(self) -> str:
        from systemkit.check.render import affects

        out = []
        for f in self.findings:
            d = f.diagnostic
            text = attrs.evolve(d, hint=None).render()
            if f.systems:
                text += f"\n  = {affects(f.systems, self.total)}"
            if d.hint:
                text += f"\n  hint: {d.hint}"
            out.append(text)
        return "\n".join(out)


def selected_errors(
    paths: Sequence[Path], selection: Selection, ran: Ran | None = None
) -> FindingsError | None:
    """Why the selected systems do not load or lower: the error findings of
    :func:`check_selected` (without mypy), at the argument that made each bad value (where
    ``check --all`` puts them), each once; None when the checks find no error. ``ran`` is what
    the failed load's run of the file made (reused: the file is not run again)."""
    found, total = check_selected(paths, selection, mypy=False, ran=ran)
    errors = [f for f in found if f.diagnostic.severity is Severity.ERROR]
    return FindingsError(errors, total) if errors else None


def _group_key(d: Diagnostic) -> Diagnostic:
    return attrs.evolve(d, spec_path=None)


def group_findings(per_system: Iterable[tuple[str, Sequence[Diagnostic]]]) -> list[Finding]:
    """Equal findings of several systems merged into one, in report order."""
    order: dict[Diagnostic, Diagnostic] = {}
    systems: dict[Diagnostic, list[str]] = {}
    for name, diags in per_system:
        for d in diags:
            key = _group_key(d)
            if key not in order:
                order[key] = d
                systems[key] = []
            if name not in systems[key]:
                systems[key].append(name)
    found = [Finding(order[k], tuple(systems[k])) for k in order]
    return sorted(found, key=lambda f: f.diagnostic.sort_key())


def collected_by_system(
    systems: Mapping[str, System], collected: Sequence[Diagnostic], among: Iterable[str] = ()
) -> dict[str, list[Diagnostic]]:
    """The value errors collected while the file ran that are about each system of ``among``
    (default: all of ``systems``).

    One made by a model object's constructor (:attr:`~systemkit.model.base.Located.findings`)
    belongs to the systems of ``among`` that contain that object, wherever it is reported
    (the call or, once ``check_loaded`` moved it, the argument). When none of them contains
    it (its object is in a system that was not selected, say a ``base`` that the selected
    ``base + extra`` was made from: the derived system shares the base's parts, not the base),
    it belongs to those that share a part with that object, and failing that to all of them:
    a finding is never lost by the selection. Any other finding (the file's, or an object's
    that no system uses) belongs to every system."""
    names = list(among) or list(systems)
    if not collected:
        return {name: [] for name in names}
    inside = {name: {id(o) for o in walk_located(systems[name])} for name in names}
    owners: dict[int, list[Located]] = {}
    seen: set[int] = set()
    for system in systems.values():
        for obj in walk_located(system):
            if id(obj) not in seen:
                seen.add(id(obj))
                for d in obj.findings:
                    owners.setdefault(id(d), []).append(obj)

    def holders(d: Diagnostic) -> list[str]:
        return [n for n in names if any(id(o) in inside[n] for o in owners.get(id(d), ()))]

    # the same finding (a variant function's call, run for every variant) held by a
    # selected system: the unselected systems' copies of it are not needed
    held = {_same(d) for d in collected if holders(d)}
    out: dict[str, list[Diagnostic]] = {name: [] for name in names}
    for d in collected:
        found = owners.get(id(d))
        if found is None:
            chosen = names
        else:
            chosen = holders(d)
            if not chosen and _same(d) not in held:
                parts = {id(p) for o in found for p in walk_located(o)}
                chosen = [n for n in names if parts & inside[n]] or names
        for name in chosen:
            out[name].append(d)
    return out


def _same(d: Diagnostic) -> tuple[object, ...]:
    return (d.code, d.message, d.location)


def check_selected(
    paths: Sequence[Path],
    selection: Selection,
    *,
    mypy: bool = True,
    formats: Iterable[str] = (),
    labels: LabelSource | None = None,
    ran: Ran | None = None,
) -> tuple[list[Finding], int]:
    """Check the selected systems of one ``system.py`` (loaded once; not at all when ``ran``
    gives what a run of it made): the grouped findings and how many systems were checked.
    LinuxKit YAML is one system."""
    from systemkit.check.engine import check_file, check_loaded, finish
    from systemkit.loader import load_collecting

    paths = list(paths)
    formats = tuple(formats)
    if len(paths) != 1 or paths[0].suffix != ".py":
        return [Finding(d) for d in check_file(paths, mypy=mypy, formats=formats)], 1
    path = paths[0]
    if ran is None:
        ran = load_collecting(path)  # which registers the file's ignore() calls afresh
    systems, collected = ran
    if not systems:
        return [Finding(d) for d in finish(collected)], 0
    try:
        names = match_names(list(systems), selection, str(path))
    except UserError as exc:
        return [Finding(d) for d in finish([*collected, *exc.diagnostics])], 0
    owned = collected_by_system(systems, collected, names)
    per_system = [
        (name, check_loaded(path, name, systems[name], owned[name], formats, labels))
        for name in names
    ]
    found = group_findings(per_system)
    syntax_error = any(f.diagnostic.code == "SK051" for f in found)
    if mypy and not syntax_error:
        from systemkit.check.engine import merge_mypy
        from systemkit.check.mypy_run import run_mypy

        # merge_mypy keeps the findings in place (a mypy error at one's place goes into its
        # hint) and appends the others
        merged = merge_mypy([f.diagnostic for f in found], finish(run_mypy(path)))
        found = [
            Finding(d, found[i].systems if i < len(found) else ()) for i, d in enumerate(merged)
        ]
        found.sort(key=lambda f: f.diagnostic.sort_key())
    return found, len(names)
