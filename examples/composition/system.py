"""Composition: building systems from functions, loops, subclasses, copies and merges.

Each pattern is one ordinary Python technique; docs/composition.md walks through them. The
helpers live in ``lib.py`` next to this file (``import lib`` works because systemkit puts the
system file's directory on ``sys.path`` while loading it).

Two systems are defined, so commands take ``--system``::

    systemkit lower examples/composition/system.py                  # `system`, the default
    systemkit lower examples/composition/system.py --system debug   # a verbose copy of it
"""

# `systemkit check system.py` type-checks this file and lib.py together (mypy --strict, with this
# directory on the module path). The repository's own all-at-once mypy run cannot see `lib`:
# mypy: disable-error-code="import-not-found"

from __future__ import annotations

from lib import ALPINE, Getty, base, monitoring, tickers

from systemkit import File, Kernel, Service, System, evolve

# 1. A function returning components, and 2. a loop generating services (both in lib.py).
workers = tickers({"fast": 1, "slow": 10})

# 3. A subclass carrying its own defaults: used as is, then with two of them overridden.
console = Getty()
secure_console = Getty("getty-secure", env={"INSECURE": "false"})

# 4. Copies with changes: `evolve` keeps every other field (and is checked like a constructor).
chatty = evolve(workers[0], name="ticker-chatty", command=["/bin/sh", "-c", "yes | head -n 5"])

# 5. Merging: LinuxKit's multi-file meaning, as `linuxkit build base.yml monitoring.yml app.yml`
#    would do. Kernel fields set later win; init, onboot, services, files, volumes are appended.
system = (
    base(cmdline="console=ttyS0")
    + monitoring()
    + System(
        services=[console, secure_console, *workers],
        files=[File("/etc/motd", contents="composed with systemkit\n", mode=0o644)],
    )
)

# A second system from the first, merged with a fragment: its kernel sets only the command
# line, which overrides; the image stays the one `base()` chose.
debug = system + System(
    kernel=Kernel(cmdline="console=ttyS0 debug loglevel=7"),
    services=[chatty, Service("shell", ALPINE, command=["/bin/sh", "-c", "sleep infinity"])],
)
