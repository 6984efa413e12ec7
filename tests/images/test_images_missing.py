"""A build that lacks several images names every one of them in one run, and a registry host
that does not resolve (or refuses connections) is reported at once, not retried."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from systemkit.cli import main
from systemkit.images.registry import RetryPolicy, pull
from systemkit.images.store import ImageError, ImageStore

SYSTEM = """\
from systemkit import Onboot, Service, System

system = System(
    onboot=[Onboot("one", "registry.invalid/sk/one:1"), Onboot("two", "registry.invalid/sk/two:1")],
    services=[Service("three", "registry.invalid/sk/three:1")],
)
"""


def test_three_missing_images_in_one_run_fast(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "system.py").write_text(SYSTEM)
    started = time.monotonic()
    code = main(
        [
            "build",
            str(tmp_path / "system.py"),
            "--format",
            "tar",
            "--dir",
            str(tmp_path / "out"),
            "--cache",
            str(tmp_path / "cache"),
        ]
    )
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 1
    lines = [line for line in err.splitlines() if "error[SK620]" in line]
    assert len(lines) == 3, err
    for name, line_no in (("one", 4), ("two", 4), ("three", 5)):
        assert any(f"registry.invalid/sk/{name}:1" in line for line in lines), err
        assert any(f"system.py:{line_no}:" in line for line in lines), err
    assert "does not resolve" in err or "Name or service not known" in err or "resolv" in err
    assert "attempts" not in err  # reported at once, not after retries
    assert elapsed < 2.0, f"took {elapsed:.2f}s"
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("host", ["registry.invalid", "127.0.0.1:1"])
def test_unresolvable_or_refused_is_not_retried(tmp_path: Path, host: str) -> None:
    slow = RetryPolicy(attempts=5, base_delay=5.0, max_delay=5.0, timeout=5)
    started = time.monotonic()
    with pytest.raises(ImageError) as info:
        pull(ImageStore(tmp_path / "s"), f"{host}/sk/x:1", retry=slow)
    assert time.monotonic() - started < 4.0  # one retry would have slept 5 s
    assert "attempts" not in str(info.value)
