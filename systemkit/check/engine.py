"""Running the checks: on a lowered system (:func:`run_checks`), on input files
(:func:`check_file`, which also loads, lowers and runs mypy), and as the build's gate
(:func:`gate`)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from systemkit.check import (
    compat,
    defaults,
    files,
    mounts,
    names,
    process,
    refs,
    sysctls,
    system,
    values,
)
from systemkit.check.catalogue import MYPY_CODE
from systemkit.check.context import Context
from systemkit.check.labels import LabelSource
from systemkit.check.locate import Lines, Locator
from systemkit.check.suppress import is_suppressed
from systemkit.diagnostics import Diagnostic, Severity, UserError, collecting
from systemkit.location import Location
from systemkit.model.system import System
from systemkit.spec.lowered import Lowered

if TYPE_CHECKING:
    from systemkit.loader import Ran

ALL_RULES = (
    *values.RULES,
    *names.RULES,
    *defaults.RULES,
    *mounts.RULES,
    *refs.RULES,
    *files.RULES,
    *process.RULES,
    *sysctls.RULES,
    *system.RULES,
    *compat.RULES,
)
"""Every rule function, each taking a :class:`Context`."""


def finish(diags: Iterable[Diagnostic], lowered: Lowered | None = None) -> list[Diagnostic]:
    """Drop suppressed and repeated findings; sort by location, then code."""
    out: list[Diagnostic] = []
    seen: set[object] = set()
    lines = Lines()
    locations = lowered.locations if lowered is not None else None
    for d in diags:
        # One finding per mistake: the same code at the same place is the same mistake (the
        # YAML reader and a rule, say); the first one made is kept.
        key = (d.code, d.location) if d.location is not None else d
        if key in seen or is_suppressed(d, locations, lines):
            continue
        seen.add(key)
        out.append(d)
    return sorted(out, key=Diagnostic.sort_key)


def run_checks(
    lowered: Lowered,
    *,
    formats: Iterable[str] = (),
    labels: LabelSource | None = None,
) -> list[Diagnostic]:
    """Every semantic finding about ``lowered``, sorted by location (all of them, at once).

    ``formats`` are the output formats a build asks for (a bootable one needs a kernel).
    ``labels`` looks image labels up in the local store (default); never the network.
    Findings made while lowering or parsing (``lowered.diagnostics``) are included.
    """
    ctx = Context(lowered, tuple(formats), labels or LabelSource())
    for rule in ALL_RULES:
        try:
            rule(ctx)
        except Exception as exc:  # a malformed spec (wrong types): say so, check the rest
            ctx.found.append(
                Diagnostic(
                    "SK295",
                    Severity.ERROR,
                    f"check {rule.__name__} could not run on this system: "
                    f"{type(exc).__name__}: {exc}",
                    lowered.location_of("$"),
                    "$",
                    "a value has the wrong type; run with mypy (SK000) to find it",
                )
            )
    return finish([*lowered.diagnostics, *ctx.found], lowered)


def merge_constructor_findings(
    spec_level: Sequence[Diagnostic], collected: Sequence[Diagnostic], lowered: Lowered
) -> list[Diagnostic]:
    """Constructor-collected value errors not already found by the spec-level rules.

    The same mistake is found twice: by the model constructor (at the constructor call) and by
    the spec-level rule (at the exact element). A collected finding is dropped when a spec-level
    finding has its code and either the same location or the same located owning object.
    """
    locator = Locator(lowered)
    covered: set[tuple[str, object]] = set()
    for d in spec_level:
        covered.add((d.code, d.location))
        if d.spec_path:
            found = locator.anchor(d.spec_path)
            if found is not None:
                covered.add((d.code, found[1]))
    kept = [d for d in collected if (d.code, d.location) not in covered]
    return kept


SUPERSEDED_BY = {"SK225": "SK104", "SK243": "SK103"}
"""A spec-level finding dropped when the model constructor already reported this other one for
the same object: the model refuses a relative mount destination (YAML only warns), and a file
whose mode the model refused is lowered without a mode (its parent-mode warning would talk
about a default mode the user did not ask for)."""


def drop_superseded(
    spec_level: Sequence[Diagnostic], collected: Sequence[Diagnostic], lowered: Lowered
) -> list[Diagnostic]:
    """``spec_level`` without findings that a collected constructor error supersedes."""
    locator = Locator(lowered)
    stricter = {(d.code, d.location) for d in collected}
    out = []
    for d in spec_level:
        over = SUPERSEDED_BY.get(d.code)
        found = locator.anchor(d.spec_path) if over and d.spec_path else None
        if over and found is not None and (over, found[1]) in stricter:
            continue
        out.append(d)
    return out


def errors_in(diags: Iterable[Diagnostic], *, strict: bool = False) -> list[Diagnostic]:
    """The findings that stop a build: errors, and warnings too when ``strict``."""
    fatal = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
    return [d for d in diags if d.severity in fatal]


def gate(
    lowered: Lowered,
    *,
    formats: Iterable[str] = (),
    strict: bool = False,
    labels: LabelSource | None = None,
) -> list[Diagnostic]:
    """The build's gate: run the checks; raise :class:`UserError` listing every finding when
    any is an error (or, with ``strict``, a warning). Returns the findings otherwise (the
    caller prints the warnings and infos)."""
    diags = run_checks(lowered, formats=formats, labels=labels)
    if errors_in(diags, strict=strict):
        raise UserError(diags)
    return diags


def labels_for(paths: Sequence[Path], store: Path | None = None) -> LabelSource:
    """Where the checks of input ``paths`` learn about images: the ``systemkit.lock`` next to
    them (when there is one and it reads), then the image store (``store``, or the default)."""
    from systemkit.images.lock import LockError, lock_path, read_lock

    try:
        lock = read_lock(lock_path(paths))
    except LockError:
        lock = None  # `systemkit lock`/`--locked` report it; checking goes on without it
    if store is None:
        return LabelSource(lock=lock)
    from systemkit.images.store import ImageStore

    if not (store / "index.json").is_file():
        return LabelSource(use_store=False, lock=lock)
    return LabelSource(lock=lock, store=ImageStore(store), opened=True)


def check_file(
    paths: list[Path],
    *,
    system: str | None = None,
    mypy: bool = True,
    formats: Iterable[str] = (),
    labels: LabelSource | None = None,
    ran: Ran | None = None,
) -> list[Diagnostic]:
    """Check input files: one ``system.py`` or LinuxKit YAML files (merged in order).

    ``ran``: what a run of the ``system.py`` already made (a failed load's), used instead of
    running the file again.

    ``labels`` (default: :func:`labels_for` the paths) tells the rules what the images hold.
    Loads the input collecting every value error, lowers it, runs every rule, and (for a
    ``system.py``, unless ``mypy=False``) runs mypy on it; returns all findings sorted. Never
    raises for a mistake in the input: that is a finding.
    """
    from systemkit.loader import YAML_SUFFIXES

    if labels is None and paths:
        labels = labels_for(paths)
    if paths and all(p.suffix in YAML_SUFFIXES for p in paths):
        return _check_yaml(paths, formats, labels)
    if len(paths) != 1 or paths[0].suffix != ".py":
        shown = ", ".join(map(str, paths)) or "none"
        return [
            Diagnostic(
                "SK057",
                Severity.ERROR,
                f"give one system.py, or one or more LinuxKit .yml files (got: {shown})",
            )
        ]
    diags = _check_python(paths[0], system, formats, labels, ran)
    syntax_error = any(d.code == "SK051" for d in diags)  # mypy would only repeat it
    if mypy and paths[0].exists() and not syntax_error:
        from systemkit.check.mypy_run import run_mypy

        diags = merge_mypy(diags, run_mypy(paths[0]))
    return finish(diags)


_KEYWORD = re.compile(r'keyword argument "([A-Za-z_][A-Za-z0-9_]*)"')


def _same_place(a: Location, b: Location) -> bool:
    return a.line == b.line and os.path.abspath(a.file) == os.path.abspath(b.file)


def merge_mypy(diags: Sequence[Diagnostic], found: Sequence[Diagnostic]) -> list[Diagnostic]:
    """``diags`` plus mypy's findings, one finding per mistake: a mypy error at the place of a
    systemkit error (same line and column; for an unknown keyword, mypy's call line and the
    keyword's name) is folded into that finding's hint instead of being reported again."""
    out = list(diags)
    for m in found:
        loc = m.location
        keyword = _KEYWORD.search(m.message)
        match = None
        for i, d in enumerate(out):
            if d.code == MYPY_CODE or d.severity is not Severity.ERROR or d.location is None:
                continue
            if loc is None or not _same_place(d.location, loc):
                continue
            if d.location.column == loc.column or (
                keyword is not None and d.code == "SK123" and f"'{keyword[1]}'" in d.message
            ):
                match = i
                break
        if match is None:
            out.append(m)
            continue
        d = out[match]
        if keyword is None:  # mypy's wording of an unknown keyword adds nothing to ours
            note = m.message
            out[match] = attrs.evolve(d, hint=f"{d.hint}\n{note}" if d.hint else note)
    return out


def _check_yaml(
    paths: list[Path], formats: Iterable[str], labels: LabelSource | None
) -> list[Diagnostic]:
    from systemkit.linuxkit.parse import parse_files

    try:
        lowered = parse_files(paths, lenient=True)
    except UserError as exc:
        return finish(exc.diagnostics)
    return run_checks(lowered, formats=formats, labels=labels)


def _check_python(
    path: Path,
    name: str | None,
    formats: Iterable[str],
    labels: LabelSource | None,
    ran: Ran | None = None,
) -> list[Diagnostic]:
    from systemkit.loader import load_collecting, select

    if ran is None:
        ran = load_collecting(path)  # which registers the file's ignore() calls afresh
    systems, collected = ran
    if not systems:
        return finish(collected)
    try:
        chosen_name, chosen = select(systems, name, path)
    except UserError as exc:
        return finish([*collected, *exc.diagnostics])
    return check_loaded(path, chosen_name, chosen, collected, formats, labels)


def check_loaded(
    path: Path,
    chosen_name: str,
    chosen: System,
    collected: Sequence[Diagnostic],
    formats: Iterable[str] = (),
    labels: LabelSource | None = None,
) -> list[Diagnostic]:
    """The findings of one system of a ``system.py`` that is already loaded (``collected``:
    the value errors found while loading it), without mypy. ``check --all`` loads once and
    calls this for every selected system."""
    from systemkit.model.lower import lower

    base = path.resolve().parent
    lowering_errors: list[Diagnostic] = []
    try:
        try:
            lowered = lower(chosen, base_dir=base, name=chosen_name)
        except UserError as exc:
            lowering_errors = list(exc.diagnostics)
            lowered = lower(_without_missing_sources(chosen), base_dir=base, name=chosen_name)
    except Exception as exc:  # a wrong type the model does not check: report, no traceback
        return finish([*collected, _unlowerable(chosen, exc)])
    if lowering_errors:
        locator = Locator(lowered)
        lowering_errors = [
            attrs.evolve(d, location=locator.at(d.spec_path) or d.location) if d.spec_path else d
            for d in lowering_errors
        ]
    spec_level = run_checks(lowered, formats=formats, labels=labels)
    extra = merge_constructor_findings(spec_level, [*collected, *lowering_errors], lowered)
    spec_level = drop_superseded(spec_level, collected, lowered)
    return finish([*spec_level, *extra], lowered)


def _unlowerable(chosen: System, exc: Exception) -> Diagnostic:
    return Diagnostic(
        "SK295",
        Severity.ERROR,
        f"the system cannot be lowered: {type(exc).__name__}: {exc}",
        chosen.location,
        "$",
        "a value has the wrong type (e.g. a string where a Kernel or a Mount goes); "
        "mypy (SK000) shows which",
    )


def _without_missing_sources(chosen: System) -> System:
    """The system with every sourced file made optional, so that it lowers despite missing
    sources (their SK122 findings were already collected); locations are kept."""
    with collecting():  # value errors were reported when the user's file ran
        new_files = []
        for f in chosen.files:
            g = attrs.evolve(f, optional=True) if f.source is not None else f
            object.__setattr__(g, "_location", f.location)
            new_files.append(g)
        out = attrs.evolve(chosen, files=tuple(new_files))
    object.__setattr__(out, "_location", chosen.location)
    return out
