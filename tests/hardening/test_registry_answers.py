"""Whatever a registry answers, a pull ends in one clear error: manifests and indexes of the
wrong shape, too deep or too large, configs that are lists, token answers that are not objects.

The registry here is a fake (a small HTTP server on 127.0.0.1), named as such: Debian's real
docker-registry validates manifests when they are pushed, so it cannot serve these answers.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from systemkit.cli import main
from systemkit.images.errors import ImageError
from systemkit.images.registry import RetryPolicy, pull
from systemkit.images.store import ImageStore
from tests.hardening import archives as a

FAST = RetryPolicy(attempts=1)


class FakeRegistry:
    """Serves ``answers``: URL path -> (status, content type, body); a ``token`` path when a
    bearer challenge is wanted. Everything else is 404."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, str, bytes]] = {}
        self.requests: list[str] = []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake.requests.append(self.path)
                status, ctype, body = fake.answers.get(
                    self.path.split("?", 1)[0], (404, "text/plain", b"")
                )
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                if status == 401:
                    realm = f"http://{fake.host}/token"
                    self.send_header("WWW-Authenticate", f'Bearer realm="{realm}",service="x"')
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, path: str, body: bytes, ctype: str = a.OCI_MANIFEST, status: int = 200) -> None:
        self.answers[path] = (status, ctype, body)

    def blob(self, data: bytes) -> None:
        self.serve(f"/v2/r/blobs/{a.sha(data)}", data, "application/octet-stream")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    server = FakeRegistry()
    yield server
    server.close()


def _manifest(fake: FakeRegistry, doc: Any, media_type: str = a.OCI_MANIFEST) -> None:
    fake.serve("/v2/r/manifests/1", a.doc(doc), media_type)


def _good(fake: FakeRegistry) -> dict[str, Any]:
    import gzip

    manifest, blobs = a.good_manifest([gzip.compress(a.tar_layer({"f": b"x"}), mtime=0)])
    for blob in blobs:
        fake.blob(blob)
    return manifest


def _case_list(f: FakeRegistry) -> None:
    _manifest(f, [1, 2])


def _case_deep(f: FakeRegistry) -> None:
    _manifest(f, b"[" * 100_000 + b"]" * 100_000)


def _case_large(f: FakeRegistry) -> None:
    _manifest(f, {"mediaType": a.OCI_MANIFEST, "pad": "x" * (5 << 20)})


def _case_media_type_list(f: FakeRegistry) -> None:
    _manifest(f, {"mediaType": [a.OCI_MANIFEST]})


def _case_no_config(f: FakeRegistry) -> None:
    _manifest(f, {**_good(f), "config": None})


def _case_layers_strings(f: FakeRegistry) -> None:
    _manifest(f, {**_good(f), "layers": ["l.tar"]})


def _case_index_entries_strings(f: FakeRegistry) -> None:
    _manifest(f, {"mediaType": a.OCI_INDEX, "manifests": ["x"]}, a.OCI_INDEX)


def _case_index_platform_string(f: FakeRegistry) -> None:
    child = a.doc(_good(f))
    entry = {**a.desc(child, a.OCI_MANIFEST), "platform": "linux/amd64"}
    _manifest(f, {"mediaType": a.OCI_INDEX, "manifests": [entry]}, a.OCI_INDEX)


def _case_index_child_a_list(f: FakeRegistry) -> None:
    child = b"[]"
    f.serve(f"/v2/r/manifests/{a.sha(child)}", child)
    entry = {**a.desc(child, a.OCI_MANIFEST), "platform": {"os": "linux", "architecture": "amd64"}}
    _manifest(f, {"mediaType": a.OCI_INDEX, "manifests": [entry]}, a.OCI_INDEX)


def _case_config_a_list(f: FakeRegistry) -> None:
    manifest = _good(f)
    manifest["config"] = a.desc(b"[]", a.OCI_CONFIG)
    f.blob(b"[]")
    _manifest(f, manifest)


def _case_token_a_list(f: FakeRegistry) -> None:
    f.serve("/v2/r/manifests/1", b"{}", status=401)
    f.serve("/token", b"[" * 50_000 + b"]" * 50_000, "application/json")


CASES = {
    "manifest-a-list": (_case_list, "manifest r:1 is a list, not a JSON object"),
    "manifest-deep": (_case_deep, "nests deeper than 64 levels"),
    "manifest-over-4-mib": (_case_large, "is larger than 4 MiB (the limit)"),
    "media-type-a-list": (_case_media_type_list, "mediaType that is not a string"),
    "manifest-without-config": (_case_no_config, "config is null, not a JSON object"),
    "layers-as-strings": (_case_layers_strings, "layer 0 is a string"),
    "index-entries-strings": (_case_index_entries_strings, "entry 0 is a string"),
    "index-platform-a-string": (_case_index_platform_string, "has no linux/amd64 variant"),
    "index-child-a-list": (_case_index_child_a_list, "is a list, not a JSON object"),
    "config-a-list": (_case_config_a_list, "image config is a list"),
    "token-answer-a-deep-list": (_case_token_a_list, "the token service returned no token"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_fake_registry_answer_is_one_clear_error(
    fake: FakeRegistry, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    setup, words = CASES[case]
    setup(fake)
    store = ImageStore(tmp_path / "store")
    with pytest.raises(ImageError) as info:
        pull(store, f"{fake.host}/r:1", "amd64", retry=FAST)
    assert words in str(info.value)
    assert store.refs() == []
    code = main(
        ["cache", "pull", f"{fake.host}/r:1", "--arch", "amd64", "--cache", str(store.root)]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    errors = [line for line in err if line.startswith("error: ")]
    assert errors == [err[-1]] and words in err[-1], err  # progress lines, then one error
