"""The parser's diagnostics: exact file:line:col, codes, spec paths, all problems at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from systemkit.diagnostics import Diagnostic, Severity, UserError
from systemkit.linuxkit import parse_yaml


def errors_of(text: str) -> list[Diagnostic]:
    with pytest.raises(UserError) as info:
        parse_yaml(text, "sys.yml")
    return info.value.diagnostics


def where(diag: Diagnostic) -> str:
    return f"{diag.location}"


def test_unknown_keys_anywhere_are_all_reported_with_a_suggestion() -> None:
    diags = errors_of(
        "onboot:\n"
        "  - name: a\n"
        "    image: alpine\n"
        "    bind:\n"
        "      - /a:/b\n"
        "    binds_add: ['/x:/y']\n"
        "    resources:\n"
        "      memory:\n"
        "        limt: 5\n"
        "servces: []\n"
    )
    assert [(d.code, where(d), d.spec_path) for d in diags] == [
        ("SK002", "sys.yml:4:5", "$.onboot[0].bind"),
        ("SK002", "sys.yml:6:5", "$.onboot[0].binds_add"),
        ("SK002", "sys.yml:9:9", "$.onboot[0].resources.memory.limt"),
        ("SK002", "sys.yml:10:1", "$.servces"),
    ]
    assert diags[0].hint == "did you mean `binds`?"
    assert diags[1].hint is not None and "`binds.add`" in diags[1].hint
    assert diags[2].hint == "did you mean `limit`?"
    assert diags[3].hint == "did you mean `services`?"
    assert all(d.severity is Severity.ERROR for d in diags)


def test_wrong_types_are_located_at_the_value() -> None:
    diags = errors_of(
        "onboot:\n"
        "  - name: a\n"
        "    image: alpine\n"
        "    command: /bin/sh\n"
        "    readonly: yes\n"
        '    oomScoreAdj: "5"\n'
        "    env: [A=1, 2]\n"
        "    uid: true\n"
        "kernel: linuxkit/kernel:6.6\n"
    )
    got = [(d.code, where(d), d.spec_path) for d in diags]
    assert got == [
        ("SK003", "sys.yml:4:14", "$.onboot[0].command"),
        ("SK003", "sys.yml:5:15", "$.onboot[0].readonly"),
        ("SK003", "sys.yml:6:18", "$.onboot[0].oomScoreAdj"),
        ("SK003", "sys.yml:7:16", "$.onboot[0].env[1]"),
        ("SK003", "sys.yml:8:10", "$.onboot[0].uid"),
        ("SK003", "sys.yml:9:9", "$.kernel"),
    ]
    assert diags[0].message == "expected a list, got a string ('/bin/sh')"
    assert "yes/no/on/off are strings" in (diags[1].hint or "")
    assert diags[2].hint == "remove the quotes: 5"
    assert diags[3].hint == 'quote the value to keep it a string: "2"'
    assert diags[4].message == "expected an integer or a string, got a boolean ('true')"


def test_unquoted_octal_mode_is_an_integer_and_a_type_error() -> None:
    (diag,) = errors_of("files:\n  - path: etc/x\n    contents: hi\n    mode: 0644\n")
    assert (diag.code, where(diag), diag.spec_path) == ("SK003", "sys.yml:4:11", "$.files[0].mode")
    assert diag.hint == 'modes are octal strings in LinuxKit: write mode: "0644" (quoted)'


def test_invalid_yaml_is_located() -> None:
    (diag,) = errors_of("onboot:\n  - name: a\n   image: b\n")
    assert (diag.code, where(diag)) == ("SK001", "sys.yml:3:4")
    assert diag.message.startswith("invalid YAML: ")
    assert [str(r) for r in diag.related] == ["sys.yml:2:3"]


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n"])
def test_empty_file_is_an_error(text: str) -> None:
    (diag,) = errors_of(text)
    assert diag.code == "SK001" and "empty" in diag.message


def test_several_documents_are_an_error() -> None:
    (diag,) = errors_of("init: []\n---\ninit: []\n")
    assert diag.code == "SK001" and where(diag) == "sys.yml:2:1"


def test_missing_required_keys_are_located_at_the_entry() -> None:
    diags = errors_of(
        "services:\n  - image: alpine\nfiles:\n  - contents: x\nvolumes:\n  - image: alpine\n"
    )
    assert [(d.code, where(d), d.spec_path) for d in diags] == [
        ("SK004", "sys.yml:2:5", "$.services[0].name"),
        ("SK004", "sys.yml:4:5", "$.files[0].path"),
        ("SK004", "sys.yml:6:5", "$.volumes[0].name"),
    ]


def test_null_where_a_value_is_needed() -> None:
    (diag,) = errors_of("onboot:\n")
    assert (diag.code, where(diag)) == ("SK003", "sys.yml:1:8")
    assert "null" in diag.message


def test_bad_image_refs_modes_and_volume_names() -> None:
    diags = errors_of(
        "init:\n"
        "  - Linuxkit/Init:v1\n"
        "services:\n"
        "  - name: a\n"
        "    image: alpine:bad tag\n"
        "    devices:\n"
        "      - {path: /dev/x, type: c, major: 1, minor: 2, mode: rw}\n"
        "files:\n"
        "  - path: a\n"
        "    contents: x\n"
        '    mode: "0999"\n'
        "volumes:\n"
        "  - name: Data\n"
        "  - name: ok\n"
        "  - name: ok\n"
    )
    assert [(d.code, where(d), d.spec_path) for d in diags] == [
        ("SK105", "sys.yml:2:5", "$.init[0]"),
        ("SK105", "sys.yml:5:12", "$.services[0].image"),
        ("SK103", "sys.yml:7:59", "$.services[0].devices[0].mode"),
        ("SK103", "sys.yml:11:11", "$.files[0].mode"),
        ("SK116", "sys.yml:13:11", "$.volumes[0].name"),
        ("SK202", "sys.yml:15:5", "$.volumes[2].name"),
    ]


def test_duplicate_service_names_even_alongside_other_errors() -> None:
    diags = errors_of(
        "services:\n"
        "  - name: s\n"
        "    image: alpine\n"
        "    bogus: 1\n"
        "  - name: s\n"
        "    image: alpine\n"
        "onboot:\n"
        "  - name: o\n"
        "    image: alpine\n"
        "  - name: o\n"
        "    image: alpine\n"
    )
    assert [(d.code, where(d)) for d in diags] == [
        ("SK002", "sys.yml:4:5"),
        ("SK201", "sys.yml:5:5"),
    ]
    assert [str(r) for r in diags[1].related] == ["sys.yml:2:5"]


def test_duplicate_mapping_key() -> None:
    (diag,) = errors_of("onboot:\n  - name: a\n    image: b\n    name: c\n")
    assert (diag.code, where(diag), diag.spec_path) == ("SK010", "sys.yml:4:5", "$.onboot[0].name")


def test_non_string_key() -> None:
    (diag,) = errors_of("services:\n  - name: a\n    image: b\n    sysctl:\n      1: x\n")
    assert (diag.code, where(diag)) == ("SK003", "sys.yml:5:7")


def test_missing_source_is_an_error_unless_optional(tmp_path: Path) -> None:
    text = (
        "files:\n"
        "  - path: a\n"
        "    source: missing.txt\n"
        "  - path: b\n"
        "    source: also-missing.txt\n"
        "    optional: true\n"
    )
    with pytest.raises(UserError) as info:
        parse_yaml(text, "sys.yml")
    (diag,) = info.value.diagnostics
    assert (diag.code, where(diag), diag.spec_path) == (
        "SK122",
        "sys.yml:3:13",
        "$.files[0].source",
    )


def test_pkg_templates_are_not_resolved() -> None:
    (diag,) = errors_of('onboot:\n  - name: a\n    image: "@pkg:../pkg/foo"\n')
    assert (diag.code, where(diag)) == ("SK105", "sys.yml:3:12")
    assert "@pkg:" in (diag.hint or "")


def test_recursive_alias_is_an_error() -> None:
    (diag,) = errors_of("init: &a\n  - x\n  - *a\n")
    assert diag.code == "SK001" and "recursive alias" in diag.message


def test_alias_bomb_is_an_error() -> None:
    options = ", ".join(["x"] * 100)
    mounts = ", ".join(["*m"] * 99)
    text = (
        "onboot:\n"
        f"  - &c {{name: a, image: alpine, mounts: [&m {{options: [{options}]}}, {mounts}]}}\n"
        + "  - *c\n"
        * 99
    )
    (diag,) = errors_of(text)
    assert diag.code == "SK001" and "excessive aliasing" in diag.message


def test_merge_key_bomb_is_an_error() -> None:
    levels = ["  - &l0 {name: a, image: alpine}"]
    for i in range(1, 12):
        levels.append(f"  - &l{i} {{<<: [" + ", ".join([f"*l{i - 1}"] * 10) + "]}")
    (diag,) = errors_of("onboot:\n" + "\n".join(levels) + "\n")
    assert diag.code == "SK001" and "excessive aliasing" in diag.message
