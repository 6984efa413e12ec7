"""``systemkit schema``: print the JSON Schema of the canonical spec."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from systemkit.cli.common import write_output
from systemkit.spec.codec import json_schema

NAME = "schema"
HELP = "print the JSON Schema of the canonical spec"
DESCRIPTION = """\
Print the JSON Schema (draft 2020-12) of the spec that `systemkit lower` writes. It is
generated from the spec's type declarations, so it always matches the code.

Example:
  systemkit schema -o spec.schema.json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")


def run(args: argparse.Namespace) -> int:
    text = json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
    write_output(text.encode(), args.output)
    return 0
