"""LinuxKit's own system files (../shared/corpus/linuxkit): every file LinuxKit accepts gives no
error (warnings allowed); every file it rejects gives at least one.

The corpus ships without the host files that `files[].source` entries name (LinuxKit's test
scripts such as ./check.sh). The test creates EMPTY PLACEHOLDER files under a temporary
directory and resolves sources against it, as LinuxKit resolves them against its working
directory; the placeholders stand in for the missing scripts and nothing else.
"""

from __future__ import annotations

import collections
from pathlib import Path

import pytest
import yaml

from systemkit.check import LabelSource, run_checks
from systemkit.diagnostics import Severity, UserError
from systemkit.linuxkit.parse import parse_files

CORPUS = (Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "linuxkit").resolve()


def _rows() -> list[tuple[str, str]]:
    status = CORPUS / "expected" / "status.tsv"
    if not status.exists():
        return []
    lines = status.read_text(encoding="utf-8").splitlines()[1:]
    return [(cols[0], cols[1]) for cols in (line.split("\t") for line in lines)]


ROWS = _rows()
ACCEPTED = [path for path, verdict in ROWS if verdict == "accepted"]
REJECTED = [path for path, verdict in ROWS if verdict != "accepted"]

WARNINGS_SEEN_IN_CORPUS = {
    "SK203",  # onboot names reused (dm-crypt-loop, format_mount tests)
    "SK210",  # capabilities replacing an unknown label's
    "SK211",  # binds replacing an unknown label's
    "SK223",  # 070_volumes/006_mount_types binds a volume through `mounts`
    "SK224",  # 070_volumes/002_rw_on_ro binds a read-only volume without :ro
    "SK225",  # relative mount destination (001_tarheaders, 010_reproducible)
    "SK242",  # files under /var/lib (docker, cadvisor)
    "SK243",  # default 0600 files under /etc make /etc 0700
    "SK251",  # env without PATH
    "SK296",  # camelCase fields LinuxKit (and systemkit's build) drops
}


def _placeholders(path: Path, root: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for entry in data.get("files") or ():
        source = entry.get("source") if isinstance(entry, dict) else None
        if source and not source.startswith(("/", "~")):
            target = root / source
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("")  # EMPTY PLACEHOLDER for a script the corpus does not ship


def test_corpus_is_there() -> None:
    assert len(ACCEPTED) > 100 and REJECTED, f"corpus missing at {CORPUS}"


@pytest.mark.parametrize("rel", ACCEPTED)
def test_accepted_file_has_no_errors(rel: str, tmp_path: Path) -> None:
    path = CORPUS / rel
    _placeholders(path, tmp_path)
    lowered = parse_files([path], cwd=tmp_path)
    diags = run_checks(lowered, labels=LabelSource(use_store=False))
    errors = [d.render() for d in diags if d.severity == Severity.ERROR]
    assert not errors, "\n".join(errors)
    warned = {d.code for d in diags if d.severity == Severity.WARNING}
    assert warned <= WARNINGS_SEEN_IN_CORPUS, warned - WARNINGS_SEEN_IN_CORPUS


@pytest.mark.parametrize("rel", REJECTED)
def test_rejected_file_has_an_error(rel: str, tmp_path: Path) -> None:
    path = CORPUS / rel
    try:
        lowered = parse_files([path], cwd=tmp_path)
    except UserError as exc:
        assert any(d.severity == Severity.ERROR and d.location for d in exc.diagnostics)
        return
    diags = run_checks(lowered, labels=LabelSource(use_store=False))
    assert any(d.severity == Severity.ERROR for d in diags)


def corpus_counts() -> collections.Counter[tuple[str, str]]:
    """Findings per (code, severity) over the accepted files (for the report)."""
    import tempfile

    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    for rel in ACCEPTED:
        with tempfile.TemporaryDirectory() as tmp:
            _placeholders(CORPUS / rel, Path(tmp))
            lowered = parse_files([CORPUS / rel], cwd=Path(tmp))
            for d in run_checks(lowered, labels=LabelSource(use_store=False)):
                counts[(d.code, d.severity.value)] += 1
    return counts


if __name__ == "__main__":
    for (code, severity), n in sorted(corpus_counts().items()):
        print(f"{code}\t{severity}\t{n}")
