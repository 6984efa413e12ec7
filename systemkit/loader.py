"""Loading ``system.py`` files (and LinuxKit YAML) into systems and lowered specs.

A ``system.py`` exposes its systems as module-level :class:`~systemkit.System` values, named by
their variable (names starting with ``_`` are private helpers), plus the entries of an optional
module-level mapping ``systems: dict[str, System]`` (handy for generated variants). When a file
defines several, commands take ``--system NAME``; a variable called ``system`` is the default.
"""

from __future__ import annotations

import contextlib
import importlib.util
import linecache
import os
import sys
import traceback
import uuid
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType, TracebackType

from systemkit.diagnostics import Diagnostic, Severity, UserError, collecting
from systemkit.location import Location, display_path, is_internal
from systemkit.model.lower import lower
from systemkit.model.system import System
from systemkit.spec.lowered import Lowered

YAML_SUFFIXES = (".yml", ".yaml")

# The loader's codes (SK050-SK057) are declared, with their meanings, in systemkit.codes.


def _user_traceback(tb: TracebackType | None) -> tuple[str, Location | None]:
    frames = [f for f in traceback.extract_tb(tb) if not is_internal(f.filename)]
    text = "".join(traceback.format_list(frames))
    last = frames[-1] if frames else None
    loc = (
        Location(display_path(last.filename), last.lineno or 0, (last.colno or -1) + 1)
        if last
        else None
    )
    return text, loc


def _exec_module(path: Path) -> ModuleType:
    path = path.resolve()
    name = f"_systemkit_user_{path.stem}_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UserError(Diagnostic("SK050", Severity.ERROR, f"cannot load {path} as Python"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    added = str(path.parent) not in sys.path
    if added:
        sys.path.insert(0, str(path.parent))
    before = set(sys.modules)
    try:
        # The user's print() goes to stderr: stdout carries the command's output (a spec,
        # YAML, a digest), which must stay clean when redirected to a file.
        with contextlib.redirect_stdout(sys.stderr):
            spec.loader.exec_module(module)
    except UserError:
        raise
    except SystemExit as exc:
        raise UserError(
            Diagnostic(
                "SK052",
                Severity.ERROR,
                f"{path.name} called sys.exit({exc.code!r}) while being loaded",
                _user_traceback(exc.__traceback__)[1],
                hint="a system file defines systems; leave exiting to the command",
            )
        ) from None
    except SyntaxError as exc:
        sloc = Location(display_path(exc.filename or path), exc.lineno or 0, exc.offset or 0)
        raise UserError(
            Diagnostic("SK051", Severity.ERROR, f"syntax error: {exc.msg}", sloc)
        ) from None
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # GeneratorExit, a user's own BaseException subclass ...
        raise _raised_in(path, exc) from None
    finally:
        if added:
            sys.path.remove(str(path.parent))
        _forget_helper_modules(before, path.parent)
        linecache.checkcache(str(path))
    return module


def _raised_in(path: Path, exc: BaseException) -> UserError:
    """SK052 for an exception the user's code raised, with the user's frames only."""
    text, loc = _user_traceback(exc.__traceback__)
    try:
        message = f"{type(exc).__name__}: {exc}"
    except Exception:  # an exception whose __str__ raises
        message = type(exc).__name__
    return UserError(
        Diagnostic(
            "SK052",
            Severity.ERROR,
            f"exception raised in {path.name}: {message}",
            loc,
            hint="traceback (your code only):\n" + text.rstrip() if text else None,
        )
    )


def _forget_helper_modules(before: set[str], directory: Path) -> None:
    """Drop modules imported from the system file's directory during its load.

    Two system files side by side in different directories may both ``import lib``; each
    must get its own ``lib``, not the one cached by the first load.
    """
    prefix = str(directory) + os.sep
    for name in set(sys.modules) - before:
        try:
            file = getattr(sys.modules[name], "__file__", None) or ""
            mine = os.path.abspath(file).startswith(prefix)
        except Exception:  # not a module (user code can put anything in sys.modules)
            mine = False
        if mine:
            sys.modules.pop(name, None)


def systems_of(module: ModuleType) -> dict[str, System]:
    """The systems a loaded module exposes (see the module docstring)."""
    found: dict[str, System] = {}
    for key, value in vars(module).items():
        if isinstance(value, System) and not key.startswith("_"):
            found[key] = value
    extra = getattr(module, "systems", None)
    if isinstance(extra, Mapping):
        for key, value in extra.items():
            if isinstance(value, System):
                found[str(key)] = value
    return found


