"""Rendering: compiler-style text with the source line and a caret, JSON lines, and SARIF 2.1.0
validated against the OASIS schema (tests/check/data/sarif-schema-2.1.0.json)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

from systemkit.check import LabelSource, check_file, render_json, render_sarif, render_text
from systemkit.diagnostics import Diagnostic
from tests.support.cli import systemkit_cli

DATA = Path(__file__).parent / "data"


@pytest.fixture()
def diags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Diagnostic]:
    shutil.copy(DATA / "ten_mistakes.py.txt", tmp_path / "system.py")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "system.py").write_text(
        (tmp_path / "system.py").read_text() + "# a trailing comment\n"
    )
    return check_file([Path("system.py")], mypy=False, labels=LabelSource(use_store=False))


def test_text_has_source_line_caret_spec_path_and_hint(diags: list[Diagnostic]) -> None:
    text = render_text(diags)
    block = text.split("system.py:14:55: error[SK101]: unknown capability 'CAP_NET_ADMN'\n")[1]
    lines = block.splitlines()
    assert (
        lines[0] == ' 14 |             capabilities_add=["CAP_NET_BIND_SERVICE", "CAP_NET_ADMN"],'
    )
    assert lines[1].index("^") == lines[0].index('"CAP_NET_ADMN"')
    assert lines[2] == "  = at $.services[0].capabilities.add[1]"
    assert lines[3] == "  hint: did you mean 'CAP_NET_ADMIN'?"
    assert text.endswith("10 errors, 0 warnings, 0 infos\n")
    # a conflict names the other location
    assert "  note: see also system.py:24:14" in text
    assert "\x1b[" not in text and "\x1b[" in render_text(diags, color=True)


def test_json_lines_one_object_per_finding(diags: list[Diagnostic]) -> None:
    lines = render_json(diags).splitlines()
    assert len(lines) == len(diags) == 10
    first = json.loads(lines[0])
    assert first == {
        "code": "SK110",
        "severity": "error",
        "message": diags[0].message,
        "file": "system.py",
        "line": 8,
        "column": 16,
        "spec_path": "$.onboot[0].name",
        "hint": diags[0].hint,
        "related": [],
    }
    dup = next(json.loads(x) for x in lines if json.loads(x)["code"] == "SK240")
    assert dup["related"] == [{"file": "system.py", "line": 24, "column": 14}]


def _validator() -> jsonschema.Draft4Validator:
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def test_sarif_validates_against_the_sarif_2_1_0_schema(diags: list[Diagnostic]) -> None:
    log = json.loads(render_sarif(diags))
    errors = sorted(_validator().iter_errors(log), key=str)
    assert not errors, "\n".join(e.message for e in errors)
    run = log["runs"][0]
    assert log["version"] == "2.1.0"
    assert len(run["results"]) == 10
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] > 0 and region["startColumn"] > 0
    first = run["results"][0]
    assert first["ruleId"] == "SK110" and first["level"] == "error"
    assert first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "system.py"


def test_sarif_schema_check_is_not_vacuous() -> None:
    """The schema catches a broken log (so the test above can fail)."""
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {}}, "results": []}]}
    assert list(_validator().iter_errors(bad)), "a driver without a name must be refused"
    wrong_level = json.loads(render_sarif([]))
    wrong_level["runs"][0]["results"] = [{"message": {"text": "x"}, "level": "fatal"}]
    assert list(_validator().iter_errors(wrong_level))


def test_cli_formats_and_strict(tmp_path: Path) -> None:
    (tmp_path / "system.yml").write_text(
        "services:\n  - name: app\n    image: alpine:3.19\n    env: [DEBUG=1]\n"
    )

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return systemkit_cli("check", "system.yml", *args, cwd=tmp_path, timeout=120)

    plain = cli()
    assert plain.returncode == 0, plain.stdout  # a warning (SK251) is not fatal
    assert "warning[SK251]" in plain.stdout
    assert cli("--strict").returncode == 1
    sarif = cli("--format", "sarif")
    assert not list(_validator().iter_errors(json.loads(sarif.stdout)))
    js = [json.loads(x) for x in cli("--format", "json").stdout.splitlines()]
    assert {d["code"] for d in js} == {"SK251", "SK280"}
    booted = cli("--format-target", "kernel+initrd")
    assert booted.returncode == 1 and "error[SK270]" in booted.stdout
