"""The codes the LinuxKit YAML reader reports (declared in :mod:`systemkit.codes`).

SK001-SK010 are the reader's own (YAML shape); a finding that the checker or the model also
makes (a bad image reference, mode, volume name, a duplicate name, an unreadable source) uses
the same code as there, so one meaning has one code whichever way the system was written.
"""

from __future__ import annotations

from systemkit.codes import (
    BAD_IMAGE_REF,
    BAD_MODE,
    BAD_VOLUME_NAME,
    DUPLICATE_KEY,
    DUPLICATE_SERVICE,
    DUPLICATE_VOLUME,
    INVALID_YAML,
    MISSING_KEY,
    MISSING_SOURCE,
    TRUST_IGNORED,
    UNKNOWN_KEY,
    WRONG_TYPE,
    Code,
)

__all__ = [
    "ALL_CODES",
    "BAD_IMAGE_REF",
    "BAD_MODE",
    "BAD_VOLUME_NAME",
    "DUPLICATE_KEY",
    "DUPLICATE_SERVICE",
    "DUPLICATE_VOLUME",
    "INVALID_YAML",
    "MISSING_KEY",
    "MISSING_SOURCE",
    "TRUST_IGNORED",
    "UNKNOWN_KEY",
    "WRONG_TYPE",
    "Code",
]

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
"""Every code the reader reports."""
