"""Building on a ``dask.distributed`` cluster: ``systemkit build FILE --all --executor dask``.

What travels to the cluster is each system's :class:`~systemkit.variants.build.BuildJob` as a
JSON string (the canonical spec, formats, paths) and the name of the function that builds it,
:func:`systemkit.variants.build.run_job`; never the user's Python objects or closures. Each
worker runs one build at a time per thread slot and answers with a small JSON outcome.

**Artifacts are written to a shared directory**, not streamed back: ``--dir`` (and the system
file's directory, which ``File(source=...)`` paths are read from) must be visible under the
same absolute path on the workers as on the machine running ``systemkit build`` (an NFS or
other network mount; on one machine, any directory). Images come from each worker's own
image store (``--cache DIR`` if that path exists there, else its default store), filled from
the images' registries when missing; a store on the shared mount works too.

Setting up a cluster (each worker needs ``pip install systemkit[dask]``, the same systemkit
version)::

    dask scheduler --host 0.0.0.0 --port 8786                 # one machine
    dask worker tcp://SCHEDULER:8786 --nthreads 1 --nworkers 2  # every build machine
    systemkit build system.py --all --dir /shared/out --executor dask --scheduler tcp://SCHEDULER:8786

``--nthreads 1`` keeps one build per worker process (a build already uses the cores for
compression); use as many worker processes per machine as it has memory for builds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from systemkit.diagnostics import SystemkitError


class DaskExecutor:
    """Runs the jobs on the Dask cluster whose scheduler is at ``address``
    (``tcp://HOST:8786``)."""

    def __init__(self, address: str, timeout: float = 10.0) -> None:
        self.address = address
        self.timeout = timeout

    def _probe(self) -> None:
        """Fail at once when nothing listens at a ``tcp://`` address (the client would retry
        until its timeout)."""
        import socket
        from urllib.parse import urlsplit

        parts = urlsplit(self.address)
        if parts.scheme != "tcp" or not parts.hostname or not parts.port:
            return
        try:
            socket.create_connection((parts.hostname, parts.port), timeout=self.timeout).close()
        except OSError as exc:
            raise SystemkitError(
                f"cannot reach the Dask scheduler at {self.address}: {exc.strerror or exc}"
            ) from None

    def run(self, jobs: Sequence[str]) -> Iterator[str]:
        try:
            from distributed import Client, as_completed
        except ImportError:
            raise SystemkitError(
                "--executor dask needs the dask extra: pip install 'systemkit[dask]'"
            ) from None
        from systemkit.variants.build import failed_outcome, job_name, run_job

        self._probe()
        try:
            client = Client(self.address, timeout=self.timeout)  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError) as exc:
            raise SystemkitError(
                f"cannot reach the Dask scheduler at {self.address}: {exc}"
            ) from None
        try:
            names = {}
            futures = []
            for job in jobs:
                # pure=False: every job is a build to run, never a cached result
                future = client.submit(run_job, job, pure=False)
                names[future.key] = job_name(job)
                futures.append(future)
            for future in as_completed(futures):  # type: ignore[no-untyped-call]
                try:
                    text: str = future.result()
                except Exception as exc:  # the worker died or the task was lost
                    text = failed_outcome(names[future.key], f"dask: {type(exc).__name__}: {exc}")
                yield text
        finally:
            client.close()  # type: ignore[no-untyped-call]
