"""``build --all --executor dask`` on a real ``dask scheduler`` and two real ``dask worker``
processes on 127.0.0.1 (started and stopped here): artifacts byte-identical to a local build."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import systemkit_cli
from tests.support.procs import refused_port, stop_process
from tests.variants.test_variants_build import tree


def _scheduler_address(path: Path, proc: subprocess.Popen[bytes], deadline: float) -> str:
    """The address the scheduler bound, from the scheduler file it writes once listening."""
    while True:
        try:
            address: str = json.loads(path.read_text())["address"]
            return address
        except (OSError, ValueError, KeyError):  # not written yet, or half written
            if proc.poll() is not None:
                raise RuntimeError(f"the dask scheduler exited ({proc.returncode})") from None
            if time.monotonic() > deadline:
                raise TimeoutError("the dask scheduler did not start") from None
            time.sleep(0.1)


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``tcp://127.0.0.1:PORT`` of a scheduler with two single-threaded worker processes.
    The scheduler binds a port of its own choosing (``--port 0``) and writes the address it
    bound to its scheduler file, so no other process can take the port between a choice and
    the bind."""
    from distributed import Client

    work = tmp_path_factory.mktemp("dask")
    scheduler_file = work / "scheduler.json"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    common = ["--no-dashboard"]
    procs: list[subprocess.Popen[bytes]] = []
    logs = []
    deadline = time.monotonic() + 120
    try:
        log = (work / "scheduler.log").open("wb")
        logs.append(log)
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "dask",
                    "scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--scheduler-file",
                    str(scheduler_file),
                    *common,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=work,
                env=env,
            )
        )
        address = _scheduler_address(scheduler_file, procs[0], deadline)
        assert address.startswith("tcp://127.0.0.1:"), address
        for i in range(2):
            log = (work / f"worker{i}.log").open("wb")
            logs.append(log)
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "dask",
                        "worker",
                        address,
                        "--host",
                        "127.0.0.1",
                        "--nthreads",
                        "1",
                        "--nworkers",
                        "1",
                        "--name",
                        f"w{i}",
                        "--local-directory",
                        str(work / f"w{i}"),
                        *common,
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=work,
                    env=env,
                )
            )
        client = None
        while True:
            try:
                client = Client(address, timeout=5)  # type: ignore[no-untyped-call]
                client.wait_for_workers(2, timeout=max(1.0, deadline - time.monotonic()))
                break
            except (OSError, TimeoutError):
                if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                    raise
                time.sleep(0.5)
            finally:
                if client is not None:
                    client.close()  # type: ignore[no-untyped-call]
                    client = None
        yield address
    finally:
        for proc in reversed(procs):
            stop_process(proc)
        for log in logs:
            log.close()


@pytest.mark.slow
def test_dask_build_matches_a_local_build(
    dask_cluster: str, variants_py: Path, variants_store: Path, tmp_path: Path
) -> None:
    local, remote = tmp_path / "local", tmp_path / "remote"
    common = ["--system", "alpha*", "--system", "beta", "--system", "gamma",
              "--cache", str(variants_store), "-f", "tar,kernel+initrd"]  # fmt: skip
    res = systemkit_cli("build", str(variants_py), "--dir", str(local), "-j", "1", *common)
    assert res.returncode == 0, res.stderr
    res = systemkit_cli(
        "build",
        str(variants_py),
        "--dir",
        str(remote),
        "--executor",
        "dask",
        "--scheduler",
        dask_cluster,
        *common,
        timeout=300,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "with the Dask cluster at " + dask_cluster in res.stderr
    assert "4 systems: 3 built, 1 reused, 0 failed" in res.stdout
    built_local, built_remote = tree(local), tree(remote)
    assert len(built_local) == 4 * 4  # tar, kernel, initrd, cmdline for each
    assert built_remote == built_local


def test_dask_scheduler_unreachable_is_a_clear_error(
    variants_py: Path, variants_store: Path, tmp_path: Path
) -> None:
    with refused_port() as port:
        res = systemkit_cli(
            "build",
            str(variants_py),
            "--all",
            "--dir",
            str(tmp_path / "out"),
            "--executor",
            "dask",
            "--scheduler",
            f"tcp://127.0.0.1:{port}",
            "--cache",
            str(variants_store),
            timeout=120,
        )
    assert res.returncode == 1
    assert "cannot reach the Dask scheduler" in res.stderr and "Traceback" not in res.stderr
