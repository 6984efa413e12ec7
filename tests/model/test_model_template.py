"""File.template: jinja2 rendered strictly into `contents`; template errors are located at the
user's call and name the template's line."""

from __future__ import annotations

from pathlib import Path

import pytest

from systemkit import File, System, lower
from systemkit.check import check_file
from systemkit.diagnostics import ModelValueError
from systemkit.spec.codec import spec_bytes


def test_inline_template_renders_plainly() -> None:
    f = File.template("/etc/motd", "<{{ host }}> & {{ n }}\n", host="edge-1", n=3, mode=0o644)
    assert f.contents == "<edge-1> & 3\n"  # no HTML escaping, trailing newline kept
    assert f.mode == 0o644
    system = System(files=[f])
    assert lower(system).spec.files[0].contents == "<edge-1> & 3\n"


def test_template_file_relative_to_the_calling_file(tmp_path: Path) -> None:
    (tmp_path / "hosts.j2").write_text(
        "{% for name, ip in hosts.items() %}{{ ip }} {{ name }}\n{% endfor %}"
    )
    (tmp_path / "system.py").write_text(
        "from pathlib import Path\n"
        "from systemkit import File, System\n"
        "system = System(files=[File.template('/etc/hosts', Path('hosts.j2'),"
        " hosts={'a': '10.0.0.1', 'b': '10.0.0.2'})])\n"
    )
    from systemkit.loader import load_lowered

    first = load_lowered([tmp_path / "system.py"], None)
    assert first.spec.files[0].contents == "10.0.0.1 a\n10.0.0.2 b\n"
    again = load_lowered([tmp_path / "system.py"], None)
    assert spec_bytes(first.spec) == spec_bytes(again.spec)


def test_missing_variable_is_located_at_the_call_and_the_template_line() -> None:
    with pytest.raises(ModelValueError) as info:
        File.template("/etc/motd", "hello\n{{ host }}\n")
    [d] = info.value.diagnostics
    assert d.code == "SK140"
    assert d.location is not None and Path(d.location.file).resolve() == Path(__file__)
    assert d.location.line == 44
    assert "line 2" in d.message and "'host' is undefined" in d.message


def test_check_reports_every_template_error_with_both_lines(tmp_path: Path) -> None:
    (tmp_path / "motd.j2").write_text("Welcome to {{ host }}\n{{ missing }}\n")
    (tmp_path / "system.py").write_text(
        "from pathlib import Path\n"
        "\n"
        "from systemkit import File, System\n"
        "\n"
        "system = System(\n"
        "    files=[\n"
        "        File.template('/etc/motd', Path('motd.j2'), host='edge-1'),\n"
        "        File.template('/etc/x', 'a {{ b }\\n', b=1),\n"
        "    ]\n"
        ")\n"
    )
    found = [d for d in check_file([tmp_path / "system.py"], mypy=False) if d.code == "SK140"]
    assert [(d.location.line if d.location else 0) for d in found] == [7, 8]
    missing, syntax = found
    assert "template motd.j2, line 2: 'missing' is undefined" in missing.message
    # named relative to the current directory, as every finding names files
    assert [(Path(r.file).resolve(), r.line) for r in missing.related] == [
        ((tmp_path / "motd.j2").resolve(), 2)
    ]
    assert "template <template>, line 1: unexpected '}'" in syntax.message


def test_a_file_name_given_as_str_is_an_error_not_the_contents() -> None:
    # a str is the template's text; "motd.j2" alone would silently become the file's contents
    with pytest.raises(ModelValueError) as info:
        File.template("/etc/motd", "motd.j2", host="edge-1")
    [d] = info.value.diagnostics
    assert d.code == "SK140"
    assert "looks like a file name" in d.message
    assert d.hint is not None and "Path('motd.j2')" in d.hint
    # text that merely ends in the suffix but is a template stays a template
    assert File.template("/etc/x", "{{ a }}.j2", a="b").contents == "b.j2"
