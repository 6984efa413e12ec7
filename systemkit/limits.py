"""The input limits, each declared once (docs/limits.md explains them).

Inputs that exceed a limit get a clear one-line error, never a traceback or an unbounded cost.
The values leave a wide margin above anything a real system file or image needs.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

MAX_YAML_DEPTH = 64
"""Nesting of YAML collections (and of merge keys) in a system file or an image's label."""

MAX_JSON_DEPTH = 64
"""Nesting of arrays and objects in an image's JSON documents (manifests, indexes, configs)."""

MAX_MANIFEST_BYTES = 4 << 20
"""Size of a manifest, an index or a docker-archive ``manifest.json`` (the registries' 4 MiB)."""

MAX_CONFIG_BYTES = 16 << 20
"""Size of an image config, an OCI layout's ``index.json``, any JSON document of the store."""

MAX_LAYERS = 256
"""Layers of one image (Docker's overlay2 stops at 128; LinuxKit images have a few)."""

MAX_INDEX_MANIFESTS = 1024
"""Entries of one index (platforms, attestations) or of a docker-archive's manifest.json."""

MAX_INDEX_DEPTH = 4
"""Indexes nested in indexes above one image manifest."""

MAX_TAR_EXTENDED_HEADER = 1 << 20
"""Size of one PAX or GNU long-name header in a layer (Go's ``archive/tar`` limit)."""


class LimitExceeded(ValueError):
    """An input is larger or deeper than a limit of this module; the message says which."""


_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENING = frozenset(b"[{")


def json_depth(data: bytes, stop: int | None = None) -> int:
    """The deepest nesting of arrays/objects in a JSON text (0 for a scalar), without parsing
    it (so without recursion); with ``stop``, counting ends as soon as the depth exceeds it.
    Text that is not JSON gives some number; parsing finds it."""
    depth = deepest = 0
    for char in _JSON_STRING.sub(b"", data).translate(None, _NOT_BRACKETS):
        if char in _OPENING:
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop is not None and deepest > stop:
                    break
        else:
            depth -= 1
    return deepest


def load_json(data: bytes, what: str, max_bytes: int) -> Any:
    """Parse a JSON document of an image within the size and depth limits.

    Raises :class:`LimitExceeded` (too large or too deep) or ``ValueError`` (not JSON), with
    ``what`` in the message."""
    if len(data) > max_bytes:
        raise LimitExceeded(f"{what} is larger than {_size(max_bytes)} (the limit)")
    if json_depth(data, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise LimitExceeded(f"{what} nests deeper than {MAX_JSON_DEPTH} levels (the limit)")
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"{what} is not valid JSON: {exc}") from None


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n} bytes"


class DepthLimitedComposer(yaml.composer.Composer):
    """A YAML composer that stops at :data:`MAX_YAML_DEPTH` nested nodes, before it recurses
    further (PyYAML's composer recurses once per level: a deep document would otherwise end
    in a ``RecursionError``). The error is a ``ComposerError`` marked where the level starts."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self._depth >= MAX_YAML_DEPTH:
            event = self.peek_event()  # type: ignore[attr-defined]
            raise yaml.composer.ComposerError(
                None,
                None,
                f"collections nested deeper than {MAX_YAML_DEPTH} levels (the limit)",
                event.start_mark,
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class DepthLimitedScanner(yaml.scanner.Scanner):
    """A YAML scanner that stops at :data:`MAX_YAML_DEPTH` nested flow collections
    (``[[[...``). PyYAML's scanner looks ahead over every open ``[``/``{`` that could start a
    key, at a cost that grows with the square of the nesting (up to its 1024-character key
    limit): stopping here keeps a deep flow document as cheap to refuse as a shallow one."""

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:
        if self.flow_level >= MAX_YAML_DEPTH:
            raise yaml.scanner.ScannerError(
                None,
                None,
                f"collections nested deeper than {MAX_YAML_DEPTH} levels (the limit)",
                self.get_mark(),  # type: ignore[attr-defined]
            )
        super().fetch_flow_collection_start(TokenClass)


class SafeLoader(DepthLimitedScanner, DepthLimitedComposer, yaml.SafeLoader):
    """``yaml.SafeLoader`` with the depth limits."""


def safe_load_yaml(text: str) -> Any:
    """``yaml.safe_load`` within :data:`MAX_YAML_DEPTH` (deeper: ``yaml.YAMLError``)."""
    return yaml.load(text, Loader=SafeLoader)
