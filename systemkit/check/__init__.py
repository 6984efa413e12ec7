"""``systemkit check``: every mistake in a system, found at once, at the user's line.

- :func:`run_checks` runs every rule of the catalogue (:data:`RULES`) on a lowered system (from
  a ``system.py`` or LinuxKit YAML: the same rules for both) and returns the findings sorted by
  location. The native build calls :func:`gate`, which refuses to go on when there are errors.
- :func:`check_file` loads input files (collecting every value error), lowers, runs the rules
  and mypy, and returns everything in one list.
- :func:`render_text`, :func:`render_json`, :func:`render_sarif` print findings.
- :func:`ignore` silences codes for one model object; ``# systemkit: ignore[SK104]`` on a line
  silences them on that line.
"""

from __future__ import annotations

from systemkit.check.catalogue import RULES, RULES_BY_CODE, Example, Rule
from systemkit.check.engine import check_file, errors_in, gate, run_checks
from systemkit.check.labels import LabelSource
from systemkit.check.render import render_json, render_sarif, render_text, summary
from systemkit.check.suppress import ignore

__all__ = [
    "RULES",
    "RULES_BY_CODE",
    "Example",
    "LabelSource",
    "Rule",
    "check_file",
    "errors_in",
    "gate",
    "ignore",
    "render_json",
    "render_sarif",
    "render_text",
    "run_checks",
    "summary",
]
