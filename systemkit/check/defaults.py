"""Label defaults: ``capabilities``/``binds`` replace the image label's (SK210-SK213);
an image with nothing to run (SK214).

LinuxKit takes a container's ``capabilities`` (``binds``) instead of its image label's, and
ignores ``capabilities.add`` (``binds.add``) whenever the replacing form is present. The label is
looked up in the local image store when the image is there; otherwise it may set defaults.
"""

from __future__ import annotations

from systemkit.check.context import Context, Entry


def _label_values(ctx: Context, e: Entry, key: str) -> list[str] | None:
    """The label's list under ``key``; ``[]`` when the stored label has none; None: unknown."""
    label = ctx.labels.label(e.spec.image)
    if label is None:
        return None
    value = label.get(key)
    return [str(v) for v in value] if isinstance(value, list) else []


def _replaces(ctx: Context, e: Entry, key: str, code: str, mine: list[str]) -> None:
    label = _label_values(ctx, e, key)
    if label is not None and not label:
        return  # the stored image's label sets none: nothing is replaced
    if label is None:
        what = f"any {key} that the label of {e.spec.image} sets (the image is not in the store)"
    else:
        dropped = [v for v in label if v not in mine]
        if not dropped:
            return
        what = f"the label's {key} {', '.join(f'`{v}`' for v in dropped)}"
    ctx.report(
        code,
        f"{e.path}.{key}",
        f"`{key}` replaces the image label's {key}: this drops {what}",
        f"write `{key}.add` (Python: `{key}_add=`) to add to the label's {key}; keep `{key}` "
        "only to replace them on purpose",
    )


_WHOLE = (["all"], ["none"])
"""`all`/`none` say on purpose what the whole set is: not a silent replacement."""


def check_label_defaults(ctx: Context) -> None:
    for e in ctx.containers():
        c = e.spec
        if c.capabilities is not None and [x.lower() for x in c.capabilities] not in _WHOLE:
            _replaces(ctx, e, "capabilities", "SK210", c.capabilities)
        if c.binds is not None:
            _replaces(ctx, e, "binds", "SK211", c.binds)
        if c.capabilities is not None and c.capabilities_add:
            ctx.report(
                "SK212",
                f"{e.path}.capabilities.add",
                "`capabilities.add` is ignored because `capabilities` is set",
                "move these names into `capabilities`, or drop `capabilities`",
                related=(f"{e.path}.capabilities",),
            )
        if c.binds is not None and c.binds_add:
            ctx.report(
                "SK213",
                f"{e.path}.binds.add",
                "`binds.add` is ignored because `binds` is set",
                "move these binds into `binds`, or drop `binds`",
                related=(f"{e.path}.binds",),
            )


def check_image_command(ctx: Context) -> None:
    """SK214: an onboot/onshutdown/service container with no ``command``, whose label sets
    none and whose image has neither ``Entrypoint`` nor ``Cmd``: runc has nothing to run, and
    LinuxKit only finds out at boot. Reported only when the image is known (lock or store)."""
    for e in ctx.containers():
        if e.spec.command is not None:
            continue
        label = ctx.labels.label(e.spec.image)
        config = ctx.labels.image_config(e.spec.image)
        if label is None or config is None or label.get("command"):
            continue
        if config.get("Entrypoint") or config.get("Cmd"):
            continue
        ctx.report(
            "SK214",
            f"{e.path}.image",
            f"image {e.spec.image} has neither an Entrypoint nor a Cmd, its label sets no "
            "command, and the container sets none: there is nothing to run",
            "give the container a `command`",
        )


RULES = (check_label_defaults, check_image_command)
