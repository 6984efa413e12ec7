"""Every diagnostic code systemkit reports, declared once: code, default severity, meaning.

This module is the registry of ``SKnnn`` codes. Everything else takes a code's severity and
meaning from here: the check catalogue (:mod:`systemkit.check.catalogue`, which adds the
rationale and examples of each rule), the value rules (:mod:`systemkit.validate`), the LinuxKit
YAML reader, the ``system.py`` loader, the build and the backends. ``docs/checks.md`` lists the
whole table (generated from it; a test compares them), and a test holds every ``SKnnn`` written
in the sources to this registry, so a code cannot be declared twice or used without a meaning.

Ranges: SK000 mypy; SK001-SK049 the YAML reader; SK050-SK099 the loader; SK101-SK199 values
(one value on its own); SK201-SK299 rules about the whole system; SK601-SK699 the build and
its backends; SK901 notes.
"""

from __future__ import annotations

from typing import Literal

import attrs

from systemkit.diagnostics import Diagnostic, Severity
from systemkit.location import Location

Kind = Literal["types", "reader", "loader", "value", "model", "rule", "build", "docker", "linuxkit"]
"""Which part of systemkit reports a code."""

KINDS: dict[Kind, str] = {
    "types": "mypy",
    "reader": "YAML reader",
    "loader": "loader",
    "value": "value rule",
    "model": "model",
    "rule": "check rule",
    "build": "build",
    "docker": "docker backend",
    "linuxkit": "linuxkit backend",
}
"""How the docs name each kind."""


@attrs.frozen
class Code:
    """A diagnostic code: its id (``SK123``), default severity, kind and one-line meaning."""

    code: str
    severity: Severity
    kind: Kind
    meaning: str

    def diagnostic(
        self,
        message: str,
        location: Location | None = None,
        *,
        spec_path: str | None = None,
        hint: str | None = None,
        related: tuple[Location, ...] = (),
        severity: Severity | None = None,
    ) -> Diagnostic:
        """A finding of this code (at its default severity unless ``severity`` is given)."""
        return Diagnostic(
            self.code,
            severity or self.severity,
            message,
            location,
            spec_path,
            hint,
            related,
        )


CODES: dict[str, Code] = {}
"""Every code, by id, in declaration (= code) order."""


def _code(code: str, severity: Severity, kind: Kind, meaning: str) -> Code:
    assert code not in CODES, f"{code} declared twice"
    CODES[code] = entry = Code(code, severity, kind, meaning)
    return entry


E = Severity.ERROR
W = Severity.WARNING
I = Severity.INFO  # noqa: E741

# --- mypy ---------------------------------------------------------------------------------------
MYPY = _code("SK000", E, "types", "a mypy `--strict` error in a `system.py`")

# --- the LinuxKit YAML reader -------------------------------------------------------------------
INVALID_YAML = _code("SK001", E, "reader", "invalid YAML, an empty file or several documents")
UNKNOWN_KEY = _code("SK002", E, "reader", "unknown key")
WRONG_TYPE = _code("SK003", E, "reader", "value of the wrong type")
MISSING_KEY = _code("SK004", E, "reader", "missing required key (name, image, path)")
DUPLICATE_KEY = _code("SK010", E, "reader", "key written twice in one mapping")

# --- the system.py loader -----------------------------------------------------------------------
_code("SK050", E, "loader", "the file cannot be loaded as Python")
_code("SK051", E, "loader", "a syntax error in a `system.py`")
_code("SK052", E, "loader", "an exception raised by the user's code (shown with the user's frames)")
_code("SK053", E, "loader", "no such input file")
_code("SK054", E, "loader", "the `system.py` defines no system")
_code("SK055", E, "loader", "no system of the name given with `--system`")
_code("SK056", E, "loader", "several systems are defined and no `--system` chooses one")
_code("SK057", E, "loader", "no input, or a mix of input files that cannot be combined")
_code("SK058", E, "loader", "a `matrix()` whose system names cannot be made or collide")

