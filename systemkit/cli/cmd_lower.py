"""``systemkit lower``: print the canonical spec or LinuxKit YAML of a system."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from systemkit.cli.common import (
    UsageError,
    add_input_arguments,
    load_input,
    load_many,
    output_file_name,
    write_output,
)
from systemkit.cli.locking import add_lock_arguments, with_lock
from systemkit.diagnostics import SystemkitError
from systemkit.spec.codec import spec_bytes, spec_digest
from systemkit.spec.lowered import Lowered
from systemkit.variants.select import selection_of

NAME = "lower"
HELP = "print a system's canonical spec (JSON) or its LinuxKit YAML"
DESCRIPTION = """\
Load a system.py (or LinuxKit YAML files) and print what it lowers to:

  json      the canonical spec: versioned, sorted keys, identical bytes on every machine
  linuxkit  LinuxKit YAML that `linuxkit build` accepts

With a systemkit.lock next to the file, every image reference it has is pinned to its
locked digest (`name:tag@sha256:...`); --locked fails when the lock lacks one or disagrees.

Examples:
  systemkit lower examples/minimal/system.py
  systemkit lower examples/minimal/system.py --format linuxkit -o minimal.yml
  systemkit lower examples/variants/system.py --system globex-metal-arm64 --digest
  systemkit lower examples/variants/system.py --all -o specs/         # specs/NAME.json each
  systemkit lower examples/variants/system.py --system 'acme-*' --format linuxkit -o yaml/

Several systems (--all, a glob, a repeated --system) are loaded once and written one file per
system into the directory -o DIR (created if missing): DIR/NAME.json or DIR/NAME.yml, each
byte-identical to lowering that system alone; they appear together, or none does. With
--digest, several systems print one `NAME  DIGEST` line each.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_arguments(parser)
    parser.add_argument(
        "--format",
        choices=("json", "linuxkit"),
        default="json",
        help="output format (default: json)",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="OUT",
        help="write to this file instead of stdout; for several systems, the directory to "
        "write NAME.json / NAME.yml into",
    )
    parser.add_argument("--digest", action="store_true", help="print only the spec's sha256 digest")
    parser.add_argument(
        "--show-defaults",
        action="store_true",
        help="write out each container's effective configuration: its image label's defaults "
        "and the image's command, env and cwd made explicit (from systemkit.lock or the store; "
        "for reading: see `systemkit explain` for where each value comes from)",
    )
    add_lock_arguments(parser)


def _data(lowered: Lowered, fmt: str) -> bytes:
    if fmt == "json":
        return spec_bytes(lowered.spec)
    from systemkit.linuxkit.emit import emit_yaml

    return emit_yaml(lowered.spec).encode()


def _show_defaults(lowered: Lowered, files: list[Path]) -> Lowered:
    """The system with its containers' label defaults written out; unknown images named."""
    import attrs

    from systemkit.check.engine import labels_for
    from systemkit.explain import with_defaults

    spec, unknown = with_defaults(lowered.spec, labels_for(files))
    for ref in unknown:
        print(
            f"warning: image {ref} is not known (not in systemkit.lock nor in the store): its "
            f"defaults are not shown; `systemkit lock {files[0]}` records them",
            file=sys.stderr,
        )
    return attrs.evolve(lowered, spec=spec)


def run(args: argparse.Namespace) -> int:
    selection = selection_of(args)
    if selection.single:
        lowered = load_input(args.files, selection.patterns[0] if selection.patterns else None)
        lowered = with_lock(lowered, list(args.files), args)
        if args.show_defaults:
            lowered = _show_defaults(lowered, list(args.files))
        for diag in lowered.diagnostics:
            print(diag.render(), file=sys.stderr)
        if args.digest:
            write_output((spec_digest(lowered.spec) + "\n").encode(), args.output)
            return 0
        write_output(_data(lowered, args.format), args.output)
        return 0
    # Match first: a name or glob that matches nothing is that error (SK055), not a usage error,
    # and a repeated name or a glob that matches one system selects just one.
    many = [with_lock(lw, list(args.files), args) for lw in load_many(args.files, selection)]
    if args.output is None and not args.digest and len(many) != 1:
        raise UsageError("several systems are written one file each: give -o DIR")
    if args.show_defaults:
        many = [_show_defaults(lw, list(args.files)) for lw in many]
    for lowered in many:
        for diag in lowered.diagnostics:
            print(diag.render(), file=sys.stderr)
    if args.output is None and not args.digest:
        write_output(_data(many[0], args.format), None)
        return 0
    if args.digest:
        width = max(len(lw.name or "") for lw in many)
        lines = "".join(f"{lw.name or '':<{width}}  {spec_digest(lw.spec)}\n" for lw in many)
        write_output(lines.encode(), args.output)
        return 0
    write_each(many, args.output, ".json" if args.format == "json" else ".yml", args.format)
    return 0


def write_each(many: list[Lowered], out_dir: Path, suffix: str, fmt: str) -> list[Path]:
    """Write ``out_dir/NAME<suffix>`` for every system, all at once (temp names, renamed
    together at the end; on an error nothing is left)."""
    from systemkit.outputs.atomic import AtomicOutputs

    names = [lw.name or "system" for lw in many]
    for name in names:
        output_file_name(name)
    if out_dir.exists() and not out_dir.is_dir():
        raise SystemkitError(f"{str(out_dir)!r} is not a directory")
    created = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        with AtomicOutputs(out_dir) as outs:
            for name, lowered in zip(names, many, strict=True):
                with outs.open(name + suffix) as fh:
                    fh.write(_data(lowered, fmt))
            return outs.commit()
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                out_dir.rmdir()
        raise
