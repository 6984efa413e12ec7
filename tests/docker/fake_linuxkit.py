"""FAKE linuxkit: a stand-in for the ``linuxkit`` CLI, which cannot be installed on this machine.

It is NOT LinuxKit. It accepts ``linuxkit build`` the way LinuxKit v1.x's command line does
(flags ``--format`` (repeated or comma separated), ``--name``, ``--dir``, ``--arch``, ``--cache``,
``--pull``, ``--no-sbom``, ``--docker``; one YAML file), checks what it is given and refuses what
LinuxKit refuses:

* an unknown flag or format, no file, or several files;
* a streamable format (``tar``, ``docker``) together with another format;
* ``--dir`` that does not exist; a file that is not a YAML mapping with LinuxKit's top-level
  keys only; a container without ``name`` or ``image``; a non-string image.

It then records its arguments, working directory and the YAML it read (one JSON line appended
to ``$FAKE_LINUXKIT_RECORD``), logs progress lines in LinuxKit's logrus format on stderr, and
writes placeholder outputs under LinuxKit's names (``NAME.tar``, ``NAME-kernel``,
``NAME-initrd.img``, ``NAME-cmdline`` ...). An image whose name contains ``does-not-exist``
makes it fail as LinuxKit fails when a pull fails. ``$FAKE_LINUXKIT_PAUSE`` seconds of sleep
before writing the outputs let a test see that its log is streamed while it runs.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import yaml

FORMATS = {
    "tar": ["{n}.tar"],
    "docker": ["{n}.docker"],
    "kernel+initrd": ["{n}-kernel", "{n}-initrd.img", "{n}-cmdline"],
    "tar-kernel-initrd": ["{n}-initrd.tar"],
    "iso-bios": ["{n}.iso"],
    "iso-efi": ["{n}-efi.iso"],
    "iso-efi-initrd": ["{n}-efi-initrd.iso"],
    "raw-bios": ["{n}-bios.img"],
    "raw-efi": ["{n}-efi.img"],
    "qcow2-efi": ["{n}-efi.qcow2"],
    "qcow2-bios": ["{n}.qcow2"],
    "kernel+squashfs": ["{n}-kernel", "{n}-cmdline", "{n}-squashfs.img"],
    "kernel+erofs": ["{n}-kernel", "{n}-cmdline", "{n}-erofs.img"],
    "kernel+iso": ["{n}-kernel", "{n}-cmdline", "{n}.iso"],
    "gcp": ["{n}.img.tar.gz"],
    "aws": ["{n}.raw"],
    "vhd": ["{n}.vhd"],
    "dynamic-vhd": ["{n}.vhd"],
    "vmdk": ["{n}.vmdk"],
    "rpi3": ["{n}.tar"],
}
TOP_KEYS = {"kernel", "init", "onboot", "onshutdown", "services", "files", "volumes", "trust"}
VALUE_FLAGS = {"--format", "--name", "--dir", "--arch", "--cache", "--size", "--o"}
BOOL_FLAGS = {"--pull", "--no-sbom", "--docker", "--disable-content-trust"}


def log(level: str, msg: str) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    escaped = msg.replace("\\", "\\\\").replace('"', '\\"')
    print(f'time="{stamp}" level={level} msg="{escaped}"', file=sys.stderr, flush=True)


def fatal(msg: str) -> None:
    log("fatal", msg)
    sys.exit(1)


def parse(argv: list[str]) -> tuple[dict[str, Any], list[str]]:
    if not argv or argv[0] != "build":
        print(f"Error: unknown command {argv[:1]!r} (the fake only does 'build')", file=sys.stderr)
        sys.exit(1)
    opts: dict[str, Any] = {"--format": []}
    files: list[str] = []
    args = argv[1:]
    i = 0
    while i < len(args):
        arg = args[i]
        key, _, inline = arg.partition("=")
        if key in VALUE_FLAGS:
            if inline:
                value = inline
            else:
                i += 1
                if i == len(args):
                    print(f"Error: flag needs an argument: {key}", file=sys.stderr)
                    sys.exit(1)
                value = args[i]
            if key == "--format":
                opts["--format"] += value.split(",")
            else:
                opts[key] = value
        elif key in BOOL_FLAGS:
            opts[key] = True
        elif arg.startswith("-"):
            print(f"Error: unknown flag: {arg}", file=sys.stderr)
            sys.exit(1)
        else:
            files.append(arg)
        i += 1
    return opts, files


def check_yaml(text: str) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        fatal(f"Invalid config: {exc}")
    if not isinstance(doc, dict):
        fatal("Invalid config: not a mapping")
    for key in doc:
        if key not in TOP_KEYS:
            fatal(f"Invalid config: unknown field {key!r}")
    for section in ("onboot", "onshutdown", "services"):
        for entry in doc.get(section) or []:
            if not isinstance(entry, dict) or "name" not in entry or "image" not in entry:
                fatal(f"Invalid config: {section} entry without name or image")
            if not isinstance(entry["image"], str):
                fatal(f"Invalid config: {section} image is not a string")
    return dict(doc)


def images(doc: dict[str, Any]) -> list[str]:
    found = [(doc.get("kernel") or {}).get("image")]
    found += list(doc.get("init") or [])
    for section in ("onboot", "onshutdown", "services", "volumes"):
        found += [e.get("image") for e in doc.get(section) or []]
    return [ref for ref in found if isinstance(ref, str)]


def main(argv: list[str]) -> None:
    opts, files = parse(argv)
    if len(files) != 1:
        print(f"Error: accepts 1 arg(s), received {len(files)}", file=sys.stderr)
        sys.exit(1)
    formats = opts["--format"] or ["kernel+initrd"]
    for fmt in formats:
        if fmt not in FORMATS:
            fatal(f"Unknown format: {fmt}")
    if len(formats) > 1 and set(formats) & {"tar", "docker"}:
        fatal("Streamable formats (tar, docker) cannot be combined with other formats")
    out_dir = Path(opts.get("--dir", "."))
    if not out_dir.is_dir():
        fatal(f"Output directory {out_dir} does not exist")
    name = opts.get("--name") or Path(files[0]).stem
    try:
        text = Path(files[0]).read_text()
    except OSError as exc:
        fatal(f"Cannot open config file: {exc}")
    doc = check_yaml(text)
    record = os.environ.get("FAKE_LINUXKIT_RECORD")
    if record:
        with open(record, "a") as fh:
            fh.write(json.dumps({"argv": argv, "cwd": os.getcwd(), "yaml": text}) + "\n")
    for ref in images(doc):
        log("info", f"Pull image: {ref}")
        if "does-not-exist" in ref:
            fatal(
                f"Failed to build image: Could not pull image {ref}: image {ref} not found "
                "in cache and could not be pulled"
            )
    kernel = doc.get("kernel") or {}
    if kernel.get("image"):
        log("info", f"Extract kernel image: {kernel['image']}")
    log("info", "Create outputs:")
    time.sleep(float(os.environ.get("FAKE_LINUXKIT_PAUSE", "0")))
    for fmt in formats:
        for pattern in FORMATS[fmt]:
            path = out_dir / pattern.format(n=name)
            content = (
                str(kernel.get("cmdline", ""))
                if pattern.endswith("-cmdline")
                else f"FAKE linuxkit output {fmt}\n{text}"
            )
            path.write_text(content)
            log("info", f"  {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
