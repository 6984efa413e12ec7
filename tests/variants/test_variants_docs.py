"""docs/variants.md: its links lead somewhere, and the commands it names exist."""

from __future__ import annotations

import re

import pytest

from systemkit.cli import build_parser
from tests.examples.test_examples_doc_links import DOCS, anchors, links


def test_variants_page_links_resolve() -> None:
    broken = []
    for target in links("variants.md"):
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        dest = (DOCS / path).resolve() if path else DOCS / "variants.md"
        if not dest.exists() or (anchor and anchor not in anchors(dest)):
            broken.append(target)
    assert not broken


def test_the_options_the_page_names_exist(capsys: pytest.CaptureFixture[str]) -> None:
    helps = {}
    for name in ("lower", "check", "diff", "build", "ls"):
        with pytest.raises(SystemExit):
            build_parser().parse_args([name, "--help"])
        helps[name] = capsys.readouterr().out
    for name in ("lower", "check", "diff", "build"):
        assert "--all" in helps[name] and "--system" in helps[name], name
    for option in ("--jobs", "--executor", "--scheduler"):
        assert option in helps["build"]
