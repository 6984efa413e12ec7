"""LinuxKit's own system files: parse, emit, re-parse, and agree with LinuxKit's dry run."""

from __future__ import annotations

from pathlib import Path

import pytest

from systemkit.diagnostics import Severity, UserError
from systemkit.linuxkit import parse_yaml
from systemkit.linuxkit.emit import emit_yaml
from systemkit.linuxkit.meaning import linuxkit_meaning


def test_corpus_is_complete(accepted_names: list[str], corpus_dir: Path) -> None:
    assert len(accepted_names) == 178
    assert len(list(corpus_dir.rglob("*.yml"))) == 2 * 178 + 3  # inputs, dry runs, rejected


def test_accepted_file_round_trips_and_means_what_linuxkit_read(
    accepted_name: str, corpus_dir: Path, corpus_cwd: Path
) -> None:
    name = accepted_name
    text = (corpus_dir / name).read_text(encoding="utf-8")
    lowered = parse_yaml(text, name, cwd=corpus_cwd)
    assert lowered.locations["$"].file == name
    assert lowered.base_dir == corpus_cwd.resolve()
    assert not [d for d in lowered.diagnostics if d.severity is Severity.ERROR]

    emitted = emit_yaml(lowered.spec)
    again = parse_yaml(emitted, "emitted.yml", cwd=corpus_cwd)
    assert again.spec == lowered.spec
    assert emit_yaml(again.spec) == emitted

    # LinuxKit's --dry-run re-serialisation of the same file, read by the same parser, means
    # the same once LinuxKit's unset-vs-zero blindness and its silent drops are applied.
    dry = (corpus_dir / "expected" / "dry-run" / name).read_text(encoding="utf-8")
    linuxkit_read = parse_yaml(dry, "dry-run/" + name, cwd=corpus_cwd)
    assert linuxkit_meaning(lowered.spec) == linuxkit_meaning(linuxkit_read.spec)


def test_rejected_file_is_rejected_with_file_and_line(
    rejected_case: tuple[str, str], corpus_dir: Path
) -> None:
    name, linuxkit_message = rejected_case
    text = (corpus_dir / name).read_text(encoding="utf-8")
    with pytest.raises(UserError) as info:
        parse_yaml(text, name)
    diags = info.value.diagnostics
    assert diags
    for diag in diags:
        assert diag.location is not None and diag.location.file == name
        assert diag.location.line >= 1
        assert diag.severity is Severity.ERROR
    assert f"{name}:" in str(info.value)
    if "Additional property" in linuxkit_message:
        # LinuxKit names the unknown keys; so must we, one diagnostic each.
        unknown = [w.split()[0] for w in linuxkit_message.split("Additional property ")[1:]]
        assert sorted(d.message.split("`")[1] for d in diags) == sorted(unknown)
        assert {d.code for d in diags} == {"SK002"}
    else:
        assert [d.code for d in diags] == ["SK001"]


def test_static_ip_is_located_at_the_orphaned_line(corpus_dir: Path) -> None:
    # A `#` comment at column 0 ends the literal block; line 28 is then a stray scalar.
    name = "examples/static-ip.yml"
    with pytest.raises(UserError) as info:
        parse_yaml((corpus_dir / name).read_text(encoding="utf-8"), name)
    (diag,) = info.value.diagnostics
    assert str(diag.location) == f"{name}:28:7"
