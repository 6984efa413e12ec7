"""Rendering findings: compiler-style text, JSON lines, SARIF 2.1.0."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from systemkit.check.catalogue import RULES_BY_CODE
from systemkit.check.locate import Lines
from systemkit.codes import CODES
from systemkit.diagnostics import Diagnostic, Severity
from systemkit.version import __version__

_COLORS = {
    Severity.ERROR: "\x1b[1;31m",
    Severity.WARNING: "\x1b[1;33m",
    Severity.INFO: "\x1b[1;36m",
}
_BOLD = "\x1b[1m"
_DIM = "\x1b[2m"
_RESET = "\x1b[0m"


def _source_line(d: Diagnostic, lines: Lines) -> list[str]:
    loc = d.location
    if loc is None or loc.line <= 0:
        return []
    text = lines.get(loc.file, loc.line)
    if not text.strip():
        return []
    num = str(loc.line)
    pad = " " * len(num)
    out = [f" {num} | {text.expandtabs(4)}"]
    if loc.column > 0:
        prefix = text[: loc.column - 1].expandtabs(4)
        out.append(f" {pad} | {' ' * len(prefix)}^")
    return out


def summary(diags: Sequence[Diagnostic]) -> str:
    """``2 errors, 1 warning, 0 infos``."""
    counts = Counter(d.severity for d in diags)

    def n(sev: Severity, word: str) -> str:
        k = counts.get(sev, 0)
        return f"{k} {word}{'' if k == 1 else 's'}"

    return ", ".join(
        (n(Severity.ERROR, "error"), n(Severity.WARNING, "warning"), n(Severity.INFO, "info"))
    )


def affects(systems: Sequence[str], total: int) -> str:
    """``affects 37 of 50 systems: a, b, c and 34 more`` (``check --all``)."""
    from systemkit.variants.select import listed

    return f"affects {len(systems)} of {total} systems: {listed(systems)}"


def render_text(
    diags: Sequence[Diagnostic],
    color: bool = False,
    systems: Sequence[Sequence[str]] | None = None,
    total: int = 0,
) -> str:
    """Compiler style: ``system.py:12:5: error[SK104]: ...``, the source line with a caret,
    the spec path, notes and the hint; a summary line at the end. ``systems`` (parallel to
    ``diags``, for a check of ``total`` systems) says which systems each finding affects."""
    out: list[str] = []
    lines = Lines()
    for i, d in enumerate(diags):
        where = f"{d.location}: " if d.location else ""
        sev = f"{d.severity.value}[{d.code}]"
        if color:
            sev = f"{_COLORS[d.severity]}{sev}{_RESET}"
            head = f"{_BOLD}{where}{_RESET}{sev}: {_BOLD}{d.message}{_RESET}"
        else:
            head = f"{where}{sev}: {d.message}"
        out.append(head)
        out.extend(_source_line(d, lines))
        if d.spec_path:
            out.append(
                f"  = at {d.spec_path}" if not color else f"  {_DIM}= at {d.spec_path}{_RESET}"
            )
        for rel in d.related:
            out.append(f"  note: see also {rel}")
        if systems is not None and systems[i]:
            out.append(f"  = {affects(systems[i], total)}")
        if d.hint:
            first, *rest = d.hint.splitlines()
            out.append(f"  hint: {first}")
            out.extend(f"        {line}" for line in rest)
    out.append(summary(diags))
    return "\n".join(out) + "\n"


def to_data(d: Diagnostic) -> dict[str, Any]:
    """One finding as a JSON object (keys always present; ``null`` when unknown)."""
    loc = d.location
    return {
        "code": d.code,
        "severity": d.severity.value,
        "message": d.message,
        "file": loc.file if loc else None,
        "line": loc.line if loc else None,
        "column": loc.column if loc and loc.column else None,
        "spec_path": d.spec_path,
        "hint": d.hint,
        "related": [
            {"file": r.file, "line": r.line, "column": r.column or None} for r in d.related
        ],
    }


def render_json(diags: Sequence[Diagnostic], systems: Sequence[Sequence[str]] | None = None) -> str:
    """JSON lines: one object per finding, in report order (with ``systems``, parallel to
    ``diags``: a ``systems`` key listing the systems each finding affects)."""
    out = []
    for i, d in enumerate(diags):
        data = to_data(d)
        if systems is not None:
            data["systems"] = list(systems[i])
        out.append(json.dumps(data, sort_keys=True) + "\n")
    return "".join(out)


_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _uri(file: str) -> str:
    return Path(file).as_posix() if not Path(file).is_absolute() else Path(file).as_uri()


def _physical(file: str, line: int, column: int) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": max(line, 1)}
    if column > 0:
        region["startColumn"] = column
    return {"physicalLocation": {"artifactLocation": {"uri": _uri(file)}, "region": region}}


def _rule(code: str) -> dict[str, Any]:
    rule = RULES_BY_CODE.get(code)
    if rule is not None:
        return {
            "id": code,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.rationale},
            "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
            "properties": {"group": rule.group},
        }
    entry = CODES.get(code)
    if entry is None:
        return {"id": code, "shortDescription": {"text": f"systemkit finding {code}"}}
    return {
        "id": code,
        "shortDescription": {"text": entry.meaning},
        "defaultConfiguration": {"level": _SARIF_LEVEL[entry.severity]},
    }


def render_sarif(
    diags: Sequence[Diagnostic],
    version: str | None = None,
    systems: Sequence[Sequence[str]] | None = None,
) -> str:
    """A SARIF 2.1.0 log with one run of ``systemkit check`` (for code-scanning in CI)."""
    if version is None:
        version = __version__
    codes = sorted({d.code for d in diags})
    index = {c: i for i, c in enumerate(codes)}
    results: list[dict[str, Any]] = []
    for i, d in enumerate(diags):
        message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
        result: dict[str, Any] = {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": _SARIF_LEVEL[d.severity],
            "message": {"text": message},
        }
        if d.location is not None:
            result["locations"] = [_physical(d.location.file, d.location.line, d.location.column)]
        if d.related:
            result["relatedLocations"] = [
                {"id": i, **_physical(r.file, r.line, r.column), "message": {"text": "see also"}}
                for i, r in enumerate(d.related)
            ]
        if d.spec_path:
            result["properties"] = {"specPath": d.spec_path}
        if systems is not None and systems[i]:
            result.setdefault("properties", {})["systems"] = list(systems[i])
        results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "systemkit",
                        "version": version,
                        "informationUri": "https://systemkit.dev/docs/checks",
                        "rules": [_rule(c) for c in codes],
                    }
                },
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    return json.dumps(log, indent=2, sort_keys=True) + "\n"
