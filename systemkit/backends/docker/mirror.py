"""The spec's images from the engine: resolved there (pulled through it when missing), checked
for the build's platform, and exported with image save into the mirror store.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import attrs
import docker
import docker.errors

from systemkit.backends.docker.connection import one_line_reason
from systemkit.backends.docker.errors import (
    ENGINE_UNREACHABLE,
    IMAGE_MISSING,
    PLATFORM_MISMATCH,
    PULL_FAILED,
    SAVE_FAILED,
    engine_error,
)
from systemkit.diagnostics import Diagnostic, UserError
from systemkit.images.archive import import_archive
from systemkit.images.errors import ImageError
from systemkit.images.mediatypes import host_arch, normalise_arch
from systemkit.images.ref import ImageRef, InvalidReference
from systemkit.images.store import ImageStore, normalise_ref
from systemkit.progress import Progress, ProgressEvent, silent, step
from systemkit.spec.types import Spec
from systemkit.spec.walk import first_uses

MIRROR_DIR = ".docker-engine"
"""The mirror store of engine images, inside the image store directory."""


def spec_images(spec: Spec) -> list[tuple[str, str]]:
    """``(ref, spec_path)`` for every image the spec uses, first use first, each ref once
    (in build order: :mod:`systemkit.spec.walk`)."""
    return list(first_uses(spec).items())


def pull_args(ref: str) -> tuple[str, str]:
    """Repository and tag-or-digest for the pull API (a digest wins over a tag)."""
    parsed = ImageRef.parse(ref)
    return parsed.name, parsed.digest or parsed.tag or "latest"


@attrs.define
class EngineImages:
    """Resolve spec images through one engine and save them into ``store``."""

    client: docker.APIClient
    store: ImageStore
    arch: str = attrs.field(factory=host_arch, converter=normalise_arch)
    pull: bool = False
    progress: Progress = silent
    workdir: Path | None = None
    _saved: dict[str, str] = attrs.field(factory=dict, init=False)
    """engine image id -> the first ref it was stored under."""

    def inspect(self, ref: str, spec_path: str) -> dict[str, Any] | None:
        """The engine's inspect data for ``ref``; None if it has no such image."""
        try:
            return self.client.inspect_image(ref)
        except docker.errors.NotFound:
            return None
        except docker.errors.APIError as exc:
            raise engine_error(
                IMAGE_MISSING, f"cannot inspect {ref}: {api_reason(exc)}", spec_path
            ) from None
        except (docker.errors.DockerException, OSError) as exc:
            raise engine_error(
                ENGINE_UNREACHABLE, f"lost the Docker Engine: {one_line_reason(exc)}", "$"
            ) from None

    def pull_image(self, ref: str, spec_path: str) -> dict[str, Any]:
        """Pull ``ref`` for ``linux/<arch>`` through the engine; its inspect data."""
        repo, tag = pull_args(ref)
        self.progress(step(f"pulling {ref} through the Docker Engine", "engine", ref))
        try:
            for event in self.client.pull(
                repo, tag=tag, stream=True, decode=True, platform=f"linux/{self.arch}"
            ):
                if not isinstance(event, dict):
                    continue
                if event.get("error"):
                    detail = event.get("errorDetail") or {}
                    message = detail.get("message") if isinstance(detail, dict) else None
                    raise engine_error(
                        PULL_FAILED, f"cannot pull {ref}: {message or event['error']}", spec_path
                    )
                self._pull_event(ref, event)
        except docker.errors.APIError as exc:
            raise engine_error(
                PULL_FAILED,
                f"image {ref} is not in the Docker Engine and pulling it failed: {api_reason(exc)}",
                spec_path,
            ) from None
        except (docker.errors.DockerException, OSError) as exc:
            raise engine_error(
                ENGINE_UNREACHABLE, f"lost the Docker Engine: {one_line_reason(exc)}", "$"
            ) from None
        info = self.inspect(ref, spec_path)
        if info is None:
            raise engine_error(
                IMAGE_MISSING, f"image {ref} was pulled but the engine cannot find it", spec_path
            )
        return info

    def _pull_event(self, ref: str, event: dict[str, Any]) -> None:
        """One status event of an engine pull as progress: byte counts of a layer being
        downloaded advance its bar; other statuses are steps."""
        status, ident = event.get("status"), event.get("id")
        detail = event.get("progressDetail")
        if isinstance(detail, dict) and detail:
            current, total = detail.get("current"), detail.get("total")
            if isinstance(current, int) and (total is None or isinstance(total, int)):
                subject = f"{ref} {ident}" if ident else ref
                moved = ProgressEvent("advance", "", "engine", subject, current, total, "bytes")
                self.progress(moved)
        elif status:
            line = f"{ref}: {str(ident) + ': ' if ident else ''}{status}"
            self.progress(step(line, "engine", ref))

    def resolve(self, ref: str, spec_path: str) -> dict[str, Any]:
        """The engine's image for ``ref``: local first (unless ``pull``), else pulled."""
        info = None if self.pull else self.inspect(ref, spec_path)
        if info is None:
            info = self.pull_image(ref, spec_path)
        else:
            using = f"{ref}: using the Docker Engine's image {str(info.get('Id'))[:19]}"
            self.progress(step(using, "engine", ref))
        got = f"{info.get('Os') or 'linux'}/{normalise_arch(str(info.get('Architecture') or ''))}"
        if got != f"linux/{self.arch}":
            raise engine_error(
                PLATFORM_MISMATCH,
                f"image {ref} in the Docker Engine is {got}, the build is for linux/{self.arch} "
                f"(pull it for that platform or build with --arch)",
                spec_path,
            )
        return info

    def fetch(self, ref: str, spec_path: str) -> None:
        """Make ``ref`` resolvable in the store with the engine's content for it.

        The engine's image id is content-addressed (the digest of the image config, which holds
        the digests of the uncompressed layers; or of the manifest in a containerd image store),
        so when the store already holds that image under ``ref`` nothing is exported again.
        """
        info = self.resolve(ref, spec_path)
        image_id = str(info["Id"])
        name = normalise_ref(ref)
        if self.holds(name, image_id):
            self.progress(step(f"{name}: {image_id[:19]} is already exported", "engine", name))
            return
        first = self._saved.get(image_id)
        if first is not None:
            desc = self.store.lookup(first)
            if desc is not None:
                self.store.tag(name, desc)
                return
        self.save(image_id, name, spec_path)
        self._check_config(info, name, spec_path)
        self._saved[image_id] = name

    def _check_config(self, info: dict[str, Any], name: str, spec_path: str) -> None:
        """The exported config must say what the engine's inspect says (labels, Cmd, Env ...)."""
        desc = self.store.lookup(name)
        config = (
            self.store.resolve_descriptor(name, desc, self.arch).config if desc is not None else {}
        )
        saved, inspected = config.get("config") or {}, info.get("Config") or {}
        for key in ("Labels", "Cmd", "Entrypoint", "Env", "WorkingDir", "User"):
            if (saved.get(key) or None) != (inspected.get(key) or None):
                raise engine_error(
                    SAVE_FAILED,
                    f"the engine's export of {name} does not match its inspect data ({key})",
                    spec_path,
                )

    def holds(self, name: str, image_id: str) -> bool:
        """True if the store has the engine's image ``image_id`` under ``name``, complete."""
        desc = self.store.lookup(name)
        if desc is None:
            return False
        try:
            img = self.store.resolve_descriptor(name, desc, self.arch)
            if image_id not in (img.manifest["config"]["digest"], desc.get("digest")):
                return False
            return all(self.store.has_blob(layer["digest"]) for layer in img.layers)
        except (ImageError, KeyError, TypeError):
            return False

    def save(self, image_id: str, name: str, spec_path: str) -> None:
        """Export the engine's image ``image_id`` (docker-archive) into the store as ``name``."""
        exporting = f"{name}: exporting {image_id[:19]} from the Docker Engine"
        self.progress(step(exporting, "engine", name))
        fd, tmp_name = tempfile.mkstemp(prefix="sk-docker-save-", suffix=".tar", dir=self.workdir)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in self.client.get_image(image_id):
                    out.write(chunk)
            import_archive(self.store, tmp, name=name)
        except docker.errors.APIError as exc:
            raise engine_error(
                SAVE_FAILED, f"cannot export {name} from the engine: {api_reason(exc)}", spec_path
            ) from None
        except (docker.errors.DockerException, OSError) as exc:
            raise engine_error(
                ENGINE_UNREACHABLE, f"lost the Docker Engine: {one_line_reason(exc)}", "$"
            ) from None
        except ImageError as exc:
            raise engine_error(
                SAVE_FAILED, f"the engine's export of {name} is not usable: {exc}", spec_path
            ) from None
        finally:
            tmp.unlink(missing_ok=True)

    def fetch_all(self, spec: Spec) -> None:
        """Fetch every image; every image that cannot be had is reported, all at once (an
        engine that cannot be reached stops at once)."""
        problems: list[Diagnostic] = []
        for ref, spec_path in spec_images(spec):
            try:
                ImageRef.parse(ref)
            except InvalidReference as exc:
                problems.extend(engine_error(IMAGE_MISSING, str(exc), spec_path).diagnostics)
                continue
            try:
                self.fetch(ref, spec_path)
            except UserError as exc:
                if any(d.spec_path in (None, "$") for d in exc.diagnostics):
                    raise
                problems.extend(exc.diagnostics)
        if problems:
            raise UserError(problems)


def api_reason(exc: docker.errors.APIError) -> str:
    explanation = exc.explanation
    if isinstance(explanation, bytes):
        explanation = explanation.decode(errors="replace")
    return " ".join(str(explanation or exc).split())
