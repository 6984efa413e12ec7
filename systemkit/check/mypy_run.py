"""Static checking of a ``system.py`` with mypy (``--strict``), merged into the same report.

mypy runs in-process through :func:`mypy.api.run` with an incremental cache under the user's
cache directory (``$XDG_CACHE_HOME/systemkit/mypy``, else ``~/.cache/systemkit/mypy``; override
with ``$SYSTEMKIT_MYPY_CACHE``), so a re-check after a small edit only re-analyses the user's
file: systemkit's own types come from the cache. Each directory of system files has its own
cache below it (mypy caches modules by name, and they are all called ``system``).

Each mypy error becomes a :class:`Diagnostic` with code ``SK000`` (severity error), its message
ending in mypy's own error code (``[arg-type]``), at mypy's line and column. mypy's notes are
attached to the error before them as the hint.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

from systemkit.check.catalogue import MYPY_CODE
from systemkit.diagnostics import Diagnostic, Severity
from systemkit.location import Location, display_path, is_internal

_LINE = re.compile(
    r"^(?P<file>.+?):(?P<line>\d+):(?:(?P<col>\d+):)? (?P<sev>error|note|warning): "
    r"(?P<msg>.*?)(?:  \[(?P<code>[a-z0-9-]+)\])?$"
)


def cache_dir() -> Path:
    """Where mypy's incremental cache for ``systemkit check`` lives."""
    explicit = os.environ.get("SYSTEMKIT_MYPY_CACHE")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "systemkit" / "mypy"


def _display(filename: str) -> str:
    return display_path(filename)


_CAPABILITY_LITERAL = re.compile(r"Literal\['CAP_CHOWN'(?:, '[A-Za-z_]+')*\]")


def _shorten(message: str) -> str:
    """mypy spells out type aliases: name the 45-member capability literal instead."""
    return _CAPABILITY_LITERAL.sub("CapabilityName", message)


def parse_output(text: str) -> list[Diagnostic]:
    """mypy's ``file:line:col: error: message  [code]`` lines as diagnostics."""
    out: list[Diagnostic] = []
    for raw in text.splitlines():
        m = _LINE.match(raw.rstrip())
        if m is None:
            continue
        if is_internal(m["file"]):
            continue  # systemkit's own modules are not the user's concern
        loc = Location(_display(m["file"]), int(m["line"]), int(m["col"] or 0))
        if m["sev"] == "note":
            if out and out[-1].location == loc:
                prev = out.pop()
                hint = f"{prev.hint}\n{m['msg']}" if prev.hint else m["msg"]
                out.append(
                    Diagnostic(prev.code, prev.severity, prev.message, prev.location, None, hint)
                )
            continue
        message = _shorten(m["msg"]) + (f"  [{m['code']}]" if m["code"] else "")
        out.append(Diagnostic(MYPY_CODE, Severity.ERROR, f"mypy: {message}", loc))
    return out


def _package_root() -> str | None:
    """The directory holding the ``systemkit`` package when mypy cannot find it by itself.

    An editable install (``pip install -e``) is found by Python through an import hook that
    mypy does not follow; then the source checkout is put on mypy's search path. An ordinary
    install in site-packages needs nothing (and mypy refuses site-packages in MYPYPATH).
    """
    import systemkit

    root = Path(systemkit.__file__).resolve().parent.parent
    if {"site-packages", "dist-packages"} & set(root.parts):
        return None
    return str(root)


@contextlib.contextmanager
def _mypypath(extra: str | None) -> Iterator[None]:
    old = os.environ.get("MYPYPATH")
    if extra is not None:
        os.environ["MYPYPATH"] = os.pathsep.join(p for p in (extra, old) if p)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("MYPYPATH", None)
        else:
            os.environ["MYPYPATH"] = old


def run_mypy(path: Path) -> list[Diagnostic]:
    """Run ``mypy --strict`` on a ``system.py``; its errors as diagnostics (one finding when
    mypy cannot be imported: a damaged install, since it is a dependency)."""
    try:
        from mypy import api
    except ImportError as exc:
        return [
            Diagnostic(
                MYPY_CODE,
                Severity.ERROR,
                f"mypy is not available, so {path} was not type-checked ({exc})",
                Location(_display(str(path)), 1, 0),
                hint="install mypy into the environment that runs systemkit "
                "(`pip install mypy`), or skip the type check with --no-mypy",
            )
        ]

    # One cache per directory of system files: mypy caches a module by its name, and every
    # project's file is called ``system``; a cache shared by two of them reports one file's
    # errors for the other.
    where = hashlib.sha256(str(path.resolve().parent).encode()).hexdigest()[:16]
    cache = cache_dir() / where
    cache.mkdir(parents=True, exist_ok=True)
    args = [
        "--strict",
        "--show-column-numbers",
        "--show-error-codes",
        "--no-error-summary",
        "--no-pretty",
        "--hide-error-context",
        "--no-color-output",
        "--show-absolute-path",
        "--incremental",
        "--cache-dir",
        str(cache),
        str(path),
    ]
    with _mypypath(_package_root()):
        stdout, stderr, status = api.run(args)
    diags = parse_output(stdout)
    if status == 2 and not diags:
        first = (stderr or stdout).strip().splitlines()
        diags.append(
            Diagnostic(
                MYPY_CODE,
                Severity.ERROR,
                f"mypy could not check {path}: {first[0] if first else 'unknown failure'}",
                Location(_display(str(path)), 1, 0),
                hint="run with --no-mypy to skip the type check",
            )
        )
    return diags
