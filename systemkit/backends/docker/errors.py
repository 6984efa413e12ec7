"""The docker backend's diagnostic codes and its one-line error."""

from __future__ import annotations

from systemkit import codes
from systemkit.diagnostics import Diagnostic, Severity, UserError

# The docker backend's codes (declared in systemkit.codes), as the plain strings diagnostics carry.
ENGINE_UNREACHABLE = codes.ENGINE_UNREACHABLE.code
IMAGE_MISSING = codes.IMAGE_MISSING.code
PULL_FAILED = codes.PULL_FAILED.code
PLATFORM_MISMATCH = codes.PLATFORM_MISMATCH.code
SAVE_FAILED = codes.SAVE_FAILED.code


def engine_error(code: str, message: str, spec_path: str | None) -> UserError:
    """A one-line error about the image at ``spec_path`` (``$`` for the whole system)."""
    one_line = " ".join(message.split())
    return UserError(Diagnostic(code, Severity.ERROR, one_line, spec_path=spec_path))
