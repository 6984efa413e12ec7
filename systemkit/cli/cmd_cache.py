"""``systemkit cache``: the local image store (import, list, remove, pull)."""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from systemkit.backends.buildcache import KEEP, BuildCache, parse_size
from systemkit.cli.locking import add_lock_arguments
from systemkit.cli.systemimages import image_uses, input_files, selected_systems
from systemkit.diagnostics import SystemkitError
from systemkit.images.archive import import_archive
from systemkit.images.listing import list_images
from systemkit.images.registry import pull
from systemkit.images.store import ImageError, ImageStore
from systemkit.progress import format_size
from systemkit.variants.select import add_selection_arguments

NAME = "cache"
HELP = (
    "manage the local image store (import, ls, rm, pull), the build cache (builds) and the "
    "layer cache (layers); prune either"
)
DESCRIPTION = """\
Manage the local image store, an OCI image layout that builds read their images from.

The store is $SYSTEMKIT_CACHE, else $XDG_CACHE_HOME/systemkit/images, else
~/.cache/systemkit/images; --cache DIR uses another one. Images are named by their full
reference (sktest/plain:1 is stored as docker.io/sktest/plain:1).

examples:
  systemkit cache import images/*.oci.tar     # OCI archives, OCI layout dirs, docker save tars
  systemkit cache ls
  systemkit cache pull alpine:3.20 --arch arm64
  systemkit cache pull examples/hello/system.py   # every image the system lacks, in parallel
  systemkit cache pull 127.0.0.1:5000/me/app:1 # loopback registries use plain HTTP
  systemkit cache rm alpine:3.20
  systemkit cache builds                       # the build cache: reusable build prefixes
  systemkit cache layers                       # the layer cache: flattened image layers
  systemkit cache prune --max-size 1G          # build cache entries
  systemkit cache prune --layers --max-size 2G # layer cache entries

The store also holds two caches that builds fill and read themselves: the build cache
(.build-cache/: the reusable prefix of earlier builds, which a variant that shares the
beginning of the stream copies) and the layer cache (.layer-cache/: each image's layers
decompressed and flattened, keyed by the layers' digests, which a variant that differs
early streams instead of decompressing the layers again; `systemkit build --all` writes
it).
"""


def _store(args: argparse.Namespace) -> ImageStore:
    return ImageStore(Path(args.cache)) if args.cache else ImageStore.default()


