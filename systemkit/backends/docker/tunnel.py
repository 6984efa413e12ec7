"""``ssh://`` engines: a private unix socket piped through ``ssh ... docker system dial-stdio``."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

_PIPE_CHUNK = 1 << 16


class SshTunnel:
    """The docker CLI's ssh connection helper: a private unix socket whose every connection
    is piped through ``ssh [-l USER] [-p PORT] -- HOST docker system dial-stdio``.

    The ``ssh`` command (with the user's ssh config, agent and known hosts) does the
    authentication, exactly as for ``docker -H ssh://...``; no SSH library is involved.
    """

    def __init__(self, url: str) -> None:
        parsed = urllib.parse.urlparse(url)
        if not parsed.hostname:
            raise ValueError(f"no host in {url!r}")
        cmd = ["ssh"]
        if parsed.username:
            cmd += ["-l", parsed.username]
        if parsed.port:
            cmd += ["-p", str(parsed.port)]
        self.cmd = [*cmd, "--", parsed.hostname, "docker", "system", "dial-stdio"]
        self.dir = Path(tempfile.mkdtemp(prefix="systemkit-ssh-"))
        self.path = self.dir / "docker.sock"
        self.errors: list[str] = []
        self._procs: list[subprocess.Popen[bytes]] = []
        self._pipes: list[threading.Thread] = []
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(self.path))
        self._server.listen(8)
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            pipe = threading.Thread(target=self._pipe, args=(conn,), daemon=True)
            self._pipes.append(pipe)
            pipe.start()

    def _pipe(self, conn: socket.socket) -> None:
        try:
            proc = subprocess.Popen(
                self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        except OSError as exc:
            self.errors.append(f"cannot run ssh: {exc.strerror or exc}")
            conn.close()
            return
        self._procs.append(proc)
        stdin, stdout, stderr = proc.stdin, proc.stdout, proc.stderr
        assert stdin is not None and stdout is not None and stderr is not None

        def upstream() -> None:
            try:
                while data := conn.recv(_PIPE_CHUNK):
                    stdin.write(data)
                    stdin.flush()
            except OSError:
                pass
            finally:
                with contextlib.suppress(OSError):
                    stdin.close()

        threading.Thread(target=upstream, daemon=True).start()
        try:
            while data := os.read(stdout.fileno(), _PIPE_CHUNK):
                conn.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
            status = proc.wait()
            message = stderr.read().decode(errors="replace").strip()
            if status != 0 and message:
                self.errors.append(" ".join(message.split()))

    def failure(self, timeout: float = 10.0) -> str | None:
        """Why ssh failed, once its connections have ended (None if it did not fail)."""
        deadline = time.monotonic() + timeout
        for pipe in list(self._pipes):
            pipe.join(max(0.0, deadline - time.monotonic()))
        return self.errors[-1] if self.errors else None

    def close(self) -> None:
        self._server.close()
        for proc in self._procs:
            if proc.poll() is None:
                proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)
