"""Pushing images from an :class:`ImageStore` to a registry on 127.0.0.1 (plain HTTP)."""

from __future__ import annotations

from typing import Any

import requests

from systemkit.images import mediatypes as mt
from systemkit.images.store import ImageStore


def _push_blob(
    host: str, repo: str, source: ImageStore, digest: str, auth: tuple[str, str] | None
) -> None:
    base = f"http://{host}/v2/{repo}"
    if requests.head(f"{base}/blobs/{digest}", auth=auth, timeout=10).status_code == 200:
        return
    start = requests.post(f"{base}/blobs/uploads/", auth=auth, timeout=10)
    assert start.status_code == 202, start.text
    location = start.headers["Location"]
    if location.startswith("/"):
        location = f"http://{host}{location}"
    with source.open_blob(digest) as body:
        put = requests.put(
            location,
            params={"digest": digest},
            data=body,
            headers={"Content-Type": "application/octet-stream"},
            auth=auth,
            timeout=10,
        )
    assert put.status_code == 201, put.text


def push(
    host: str,
    ref_path: str,
    tag: str,
    source: ImageStore,
    root: dict[str, Any],
    auth: tuple[str, str] | None = None,
) -> None:
    """Push a manifest or index (and everything it references) from a store to a registry."""
    doc = source.read_json(root["digest"])
    if root["mediaType"] in mt.INDEXES:
        for child in doc["manifests"]:
            push(host, ref_path, child["digest"], source, child, auth)
    else:
        for blob in [doc["config"], *doc["layers"]]:
            _push_blob(host, ref_path, source, blob["digest"], auth)
    with source.open_blob(root["digest"]) as f:
        data = f.read()
    resp = requests.put(
        f"http://{host}/v2/{ref_path}/manifests/{tag}",
        data=data,
        headers={"Content-Type": root["mediaType"]},
        auth=auth,
        timeout=10,
    )
    assert resp.status_code == 201, resp.text
