"""``systemkit explain``: a container's effective configuration (label defaults + the system)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from systemkit.cli.common import add_input_arguments, load_input
from systemkit.cli.locking import add_lock_arguments, with_lock

NAME = "explain"
HELP = "show a container's effective configuration: its image label's defaults + the system's"
DESCRIPTION = """\
Show what LinuxKit will run for the container NAME: every key of its configuration, with the
value it ends up with and where that comes from:

  system          the system file sets it (and replaces the label's: what is dropped is shown)
  label           the image's org.mobyproject.config label (a default the file does not see)
  label + system  the label's list plus the file's capabilities.add / binds.add
  image           the image config (Entrypoint + Cmd, Env, WorkingDir)
  default         LinuxKit's own default

The image's label and config come from systemkit.lock next to the file (`systemkit lock`),
else from the image store: no network. --oci prints the whole config.json LinuxKit writes.

Examples:
  systemkit explain examples/sshd/system.py sshd
  systemkit explain examples/lab/system.py mount --oci
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_input_arguments(parser, many=False)
    parser.add_argument("name", metavar="NAME", help="the container (after FILE)")
    parser.add_argument("--cache", type=Path, metavar="DIR", help="image store directory")
    parser.add_argument("--json", action="store_true", help="one JSON document")
    parser.add_argument("--oci", action="store_true", help="the OCI config.json LinuxKit writes")
    add_lock_arguments(parser)


def _show(value: object) -> str:
    return json.dumps(value, sort_keys=True)


def run(args: argparse.Namespace) -> int:
    from systemkit.check.engine import labels_for
    from systemkit.diagnostics import SystemkitError
    from systemkit.explain import effective, id_map, oci_config
    from systemkit.spec import types as st

    files = list(args.files)
    lowered = with_lock(load_input(files, args.system), files, args)
    spec = lowered.spec
    found = [
        (section, i, c)
        for section in st.SECTIONS
        for i, c in enumerate(getattr(spec, section))
        if c.name == args.name
    ]
    if not found:
        names = sorted({c.name for s in st.SECTIONS for c in getattr(spec, s)})
        raise SystemkitError(
            f"the system has no container {args.name!r} (it has: {', '.join(names) or 'none'})"
        )
    source = labels_for(files, args.cache)
    docs = []
    for section, i, c in found:
        label = source.label(c.image)
        config = source.image_config(c.image)
        if label is None or config is None:
            raise SystemkitError(
                f"{section}[{i}] {c.name}: image {c.image} is not known: record it with "
                f"`systemkit lock {files[0]}` (or fetch it: `systemkit cache pull {files[0]}`)"
            )
        if args.oci:
            sys.stdout.buffer.write(oci_config(c, label, config, id_map(spec)) + b"\n")
            continue
        rows = effective(c, label, config)
        if args.json:
            docs.append(
                {
                    "container": f"{section}[{i}]",
                    "name": c.name,
                    "image": c.image,
                    "settings": {
                        r.key: {"value": r.value, "from": r.origin, "replaces": list(r.replaced)}
                        for r in rows
                    },
                }
            )
            continue
        print(f"{section}[{i}] {c.name}: {c.image}")
        width = max(len(r.key) for r in rows)
        for r in rows:
            note: str = r.origin
            if r.replaced:
                note += ", replacing the label's " + ", ".join(f"`{v}`" for v in r.replaced)
            print(f"  {r.key:<{width}}  {_show(r.value)}  ({note})")
    for doc in docs:
        sys.stdout.write(json.dumps(doc, sort_keys=True) + "\n")
    return 0
