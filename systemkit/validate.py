"""Value rules: checks of one value that need no other context.

Each rule is a pure function returning ``None`` when the value is fine, or a :class:`Problem`
(code, message, hint). Model constructors call them (and report at the user's line) and the
semantic checks call them again on specs that come from LinuxKit YAML, so a value is judged by the
same code whichever way it was written.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

import attrs

from systemkit import codes
from systemkit.capabilities import KNOWN_CAPABILITIES
from systemkit.images.ref import ImageRef, InvalidReference


@attrs.frozen
class Problem:
    """What is wrong with a value."""

    code: str
    message: str
    hint: str | None = None


VALUE_RULES: dict[str, str] = {c.code: c.meaning for c in codes.of_kind("value")}
"""Codes and meanings of the value rules (from :mod:`systemkit.codes`)."""

RLIMITS = (
    "RLIMIT_CPU",
    "RLIMIT_FSIZE",
    "RLIMIT_DATA",
    "RLIMIT_STACK",
    "RLIMIT_CORE",
    "RLIMIT_RSS",
    "RLIMIT_NPROC",
    "RLIMIT_NOFILE",
    "RLIMIT_MEMLOCK",
    "RLIMIT_AS",
    "RLIMIT_LOCKS",
    "RLIMIT_SIGPENDING",
    "RLIMIT_MSGQUEUE",
    "RLIMIT_NICE",
    "RLIMIT_RTPRIO",
    "RLIMIT_RTTIME",
)
PROPAGATIONS = ("shared", "slave", "private", "rshared", "rslave", "rprivate", "unbindable")
PROPAGATIONS_ALL = (*PROPAGATIONS, "runbindable")
DEVICE_TYPES = ("c", "b", "u", "p")
_NAME_BAD = re.compile(r"[/\s\x00]")
_VOLUME_NAME = re.compile(r"^[a-z0-9_-]*$")
_SYSCTL_KEY = re.compile(r"^[A-Za-z0-9_*-]+(?:[./][A-Za-z0-9_*-]+)*$")
_ENV_KEY = re.compile(r"^[^=\s]+$")


def _closest(word: str, choices: Sequence[str]) -> str | None:
    found = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"did you mean {found[0]!r}?" if found else None


def capability(name: str) -> Problem | None:
    if name in KNOWN_CAPABILITIES:
        return None
    if name.lower() in ("all", "none"):
        return None
    upper = name.upper()
    guess = upper if upper.startswith("CAP_") else "CAP_" + upper
    hint = (
        f"capability names are exact and upper case: {guess!r}"
        if guess in KNOWN_CAPABILITIES
        else _closest(guess, KNOWN_CAPABILITIES)
    )
    return Problem("SK101", f"unknown capability {name!r}", hint)


def capability_list(names: Sequence[str]) -> list[Problem]:
    problems = [p for p in map(capability, names) if p is not None]
    if len(names) > 1 and any(n.lower() in ("all", "none") for n in names):
        problems.append(
            Problem(
                "SK102",
                "`all`/`none` must be the only element of a capability list "
                f"(got {list(names)!r}); LinuxKit rejects it",
                "use ['all'] on its own, or list the capabilities",
            )
        )
    return problems


def octal_mode(mode: int | str) -> Problem | None:
    try:
        value = int(mode, 8) if isinstance(mode, str) else int(mode)
    except ValueError:
        return Problem("SK103", f"mode {mode!r} is not an octal number", "write e.g. 0o644")
    if isinstance(mode, bool) or not 0 <= value <= 0o7777:
        shown = mode if isinstance(mode, str) else oct(value)
        return Problem("SK103", f"mode {shown} is outside 0-0o7777", "write e.g. 0o644")
    return None


def mode_string(mode: int | str) -> str:
    """The canonical octal string of a mode (``0o644`` -> ``"0644"``)."""
    value = int(mode, 8) if isinstance(mode, str) else int(mode)
    return format(value, "04o")


def absolute_path(path: str, what: str) -> Problem | None:
    if not path.startswith("/"):
        return Problem("SK104", f"{what} {path!r} must be an absolute path", f"write '/{path}'")
    return None


def image_ref(ref: str) -> Problem | None:
    try:
        ImageRef.parse(ref)
    except InvalidReference as exc:
        return Problem("SK105", str(exc))
    return None


def bind(text: str) -> Problem | None:
    parts = text.split(":")
    if len(parts) < 2 or len(parts) > 3 or not parts[0] or not parts[1]:
        return Problem(
            "SK106",
            f"bind {text!r} is not `source:destination[:options]`",
            "e.g. '/var/log:/var/log:ro'",
        )
    if not parts[1].startswith("/"):
        return Problem("SK106", f"bind destination {parts[1]!r} must be absolute")
    if len(parts) == 3 and not parts[2]:
        return Problem("SK106", f"bind {text!r} has an empty options field")
    return None


def tmpfs(text: str) -> Problem | None:
    dest = text.split(":", 1)[0]
    if not dest.startswith("/"):
        return Problem(
            "SK111", f"tmpfs destination {dest!r} must be absolute", "e.g. '/tmp:size=64m'"
        )
    return None


def env_entry(text: str) -> Problem | None:
    key, sep, _ = text.partition("=")
    if not sep or not _ENV_KEY.match(key):
        return Problem("SK107", f"environment entry {text!r} is not KEY=VALUE")
    return None


def rlimit(text: str) -> Problem | None:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 3:
        return Problem(
            "SK108", f"rlimit {text!r} is not `name,soft,hard`", "e.g. 'nofile,1024,4096'"
        )
    name = parts[0].upper()
    if not name.startswith("RLIMIT_"):
        name = "RLIMIT_" + name
    if name not in RLIMITS:
        return Problem("SK108", f"unknown rlimit {parts[0]!r}", _closest(name, RLIMITS))
    for value in parts[1:]:
        if value.lower() != "unlimited" and not value.isdigit():
            return Problem("SK108", f"rlimit value {value!r} is not a number or `unlimited`")
    return None


def namespace(value: str, kind: str) -> Problem | None:
    allowed = ("host", "root", "new") + (("none",) if kind == "net" else ())
    if value in allowed or value.startswith("/") or value == "":
        return None
    return Problem(
        "SK109",
        f"{kind} namespace {value!r} is not one of {', '.join(allowed)} or an absolute path",
    )


def container_name(name: str) -> Problem | None:
    if not name or name in (".", "..") or _NAME_BAD.search(name):
        return Problem(
            "SK110",
            f"container name {name!r} cannot be used: it becomes a directory name",
            "use letters, digits, '-', '_' and '.'; no '/', white space, '.' or '..'",
        )
    return None


def device_type(value: str) -> Problem | None:
    if value in DEVICE_TYPES:
        return None
    return Problem("SK112", f"device type {value!r} is not one of c, b, u, p")


def sysctl_key(key: str) -> Problem | None:
    if _SYSCTL_KEY.match(key):
        return None
    return Problem("SK113", f"sysctl key {key!r} is malformed", "e.g. 'net.ipv4.ip_forward'")


def propagation(value: str) -> Problem | None:
    if value in PROPAGATIONS_ALL:
        return None
    return Problem(
        "SK114", f"rootfs propagation {value!r} is unknown", _closest(value, PROPAGATIONS)
    )


def oom_score_adj(value: int) -> Problem | None:
    if -1000 <= value <= 1000:
        return None
    return Problem("SK115", f"oomScoreAdj {value} is outside -1000..1000")


def volume_name(name: str) -> Problem | None:
    if _VOLUME_NAME.match(name) and name:
        return None
    return Problem("SK116", f"volume name {name!r} must match ^[a-z0-9_-]+$")


def metadata_kind(value: str) -> Problem | None:
    if value in ("yaml", "json"):
        return None
    return Problem("SK118", f"metadata {value!r} must be 'yaml' or 'json'")


def volume_format(value: str) -> Problem | None:
    if value in ("filesystem", "oci"):
        return None
    return Problem("SK120", f"volume format {value!r} must be 'filesystem' or 'oci'")


MAX_ID = 0xFFFFFFFF
"""Linux uids and gids are 32-bit: a larger number would wrap around (to 0, root)."""


def nonnegative_id(value: int | str) -> Problem | None:
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        return Problem("SK119", f"id {value} is negative")
    if isinstance(value, int) and not isinstance(value, bool) and value > MAX_ID:
        return Problem(
            "SK119",
            f"id {value} does not fit in 32 bits: it would wrap around to {value & MAX_ID}",
            f"use a number up to {MAX_ID}",
        )
    return None
