"""LinuxKit system files in and out: a strict located parser, the YAML emitter, the importer."""

from __future__ import annotations

from systemkit.linuxkit.merge import merge_specs
from systemkit.linuxkit.parse import parse_files, parse_yaml

__all__ = ["merge_specs", "parse_files", "parse_yaml"]