def _cache_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cache",
        metavar="DIR",
        help="image store directory (default: $SYSTEMKIT_CACHE or ~/.cache/systemkit/images)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="cache_command", metavar="ACTION", required=True)

    p = sub.add_parser(
        "import",
        help="import images from archives or OCI layout directories",
        description=(
            "Import every named image of OCI archives (a tar of an OCI layout), OCI layout "
            "directories and docker-archive tars ('docker save' output). Names come from the "
            "io.containerd.image.name or org.opencontainers.image.ref.name annotation, or "
            "RepoTags. Every blob is verified against its digest."
        ),
    )
    p.add_argument("files", nargs="+", metavar="FILE", type=Path, help="archive or directory")
    p.add_argument(
        "--name", metavar="REF", help="name for the image of an archive that carries no name"
    )
    _cache_option(p)

    p = sub.add_parser(
        "ls",
        help="list the images in the store",
        description="List the named images: reference, digest, stored platforms and size.",
    )
    _cache_option(p)

    p = sub.add_parser(
        "rm",
        help="remove an image name from the store",
        description="Remove the name REF from the store. Its blobs stay (there is no garbage "
        "collection yet).",
    )
    p.add_argument("ref", metavar="REF", help="image reference, e.g. sktest/plain:1")
    _cache_option(p)

    p = sub.add_parser(
        "pull",
        help="fetch an image, or every missing image of a system, into the store",
        description=(
            "Fetch REF for linux/ARCH from its registry into the store, replacing the stored "
            "copy. Given a system file (a system.py or LinuxKit YAML files) instead, fetch "
            "every image it needs that the store lacks, in parallel (pinned by its "
            "systemkit.lock when there is one), and list every image that cannot be had. "
            "Credentials come from the Docker config file ($DOCKER_CONFIG/config.json "
            "or ~/.docker/config.json). Loopback registries are spoken to over plain HTTP, "
            "others over HTTPS unless listed with --insecure-registry or in "
            "$SYSTEMKIT_INSECURE_REGISTRIES."
        ),
    )
    p.add_argument(
        "ref",
        metavar="REF|FILE",
        nargs="+",
        help="an image reference (e.g. alpine:3.20), or a system.py / LinuxKit .yml files",
    )
    add_selection_arguments(p)
    add_lock_arguments(p)
    p.add_argument("--arch", help="architecture to fetch (default: this machine's)")
    p.add_argument(
        "--insecure-registry",
        metavar="HOST",
        action="append",
        default=[],
        help="registry HOST[:PORT] to speak plain HTTP to (repeatable)",
    )
    _cache_option(p)

    p = sub.add_parser(
        "builds",
        help="list the build cache (reusable prefixes of earlier builds)",
        description="List the entries of the build cache kept in the store's .build-cache "
        "directory: each is the reusable prefix of one full build (the tar and the initrd's "
        "compressed prefix up to each container and the files section), newest first, with "
        "its size and last use. Builds of systems (or variants) that share a prefix with an "
        "entry copy it and build only the rest.",
    )
    _cache_option(p)

    p = sub.add_parser(
        "layers",
        help="list the layer cache (flattened image layers)",
        description="List the entries of the layer cache kept in the store's .layer-cache "
        "directory, most recently used first: each is one image's layers decompressed and "
        "flattened (whiteouts applied), keyed by the layers' digests (KEY: the first 16 "
        "characters), with its size, last use and the images that used it, then a total. "
        "Every build reads it; `systemkit build --all` writes the entries of the images its "
        "variants stream after the part they share (a single build writes none).",
    )
    _cache_option(p)

    p = sub.add_parser(
        "prune",
        help="remove build cache (or, with --layers, layer cache) entries, least recently "
        "used first",
        description="Remove build cache entries, least recently used first, until at most "
        "--keep entries and --max-size bytes remain (defaults: every entry). Without "
        "--layers only the build cache is pruned (the layer cache and the images are not "
        "touched); with --layers only the layer cache is. Builds prune the build cache to "
        f"{KEEP} entries and $SYSTEMKIT_BUILD_CACHE_SIZE (default 4G), and the layer cache "
        "to $SYSTEMKIT_LAYER_CACHE_SIZE (default 4G), themselves.",
    )
    p.add_argument(
        "--layers",
        action="store_true",
        help="prune the layer cache (flattened image layers) instead of the build cache",
    )
    p.add_argument(
        "--keep",
        type=int,
        metavar="N",
        help="entries to keep, newest first (default: none, or every one that fits --max-size)",
    )
    p.add_argument(
        "--max-size",
        metavar="SIZE",
        help="keep the newest entries up to this total size (bytes, or 500M, 2G ...)",
    )
    _cache_option(p)


def run(args: argparse.Namespace) -> int:
    store = _store(args)
    if args.cache_command == "import":
        for path in args.files:
            for ref in import_archive(store, path, name=args.name):
                print(f"imported {ref} from {path}")
    elif args.cache_command == "ls":
        rows = list_images(store)
        width = max([len(r.ref) for r in rows] + [3])
        print(f"{'REF':<{width}}  {'DIGEST':<19}  {'PLATFORMS':<24}  SIZE")
        for row in rows:
            platforms = ",".join(row.platforms) or "-"
            size = format_size(row.size)
            print(f"{row.ref:<{width}}  {row.digest[:19]:<19}  {platforms:<24}  {size}")
    elif args.cache_command == "rm":
        if not store.untag(args.ref):
            raise ImageError(f"{args.ref} is not in the image store {store.root}")
        print(f"removed {args.ref}")
    elif args.cache_command == "layers" or (args.cache_command == "prune" and args.layers):
        return _layers(args, store)
    elif args.cache_command in ("builds", "prune"):
        return _builds(args, store)
    elif args.cache_command == "pull":
        if input_files(args.ref):
            return _pull_missing(store, args)
        if len(args.ref) != 1:
            raise SystemkitError("give one image reference, or system files (.py, .yml)")
        from systemkit.cli.progress import ProgressRenderer

        with ProgressRenderer(sys.stderr) as progress:
            insecure = args.insecure_registry
            img = pull(store, args.ref[0], args.arch, insecure=insecure, progress=progress)
        print(f"pulled {img.ref} ({img.manifest_digest})")
    return 0