# --- value rules (systemkit.validate) -----------------------------------------------------------
_code("SK101", E, "value", "unknown capability name")
_code("SK102", E, "value", "`all`/`none` must be the only capability in the list")
BAD_MODE = _code("SK103", E, "value", "file or device mode is not an octal number in 0-07777")
_code("SK104", E, "value", "a path that must be absolute is relative")
BAD_IMAGE_REF = _code("SK105", E, "value", "malformed image reference")
_code("SK106", E, "value", "malformed bind `src:dst[:opts]`")
_code("SK107", E, "value", "malformed environment entry (`KEY=VALUE`)")
_code("SK108", E, "value", "malformed or unknown rlimit")
_code("SK109", E, "value", "namespace value is not host, new, none or an absolute path")
_code("SK110", E, "value", "a container name that cannot be a directory name")
_code("SK111", E, "value", "malformed tmpfs `dst[:opts]`")
_code("SK112", E, "value", "unknown device type")
_code("SK113", E, "value", "malformed sysctl key")
_code("SK114", E, "value", "unknown rootfs propagation")
_code("SK115", E, "value", "oomScoreAdj outside -1000..1000")
BAD_VOLUME_NAME = _code("SK116", E, "value", "volume name outside `^[a-z0-9_-]*$`")
_code(
    "SK117",
    E,
    "value",
    "a file needs exactly one of contents, source, directory, symlink, metadata",
)
_code("SK118", E, "value", "metadata must be `yaml` or `json`")
_code("SK119", E, "value", "an id that is negative or does not fit in 32 bits")
_code("SK120", E, "value", "volume format must be `filesystem` or `oci`")
MODEL_TYPE = _code(
    "SK121", E, "model", "a value of the wrong type (e.g. a string where a list is expected)"
)
MISSING_SOURCE = _code("SK122", E, "model", "a non-optional file `source` cannot be read")
BAD_ARGUMENT = _code(
    "SK123", E, "model", "a constructor call with an unknown, extra or missing argument"
)
TEMPLATE_PROBLEM = _code(
    "SK140", E, "model", "a `File.template` cannot be rendered (syntax error, undefined variable)"
)

# --- rules about the whole system (systemkit.check) ---------------------------------------------
DUPLICATE_SERVICE = _code("SK201", E, "rule", "duplicate service name")
DUPLICATE_VOLUME = _code("SK202", E, "rule", "duplicate volume name")
_code(
    "SK203",
    W,
    "rule",
    "a container name used twice (within onboot/onshutdown, or across sections)",
)
_code("SK210", W, "rule", "`capabilities` replaces the image label's capabilities")
_code("SK211", W, "rule", "`binds` replaces the image label's binds")
_code("SK212", W, "rule", "`capabilities.add` is ignored because `capabilities` is set")
_code("SK213", W, "rule", "`binds.add` is ignored because `binds` is set")
_code("SK214", W, "rule", "the container has nothing to run (no command, no Entrypoint/Cmd)")
_code("SK220", W, "rule", "unknown mount option word (binds, tmpfs, mounts)")
_code("SK221", W, "rule", "unknown mount type")
_code("SK222", W, "rule", "two mounts of one container at the same destination")
_code(
    "SK223",
    W,
    "rule",
    "a `mounts` bind whose source is a volume (LinuxKit does not rewrite it)",
)
_code("SK224", W, "rule", "a read-only volume bound without `ro`")
_code("SK225", W, "rule", "a relative `mounts` destination")
_code("SK230", E, "rule", "`uid`/`gid`/`additionalGids` names no container of the system")
_code("SK231", E, "rule", "a bind names a volume that is not declared")
_code("SK232", I, "rule", "a declared volume that no container uses")
_code("SK240", E, "rule", "two files entries at the same path")
_code("SK241", E, "rule", "a file and a directory at the same path")
_code("SK242", W, "rule", "a file under /var, /run or /tmp, hidden at boot by tmpfs")
_code(
    "SK243",
    W,
    "rule",
    "a file's mode makes a parent directory (such as /etc) unreadable to others",
)
_code("SK250", W, "rule", "duplicate environment variable")
_code("SK251", W, "rule", "`env` without PATH drops the image's PATH")
_code("SK260", E, "rule", "`command` whose program word is empty or contains white space")
_code("SK262", W, "rule", "duplicate rlimit")
_code("SK263", E, "rule", "rlimit soft value above its hard value")
_code("SK264", E, "rule", "device without major/minor (c, b) or without mode")
_code("SK265", E, "rule", "a sysctl runc refuses: not namespaced, or its namespace is the host's")
_code(
    "SK266",
    E,
    "rule",
    "runtime interface without name, with an unknown kind, or a veth without peer",
)
_code("SK267", E, "rule", "`runtime.bindNS` path is not absolute")
_code("SK268", W, "rule", "`runtime.namespace` on an onboot/onshutdown container is ignored")
_code("SK270", E, "rule", "no kernel, but a bootable output format is requested")
_code("SK271", I, "rule", "kernel cmdline without `console=`")
_code("SK280", I, "rule", "image tag not pinned to a digest or content hash")
_code("SK290", W, "rule", "volume `platforms` without `format: oci`")
_code(
    "SK295",
    E,
    "rule",
    "the system cannot be lowered or checked (a value of the wrong type)",
)
_code("SK296", W, "rule", "a field LinuxKit (and so systemkit's build) silently drops")