def load(path: str | Path) -> dict[str, System]:
    """Run a ``system.py`` and return the systems it defines, by name.

    An exception raised in the user's file becomes a :class:`UserError` showing the user's own
    frames only. A file that defines no system is an error too.
    """
    path = Path(path)
    if not path.exists():
        raise UserError(Diagnostic("SK053", Severity.ERROR, f"{path}: no such file"))
    module = _exec_module(path)
    try:
        # user code may run here too: a `systems` mapping's iteration, a key's __str__
        found = systems_of(module)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        raise _raised_in(path, exc) from None
    if not found:
        raise UserError(
            Diagnostic(
                "SK054",
                Severity.ERROR,
                f"{path} defines no System",
                Location(display_path(path), 1, 1),
                hint="assign one at module level, e.g. `system = System(...)`",
            )
        )
    return found


def select(found: Mapping[str, System], name: str | None, path: Path) -> tuple[str, System]:
    """Pick one system by ``--system NAME`` (default: the only one, or ``system``).

    ``name`` may be a glob that matches exactly one system. The rules (and the "did you mean"
    of a name that matches nothing) are :mod:`systemkit.variants.select`'s.
    """
    from systemkit.variants.select import Selection, match_names

    names = match_names(list(found), Selection((name,) if name else ()), str(path))
    if len(names) != 1:
        raise UserError(
            Diagnostic(
                "SK056",
                Severity.ERROR,
                f"--system {name!r} matches {len(names)} systems of {path}; this command "
                "works on one",
            )
        )
    return names[0], found[names[0]]


Ran = tuple[dict[str, System], list[Diagnostic]]
"""What one run of a ``system.py`` made: its systems by name and the value errors collected
(:func:`load_collecting`)."""


class LoadError(UserError):
    """A ``system.py`` that ran but does not load, select or lower: its errors, and what the
    run made (``ran``), which the checks that explain the errors reuse instead of running the
    user's file (and its side effects) again."""

    def __init__(self, diagnostics: list[Diagnostic], ran: Ran) -> None:
        super().__init__(diagnostics)
        self.ran = ran


def ran_of(exc: UserError) -> Ran | None:
    """What the failed load that raised ``exc`` made, when it ran a ``system.py``."""
    return exc.ran if isinstance(exc, LoadError) else None


def load_collecting(path: Path) -> Ran:
    """Load a ``system.py`` collecting value errors instead of stopping at the first (its
    ``ignore()`` calls registered afresh)."""
    from systemkit.check import suppress

    suppress.reset()
    with collecting() as found:
        try:
            systems = load(path)
        except UserError as exc:
            return {}, [*found, *exc.diagnostics]
    return systems, list(found)


def load_lowered(paths: list[Path], system: str | None = None) -> Lowered:
    """Load input files for a command: one ``system.py``, or LinuxKit YAML files merged in order.

    Raises :class:`UserError` with every problem found.
    """
    if not paths:
        raise UserError(Diagnostic("SK057", Severity.ERROR, "no input file given"))
    if all(p.suffix in YAML_SUFFIXES for p in paths):
        from systemkit.linuxkit.parse import parse_files

        if system is not None:
            raise UserError(
                Diagnostic(
                    "SK057",
                    Severity.ERROR,
                    "--system picks one of the systems a system.py defines; "
                    "LinuxKit YAML files describe a single system",
                )
            )
        lowered: Lowered = parse_files(paths)
        if lowered.name is None:
            import attrs

            lowered = attrs.evolve(lowered, name=paths[0].stem)
        return lowered
    if len(paths) != 1 or paths[0].suffix != ".py":
        raise UserError(
            Diagnostic(
                "SK057",
                Severity.ERROR,
                "give one system.py, or one or more LinuxKit .yml files "
                f"(got: {', '.join(map(str, paths))})",
            )
        )
    path = paths[0]
    ran = systems, errors = load_collecting(path)
    if errors:
        raise LoadError(errors, ran)
    try:
        name, chosen = select(systems, system, path)
        return lower(chosen, base_dir=path.resolve().parent, name=output_name(path, name))
    except LoadError:
        raise
    except UserError as exc:
        raise LoadError(exc.diagnostics, ran) from None


def output_name(path: Path, variable: str) -> str:
    """The default name of a system's outputs.

    A file's conventional ``system`` is named after the file (``hello.py`` -> ``hello``), or
    after its directory when the file is called ``system.py`` (``examples/hello/system.py`` ->
    ``hello``); any other system keeps its variable or ``systems`` key.
    """
    if variable != "system":
        return variable
    if path.stem != "system":
        return path.stem
    return path.resolve().parent.name or "system"
