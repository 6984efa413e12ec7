"""Fixtures for the LinuxKit YAML tests: the shared corpus and a working directory for it.

``accepted_name`` / ``rejected_case`` parametrize a test over the corpus files LinuxKit accepts
/ rejects (``expected/status.tsv``).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus" / "linuxkit"


def _rows() -> list[tuple[str, str, str]]:
    with open(CORPUS / "expected" / "status.tsv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))
    return [(r[0], r[1], r[2] if len(r) > 2 else "") for r in rows[1:]]


ROWS = _rows()
ACCEPTED = [name for name, verdict, _ in ROWS if verdict == "accepted"]
REJECTED = [(name, message) for name, verdict, message in ROWS if verdict == "rejected"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "accepted_name" in metafunc.fixturenames:
        metafunc.parametrize("accepted_name", ACCEPTED)
    if "rejected_case" in metafunc.fixturenames:
        metafunc.parametrize("rejected_case", REJECTED, ids=[n for n, _ in REJECTED])


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The LinuxKit corpus (``shared/corpus/linuxkit`` next to the repository)."""
    return CORPUS


@pytest.fixture(scope="session")
def accepted_names() -> list[str]:
    """Every corpus file LinuxKit accepts."""
    return list(ACCEPTED)


@pytest.fixture(scope="session")
def corpus_cwd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding every relative, non-optional ``files[].source`` the corpus names.

    LinuxKit resolves sources against its working directory and ``--dry-run`` never reads
    them, so the corpus ships none; systemkit reads them (their digest goes into the spec).
    """
    cwd = tmp_path_factory.mktemp("corpus-cwd")
    for name in ACCEPTED:
        data = yaml.safe_load((CORPUS / name).read_text(encoding="utf-8"))
        for entry in data.get("files") or []:
            source = entry.get("source")
            if source and not source.startswith("~") and not entry.get("optional"):
                target = cwd / source
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(f"# stand-in for {source}\n", encoding="utf-8")
    return cwd