# --- the docker backend -------------------------------------------------------------------------
ENGINE_UNREACHABLE = _code(
    "SK601",
    E,
    "docker",
    "the engine does not answer (stopped, wrong `DOCKER_HOST`, unknown context, permission denied)",
)
IMAGE_MISSING = _code("SK602", E, "docker", "the engine could not look up an image")
PULL_FAILED = _code(
    "SK603", E, "docker", "the image is not in the engine and pulling it through the engine failed"
)
PLATFORM_MISMATCH = _code(
    "SK604", E, "docker", "the engine's image is for another platform than the build"
)
SAVE_FAILED = _code(
    "SK605", E, "docker", "the engine's export of an image is unusable (failed or did not verify)"
)

# --- the linuxkit backend -----------------------------------------------------------------------
LINUXKIT_MISSING = _code("SK611", E, "linuxkit", "no usable `linuxkit` program was found")
LINUXKIT_FAILED = _code("SK612", E, "linuxkit", "`linuxkit build` failed (its fatal message)")

# --- the build ----------------------------------------------------------------------------------
IMAGE_UNAVAILABLE = _code(
    "SK620", E, "build", "an image that cannot be had (not in the store and not pullable)"
)
KERNEL_CONTENT = _code("SK621", E, "build", "the kernel image lacks the kernel binary or tar")
CONTAINER_CONFIG = _code(
    "SK622",
    E,
    "build",
    "a container's configuration cannot become an OCI spec (label, ids, caps, mounts ...)",
)
VOLUME_PROBLEM = _code(
    "SK623", E, "build", "a volume cannot be built (name, undeclared or read-only binds)"
)
FILE_PROBLEM = _code(
    "SK624",
    E,
    "build",
    "a `files` entry cannot be written (path, mode, source changed, conflicting contents)",
)
NAME_UNUSABLE = _code("SK625", E, "build", "a container name that is not a usable directory name")

# --- the lock file -----------------------------------------------------------------------------
NOT_LOCKED = _code("SK630", E, "build", "`--locked`: the image is not in systemkit.lock")
LOCK_DISAGREES = _code(
    "SK631",
    E,
    "build",
    "`--locked`: systemkit.lock disagrees (another digest, or no manifest for the platform)",
)

# --- notes --------------------------------------------------------------------------------------
TRUST_IGNORED = _code("SK901", I, "reader", "`trust:` is accepted and ignored")


def get(code: str) -> Code:
    """The registry entry of ``code`` (``KeyError`` for a code that is not declared)."""
    return CODES[code]


def severity(code: str) -> Severity:
    """The default severity of ``code``."""
    return CODES[code].severity


def of_kind(*kinds: Kind) -> tuple[Code, ...]:
    """Every code of the given kinds, in code order."""
    return tuple(c for c in CODES.values() if c.kind in kinds)
