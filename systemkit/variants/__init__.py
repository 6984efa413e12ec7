"""Many systems from one file: selecting them (:mod:`.select`), checking them with each
finding once (:mod:`.checks`), and generating them (:func:`matrix`)."""

from __future__ import annotations

from systemkit.variants.matrix import matrix
from systemkit.variants.select import Selection, load_selected, match_names

__all__ = ["Selection", "load_selected", "match_names", "matrix"]
