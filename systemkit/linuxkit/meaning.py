"""What LinuxKit itself keeps of a spec: for comparing with LinuxKit's own re-serialisation.

Two deliberate or unavoidable differences separate a systemkit spec from what ``linuxkit build``
works with:

* LinuxKit silently drops the camelCase keys of OCI structs (reference §1.5); systemkit keeps
  them in the spec. :func:`linuxkit_meaning` drops them, as LinuxKit would.
* Some LinuxKit fields are plain Go values without ``omitempty``: LinuxKit cannot tell an unset
  field from its zero value (``directory: false``, a mount's ``destination: ""``, a device's
  ``major: 0``) and prints the zero value back in ``--dry-run``. Both mean the same thing;
  :func:`linuxkit_meaning` maps these zero values to unset.
"""

from __future__ import annotations

from typing import Any

import attrs

from systemkit.linuxkit.fields import dropped_by_linuxkit, yaml_fields
from systemkit.spec import types as st

GO_ZERO_VALUED: dict[type[Any], tuple[str, ...]] = {
    st.MountSpec: ("destination", "source", "options", "uid_mappings", "gid_mappings"),
    st.FileSpec: ("directory", "optional"),
    st.DeviceSpec: ("major", "minor"),
}
"""Fields LinuxKit stores without ``omitempty``: their zero value means unset."""

_ZEROS: tuple[Any, ...] = ("", 0, False)


def _is_zero(value: Any) -> bool:
    if isinstance(value, list):
        return not value
    return any(value == z and type(value) is type(z) for z in _ZEROS)


def _meaning(value: Any) -> Any:
    if isinstance(value, list):
        return [_meaning(v) for v in value]
    if isinstance(value, dict):
        return dict(value)
    if not attrs.has(type(value)):
        return value
    cls = type(value)
    changes: dict[str, Any] = {}
    zero_valued = GO_ZERO_VALUED.get(cls, ())
    for f in yaml_fields(cls):
        item = getattr(value, f.name)
        if item is None:
            continue
        if dropped_by_linuxkit(cls, f.key) or (f.name in zero_valued and _is_zero(item)):
            changes[f.name] = None
        else:
            changes[f.name] = _meaning(item)
    return attrs.evolve(value, **changes)


def linuxkit_meaning(spec: st.Spec) -> st.Spec:
    """``spec`` as LinuxKit understands it (see the module docstring)."""
    out = _meaning(spec)
    assert isinstance(out, st.Spec)
    return out
