"""The system.py generator: sources, fragments, literals and layout."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from systemkit import lower
from systemkit.linuxkit import parse_yaml
from systemkit.linuxkit.importer import generate_python
from systemkit.linuxkit.pyexpr import (
    LINE_LENGTH,
    Atom,
    Call,
    DictExpr,
    Expr,
    ListExpr,
    format_expr,
    string,
)


def test_sources_are_relative_to_the_output_dir_or_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    project = home / "proj"
    (project / "conf").mkdir(parents=True)
    (project / "conf" / "a.toml").write_text("a\n")
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id.pub").write_text("k\n")
    monkeypatch.setenv("HOME", str(home))
    lowered = parse_yaml(
        "files:\n"
        "  - {path: etc/a.toml, source: conf/a.toml}\n"
        "  - {path: root/.ssh/authorized_keys, source: ~/.ssh/id.pub}\n",
        "sys.yml",
        cwd=project,
    )
    in_project = generate_python(lowered, output_dir=project)
    assert 'source="conf/a.toml"' in in_project
    assert 'source="~/.ssh/id.pub"' in in_project
    below = project / "systems"
    below.mkdir()
    assert 'source="../conf/a.toml"' in generate_python(lowered, output_dir=below)


def test_a_kernel_fragment_without_image_imports_as_a_kernel_override() -> None:
    lowered = parse_yaml("kernel:\n  cmdline: console=ttyS0\n", "frag.yml")
    code = generate_python(lowered)
    assert 'Kernel(cmdline="console=ttyS0")' in code
    namespace: dict[str, object] = {}
    exec(compile(code, "frag.py", "exec"), namespace)
    assert lower(namespace["system"]).spec == lowered.spec  # type: ignore[arg-type]


def test_values_are_written_idiomatically() -> None:
    lowered = parse_yaml(
        "services:\n"
        "  - name: s\n"
        "    image: docker.io/library/redis:7\n"
        "    env: [A=1, A=2]\n"
        "    devices: [{path: /dev/fuse, type: c, major: 10, minor: 229, mode: '0666'}]\n"
        "    runtime:\n"
        "      bindNS: {net: /run/netns/s}\n"
        "    sysctl: {net.core.somaxconn: '1024'}\n",
        "sys.yml",
    )
    text = generate_python(lowered)
    assert '"redis:7"' in text
    assert 'env=["A=1", "A=2"]' in text  # duplicate keys: stays a list
    assert 'Device("/dev/fuse", type="c", major=10, minor=229, mode=0o666)' in text
    assert 'runtime=Runtime(bind_ns=BindNS(net="/run/netns/s"))' in text
    assert 'sysctl={"net.core.somaxconn": "1024"}' in text
    assert "from systemkit import BindNS, Device, Runtime, Service, System\n" in text
    assert all(len(line) <= LINE_LENGTH for line in text.splitlines())


TEXTS = hs.text(hs.characters(codec="utf-8"), max_size=30)
EXPRS: hs.SearchStrategy[Expr] = hs.recursive(
    TEXTS.map(string) | hs.integers().map(lambda i: Atom(str(i))),
    lambda inner: (
        hs.lists(inner, max_size=4).map(lambda xs: ListExpr(tuple(xs)))
        | hs.lists(hs.tuples(TEXTS.map(string), inner), max_size=3).map(
            lambda kv: DictExpr(tuple(kv))
        )
        | hs.dictionaries(hs.sampled_from(["a", "bb", "ccc"]), inner, max_size=3).map(
            lambda kw: Call("dict", (), tuple(kw.items()))
        )
    ),
    max_leaves=12,
)


def _value(expr: Expr) -> object:
    if isinstance(expr, Atom):
        return ast.literal_eval(expr.text)
    if isinstance(expr, ListExpr):
        return [_value(i) for i in expr.items]
    if isinstance(expr, DictExpr):
        return {_value(k): _value(v) for k, v in expr.items}
    return {k: _value(v) for k, v in expr.kwargs}


@settings(max_examples=200, deadline=None)
@given(expr=EXPRS)
def test_printed_expressions_evaluate_to_their_value(expr: Expr) -> None:
    source = "\n".join(format_expr(expr, 0, "x = "))
    namespace: dict[str, object] = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    assert namespace["x"] == _value(expr)
