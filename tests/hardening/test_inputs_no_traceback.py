"""Hostile inputs end in one located error, never a traceback: deep YAML (flow, block, merge
chains, self-merges), system.py files raising BaseExceptions or exposing a ``systems`` mapping
whose iteration raises, and ``systemkit check`` without mypy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from systemkit.diagnostics import UserError
from systemkit.limits import MAX_YAML_DEPTH
from systemkit.linuxkit.parse import parse_yaml
from systemkit.loader import load


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "systemkit", *args], capture_output=True, text=True, cwd=cwd
    )


DEEP = 500


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        pytest.param(
            "services:\n  - name: a\n    image: x\n    command: " + "[" * DEEP + "]" * DEEP,
            (4, 14 + MAX_YAML_DEPTH),  # the 65th [ (the scanner stops there)
            "collections nested deeper than 64 levels",
            id="flow",
        ),
        pytest.param(
            "onboot:\n" + "".join("  " * i + "-\n" for i in range(1, DEEP)),
            (MAX_YAML_DEPTH + 1, 2 * MAX_YAML_DEPTH + 1),
            "collections nested deeper than 64 levels",
            id="block-sequences",
        ),
        pytest.param(
            "onboot:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, DEEP)),
            (MAX_YAML_DEPTH, 2 * MAX_YAML_DEPTH - 1),
            "collections nested deeper than 64 levels",
            id="block-mappings",
        ),
        pytest.param(
            "x0: &a0 {name: a}\n"
            + "".join(f"x{i}: &a{i} {{<<: *a{i - 1}}}\n" for i in range(1, DEEP))
            + f"onboot:\n  - <<: *a{DEEP - 1}\n    image: x\n",
            None,
            "merge keys (<<) nested deeper than 64 levels",
            id="merge-chain",
        ),
        pytest.param(
            "onboot:\n  - &a {<<: *a, image: x}\n",
            (2, 5),
            "a mapping that merges itself",
            id="self-merge",
        ),
    ],
)
def test_deep_yaml_is_a_located_error(text: str, where: tuple[int, int] | None, words: str) -> None:
    with pytest.raises(UserError) as info:
        parse_yaml(text, "deep.yml")
    (diag,) = info.value.diagnostics
    assert diag.code == "SK001"
    assert words in diag.message
    assert diag.location is not None and diag.location.file == "deep.yml"
    if where is not None:
        assert (diag.location.line, diag.location.column) == where


def test_deep_yaml_from_the_cli(tmp_path: Path) -> None:
    (tmp_path / "deep.yml").write_text("services: " + "{a: " * 100_000 + "1" + "}" * 100_000)
    res = _cli("lower", "deep.yml", cwd=tmp_path)
    assert res.returncode == 1
    assert res.stderr.startswith("deep.yml:1:")
    assert "error[SK001]" in res.stderr and "Traceback" not in res.stderr


def test_nesting_up_to_the_limit_is_read() -> None:
    # 2 levels for services/item, the rest in a command: read (and rejected by type, not depth)
    depth = MAX_YAML_DEPTH - 3
    text = "services:\n  - name: a\n    image: x\n    command: " + "[" * depth + "]" * depth
    with pytest.raises(UserError) as info:
        parse_yaml(text, "ok.yml")
    assert [d.code for d in info.value.diagnostics] == ["SK003"]  # wrong type


SYSTEMS = {
    "generator_exit.py": ("from systemkit import System\nraise GeneratorExit('bye')\n", 2),
    "custom.py": (
        "class Boom(BaseException):\n    pass\n\n\ndef f():\n    raise Boom('custom')\n\n\nf()\n",
        6,
    ),
    "bad_mapping.py": (
        "from collections.abc import Mapping\n\n\nclass Bad(Mapping):\n"
        "    def __getitem__(self, k):\n        raise KeyError(k)\n\n"
        "    def __len__(self):\n        return 1\n\n"
        "    def __iter__(self):\n        raise GeneratorExit('iteration')\n\n\n"
        "systems = Bad()\n",
        12,
    ),
    "bad_items.py": (
        "class Bad(dict):\n    def items(self):\n        raise RuntimeError('items')\n\n\n"
        "systems = Bad()\n",
        3,
    ),
    "bad_str.py": (
        "class E(Exception):\n    def __str__(self):\n        raise ValueError\n\n\nraise E()\n",
        6,
    ),
}


@pytest.mark.parametrize("name", sorted(SYSTEMS))
def test_system_py_raising_anything_is_a_located_error(tmp_path: Path, name: str) -> None:
    text, line = SYSTEMS[name]
    (tmp_path / name).write_text(text)
    with pytest.raises(UserError) as info:
        load(tmp_path / name)
    (diag,) = info.value.diagnostics
    assert diag.code == "SK052"
    assert diag.location is not None
    assert (Path(diag.location.file).name, diag.location.line) == (name, line)
    assert diag.hint is not None and "systemkit/" not in diag.hint  # the user's frames only
    res = _cli("lower", name, cwd=tmp_path)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert f"{name}:{line}" in res.stderr and "error[SK052]" in res.stderr


def test_keyboard_interrupt_in_a_system_py_still_interrupts(tmp_path: Path) -> None:
    (tmp_path / "ctrl_c.py").write_text("raise KeyboardInterrupt\n")
    with pytest.raises(KeyboardInterrupt):
        load(tmp_path / "ctrl_c.py")


def test_check_without_mypy_is_one_finding(tmp_path: Path) -> None:
    (tmp_path / "system.py").write_text(
        "from systemkit import Onboot, System\n\n"
        "system = System(onboot=[Onboot('a', 'alpine:3.20')])\n"
    )
    # None in sys.modules makes `import mypy` fail as it does where mypy is not installed.
    code = (
        "import sys; sys.modules['mypy'] = None; from systemkit.cli import main; "
        "sys.exit(main(['check', 'system.py']))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert "Traceback" not in res.stderr and "Traceback" not in res.stdout
    out = res.stdout + res.stderr
    assert out.count("error[SK000]") == 1
    assert "system.py:1:" in out and "mypy is not available" in out and "--no-mypy" in out
    assert res.returncode == 1
