"""Selecting systems: names, globs, repeats, --all, "did you mean", one load; ``systemkit ls``."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from systemkit.diagnostics import UserError
from systemkit.variants.select import Selection, load_selected, match_names, suggestions
from tests.support.cli import systemkit_cli

NAMES = [f"{r}-{s}" for r in ("eu", "us", "ap") for s in ("small", "large")]

SYSTEM_PY = textwrap.dedent(
    """\
    from systemkit import Kernel, Service, System, matrix

    LOADS = []
    LOADS.append(1)
    print("loading", len(LOADS))

    def variant(region: str, size: str) -> System:
        return System(
            kernel=Kernel("linuxkit/kernel:6.12.59", cmdline=f"console=ttyS0 region={region}"),
            init=["linuxkit/init:b5506cc74a6812dc40982cacfd2f4328f8a4b12a"],
            services=[Service("app", "alpine:3.20", command=["app", size])],
        )

    systems = matrix(variant, region=["eu", "us", "ap"], size=["small", "large"],
                     name="{region}-{size}")
    """
)


@pytest.fixture
def variants_py(tmp_path: Path) -> Path:
    path = tmp_path / "system.py"
    path.write_text(SYSTEM_PY)
    return path


def test_names_globs_and_repeats_select_in_file_order() -> None:
    sel = Selection(("us-*", "eu-small", "us-large"))
    assert match_names(NAMES, sel) == ["eu-small", "us-small", "us-large"]
    assert match_names(NAMES, Selection(all=True)) == NAMES


def test_every_pattern_that_matches_nothing_is_reported_once_with_three_suggestions() -> None:
    many = [f"site{i:03d}-{k}" for i in range(200) for k in ("a", "b", "c", "d", "e")]
    with pytest.raises(UserError) as err:
        match_names(many, Selection(("site010-x", "nomatch-*", "site001-a")), "f.py")
    diags = err.value.diagnostics
    assert [d.code for d in diags] == ["SK055", "SK055"]
    hint = diags[0].hint or ""
    assert hint.startswith("did you mean") and hint.count("'") == 6  # three names
    assert len(diags[0].render()) < 300 and len(diags[1].render()) < 300  # never the whole list


def test_suggestions_are_at_most_three() -> None:
    assert len(suggestions("eu-smal", NAMES)) <= 3
    assert suggestions("eu-smal", NAMES)[0] == "eu-small"


def test_default_selection_needs_a_single_or_a_system_named_system() -> None:
    assert match_names(["only"], Selection()) == ["only"]
    assert match_names(["a", "system"], Selection()) == ["system"]
    with pytest.raises(UserError) as err:
        match_names(NAMES, Selection(), "f.py")
    assert err.value.diagnostics[0].code == "SK056"


def test_load_selected_runs_the_file_once(
    variants_py: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lowered = load_selected([variants_py], Selection(("eu-*", "ap-large")))
    assert [lw.name for lw in lowered] == ["eu-small", "eu-large", "ap-large"]
    assert capsys.readouterr().err.count("loading") == 1


def test_ls_lists_names_and_digests(variants_py: Path) -> None:
    res = systemkit_cli("ls", str(variants_py), "--format", "json")
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    assert [r["name"] for r in rows] == NAMES
    one = systemkit_cli("lower", str(variants_py), "--system", "us-large", "--digest")
    assert one.stdout.strip() == rows[3]["digest"]
    text = systemkit_cli("ls", str(variants_py), "--system", "ap-*")
    assert [line.split()[0] for line in text.stdout.splitlines()] == ["ap-small", "ap-large"]


def test_cli_typo_prints_at_most_three_suggestions(variants_py: Path) -> None:
    res = systemkit_cli("lower", str(variants_py), "--system", "us-larg")
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "did you mean 'us-large'" in res.stderr
    mentioned = [n for n in NAMES if f"'{n}'" in res.stderr]
    assert 1 <= len(mentioned) <= 3


def test_repeated_system_selects_several_and_single_commands_refuse(variants_py: Path) -> None:
    res = systemkit_cli(
        "lower", str(variants_py), "--system", "eu-small", "--system", "us-small", "--digest"
    )
    assert res.returncode == 0, res.stderr
    assert [line.split()[0] for line in res.stdout.splitlines()] == ["eu-small", "us-small"]
    res = systemkit_cli("lower", str(variants_py), "--all")
    assert res.returncode == 2 and "-o DIR" in res.stderr
    res = systemkit_cli("lower", str(variants_py), "--all", "--system", "x")
    assert res.returncode == 2


def test_a_system_variable_still_is_the_default(tmp_path: Path) -> None:
    path = tmp_path / "system.py"
    path.write_text("from systemkit import System\nsystem = System()\nother = System()\n")
    assert [lw.name for lw in load_selected([path])] == [tmp_path.name]
