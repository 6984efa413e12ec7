"""Build outputs derived from the filesystem tar, written atomically."""

from systemkit.outputs.atomic import AtomicOutputs
from systemkit.outputs.formats import FORMATS, NEEDS_KERNEL, OutputError, write_formats

__all__ = ["FORMATS", "NEEDS_KERNEL", "AtomicOutputs", "OutputError", "write_formats"]
