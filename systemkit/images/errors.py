"""Errors raised by the image store and the image sources."""

from __future__ import annotations

from systemkit.diagnostics import SystemkitError


class ImageError(SystemkitError):
    """Something is wrong with an image, the store, or an image source."""


class ImageNotFound(ImageError):
    """The image (or one of its blobs) is not where it was looked for."""


class DigestMismatch(ImageError):
    """Content does not match the digest (or size) that names it: it is refused."""


class PlatformMismatch(ImageError):
    """The image has no variant for the requested platform."""
