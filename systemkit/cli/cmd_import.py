"""``systemkit import``: LinuxKit system files -> an idiomatic ``system.py``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from systemkit.diagnostics import SystemkitError
from systemkit.linuxkit.importer import generate_python, import_docstring
from systemkit.linuxkit.parse import parse_files
from systemkit.outputs.atomic import write_file

NAME = "import"
HELP = "turn LinuxKit YAML system files into a system.py"
DESCRIPTION = """\
Read one or more LinuxKit system files (merged in order, as `linuxkit build a.yml b.yml`
does) and write a system.py that builds the same system with systemkit's model.

The files are read strictly: unknown keys, wrong types, malformed image references and
unreadable `files[].source` paths are errors, all reported at once with file:line:col.
Relative `source` paths resolve against the current directory, as in LinuxKit; in the
generated file they are relative to its directory.

Examples:
  systemkit import linuxkit.yml -o system.py
  systemkit import base.yml arm64.yml > system.py
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE.yml", help="system files")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="PATH",
        help="write the generated module here (default: standard output)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing --output")


def run(args: argparse.Namespace) -> int:
    files: list[Path] = args.files
    output: Path | None = args.output
    if output is not None:
        if output.is_dir():
            raise SystemkitError(f"{output} is a directory; give the path of the .py file")
        if output.exists() and not args.force:
            raise SystemkitError(f"{output} already exists (use --force to overwrite it)")
        if not output.parent.resolve().is_dir():
            raise SystemkitError(f"directory {output.parent} does not exist")
    lowered = parse_files(files)
    for diag in lowered.diagnostics:
        print(diag.render(), file=sys.stderr)
    out_dir = output.parent if output is not None else Path.cwd()
    text = generate_python(
        lowered,
        module_doc=import_docstring([str(f) for f in files]),
        output_dir=out_dir,
    )
    if output is None:
        sys.stdout.write(text)
        return 0
    write_file(output, text.encode("utf-8"))
    print(f"wrote {output}", file=sys.stderr)
    return 0
