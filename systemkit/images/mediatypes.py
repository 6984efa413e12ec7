"""OCI and Docker media types, and what each one means to systemkit."""

from __future__ import annotations

import platform

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_FOREIGN_GZIP = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

MANIFESTS = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
INDEXES = frozenset({OCI_INDEX, DOCKER_LIST})
ALL_MANIFESTS = MANIFESTS | INDEXES

REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"
MOBY_LABEL = "org.mobyproject.config"

_COMPRESSION = {
    OCI_LAYER_TAR: "tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar": "tar",
    "application/vnd.docker.image.rootfs.diff.tar": "tar",
    OCI_LAYER_GZIP: "gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip": "gzip",
    DOCKER_LAYER_GZIP: "gzip",
    DOCKER_FOREIGN_GZIP: "gzip",
    OCI_LAYER_ZSTD: "zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd": "zstd",
    "application/vnd.docker.image.rootfs.diff.tar.zstd": "zstd",
}


def layer_compression(media_type: str) -> str | None:
    """``"tar"``, ``"gzip"`` or ``"zstd"`` for a layer media type; None if it is not a layer."""
    return _COMPRESSION.get(media_type)


_ARCH_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armv8": "arm64"}


def normalise_arch(arch: str) -> str:
    """The OCI (Go) name of an architecture: ``x86_64`` -> ``amd64``, ``aarch64`` -> ``arm64``."""
    return _ARCH_ALIASES.get(arch.lower(), arch.lower())


def host_arch() -> str:
    """The host architecture in OCI naming."""
    return normalise_arch(platform.machine())
