"""Fuzz tests kept as tests: the LinuxKit YAML reader and ``systemkit cache import`` are fed
generated inputs, and every one must end in a result or the project's user-facing error type
(``UserError`` / exit status 1), never another exception (a traceback for the user), within a
time bound (no hang) and a memory bound.

The runs are derandomized (the same examples each run, so CI is stable) and bounded:
``SYSTEMKIT_FUZZ_EXAMPLES`` raises the number of examples for a longer local run.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import resource
import shutil
import signal
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from systemkit.cli import main
from systemkit.diagnostics import UserError
from systemkit.linuxkit.parse import parse_yaml
from tests.hardening import archives as a

EXAMPLES = int(os.environ.get("SYSTEMKIT_FUZZ_EXAMPLES", "0")) or None
TIME_LIMIT = 20.0
"""Seconds one example may take before it counts as a hang (a normal one takes milliseconds)."""
MEMORY_LIMIT = 512 << 20
"""Bytes of address space one example may add to the process (it needs a few MiB)."""


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=EXAMPLES or examples,
        deadline=timedelta(seconds=TIME_LIMIT),
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


class Hang(Exception):
    """An example ran longer than TIME_LIMIT."""


def _vm_size() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmSize in /proc/self/status")


@contextlib.contextmanager
def bounded() -> Iterator[None]:
    """Fail an example that hangs (SIGALRM after TIME_LIMIT) or needs more than MEMORY_LIMIT
    of address space beyond what the process has (RLIMIT_AS: a MemoryError, which is not the
    user-error type, so the example fails)."""

    def alarm(_sig: int, _frame: Any) -> None:
        raise Hang(f"no result after {TIME_LIMIT} s")

    old_handler = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT)
    old_limit = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (_vm_size() + MEMORY_LIMIT, old_limit[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, old_limit)
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)


# -- the YAML reader -----------------------------------------------------------------------------

KEYS = [
    "kernel", "image", "cmdline", "tar", "ucode", "init", "onboot", "onshutdown", "services",
    "volumes", "files", "name", "command", "capabilities", "binds", "mounts", "env", "cwd",
    "net", "pid", "ipc", "uts", "readonly", "mode", "path", "contents", "source", "directory",
    "symlink", "uid", "gid", "sysctl", "rlimits", "devices", "runtime", "trust", "<<", "x",
]  # fmt: skip
SCALARS = st.one_of(
    st.sampled_from(["", "0644", "0o755", "yes", "on", "~", "null", "1:20", "alpine:3.20"]),
    st.sampled_from(["linuxkit/kernel:6.6", "CAP_ALL", "/etc/x", "true", "-1", ".inf"]),
    st.integers(-(2**70), 2**70),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=True),
    st.text(max_size=12),
)
DATA = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=5),
    ),
    max_leaves=30,
)
YAML_CHARS = "[]{}:,-&*!|>'\"#%@`?\n\t  abc01<~."


@st.composite
def yaml_texts(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["data", "mutated", "chars", "deep", "aliases"]))
    if kind == "chars":
        return draw(st.text(alphabet=YAML_CHARS, max_size=300))
    if kind == "deep":
        depth = draw(st.integers(1, 3000))
        if draw(st.booleans()):
            return "services: " + "[" * depth + "]" * draw(st.integers(0, depth))
        return "onboot:\n" + "".join("  " * i + "- a:\n" for i in range(1, min(depth, 400)))
    if kind == "aliases":
        n = draw(st.integers(1, 40))
        lines = ["x0: &a0 [image, name]"]
        lines += [f"x{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, n)]
        lines.append(f"onboot:\n  - name: n\n    image: i\n    command: *a{n - 1}")
        return "\n".join(lines)
    text = yaml.safe_dump(
        {"onboot": [draw(DATA)], **draw(st.dictionaries(st.sampled_from(KEYS), DATA, max_size=4))},
        default_flow_style=draw(st.sampled_from([None, True, False])),
        allow_unicode=True,
    )
    if kind == "mutated" and text:
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.text(alphabet=YAML_CHARS, max_size=5)) + text[at + 1 :]
    return text


@fuzz_settings(200)
@given(text=yaml_texts())
def test_fuzz_yaml_reader(text: str) -> None:
    with bounded():
        try:
            parse_yaml(text, "fuzz.yml", cwd=Path("/nonexistent"))
        except UserError as exc:
            assert exc.diagnostics, "a UserError carries at least one diagnostic"
            assert all(d.location is None or d.location.file == "fuzz.yml" for d in exc.diagnostics)


# -- cache import --------------------------------------------------------------------------------

JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["config", "layers", "manifests", "digest", "size", "mediaType"]),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=12,
)
LAYER = a.tar_layer({"bin/app": b"x"})


@st.composite
def json_docs(draw: st.DrawFn, good: Any) -> Any:
    """``good``, or a variant of it: a field replaced, dropped, or the whole of it replaced."""
    choice = draw(st.sampled_from(["good", "field", "drop", "whole", "deep"]))
    if choice == "good" or not isinstance(good, dict):
        return good
    if choice == "deep":
        depth = draw(st.integers(1, 5000))
        return b"[" * depth + b"]" * depth
    if choice == "whole":
        return draw(JSON)
    key = draw(st.sampled_from(sorted(good)))
    changed = dict(good)
    if choice == "drop":
        del changed[key]
    else:
        changed[key] = draw(JSON)
    return changed


LINKS = st.lists(
    st.tuples(
        st.sampled_from(["manifest.json", "index.json", "a", "b", "config.json", "l.tar"]),
        st.sampled_from(["sym", "hard"]),
        st.sampled_from(["a", "b", "../x", "/etc/passwd", "missing", "l.tar", "config.json"]),
    ),
    max_size=3,
)


@st.composite
def archives(draw: st.DrawFn, tmp: Path) -> Path:
    path = tmp / "fuzz.tar"
    links = draw(LINKS)
    if draw(st.booleans()):  # docker-archive
        config = a.config_json([a.sha(LAYER)])
        entry = {"Config": "config.json", "RepoTags": ["t/fuzz:1"], "Layers": ["l.tar"]}
        entry_doc = draw(json_docs(entry))
        entries = entry_doc if isinstance(entry_doc, bytes) else [entry_doc]
        members = {"config.json": a.doc(draw(json_docs(json.loads(config))))}
        members["l.tar"] = LAYER
        names = {m for m, _, _ in links}
        members = {k: v for k, v in members.items() if k not in names}
        entries_doc = a.doc(entries)
        if "manifest.json" in names:
            links = [link for link in links if link[0] != "manifest.json"]
        return a.docker_archive(path, entries_doc, members, links)
    manifest, blobs = a.good_manifest([gzip.compress(LAYER, mtime=0)])
    manifest_data = a.doc(draw(json_docs(manifest)))
    index = {"manifests": [a.named(manifest_data, a.OCI_MANIFEST, "t/fuzz:1")]}
    index_data = draw(json_docs(index))
    keep = draw(st.lists(st.booleans(), min_size=len(blobs), max_size=len(blobs)))
    kept = [blob for blob, k in zip(blobs, keep, strict=True) if k]
    return a.oci_archive(path, index_data, [manifest_data, *kept], links)


@pytest.fixture
def fuzz_dir(tmp_path: Path) -> Path:
    return tmp_path


@fuzz_settings(150)
@given(data=st.data())
def test_fuzz_cache_import(fuzz_dir: Path, data: st.DataObject) -> None:
    for old in fuzz_dir.iterdir():  # a fresh store and archive for each example
        if old.is_dir():
            shutil.rmtree(old)
        else:
            old.unlink()
    archive = data.draw(archives(fuzz_dir))
    err = io.StringIO()
    with bounded(), contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["cache", "import", str(archive), "--cache", str(fuzz_dir / "store")])
    assert code in (0, 1), err.getvalue()
    if code == 1:
        lines = err.getvalue().strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), lines
