"""Building many systems: each distinct spec once, in parallel, one failure stopping nothing.

:func:`build_many` takes lowered systems (``systemkit build FILE --all``) and

1. groups them by spec digest: systems with the same digest are the same system, so one of
   them (the first, in file order) is built and the others get its artifacts hard-linked (or
   copied, across filesystems) under their own names: *reused*;
2. turns every distinct spec into a :class:`BuildJob`: plain JSON (the canonical spec, the
   formats, where to write), never Python objects or closures, so it can travel to another
   process or machine;
3. hands the jobs to an :class:`Executor`: :class:`LocalExecutor` (worker processes on this
   machine, ``-j N``) or :class:`systemkit.variants.dask.DaskExecutor` (a ``dask.distributed``
   cluster); each worker runs :func:`run_job`, which builds one system with a backend and
   returns a :class:`BuildOutcome` (as JSON) instead of raising;
   The first job runs alone, the rest after it: its full build seeds the build cache
   (:mod:`systemkit.backends.buildcache`) that variants sharing a prefix with it resume from;
   every job writes the flattened layers of the images some variant streams after that
   shared prefix to the layer cache (:mod:`systemkit.backends.layercache`), so that each is
   decompressed and flattened once;
4. reports each system as it finishes (a :class:`~systemkit.progress.ProgressEvent` naming
   the system) and returns a :class:`BuildReport` (built / reused /
   failed, times) whose table the CLI prints.

Artifacts of system NAME go to ``DIR/NAME/`` named as a single build names them
(``DIR/NAME/NAME-kernel``, ``DIR/NAME/NAME.tar`` ...), so ``systemkit run qemu DIR/NAME`` boots
one. Each worker builds one system at a time, streaming as a single build does, so memory is
bounded by the number of workers, not of systems.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Literal, Protocol

import attrs

from systemkit.progress import Progress, ProgressEvent
from systemkit.spec.codec import spec_bytes, spec_digest
from systemkit.spec.lowered import Lowered

Status = Literal["built", "reused", "failed"]


@attrs.frozen
class BuildJob:
    """One system's build, as it travels to a worker (see :meth:`to_json`)."""

    name: str
    spec: str
    """The canonical spec JSON (``systemkit lower``'s bytes)."""
    base_dir: str
    """Where the system's ``File(source=...)`` paths are relative to (it must be readable
    by the worker: the same path on a shared filesystem, for a cluster)."""
    formats: tuple[str, ...]
    out_dir: str
    """The directory this system's artifacts go to (created by the worker)."""
    backend: str = "native"
    arch: str | None = None
    cache_dir: str | None = None
    pull: bool = False
    backend_options: dict[str, str] = attrs.Factory(dict)
    """Options of the backend (``{"binary": PATH}`` for ``linuxkit``), as strings."""
    write_layers: tuple[str, ...] = ()
    """The images whose flattened layers the (native) backend writes to the layer cache
    (:func:`systemkit.backends.layercache.images_to_write`)."""

    def to_json(self) -> str:
        return json.dumps(attrs.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> BuildJob:
        data = json.loads(text)
        data["formats"] = tuple(data["formats"])
        data["write_layers"] = tuple(data.get("write_layers", ()))
        return cls(**data)


@attrs.frozen
class BuildOutcome:
    """What a worker reports for one job: the artifacts written, or the error."""

    name: str
    ok: bool
    paths: tuple[str, ...] = ()
    seconds: float = 0.0
    error: str = ""
    worker: str = ""
    spec_path: str | None = None
    """The part of the spec the error is about, when known (``$.kernel`` ...)."""

    def to_json(self) -> str:
        return json.dumps(attrs.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> BuildOutcome:
        data = json.loads(text)
        data["paths"] = tuple(data["paths"])
        return cls(**data)


def run_job(job_json: str) -> str:
    """Build one :class:`BuildJob` (given as JSON) and return its :class:`BuildOutcome` as
    JSON. Runs in a worker process (local or on a Dask worker); a failed build is an outcome
    with ``ok=False`` and the error's text, never an exception."""
    import socket

    from systemkit.backends import build
    from systemkit.diagnostics import SystemkitError, UserError
    from systemkit.spec.codec import load_spec

    job = BuildJob.from_json(job_json)
    started = time.monotonic()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    options: dict[str, object] = dict(job.backend_options)
    if job.write_layers:
        options["write_layers"] = list(job.write_layers)
    try:
        paths = build(
            load_spec(job.spec),
            base_dir=Path(job.base_dir),
            formats=job.formats,
            out_dir=Path(job.out_dir),
            name=job.name,
            backend=job.backend,
            arch=job.arch,
            cache_dir=None if job.cache_dir is None else Path(job.cache_dir),
            pull=job.pull,
            progress=None,
            quiet=True,
            backend_options=options or None,
        )
    except UserError as exc:
        first = exc.diagnostics[0] if exc.diagnostics else None
        error = "; ".join(f"[{d.code}] {d.message}" for d in exc.diagnostics)
        spec_path = first.spec_path if first is not None else None
        seconds = time.monotonic() - started
        return BuildOutcome(job.name, False, (), seconds, error, worker, spec_path).to_json()
    except (SystemkitError, OSError) as exc:
        return BuildOutcome(
            job.name, False, (), time.monotonic() - started, str(exc), worker
        ).to_json()
    except Exception as exc:  # a bug must not take the other systems down: report it
        return BuildOutcome(
            job.name,
            False,
            (),
            time.monotonic() - started,
            f"internal error: {type(exc).__name__}: {exc}",
            worker,
        ).to_json()
    return BuildOutcome(
        job.name, True, tuple(str(p) for p in paths), time.monotonic() - started, "", worker
    ).to_json()


def job_name(job_json: str) -> str:
    """The system name of a job JSON."""
    name: str = json.loads(job_json)["name"]
    return name


def failed_outcome(name: str, error: str) -> str:
    """The outcome JSON of a job whose worker could not report (it died, the task was lost)."""
    return BuildOutcome(name, False, error=error).to_json()


class Executor(Protocol):
    """Runs :func:`run_job` over job JSONs; yields the outcome JSONs as they finish."""

    def run(self, jobs: Sequence[str]) -> Iterator[str]: ...


class LocalExecutor:
    """``jobs`` worker processes on this machine (default: the number of cores); ``jobs=1``
    builds in this process, one system after the other."""

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = max(1, jobs or os.cpu_count() or 1)

    def run(self, jobs: Sequence[str]) -> Iterator[str]:
        if self.jobs == 1 or len(jobs) <= 1:
            for job in jobs:
                yield run_job(job)
            return
        import multiprocessing

        # forkserver: workers start from a clean process, not a copy of this one's state
        # (threads, open files); each builds one system at a time. The server imports the
        # build code once and every worker is forked from it, instead of each importing it.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["systemkit.variants.build", "systemkit.backends.native"])
        with ProcessPoolExecutor(max_workers=min(self.jobs, len(jobs)), mp_context=context) as pool:
            names = {pool.submit(run_job, job): job_name(job) for job in jobs}
            pending: set[Future[str]] = set(names)
            try:
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        try:
                            yield future.result()
                        except Exception as exc:  # the worker process died (killed, OOM)
                            yield failed_outcome(
                                names[future], f"worker: {type(exc).__name__}: {exc}"
                            )
            except BaseException:
                for future in pending:
                    future.cancel()
                raise


@attrs.frozen
class SystemResult:
    """One system of a :class:`BuildReport`."""

    name: str
    status: Status
    seconds: float
    paths: tuple[Path, ...] = ()
    error: str = ""
    same_as: str | None = None
    """For a reused system: the system whose build it shares."""


@attrs.frozen
class BuildReport:
    """Every system's result, in the order given, and the wall time of the whole run."""

    results: tuple[SystemResult, ...]
    seconds: float

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failed(self) -> list[str]:
        return [r.name for r in self.results if r.status == "failed"]

    def table(self) -> str:
        """The summary: one row per system, a totals line, and the failures named."""
        width = max([len("system"), *(len(r.name) for r in self.results)])
        rows = [f"{'system':<{width}}  {'result':<6}  {'time':>7}  detail"]
        for r in self.results:
            if r.status == "failed":
                detail = r.error.splitlines()[0] if r.error else "failed"
            elif r.status == "reused":
                detail = f"same spec as {r.same_as}"
            else:
                detail = ", ".join(p.name for p in r.paths)
            rows.append(f"{r.name:<{width}}  {r.status:<6}  {r.seconds:>6.1f}s  {detail}")
        rows.append(
            f"{len(self.results)} systems: {self.count('built')} built, "
            f"{self.count('reused')} reused, {self.count('failed')} failed in "
            f"{self.seconds:.1f}s"
        )
        if self.failed:
            rows.append("failed: " + ", ".join(self.failed))
        return "\n".join(rows) + "\n"


def result_event(result: SystemResult, done: int, total: int) -> ProgressEvent:
    """The progress event of one finished system (``[NAME] built in 1.2s (3/50)``)."""
    what = {
        "built": f"built in {result.seconds:.1f}s",
        "reused": f"reused the build of {result.same_as}",
        "failed": f"FAILED: {result.error.splitlines()[0] if result.error else ''}",
    }[result.status]
    return ProgressEvent("done", f"{what} ({done}/{total})", "build", system=result.name)


def _link_artifacts(src: SystemResult, name: str, out_dir: Path) -> tuple[Path, ...]:
    """Give ``name`` the artifacts of ``src`` (renamed NAME-... -> name-...): hard links
    when the filesystem allows, copies otherwise, through one :class:`AtomicOutputs` session,
    so they appear together or not at all and a killed process's temporaries are reclaimed
    by the next build in ``out_dir``."""
    from systemkit.outputs.atomic import AtomicOutputs

    out_dir.mkdir(parents=True, exist_ok=True)
    with AtomicOutputs(out_dir) as outputs:
        for path in src.paths:
            new_name = (
                name + path.name[len(src.name) :] if path.name.startswith(src.name) else path.name
            )
            outputs.link(path, new_name)
        return tuple(outputs.commit())


def build_many(
    systems: Sequence[Lowered],
    *,
    out_dir: Path,
    formats: Iterable[str] = ("kernel+initrd",),
    backend: str = "native",
    arch: str | None = None,
    cache_dir: Path | None = None,
    pull: bool = False,
    executor: Executor | None = None,
    failed_early: Sequence[tuple[str, str]] = (),
    progress: Progress | None = None,
    backend_options: dict[str, str] | None = None,
) -> BuildReport:
    """Build ``systems`` (see the module doc) into ``out_dir/NAME/``.

    ``failed_early`` are systems that already failed before building (their checks), as
    (name, error); they are reported as failed, in order. Nothing raises for one system's
    failure; the report says which failed.
    """
    started = time.monotonic()
    formats = tuple(formats)
    executor = executor or LocalExecutor()
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    order = [lw.name or "system" for lw in systems] + [n for n, _ in failed_early]
    total = len(order)
    results: dict[str, SystemResult] = {
        name: SystemResult(name, "failed", 0.0, error=error) for name, error in failed_early
    }
    by_name = {lw.name or "system": lw for lw in systems}
    primary: dict[str, str] = {}  # digest -> name of the system built for it
    followers: dict[str, list[str]] = {}
    distinct: list[Lowered] = []
    for lowered in systems:
        name = lowered.name or "system"
        digest = spec_digest(lowered.spec)
        if digest in primary:
            followers[primary[digest]].append(name)
            continue
        primary[digest] = name
        followers[name] = []
        distinct.append(lowered)
    # The images some variant streams after the part it shares with the first (which the
    # build cache covers) go to the layer cache, so that each is flattened once.
    from systemkit.backends.layercache import images_to_write

    write_layers = (
        tuple(images_to_write([lw.spec for lw in distinct], formats, arch))
        if backend == "native"
        else ()
    )
    jobs: list[str] = []
    for lowered in distinct:
        name = lowered.name or "system"
        jobs.append(
            BuildJob(
                name=name,
                spec=spec_bytes(lowered.spec).decode(),
                base_dir=str(Path(lowered.base_dir).resolve()),
                formats=formats,
                out_dir=str(out_dir / name),
                backend=backend,
                arch=arch,
                cache_dir=None if cache_dir is None else str(Path(cache_dir).resolve()),
                pull=pull,
                backend_options=dict(backend_options or {}),
                write_layers=write_layers,
            ).to_json()
        )

    done = 0

    def finish(result: SystemResult) -> None:
        nonlocal done
        results[result.name] = result
        done += 1
        if progress is not None:
            progress(result_event(result, done, total))
            progress(ProgressEvent("advance", "", "build", "systems", done, total, "items"))

    for name in [n for n, _ in failed_early]:
        finish(results[name])

    def outcomes() -> Iterator[str]:
        # The first system alone, then the rest: its build leaves the build cache entry the
        # others resume from (started together, every worker would build from scratch).
        yield from executor.run(jobs[:1])
        yield from executor.run(jobs[1:])

    for text in outcomes():
        outcome = BuildOutcome.from_json(text)
        if not outcome.ok:
            _remove_if_empty(out_dir / outcome.name)
            error = outcome.error
            if outcome.spec_path:
                where = by_name[outcome.name].location_of(outcome.spec_path)
                at = f"{where}: " if where else ""
                error = f"{at}{error} (at {outcome.spec_path})"
            finish(SystemResult(outcome.name, "failed", outcome.seconds, error=error))
            for other in followers[outcome.name]:
                finish(
                    SystemResult(
                        other, "failed", 0.0, error=f"same spec as {outcome.name}, which failed"
                    )
                )
            continue
        built = SystemResult(
            outcome.name, "built", outcome.seconds, tuple(Path(p) for p in outcome.paths)
        )
        finish(built)
        for other in followers[outcome.name]:
            t0 = time.monotonic()
            try:
                paths = _link_artifacts(built, other, out_dir / other)
            except OSError as exc:
                finish(SystemResult(other, "failed", time.monotonic() - t0, error=str(exc)))
                continue
            finish(
                SystemResult(other, "reused", time.monotonic() - t0, paths, same_as=outcome.name)
            )
    return BuildReport(tuple(results[n] for n in order), time.monotonic() - started)


def _remove_if_empty(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.rmdir()
