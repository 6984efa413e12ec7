"""docs/backends.md stays true: its Python blocks run, the files and codes it names exist."""

from __future__ import annotations

import re
from pathlib import Path

from systemkit.backends import docker as docker_backend
from systemkit.backends import linuxkit_cli

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "backends.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)


def test_python_blocks_run() -> None:
    blocks = _BLOCK.findall(PAGE.read_text())
    assert len(blocks) >= 2
    for block in blocks:
        exec(compile(block, str(PAGE), "exec"), {})


def test_named_files_exist() -> None:
    text = PAGE.read_text()
    for path in set(re.findall(r"`((?:tests|benchmarks|systemkit)/[\w/.]+\.py)`", text)):
        assert (REPO / path).is_file(), path


def test_error_codes_match_the_code() -> None:
    text = PAGE.read_text()
    codes = {
        docker_backend.ENGINE_UNREACHABLE,
        docker_backend.IMAGE_MISSING,
        docker_backend.PULL_FAILED,
        docker_backend.PLATFORM_MISMATCH,
        docker_backend.SAVE_FAILED,
        linuxkit_cli.LINUXKIT_MISSING,
        linuxkit_cli.LINUXKIT_FAILED,
    }
    assert codes == set(re.findall(r"SK6\d\d", text))
    assert linuxkit_cli.BINARY_ENV in text


def test_both_backends_implement_the_protocol() -> None:
    from systemkit.backends.base import Backend

    for backend in (docker_backend.DockerBackend(), linuxkit_cli.LinuxkitBackend()):
        assert isinstance(backend, Backend)
        assert backend.name in PAGE.read_text()
    assert {"tar", "kernel+initrd"} <= docker_backend.DockerBackend.formats
    assert {"tar", "kernel+initrd", "iso-efi", "raw-bios"} <= linuxkit_cli.LinuxkitBackend.formats
