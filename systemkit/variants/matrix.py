"""``matrix``: every combination of a few parameters, named, as a ``systems`` mapping.

::

    systems = matrix(
        variant,
        region=REGIONS,
        size=SIZES,
        flags=COMBOS,
        name="{region}-{size.name}-{flags}",
    )

calls ``variant(region=r, size=s, flags=f)`` for every combination (the first axis varies
slowest, as nested loops would) and returns ``{name: system}``. ``name`` is a
:meth:`str.format` template over the axes (attribute and index access work: ``{size.name}``,
``{flags[0]}``) or a function taking the same keyword arguments. Two combinations that get the
same name are an error (a silent overwrite would drop a system). A plain dict built by a loop
keeps working; ``matrix`` is only the common case written once.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from systemkit.diagnostics import Diagnostic, Severity, UserError
from systemkit.location import caller_location

T = TypeVar("T")


def matrix(
    make: Callable[..., T],
    *,
    name: str | Callable[..., str],
    **axes: Iterable[Any] | Mapping[str, Any],
) -> dict[str, T]:
    """``{name: make(**combination)}`` for every combination of ``axes`` (see the module doc).

    An axis given as a mapping contributes its *values* to ``make`` and to the name template
    its key (``size={"s": Size(1), "l": Size(8)}`` names ``{size}`` ``s`` or ``l``).
    """
    if not axes:
        raise TypeError("matrix() needs at least one axis (keyword argument)")
    where = caller_location()
    keys = list(axes)
    choices: list[list[tuple[Any, Any]]] = []
    for key in keys:
        axis = axes[key]
        if isinstance(axis, Mapping):
            choices.append([(label, value) for label, value in axis.items()])
        elif isinstance(axis, (str, bytes)):
            raise TypeError(f"matrix() axis {key!r} is a string; give a list of values")
        else:
            choices.append([(value, value) for value in axis])
    out: dict[str, T] = {}
    for combo in itertools.product(*choices):
        labels = {k: label for k, (label, _) in zip(keys, combo, strict=True)}
        values = {k: value for k, (_, value) in zip(keys, combo, strict=True)}
        try:
            title = name(**labels) if callable(name) else name.format(**labels)
        except (KeyError, AttributeError, IndexError) as exc:
            raise UserError(
                Diagnostic(
                    "SK058",
                    Severity.ERROR,
                    f"matrix() name {name!r} cannot be formatted: {type(exc).__name__}: {exc}",
                    where,
                    hint=f"the axes are {', '.join(keys)}",
                )
            ) from None
        if title in out:
            raise UserError(
                Diagnostic(
                    "SK058",
                    Severity.ERROR,
                    f"matrix() gives two systems the name {title!r}",
                    where,
                    hint="put every axis that varies into the name template",
                )
            )
        out[title] = make(**values)
    return out
