"""The code registry (systemkit/codes.py): every SKnnn declared once, each with its meaning,
and held to the docs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from systemkit import codes
from systemkit.check import RULES
from systemkit.diagnostics import Severity
from systemkit.validate import VALUE_RULES

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "systemkit"
REGISTRY = PACKAGE / "codes.py"
CODE = r"""["']SK\d{3}["']"""

# What a declaration of a code looks like: a constant bound to it, a mapping from it to a text,
# or a Code object made from it. Uses (``ctx.report("SK210", ...)``) are not declarations.
DECLARATION = re.compile(
    rf"""^\s*[A-Z][A-Z0-9_]*\s*(?::[^=]*)?=\s*{CODE}"""  # NAME = "SK123"
    rf"""|{CODE}\s*:\s*["'](?!SK\d{{3}})"""  # "SK123": "meaning"
    rf"""|\bCode\(\s*{CODE}"""  # Code("SK123", ...)
    rf"""|\b_code\(\s*{CODE}""",  # the registry's own form
    re.M,
)


def sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_each_code_is_declared_in_exactly_one_module() -> None:
    where: dict[str, set[Path]] = {}
    for path in sources():
        text = path.read_text(encoding="utf-8")
        for match in DECLARATION.finditer(text):
            found = re.search(r"SK\d{3}", match.group(0))
            assert found is not None
            where.setdefault(found.group(0), set()).add(path)
    assert set(where) == set(codes.CODES), "a declaration outside the registry, or a code missing"
    outside = {c: sorted(str(p.relative_to(REPO)) for p in ps) for c, ps in where.items()}
    assert all(ps == {REGISTRY} for ps in where.values()), outside
    text = REGISTRY.read_text(encoding="utf-8")
    for code in codes.CODES:
        assert len(re.findall(rf"""["']{code}["']""", text)) == 1, f"{code} written twice"


def test_every_code_written_in_the_sources_is_registered() -> None:
    for path in sources():
        if path == REGISTRY:  # its docstring names the ranges
            continue
        for code in re.findall(r"\bSK\d{3}\b", path.read_text(encoding="utf-8")):
            if code == "SK123" and path.name == "diagnostics.py":  # the docstring's example
                continue
            assert code in codes.CODES, f"{path.relative_to(REPO)} uses {code}, not registered"


def test_registry_shape() -> None:
    ids = list(codes.CODES)
    assert ids == sorted(ids), "declared in code order"
    for entry in codes.CODES.values():
        assert re.fullmatch(r"SK\d{3}", entry.code)
        assert entry.meaning and entry.meaning == entry.meaning.strip()
        assert entry.kind in codes.KINDS


def test_catalogue_takes_severity_and_summary_from_the_registry() -> None:
    for rule in RULES:
        entry = codes.get(rule.code)
        assert (rule.severity, rule.summary) == (entry.severity, entry.meaning)
    catalogued = {r.code for r in RULES}
    checked = {c.code for c in codes.of_kind("value", "model", "rule")}
    assert checked == catalogued, "every value/model/rule code has a catalogue entry"
    assert set(VALUE_RULES) == {c.code for c in codes.of_kind("value")}


def test_docs_checks_md_lists_the_whole_registry() -> None:
    page = (REPO / "docs" / "checks.md").read_text(encoding="utf-8")
    for entry in codes.CODES.values():
        row = f"| {entry.code} | {entry.severity.value} | {codes.KINDS[entry.kind]} | "
        assert row + entry.meaning + " |" in page, entry.code
    assert set(re.findall(r"\bSK\d{3}\b", page)) <= set(codes.CODES)


@pytest.mark.parametrize("doc", sorted((REPO / "docs").glob("*.md")), ids=lambda p: p.name)
def test_codes_in_the_docs_exist_with_their_severity(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    for code in set(re.findall(r"\bSK\d{3}\b", text)):
        assert code in codes.CODES, f"{doc.name} mentions {code}, which is not registered"
    severities = {s.value for s in Severity}
    for code, severity in re.findall(r"^\| (SK\d{3}) \| (\w+) \|", text, re.M):
        if severity in severities:
            assert codes.severity(code).value == severity, f"{doc.name}: {code} is {severity}"


def test_a_code_makes_a_diagnostic_at_its_default_severity() -> None:
    diag = codes.PULL_FAILED.diagnostic("cannot pull x", spec_path="$.init[0]")
    assert (diag.code, diag.severity, diag.spec_path) == ("SK603", Severity.ERROR, "$.init[0]")
    note = codes.TRUST_IGNORED.diagnostic("ignored")
    assert note.severity == Severity.INFO
