"""Image references, parsed and normalised as LinuxKit (docker/distribution) does."""

from __future__ import annotations

import functools
import re

import attrs

DEFAULT_DOMAIN = "docker.io"
_LEGACY_DOMAINS = {"index.docker.io": DEFAULT_DOMAIN}
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_PATH_RE = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_DOMAIN_RE = re.compile(
    r"^(?:localhost|(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)"
    r"(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*"
    r"|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$"
)
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
_SHA256_RE = re.compile(r"^sha256:[a-f0-9]{64}$")


class InvalidReference(ValueError):
    """A string that is not a valid image reference."""


@attrs.frozen
class ImageRef:
    """A normalised image reference: ``domain/path[:tag][@digest]``.

    ``ImageRef.parse("redis")`` gives ``docker.io/library/redis``, as LinuxKit expands it.
    """

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, text: str) -> ImageRef:
        """Parse and normalise; raise :class:`InvalidReference` with the reason."""
        if not isinstance(text, str) or not text:
            raise InvalidReference("an image reference must be a non-empty string")
        if text != text.strip() or any(c.isspace() for c in text):
            raise InvalidReference(f"image reference {text!r} contains white space")
        rest, digest = text, None
        if "@" in rest:
            rest, digest = rest.split("@", 1)
            if not _DIGEST_RE.match(digest):
                raise InvalidReference(f"invalid digest {digest!r} in image reference {text!r}")
            if digest.startswith("sha256:") and not _SHA256_RE.match(digest):
                raise InvalidReference(f"invalid sha256 digest in image reference {text!r}")
        tag = None
        last = rest.rsplit("/", 1)[-1]
        if ":" in last:
            rest, tag = rest.rsplit(":", 1)
            if not _TAG_RE.match(tag):
                raise InvalidReference(f"invalid tag {tag!r} in image reference {text!r}")
        first, _, remainder = rest.partition("/")
        if remainder and ("." in first or ":" in first or first == "localhost"):
            domain, path = first, remainder
            if not _DOMAIN_RE.match(domain):
                raise InvalidReference(f"invalid registry {domain!r} in image reference {text!r}")
        else:
            domain, path = DEFAULT_DOMAIN, rest
        domain = _LEGACY_DOMAINS.get(domain, domain)
        if domain == DEFAULT_DOMAIN and "/" not in path:
            path = "library/" + path
        if not _PATH_RE.match(path):
            if path.lower() != path:
                raise InvalidReference(
                    f"image reference {text!r} must be lower case (repository {path!r})"
                )
            raise InvalidReference(f"invalid repository name {path!r} in image reference {text!r}")
        if len(domain) + 1 + len(path) > 255:
            raise InvalidReference(f"image reference {text!r} is longer than 255 characters")
        return cls(domain, path, tag, digest)

    @property
    def name(self) -> str:
        """``domain/path``, without tag or digest."""
        return f"{self.domain}/{self.path}"

    def __str__(self) -> str:
        text = self.name
        if self.tag is not None:
            text += ":" + self.tag
        if self.digest is not None:
            text += "@" + self.digest
        return text

    @property
    def familiar(self) -> str:
        """The short form people write: ``redis:7``, ``linuxkit/init:abc``."""
        name = self.path if self.domain == DEFAULT_DOMAIN else self.name
        if self.domain == DEFAULT_DOMAIN and name.startswith("library/") and name.count("/") == 1:
            name = name[len("library/") :]
        if self.tag is not None:
            name += ":" + self.tag
        if self.digest is not None:
            name += "@" + self.digest
        return name

    @property
    def pinned(self) -> bool:
        """True when the reference names content by digest."""
        return self.digest is not None


@functools.lru_cache(maxsize=4096)
def normalise(text: str) -> str:
    """The normalised string form of an image reference."""
    return str(ImageRef.parse(text))
