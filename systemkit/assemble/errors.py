"""``BuildError``: a part of the spec that cannot be assembled, with its code and spec path."""

from __future__ import annotations

from systemkit.codes import FILE_PROBLEM, Code
from systemkit.diagnostics import Diagnostic, Severity, SystemkitError


class BuildError(SystemkitError):
    """The system cannot be assembled (bad content, missing kernel, unusable reference ...).

    Raised with its rule ``code`` (see :mod:`systemkit.codes`), the ``spec_path`` of the part
    of the spec it is about (``$.onboot[1].image`` ...), the ``detail`` (the message) and, as
    LinuxKit writes it, ``where`` the part is (``files[2]``): ``str()`` is ``where: detail``.
    """

    def __init__(
        self,
        code: Code,
        spec_path: str | None,
        detail: str,
        *,
        where: str | None = None,
        hint: str | None = None,
    ):
        super().__init__(f"{where}: {detail}" if where else detail)
        self.code = code.code
        self.spec_path = spec_path
        self.detail = detail
        self.where = where
        self.hint = hint

    def diagnostic(self) -> Diagnostic:
        """The finding, at the spec path (the caller turns that into the user's line)."""
        return Diagnostic(
            self.code, Severity.ERROR, self.detail, spec_path=self.spec_path, hint=self.hint
        )


def file_error(index: int, detail: str) -> BuildError:
    """A problem of ``files[index]`` (SK624)."""
    return BuildError(FILE_PROBLEM, f"$.files[{index}]", detail, where=f"files[{index}]")
