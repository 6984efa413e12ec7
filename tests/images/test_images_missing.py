"""A build that lacks several images names every one of them in one run, and a registry host
that does not resolve (or refuses connections) is reported at once, not retried; what can
succeed on a retry (a 503) still is. A fake busy server (FakeBusyRegistry: an HTTP server that
answers 503, which the real docker-registry does not do on demand) stands in for an overloaded
registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from systemkit.cli import main
from systemkit.images import registry
from systemkit.images.registry import RetryPolicy, pull
from systemkit.images.store import ImageError, ImageStore

SYSTEM = """\
from systemkit import Onboot, Service, System

system = System(
    onboot=[Onboot("one", "registry.invalid/sk/one:1"), Onboot("two", "registry.invalid/sk/two:1")],
    services=[Service("three", "registry.invalid/sk/three:1")],
)
"""


def test_three_missing_images_in_one_run_without_retries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """All three are named in one run, and none is retried: a retry would have to sleep first
    (benchmarks/missing_images.py measures the wall time: under 2 s)."""
    slept: list[float] = []
    monkeypatch.setattr(registry, "_sleep", slept.append)
    (tmp_path / "system.py").write_text(SYSTEM)
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
    err = capsys.readouterr().err
    assert code == 1
    lines = [line for line in err.splitlines() if "error[SK620]" in line]
    assert len(lines) == 3, err
    for name, line_no in (("one", 4), ("two", 4), ("three", 5)):
        assert any(f"registry.invalid/sk/{name}:1" in line for line in lines), err
        assert any(f"system.py:{line_no}:" in line for line in lines), err
    assert "does not resolve" in err or "Name or service not known" in err or "resolv" in err
    assert "attempts" not in err  # reported at once, not after retries
    assert slept == []
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("host", ["registry.invalid", "127.0.0.1:1"])
def test_unresolvable_or_refused_is_not_retried(
    tmp_path: Path, host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(registry, "_sleep", slept.append)
    with pytest.raises(ImageError) as info:
        pull(ImageStore(tmp_path / "s"), f"{host}/sk/x:1", retry=RetryPolicy(attempts=5))
    assert slept == []  # a retry sleeps first
    assert "attempts" not in str(info.value)


def test_a_server_error_is_still_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what cannot succeed on a retry is reported at once: a 503 is retried."""
    import http.server
    import threading

    class FakeBusyRegistry(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeBusyRegistry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    slept: list[float] = []
    monkeypatch.setattr(registry, "_sleep", slept.append)
    try:
        with pytest.raises(ImageError) as info:
            pull(
                ImageStore(tmp_path / "s"),
                f"127.0.0.1:{server.server_address[1]}/sk/x:1",
                retry=RetryPolicy(attempts=3),
            )
    finally:
        server.shutdown()
        server.server_close()
    assert len(slept) == 2
    assert "after 3 attempts: HTTP 503" in str(info.value)
