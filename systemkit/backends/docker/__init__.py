"""The ``docker`` backend: images come from a Docker Engine, everything else is ``native``.

For each image the spec names, the engine is asked first (a local image, e.g. one made with
``docker build``, is used as is); an image the engine does not have is pulled *through the
engine*, so its registry credentials, mirrors and proxy apply. The image is then exported with
the Engine API's image save (``GET /images/{id}/get``, what ``docker save`` does) into a mirror
store (``.docker-engine/`` in the image store directory), and the very same assembly and output
code as the ``native`` backend runs on that store. Identical image content therefore gives
byte-identical artifacts by construction. The engine's image ids are content-addressed, so an
image whose id is already in the mirror under its reference is not exported again.

Why image save and not container export (``docker export``, what ``linuxkit build --docker``
uses): image save returns every layer as the exact uncompressed tar the image was built or
pulled with (the engine keeps tar-split data to reproduce it bit for bit, which is how the
layer ``diff_ids`` stay valid) plus the image config JSON, labels included, unchanged. A
container export is a fresh tar of a merged filesystem: entry order, directory entries, mode
bits and mtimes of synthesised entries differ from the image, whiteouts are already applied,
and the config (``Env``, ``Cmd``, the ``org.mobyproject.config`` label) is not in it at all.
The save is verified on import: every layer must hash to its ``diff_id``.

Modules, one concern each: ``endpoint`` (finding the engine), ``tunnel`` (``ssh://``),
``connection`` (connecting, one-line reasons), ``mirror`` (images from the engine into the
mirror store), ``backend`` (``DockerBackend``), ``errors`` (its codes).

The engine is found the way the ``docker`` CLI finds it: ``DOCKER_HOST`` (with
``DOCKER_TLS_VERIFY``, ``DOCKER_TLS`` and ``DOCKER_CERT_PATH``), else the context named by
``DOCKER_CONTEXT``, else the ``currentContext`` of the Docker config file (``DOCKER_CONFIG``
or ``~/.docker``), else ``unix:///var/run/docker.sock``. ``ssh://`` hosts go through the
``ssh`` command, as the CLI does. The API version is negotiated unless ``DOCKER_API_VERSION``
pins it.
"""

from __future__ import annotations

from systemkit.backends.docker.backend import DockerBackend
from systemkit.backends.docker.connection import Engine, connect
from systemkit.backends.docker.endpoint import EngineEndpoint, engine_endpoint
from systemkit.backends.docker.errors import (
    ENGINE_UNREACHABLE,
    IMAGE_MISSING,
    PLATFORM_MISMATCH,
    PULL_FAILED,
    SAVE_FAILED,
)
from systemkit.backends.docker.mirror import MIRROR_DIR, EngineImages, spec_images

__all__ = [
    "ENGINE_UNREACHABLE",
    "IMAGE_MISSING",
    "MIRROR_DIR",
    "PLATFORM_MISMATCH",
    "PULL_FAILED",
    "SAVE_FAILED",
    "DockerBackend",
    "Engine",
    "EngineEndpoint",
    "EngineImages",
    "connect",
    "engine_endpoint",
    "spec_images",
]
