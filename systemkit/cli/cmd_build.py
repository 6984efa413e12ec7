"""``systemkit build``: build a system into bootable artifacts with a backend."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import attrs

from systemkit.cli.common import (
    UsageError,
    add_input_arguments,
    load_input,
    load_many,
    output_file_name,
)
from systemkit.cli.locking import add_lock_arguments, with_lock
from systemkit.diagnostics import Severity, UserError
from systemkit.spec.codec import spec_digest
from systemkit.variants.select import Selection, selection_of

NAME = "build"
HELP = "build a system into artifacts (tar, kernel+initrd, iso, raw, qcow2, uki, ...)"
DESCRIPTION = """\
Build a system (a system.py, or LinuxKit YAML files merged in order) with a backend.
The native backend assembles exactly the filesystem `linuxkit build` makes, from the image
store (images missing from it are pulled from their registry), without Docker or LinuxKit.

Outputs appear atomically in --dir: on an error or Ctrl-C nothing is left behind.

formats (native and docker backends):
{formats}
The disk-image formats (iso-*, raw-*, qcow2-efi, squashfs, erofs, uki) use Debian host tools
(scripts/setup.sh installs them) and are byte-reproducible; see docs/formats.md.
The linuxkit backend passes any format `linuxkit build` knows (iso-efi, raw-bios, ...).

backends installed: {backends}. native (default; daemonless), docker (images through the
Docker Engine named by DOCKER_HOST / the docker context), linuxkit (runs `linuxkit build` on
the emitted YAML); others register through the `systemkit.backends` entry points.

Progress goes to stderr: on a terminal a live display (steps, transfers, elapsed time),
elsewhere one plain line per step; --quiet prints none.

With a systemkit.lock next to the file (`systemkit lock FILE`) every image reference is pinned
to its locked digest; --locked fails when the lock lacks an image or disagrees.

The checks of `systemkit check` run first: errors stop the build (warnings too with --strict).
NAME defaults to the system's name: the system.py's directory for a file's only `system`, the
variable or `systems` key otherwise, the first YAML file's stem for LinuxKit input.

Examples:
  systemkit build examples/hello/system.py --format kernel+initrd --dir out/hello
  systemkit build minimal.yml extra.yml --format tar --dir out
  systemkit build examples/variants/system.py --system acme-qemu --backend docker
  systemkit build examples/variants/system.py --all -j 2 --dir out
  systemkit build examples/variants/system.py --all --executor dask --scheduler tcp://HOST:8786

Several systems (--all, a glob, a repeated --system) are loaded once and built in parallel
(-j N worker processes, or a Dask cluster): system NAME's artifacts go to DIR/NAME/, named as
a single build names them. Systems with the same spec digest are built once and the others
get hard links (or copies) of its artifacts. A system that fails does not stop the others; a
summary table (built / reused / failed, time) follows, and the exit status is 1 when any
failed.
"""


def _description() -> str:
    """The description, with the formats (``FORMATS``) and backends (entry points) filled in."""
    from systemkit.backends.registry import available_backends
    from systemkit.outputs.formats import FORMATS

    width = max(len(f) for f in FORMATS) + 2
    formats = "\n".join(f"  {name:<{width}} {what}" for name, what in FORMATS.items())
    return DESCRIPTION.format(formats=formats, backends=", ".join(available_backends()))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from systemkit.backends.registry import available_backends

    parser.description = _description()
    add_input_arguments(parser)
    backends = available_backends()
    parser.add_argument(
        "--backend",
        default="native",
        metavar="{" + ",".join(backends) + "}",
        help="build backend (default: native)",
    )
    parser.add_argument(
        "--format",
        "-f",
        action="append",
        metavar="F[,F]",
        help="output format(s), comma separated or repeated (default: kernel+initrd); "
        "the backend says which it builds",
    )
    parser.add_argument(
        "--dir", type=Path, default=Path("."), help="output directory (created if missing)"
    )
    parser.add_argument("--name", help="base name of the outputs (default: the system's name)")
    parser.add_argument("--arch", help="architecture to build for (default: the host's)")
    parser.add_argument("--cache", type=Path, metavar="DIR", help="image store directory")
    parser.add_argument("--pull", action="store_true", help="always pull images")
    parser.add_argument("--quiet", "-q", action="store_true", help="print no progress")
    parser.add_argument("--strict", action="store_true", help="treat check warnings as errors")
    add_lock_arguments(parser)
    many = parser.add_argument_group(
        "several systems (--all, a glob, a repeated --system)",
        "each system's artifacts go to DIR/NAME/; identical specs are built once",
    )
    many.add_argument(
        "-j",
        "--jobs",
        type=int,
        metavar="N",
        help="worker processes building at once (default: the number of cores; 1 builds in "
        "this process)",
    )
    many.add_argument(
        "--executor",
        choices=("local", "dask"),
        default="local",
        help="where the builds run: local worker processes (default), or a dask.distributed "
        "cluster (pip install systemkit[dask]) given by --scheduler",
    )
    many.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="the Dask scheduler for --executor dask, e.g. tcp://HOST:8786",
    )
    parser.add_argument(
        "--linuxkit-bin",
        type=Path,
        metavar="PATH",
        help="the linuxkit binary for --backend linuxkit (default: $SYSTEMKIT_LINUXKIT_BIN, "
        "then PATH)",
    )


def _located(lowered: Any, fn: Any) -> Any:
    """``fn`` whose user errors get the user's file and line for their spec paths."""

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except UserError as exc:
            diags = [
                attrs.evolve(d, location=lowered.location_of(d.spec_path))
                if d.location is None and d.spec_path
                else d
                for d in exc.diagnostics
            ]
            raise UserError(diags) from None

    return call


