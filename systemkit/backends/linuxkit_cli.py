"""The ``linuxkit`` backend: systemkit writes the LinuxKit YAML, the ``linuxkit`` CLI builds it.

For users who already have ``linuxkit`` and want systemkit only as the authoring front end. The
spec is emitted as LinuxKit YAML (:func:`systemkit.linuxkit.emit.emit_yaml`) into a temporary
file and ``linuxkit build`` runs on it:

* in ``base_dir``, because LinuxKit resolves relative ``files[].source`` paths against its
  working directory;
* with ``--format`` for each requested format, ``--name``, ``--dir`` (a staging directory inside
  the output directory; the artifacts are renamed into place only when ``linuxkit`` succeeded),
  ``--arch`` when one is asked for, ``--pull`` when asked, ``--cache`` when a cache directory
  is given (systemkit's image store has LinuxKit's cache layout), and ``--no-sbom`` (the SBOM
  embeds a random UUID, which would make builds irreproducible);
* ``tar`` and ``docker`` are "streamable" formats that LinuxKit only builds alone, so each of
  them gets its own ``linuxkit build`` run; all other formats share one run.

Its output (LinuxKit logs to stderr) is streamed line by line to the progress callback. When it
fails, the fatal message becomes a diagnostic at the spec path of the image, file or container
it names (``$`` when it names none).

The binary: ``LinuxkitBackend(binary=...)`` (the CLI's ``--linuxkit-bin``), else
``$SYSTEMKIT_LINUXKIT_BIN``, else ``linuxkit`` on ``PATH``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections import deque
from collections.abc import Iterable, Mapping
from pathlib import Path

from systemkit import codes
from systemkit.backends.base import BuildRequest
from systemkit.diagnostics import Diagnostic, Severity, SystemkitError, UserError
from systemkit.images.ref import ImageRef, InvalidReference
from systemkit.linuxkit.emit import emit_yaml
from systemkit.outputs.atomic import AtomicOutputs
from systemkit.progress import Progress, ProgressEvent, silent, step
from systemkit.spec.types import SECTIONS, Spec
from systemkit.spec.walk import image_paths

__all__ = [
    "BINARY_ENV",
    "LINUXKIT_FAILED",
    "LINUXKIT_FORMATS",
    "LINUXKIT_MISSING",
    "STREAMABLE",
    "LinuxkitBackend",
    "find_linuxkit",
    "linuxkit_error",
    "linuxkit_runs",
]

BINARY_ENV = "SYSTEMKIT_LINUXKIT_BIN"
# The linuxkit backend's codes (declared in systemkit.codes), as diagnostics carry them.
LINUXKIT_MISSING = codes.LINUXKIT_MISSING.code
LINUXKIT_FAILED = codes.LINUXKIT_FAILED.code

LINUXKIT_FORMATS = frozenset(
    {
        "tar",
        "docker",
        "kernel+initrd",
        "tar-kernel-initrd",
        "iso-bios",
        "iso-efi",
        "iso-efi-initrd",
        "raw-bios",
        "raw-efi",
        "qcow2-efi",
        "qcow2-bios",
        "kernel+squashfs",
        "kernel+erofs",
        "kernel+iso",
        "gcp",
        "aws",
        "vhd",
        "dynamic-vhd",
        "vmdk",
        "rpi3",
    }
)
"""The output formats of ``linuxkit build`` (v1.x)."""

STREAMABLE = frozenset({"tar", "docker"})
"""Formats LinuxKit only builds on their own (one per ``linuxkit build`` run)."""

_TAIL = 40


def find_linuxkit(
    binary: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """The ``linuxkit`` executable: ``binary``, else ``$SYSTEMKIT_LINUXKIT_BIN``, else PATH."""
    env = os.environ if environ is None else environ
    if binary is not None:
        candidate, origin = str(binary), "--linuxkit-bin"
    elif env.get(BINARY_ENV):
        candidate, origin = env[BINARY_ENV], f"${BINARY_ENV}"
    else:
        found = shutil.which("linuxkit", path=env.get("PATH"))
        if found is None:
            raise UserError(
                Diagnostic(
                    LINUXKIT_MISSING,
                    Severity.ERROR,
                    f"the linuxkit backend needs the linuxkit CLI, and there is no 'linuxkit' "
                    f"on PATH (give --linuxkit-bin PATH or set {BINARY_ENV})",
                    spec_path="$",
                )
            )
        return Path(found)
    resolved = shutil.which(candidate, path=env.get("PATH")) if "/" not in candidate else candidate
    path = Path(resolved) if resolved else Path(candidate)
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise UserError(
            Diagnostic(
                LINUXKIT_MISSING,
                Severity.ERROR,
                f"linuxkit binary {candidate!r} (from {origin}) is not an executable file",
                spec_path="$",
            )
        )
    return path


def linuxkit_runs(formats: Iterable[str]) -> list[tuple[str, ...]]:
    """The formats of each ``linuxkit build`` run: streamable ones alone, the rest together."""
    wanted = list(dict.fromkeys(formats))
    runs: list[tuple[str, ...]] = [(f,) for f in wanted if f in STREAMABLE]
    rest = tuple(f for f in wanted if f not in STREAMABLE)
    return ([rest] if rest else []) + runs


# -- errors --------------------------------------------------------------------------------

_MSG = re.compile(r'\bmsg="((?:[^"\\]|\\.)*)"')
_FATAL = re.compile(r"level=(fatal|error|panic)\b|^(FATA|ERRO|PANI)\[|^Error:|^error:", re.I)


def _message(line: str) -> str:
    """The message of a logrus line (``msg="..."`` unescaped, or the text after the level)."""
    match = _MSG.search(line)
    if match:
        return match.group(1).replace('\\"', '"').replace("\\\\", "\\")
    text = re.sub(r"^(FATA|ERRO|PANI)\[\d+\]\s*", "", line.strip())
    return re.sub(r"^[Ee]rror:\s*", "", text)


def _needles(spec: Spec) -> list[tuple[str, str]]:
    """(text LinuxKit may print, spec path) for every image, container name and file."""
    found: list[tuple[str, str]] = []

    def image(ref: str, path: str) -> None:
        found.append((ref, path))
        try:
            parsed = ImageRef.parse(ref)
        except InvalidReference:
            return
        found.append((parsed.familiar, path))

    for path, ref in image_paths(spec):
        image(ref, path)
    for i, f in enumerate(spec.files):
        if f.source:
            found.append((f.source, f"$.files[{i}].source"))
    for section in SECTIONS:
        for i, entry in enumerate(getattr(spec, section)):
            found.append((f"{section}[{i}]", f"$.{section}[{i}]"))
            found.append((entry.name, f"$.{section}[{i}]"))
    for i, f in enumerate(spec.files):
        found.append((f.path, f"$.files[{i}]"))
    # Longest first, so "docker.io/x/y:1" wins over "x/y:1" and over a container named "y".
    return sorted(found, key=lambda item: -len(item[0]))


def linuxkit_error(spec: Spec, output: Iterable[str], status: int) -> UserError:
    """A one-line diagnostic from the output of a failed ``linuxkit build``."""
    lines = [line.rstrip("\n") for line in output if line.strip()]
    fatal = [line for line in lines if _FATAL.search(line)]
    chosen = fatal[-1] if fatal else (lines[-1] if lines else "")
    message = " ".join(_message(chosen).split()) or f"linuxkit build exited with status {status}"
    spec_path = "$"
    for needle, path in _needles(spec):
        if needle and re.search(r"(?<![\w./-])" + re.escape(needle) + r"(?![\w/-])", message):
            spec_path = path
            break
    return UserError(
        Diagnostic(
            LINUXKIT_FAILED,
            Severity.ERROR,
            f"linuxkit build failed: {message}",
            spec_path=spec_path,
        )
    )


# -- the backend -----------------------------------------------------------------------------


class LinuxkitBackend:
    """Builds any LinuxKit output format by running ``linuxkit build`` on the emitted YAML."""

    name = "linuxkit"
    formats = LINUXKIT_FORMATS

    def __init__(self, binary: str | Path | None = None) -> None:
        self.binary = binary

    def command(
        self, request: BuildRequest, formats: tuple[str, ...], out_dir: Path, yaml_path: Path
    ) -> list[str]:
        """The ``linuxkit build`` command line for one run."""
        cmd = [str(find_linuxkit(self.binary)), "build"]
        for fmt in formats:
            cmd += ["--format", fmt]
        cmd += ["--name", request.name, "--dir", str(out_dir), "--no-sbom"]
        if request.arch:
            cmd += ["--arch", request.arch]
        if request.cache_dir is not None:
            cmd += ["--cache", str(Path(request.cache_dir).resolve())]
        if request.pull:
            cmd.append("--pull")
        cmd.append(str(yaml_path))
        return cmd

    def build(self, request: BuildRequest) -> list[Path]:
        unknown = [f for f in request.formats if f not in self.formats]
        if unknown:
            raise SystemkitError(
                f"linuxkit cannot build format {unknown[0]!r} "
                f"(it builds: {', '.join(sorted(self.formats))})"
            )
        if not request.formats:
            raise SystemkitError("no output format requested")
        out_dir = Path(request.out_dir).resolve()
        if not out_dir.is_dir():
            raise SystemkitError(f"output directory {str(out_dir)!r} does not exist")
        find_linuxkit(self.binary)
        progress = request.progress or silent
        with AtomicOutputs(out_dir) as outs:
            staging = outs.scratch_dir(f"{request.name}.linuxkit")
            with tempfile.TemporaryDirectory(prefix="systemkit-linuxkit-") as tmp:
                yaml_path = Path(tmp) / f"{request.name}.yml"
                yaml_path.write_text(emit_yaml(request.spec))
                for formats in linuxkit_runs(request.formats):
                    command = self.command(request, formats, staging, yaml_path)
                    self._run(request, command, progress)
            produced = sorted(p for p in staging.iterdir() if p.is_file())
            if not produced:
                raise SystemkitError("linuxkit build succeeded but wrote no output")
            paths = []
            for path in produced:
                target = out_dir / path.name
                os.replace(path, target)
                paths.append(target)
            return paths

    def _run(self, request: BuildRequest, cmd: list[str], progress: Progress) -> None:
        progress(step("$ " + " ".join(cmd), "linuxkit"))
        tail: deque[str] = deque(maxlen=_TAIL)
        try:
            proc = subprocess.Popen(
                cmd,
                cwd=request.base_dir,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                bufsize=1,
            )
        except OSError as exc:
            raise SystemkitError(f"cannot run {cmd[0]}: {exc.strerror or exc}") from None
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                tail.append(line)
                progress(ProgressEvent("log", line.rstrip("\n"), "linuxkit"))
            status = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        if status != 0:
            raise linuxkit_error(request.spec, tail, status)
