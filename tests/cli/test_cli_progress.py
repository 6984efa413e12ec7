"""The one renderer of progress events: plain lines off a terminal, a live display on one."""

from __future__ import annotations

import io

from systemkit.cli.progress import ProgressRenderer
from systemkit.progress import ProgressEvent, format_size, step, warning

EVENTS = [
    step("Pull docker.io/t/app:1", "pull", "docker.io/t/app:1"),
    ProgressEvent("advance", "", "pull", "sha256:" + "a" * 64, 1024, 4096, "bytes"),
    ProgressEvent("advance", "", "pull", "sha256:" + "a" * 64, 4096, 4096, "bytes"),
    ProgressEvent("done", "  fetched sha256:aaaa (4.0 KiB)", "pull", "sha256:" + "a" * 64),
    step("Add onboot containers:", "onboot"),
    ProgressEvent("log", 'time="..." level=info msg="Create outputs:"', "linuxkit"),
    warning("could not save the rebuild cache: disk full", "cache"),
    ProgressEvent("done", "Built demo.tar in 0.1s", "build"),
]


def test_plain_lines_off_a_terminal() -> None:
    out = io.StringIO()
    with ProgressRenderer(out) as render:
        assert not render.live
        for event in EVENTS:
            render(event)
    assert out.getvalue().splitlines() == [
        "Pull docker.io/t/app:1",
        "  fetched sha256:aaaa (4.0 KiB)",
        "Add onboot containers:",
        'time="..." level=info msg="Create outputs:"',
        "warning: could not save the rebuild cache: disk full",
        "Built demo.tar in 0.1s",
    ]


def test_live_display_on_a_terminal() -> None:
    out = io.StringIO()
    with ProgressRenderer(out, live=True) as render:
        render(EVENTS[0])
        render(EVENTS[1])
        assert render._display is not None
        bars = [t for t in render._display.tasks if not t.fields.get("status")]
        assert [(t.description.strip(), t.completed, t.total) for t in bars] == [
            ("sha256:aaaaaaaaaaaa", 1024, 4096)
        ]
        for event in EVENTS[2:]:
            render(event)
        assert [t for t in render._display.tasks if not t.fields.get("status")] == []
    screen = out.getvalue()
    assert "\x1b[" in screen  # drawn with terminal control sequences
    assert "Add onboot containers:" in screen
    kept = screen.rsplit("\x1b[2K", 1)[0]
    assert "warning: could not save the rebuild cache: disk full" in kept
    assert "Built demo.tar in 0.1s" in kept


def test_an_event_is_its_plain_line() -> None:
    assert str(warning("x")) == "warning: x"
    assert str(ProgressEvent("advance", "", "pull", "d", 1, 2, "bytes")) == ""
    assert str(ProgressEvent("step", "Add files:", "files", system="acme-qemu")) == (
        "[acme-qemu] Add files:"
    )
    assert [format_size(n) for n in (None, 5, 1536, 3 << 20, 5 << 30)] == [
        "incomplete",
        "5 B",
        "1.5 KiB",
        "3.0 MiB",
        "5.0 GiB",
    ]
