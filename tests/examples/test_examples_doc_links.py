"""Links in the user guide's pages lead somewhere: files exist, anchors name real headings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
PAGES = ("index.md", "model.md", "composition.md", "cli.md", "quirks.md")
"""The pages of this suite's owner; other pages are checked by their own tests."""

_LINK = re.compile(r"\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^```.*?^```$", re.S | re.M)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = _FENCE.sub("", page.read_text())
    return {slug(m) for m in re.findall(r"^#+ (.*)$", text, re.M)}


def links(page: str) -> list[str]:
    return _LINK.findall(_FENCE.sub("", (DOCS / page).read_text()))


@pytest.mark.parametrize("page", PAGES)
def test_relative_links_resolve(page: str) -> None:
    broken = []
    for target in links(page):
        if re.match(r"^[a-z]+:", target):
            continue  # http(s), mailto: not checked offline
        path, _, anchor = target.partition("#")
        dest = (DOCS / path).resolve() if path else DOCS / page
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no heading with that anchor")
    assert not broken, f"docs/{page}: {broken}"


def test_index_lists_every_page_of_the_guide() -> None:
    linked = {t.partition("#")[0] for t in links("index.md")}
    internal = {"index.md", "architecture.md"}  # not user guide pages
    pages = {p.name for p in DOCS.glob("*.md")} - internal
    assert pages <= linked, f"docs/index.md does not link {sorted(pages - linked)}"
