"""The user guide stays true: generated tables are current, code blocks run and type-check."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import types
import typing
from pathlib import Path
from typing import Any

import attrs
import pytest

from systemkit.linuxkit.fields import SYSTEMKIT_ONLY
from systemkit.spec import types as st
from tests.support.cli import systemkit_cli

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
EXECUTED = ("model.md", "composition.md")
"""Pages whose ```python blocks are run, in order, as one session."""

_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)


def python_blocks(page: str) -> list[str]:
    return _BLOCK.findall((DOCS / page).read_text())


def spec_classes() -> list[type[Any]]:
    """Every spec class reachable from :class:`Spec`, found by walking the type hints."""
    seen: list[type[Any]] = []
    todo: list[Any] = [st.Spec]
    while todo:
        hint = todo.pop()
        if isinstance(hint, type) and attrs.has(hint):
            if hint in seen:
                continue
            seen.append(hint)
            todo.extend(typing.get_type_hints(hint).values())
        else:
            todo.extend(typing.get_args(hint))
            if isinstance(hint, types.UnionType):
                todo.extend(hint.__args__)
    return seen


def test_model_md_is_generated_from_the_current_declarations() -> None:
    res = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen_model_docs.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stderr


def test_model_md_maps_every_linuxkit_key_to_its_python_name() -> None:
    text = (DOCS / "model.md").read_text()
    classes = spec_classes()
    assert st.ImageSpec in classes and st.Memory in classes and st.BindNS in classes
    missing = []
    for cls in classes:
        for f in attrs.fields(cls):
            if (cls, f.name) in SYSTEMKIT_ONLY:
                row = f"| `{st.key_of(f)}` | (computed) |"
            else:
                row = f"| `{st.key_of(f)}` | `{f.name}`"
            if row not in text:
                missing.append(f"{cls.__name__}.{f.name}")
    assert not missing, f"docs/model.md has no row for {missing}"


def test_the_generator_notices_an_outdated_page(tmp_path: Path) -> None:
    """--check fails when a table is edited by hand (the check is not vacuous)."""
    script = (REPO / "scripts" / "gen_model_docs.py").read_text()
    page = (DOCS / "model.md").read_text().replace("| kernel command line |", "| edited |")
    (tmp_path / "scripts").mkdir()
    (tmp_path / "docs").mkdir()
    (tmp_path / "scripts" / "gen_model_docs.py").write_text(script)
    (tmp_path / "docs" / "model.md").write_text(page)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, str(tmp_path / "scripts" / "gen_model_docs.py")]
    res = subprocess.run([*cmd, "--check"], env=env, capture_output=True, text=True, check=False)
    assert res.returncode == 1 and "out of date" in res.stderr
    assert subprocess.run(cmd, env=env, check=False).returncode == 0
    assert (tmp_path / "docs" / "model.md").read_text() == (DOCS / "model.md").read_text()


@pytest.mark.parametrize("page", EXECUTED)
def test_code_blocks_of_the_page_run(page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = python_blocks(page)
    assert blocks, f"docs/{page} has no python blocks"
    monkeypatch.chdir(REPO)
    namespace: dict[str, Any] = {"__name__": f"docs_{page.replace('.', '_')}"}
    before = set(sys.modules)
    try:
        for i, block in enumerate(blocks, 1):
            code = compile(block, f"docs/{page} (python block {i})", "exec")
            exec(code, namespace)
    finally:
        for name in set(sys.modules) - before:
            if name == "lib":
                del sys.modules[name]


@pytest.mark.parametrize("page", EXECUTED)
def test_code_blocks_of_the_page_pass_mypy_strict(page: str, tmp_path: Path) -> None:
    session = tmp_path / f"{page.replace('.', '_')}_blocks.py"
    session.write_text("\n\n".join(python_blocks(page)))
    env = {**os.environ, "MYPYPATH": os.pathsep.join([str(tmp_path), str(REPO / "stubs")])}
    res = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", str(session)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_the_duplicate_service_transcript_of_composition_md_is_real(tmp_path: Path) -> None:
    """The ``system.py`` shown as text (it cannot run as a block) gives the output shown."""
    texts = re.findall(r"^```text\n(.*?)^```$", (DOCS / "composition.md").read_text(), re.S | re.M)
    (i,) = [n for n, t in enumerate(texts) if t.startswith("from systemkit import")]
    source, expected = texts[i], texts[i + 1]
    (tmp_path / "system.py").write_text(source)
    res = systemkit_cli("lower", "system.py", cwd=tmp_path)
    assert res.returncode == 1 and res.stdout == ""
    assert res.stderr == expected
