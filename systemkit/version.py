"""The version of the installed systemkit, read once from its distribution metadata.

``pyproject.toml`` is the one place the version is written; everything that shows or records
it (``systemkit --version``, the SARIF log, the rebuild cache key) imports it from here, not
from the package face, so no module depends on ``systemkit/__init__.py`` being imported first.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("systemkit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
