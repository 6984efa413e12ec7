"""Appending system files, with the meaning of LinuxKit's ``AppendConfig``.

``linuxkit build a.yml b.yml`` reads each file on its own and appends them: the kernel fields of
a later file override the earlier ones one by one when the later file sets them (a non-empty
``image``/``cmdline``/``binary``; a present ``tar``/``ucode``, so ``ucode: ""`` clears it), and
``init``, ``onboot``, ``onshutdown``, ``services``, ``files`` and ``volumes`` are concatenated.
"""

from __future__ import annotations

import re

import attrs

from systemkit.location import Location
from systemkit.spec import types as st
from systemkit.spec.lowered import Lowered

_SET_WHEN_NON_EMPTY = ("image", "cmdline", "binary")
_SET_WHEN_PRESENT = ("tar", "ucode")
_INDEXED = re.compile(r"^\$\.(init|onboot|onshutdown|services|files|volumes)\[(\d+)\](.*)$")
_KERNEL_FIELD = re.compile(r"^\$\.kernel\.([A-Za-z]+)")


def _overrides(kernel: st.KernelSpec | None) -> set[str]:
    """The kernel fields (attrs names) a later file's kernel section overrides."""
    if kernel is None:
        return set()
    out = {f for f in _SET_WHEN_NON_EMPTY if getattr(kernel, f) not in (None, "")}
    return out | {f for f in _SET_WHEN_PRESENT if getattr(kernel, f) is not None}


def merge_kernel(a: st.KernelSpec | None, b: st.KernelSpec | None) -> st.KernelSpec | None:
    """``a``'s kernel with the fields ``b`` sets overriding it."""
    changes = {f: getattr(b, f) for f in _overrides(b)}
    if a is None:
        return st.KernelSpec(**changes) if changes else None
    return attrs.evolve(a, **changes) if changes else a


def merge_specs(a: st.Spec, b: st.Spec) -> st.Spec:
    """``b`` appended to ``a`` (LinuxKit's ``AppendConfig``)."""
    return st.Spec(
        api_version=a.api_version,
        kernel=merge_kernel(a.kernel, b.kernel),
        init=[*a.init, *b.init],
        onboot=[*a.onboot, *b.onboot],
        onshutdown=[*a.onshutdown, *b.onshutdown],
        services=[*a.services, *b.services],
        files=[*a.files, *b.files],
        volumes=[*a.volumes, *b.volumes],
    )


def merge_lowered(a: Lowered, b: Lowered) -> Lowered:
    """Merge two lowered files: specs with :func:`merge_specs`, locations re-indexed."""
    spec = merge_specs(a.spec, b.spec)
    locations: dict[str, Location] = dict(a.locations)
    overridden = {
        st.key_of(f) for f in attrs.fields(st.KernelSpec) if f.name in _overrides(b.spec.kernel)
    }
    for path, loc in b.locations.items():
        match = _INDEXED.match(path)
        if match:
            section, index, rest = match.groups()
            shifted = int(index) + len(getattr(a.spec, section))
            locations[f"$.{section}[{shifted}]{rest}"] = loc
            continue
        kmatch = _KERNEL_FIELD.match(path)
        if kmatch:
            if kmatch.group(1) in overridden:
                locations[path] = loc
            continue
        if path == "$.kernel" and a.spec.kernel is None:
            locations[path] = loc
        elif path != "$":
            locations.setdefault(path, loc)
    return Lowered(
        spec=spec,
        locations=locations,
        base_dir=a.base_dir,
        diagnostics=(*a.diagnostics, *b.diagnostics),
        name=a.name,
    )
