"""Diagnostic codes of the LinuxKit YAML reader, one row per kind of finding.

SK001-SK010 are the reader's own (YAML shape); a finding that the checker or the model also
makes (a bad image reference, mode, volume name, a duplicate name, an unreadable source) uses
the same code as there, so one meaning has one code whichever way the system was written.
"""

from __future__ import annotations

import attrs

from systemkit.diagnostics import Severity


@attrs.frozen
class Code:
    """A diagnostic code: its id, severity and a short title (used in the docs)."""

    code: str
    severity: Severity
    title: str


INVALID_YAML = Code("SK001", Severity.ERROR, "invalid YAML, an empty file or several documents")
UNKNOWN_KEY = Code("SK002", Severity.ERROR, "unknown key")
WRONG_TYPE = Code("SK003", Severity.ERROR, "value of the wrong type")
MISSING_KEY = Code("SK004", Severity.ERROR, "missing required key (name, image, path)")
BAD_IMAGE_REF = Code("SK105", Severity.ERROR, "malformed image reference")
BAD_MODE = Code("SK103", Severity.ERROR, "mode is not an octal string")
DUPLICATE_SERVICE = Code("SK201", Severity.ERROR, "duplicate service name")
BAD_VOLUME_NAME = Code("SK116", Severity.ERROR, "invalid volume name")
DUPLICATE_VOLUME = Code("SK202", Severity.ERROR, "duplicate volume name")
MISSING_SOURCE = Code("SK122", Severity.ERROR, "files[].source cannot be read")
DUPLICATE_KEY = Code("SK010", Severity.ERROR, "key written twice in one mapping")
TRUST_IGNORED = Code("SK901", Severity.INFO, "`trust:` is accepted and ignored")

ALL_CODES: tuple[Code, ...] = (
    INVALID_YAML,
    UNKNOWN_KEY,
    WRONG_TYPE,
    MISSING_KEY,
    BAD_IMAGE_REF,
    BAD_MODE,
    DUPLICATE_SERVICE,
    BAD_VOLUME_NAME,
    DUPLICATE_VOLUME,
    MISSING_SOURCE,
    DUPLICATE_KEY,
    TRUST_IGNORED,
)
