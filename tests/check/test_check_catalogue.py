"""The rule catalogue: every rule's failing example fails with its code, its passing example does
not; the table covers the value rules; the docs page is generated from the table."""

from __future__ import annotations

from pathlib import Path

import pytest

from systemkit.check import RULES, LabelSource, Rule, check_file
from systemkit.check.catalogue import Example
from systemkit.check.docs import render_catalogue
from systemkit.diagnostics import Diagnostic, Severity
from systemkit.images.lock import Lock
from systemkit.validate import VALUE_RULES

REPO = Path(__file__).resolve().parents[2]


def run_example(ex: Example, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Diagnostic]:
    name = "system.py" if ex.lang == "python" else "system.yml"
    (tmp_path / name).write_text(ex.text, encoding="utf-8")
    lock = Lock.from_bytes(ex.lock.encode()) if ex.lock else None
    monkeypatch.chdir(tmp_path)  # LinuxKit resolves YAML file sources against the cwd
    return check_file(
        [Path(name)],
        mypy=False,
        formats=ex.formats,
        labels=LabelSource(use_store=False, lock=lock),
    )


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_failing_example_reports_the_rule(
    rule: Rule, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    diags = run_example(rule.bad, tmp_path, monkeypatch)
    mine = [d for d in diags if d.code == rule.code]
    assert mine, f"{rule.code} not reported; got {[d.render() for d in diags]}"
    for d in mine:
        assert d.severity == rule.severity
        assert d.location is not None and d.location.line > 0
        assert "Traceback" not in d.render()


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_the_yaml_example_reports_the_mistake_at_its_yaml_node(
    rule: Rule, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every rule applies to LinuxKit YAML too (same code, or the reader's own code where YAML
    has one for the mistake), located in the YAML file."""
    ex = rule.yaml_example
    if ex is None:
        assert rule.python_only, f"{rule.code} has neither a YAML example nor a reason"
        return
    assert ex.lang == "yaml"
    diags = run_example(ex, tmp_path, monkeypatch)
    code = rule.yaml_code or rule.code
    mine = [d for d in diags if d.code == code]
    assert mine, f"{code} not reported for YAML; got {[d.render() for d in diags]}"
    for d in mine:
        assert d.location is not None and d.location.file == "system.yml"
        assert d.location.line > 0 and d.location.column > 0


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_passing_example_does_not(
    rule: Rule, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    diags = run_example(rule.good, tmp_path, monkeypatch)
    assert rule.code not in {d.code for d in diags}, [d.render() for d in diags]
    assert not [d for d in diags if d.severity == Severity.ERROR], [d.render() for d in diags]


def test_catalogue_shape() -> None:
    codes = [r.code for r in RULES]
    assert len(codes) == len(set(codes)), "duplicate rule codes"
    assert len(codes) >= 30
    assert codes == sorted(codes)
    assert set(VALUE_RULES) <= set(codes), "every value rule of systemkit.validate is catalogued"
    for r in RULES:
        assert r.summary and r.rationale and r.group
        assert r.bad.text != r.good.text


def test_docs_page_is_generated_from_the_catalogue() -> None:
    page = (REPO / "docs" / "checks.md").read_text(encoding="utf-8")
    assert page == render_catalogue(), "run: python -m systemkit.check.docs docs/checks.md"
    for r in RULES:
        assert f"### {r.code}: {r.summary}" in page
