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
from systemkit.model.base import walk_located
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


def selected_errors(paths: Sequence[Path], selection: Selection) -> FindingsError | None:
    """Why the selected systems do not load or lower: the error findings of
    :func:`check_selected` (without mypy), at the argument that made each bad value (where
    ``check --all`` puts them), each once; None when the checks find no error."""
    found, total = check_selected(paths, selection, mypy=False)
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
    systems: Mapping[str, System], collected: Sequence[Diagnostic]
) -> dict[str, list[Diagnostic]]:
    """The value errors collected while the file ran that are about each system: one made by
    a model object's constructor belongs to the systems that contain the object
    (:attr:`~systemkit.model.base.Located.findings`), wherever it is reported (the call or,
    once ``check_loaded`` moved it, the argument); any other (the file's, or an object's that
    no system uses) to every system."""
    owners: dict[int, list[str]] = {}
    if collected:
        for name, system in systems.items():
            for obj in walk_located(system):
                for d in obj.findings:
                    names = owners.setdefault(id(d), [])
                    if not names or names[-1] != name:
                        names.append(name)
    return {name: [d for d in collected if name in owners.get(id(d), (name,))] for name in systems}


def check_selected(
    paths: Sequence[Path],
    selection: Selection,
    *,
    mypy: bool = True,
    formats: Iterable[str] = (),
    labels: LabelSource | None = None,
) -> tuple[list[Finding], int]:
    """Check the selected systems of one ``system.py`` (loaded once): the grouped findings and
    how many systems were checked. LinuxKit YAML is one system."""
    from systemkit.check import suppress
    from systemkit.check.engine import check_file, check_loaded, finish
    from systemkit.loader import load_collecting

    paths = list(paths)
    formats = tuple(formats)
    if len(paths) != 1 or paths[0].suffix != ".py":
        return [Finding(d) for d in check_file(paths, mypy=mypy, formats=formats)], 1
    path = paths[0]
    suppress.reset()
    systems, collected = load_collecting(path)
    if not systems:
        return [Finding(d) for d in finish(collected)], 0
    try:
        names = match_names(list(systems), selection, str(path))
    except UserError as exc:
        return [Finding(d) for d in finish([*collected, *exc.diagnostics])], 0
    owned = collected_by_system(systems, collected)
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