def _builds(args: argparse.Namespace, store: ImageStore) -> int:
    import time

    cache = BuildCache.of_store(store.root)
    if args.cache_command == "builds":
        rows = cache.entries()
        print(f"{'ENTRY':<19}  {'SIZE':>10}  LAST USED")
        for path, size, used in rows:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(used))
            print(f"{path.name[:19]:<19}  {format_size(size):>10}  {stamp}")
        total = sum(size for _, size, _ in rows)
        print(f"{len(rows)} entries, {format_size(total)} in {cache.root}")
        return 0
    keep, limit = _prune_limits(args)
    removed = cache.prune(keep=keep, limit=limit)
    print(f"removed {len(removed)} build cache entr{'y' if len(removed) == 1 else 'ies'}")
    return 0


def _prune_limits(args: argparse.Namespace) -> tuple[int, int]:
    """``prune``'s --keep and --max-size: (entries, bytes) to keep; neither: nothing."""
    if args.keep is not None and args.keep < 0:
        raise SystemkitError("--keep needs a number of entries of at least 0")
    limit = 1 << 62
    if args.max_size is not None:
        try:
            limit = parse_size(args.max_size)
        except ValueError:
            raise SystemkitError(f"--max-size {args.max_size!r} is not a size") from None
    keep = args.keep if args.keep is not None else (0 if args.max_size is None else 1 << 30)
    return keep, limit


def _layers(args: argparse.Namespace, store: ImageStore) -> int:
    import time

    from systemkit.backends.layercache import LayerCache

    cache = LayerCache.of_store(store.root)
    if args.cache_command == "layers":
        rows = cache.entries()
        print(f"{'KEY':<16}  {'SIZE':>10}  {'LAST USED':<19}  IMAGES")
        for entry in rows:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.last_used))
            images = ", ".join(entry.images) or "-"
            print(f"{entry.key[:16]:<16}  {format_size(entry.size):>10}  {stamp:<19}  {images}")
        total = sum(entry.size for entry in rows)
        print(f"{len(rows)} entries, {format_size(total)} in {cache.root}")
        return 0
    keep, limit = _prune_limits(args)
    removed = cache.prune(keep=keep, limit=limit)
    print(f"removed {len(removed)} layer cache entr{'y' if len(removed) == 1 else 'ies'}")
    return 0


def _pull_missing(store: ImageStore, args: argparse.Namespace) -> int:
    """Every image of the selected systems the store lacks, pulled in parallel (progress
    as :class:`~systemkit.progress.ProgressEvent` s); every failure listed at the end."""
    from systemkit.cli.progress import ProgressRenderer
    from systemkit.progress import ProgressEvent

    args.files = [Path(f) for f in args.ref]
    refs = [u.ref for u in image_uses(selected_systems(args))]
    missing = []
    for ref in refs:
        try:
            store.resolve(ref, args.arch)
        except ImageError:
            missing.append(ref)
    with ProgressRenderer(sys.stderr) as progress:
        progress(
            ProgressEvent(
                "step",
                f"{len(refs) - len(missing)} of {len(refs)} images already stored, "
                f"pulling {len(missing)}",
                "pull",
            )
        )

        def one(ref: str) -> str | None:
            try:
                img = pull(
                    store, ref, args.arch, insecure=args.insecure_registry, progress=progress
                )
            except SystemkitError as exc:
                return f"{ref}: {exc}"
            progress(ProgressEvent("done", f"pulled {img.ref} ({img.manifest_digest})", "pull"))
            return None

        with ThreadPoolExecutor(max_workers=max(1, min(4, len(missing)))) as pool:
            failed = [f for f in pool.map(one, missing) if f is not None]
    if failed:
        for line in failed:
            print(f"error: cannot pull {line}", file=sys.stderr)
        return 1
    for ref in missing:
        print(ref)
    return 0
