"""Run a command in a VM left running by ``--systemkit-keep-vm``.

Usage: ``python -m systemkit.testing SOCKET_DIR COMMAND [--timeout SECONDS]``; prints the
command's stdout and stderr and exits with its status.
"""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from systemkit.testing.vm import AgentClient, VMError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m systemkit.testing",
        description="Run a command through the systemkit agent of a VM kept running by "
        "pytest --systemkit-keep-vm.",
    )
    parser.add_argument(
        "socket_dir", type=Path, help="the VM's socket directory (printed by pytest)"
    )
    parser.add_argument("command", help="a shell command line, run as root in the guest")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds (default 120)")
    args = parser.parse_args(argv)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(args.socket_dir / "agent.sock"))
    except OSError as exc:
        print(f"error: cannot connect to {args.socket_dir / 'agent.sock'}: {exc}", file=sys.stderr)
        return 2
    client = AgentClient(sock)
    try:
        client.wait_for_agent(30)
        result = client.run(args.command, args.timeout)
    except VMError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.status


if __name__ == "__main__":
    sys.exit(main())