def _formats(values: list[str] | None) -> tuple[str, ...]:
    if not values:
        return ("kernel+initrd",)
    out: list[str] = []
    for value in values:
        out.extend(f.strip() for f in value.split(",") if f.strip())
    return tuple(dict.fromkeys(out))


def _run_checks(
    lowered: Any,
    formats: tuple[str, ...],
    strict: bool,
    quiet: bool,
    cache: Path | None,
    files: list[Path],
) -> None:
    """The checks gate: errors (and warnings with --strict) stop the build. Images are known
    from the lock next to the file and from the build's store."""
    from systemkit.check import gate
    from systemkit.check.engine import labels_for

    labels = labels_for(files, cache) if cache is not None else labels_for(files)

    diags = gate(lowered, formats=formats, strict=strict, labels=labels)
    if not quiet:
        for d in diags:
            if d.severity != Severity.INFO:
                print(d.render(), file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from systemkit.backends import build
    from systemkit.cli.progress import ProgressRenderer

    selection = selection_of(args)
    if not selection.single:
        return _run_many(args, selection)
    if args.executor != "local" or args.jobs is not None:
        raise UsageError("-j and --executor build several systems: use --all or --system GLOB")
    lowered = with_lock(load_input(list(args.files), args.system), list(args.files), args)
    formats = _formats(args.format)
    _run_checks(lowered, formats, args.strict, args.quiet, args.cache, list(args.files))
    name = args.name or lowered.name or Path(args.files[0]).stem
    quiet = bool(args.quiet)

    options: dict[str, object] = {}
    if args.linuxkit_bin is not None:
        if args.backend != "linuxkit":
            raise UsageError("--linuxkit-bin is an option of --backend linuxkit")
        options["binary"] = args.linuxkit_bin
    with ProgressRenderer(sys.stderr) as progress:
        paths = _located(lowered, build)(
            lowered.spec,
            base_dir=lowered.base_dir,
            formats=formats,
            out_dir=args.dir,
            name=name,
            backend=args.backend,
            arch=args.arch,
            cache_dir=args.cache,
            pull=bool(args.pull),
            progress=None if quiet else progress,
            quiet=quiet,
            backend_options=options,
        )
    for path in paths:
        print(path)
    return 0


def _run_many(args: argparse.Namespace, selection: Selection) -> int:
    """``build --all``: every selected system into DIR/NAME/, in parallel, a summary table."""
    from systemkit.check import errors_in, render_text, run_checks
    from systemkit.cli.progress import ProgressRenderer
    from systemkit.progress import step
    from systemkit.variants.build import LocalExecutor, build_many
    from systemkit.variants.checks import group_findings

    if args.name:
        raise UsageError("--name names one system's outputs; several are named after themselves")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("-j needs a number of workers of at least 1")
    executor: Any
    if args.executor == "dask":
        if not args.scheduler:
            raise UsageError("--executor dask needs --scheduler tcp://HOST:PORT")
        from systemkit.variants.dask import DaskExecutor

        executor = DaskExecutor(args.scheduler)
    else:
        if args.scheduler:
            raise UsageError("--scheduler goes with --executor dask")
        executor = LocalExecutor(args.jobs)
    files = list(args.files)
    many = [with_lock(lw, files, args) for lw in load_many(files, selection)]
    for name in (lw.name or "system" for lw in many):
        output_file_name(name)
    formats = _formats(args.format)
    from systemkit.check.engine import labels_for

    labels = labels_for(files, args.cache) if args.cache is not None else labels_for(files)
    per_system = []
    ready = []
    failed_early: list[tuple[str, str]] = []
    for lowered in many:
        diags = run_checks(lowered, formats=formats, labels=labels)
        per_system.append((lowered.name or "system", diags))
        fatal = errors_in(diags, strict=args.strict)
        if fatal:
            first = fatal[0]
            failed_early.append(
                (lowered.name or "system", f"check: [{first.code}] {first.message}")
            )
        else:
            ready.append(lowered)
    shown = [f for f in group_findings(per_system) if f.diagnostic.severity != Severity.INFO]
    if shown and not args.quiet:
        text = render_text(
            [f.diagnostic for f in shown], systems=[f.systems for f in shown], total=len(many)
        )
        sys.stderr.write(text)
    options: dict[str, str] = {}
    if args.linuxkit_bin is not None:
        if args.backend != "linuxkit":
            raise UsageError("--linuxkit-bin is an option of --backend linuxkit")
        options["binary"] = str(Path(args.linuxkit_bin).resolve())
    distinct = len({spec_digest(lw.spec) for lw in ready})
    with ProgressRenderer(sys.stderr) as renderer:
        progress = None if args.quiet else renderer
        if progress is not None:
            progress(
                step(
                    f"Building {len(many)} systems ({distinct} distinct specs) into "
                    f"{args.dir}/NAME/ with {_workers(executor)}",
                    "build",
                )
            )
        summary = build_many(
            ready,
            out_dir=args.dir,
            formats=formats,
            backend=args.backend,
            arch=args.arch,
            cache_dir=args.cache,
            pull=bool(args.pull),
            executor=executor,
            failed_early=failed_early,
            progress=progress,
            backend_options=options,
        )
    sys.stdout.write(summary.table())
    sys.stdout.flush()
    return 1 if summary.failed else 0


def _workers(executor: Any) -> str:
    jobs = getattr(executor, "jobs", None)
    if jobs is not None:
        return f"{jobs} worker process{'es' if jobs != 1 else ''}"
    return f"the Dask cluster at {getattr(executor, 'address', '?')}"
