"""Lowering is deterministic: other hash seeds, processes and working directories, same bytes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = ("minimal", "sshd", "docker-host", "wireguard", "variants", "composition", "lab")

SCRIPT = """
import sys
from pathlib import Path
from systemkit import lower
from systemkit.linuxkit.emit import emit_yaml
from systemkit.loader import load
from systemkit.spec.codec import spec_bytes

out = sys.stdout.buffer
for path in sys.argv[1:]:
    for name, system in sorted(load(Path(path)).items()):
        spec = lower(system, name=name).spec
        out.write(f"== {path} {name}\\n".encode())
        out.write(spec_bytes(spec))
        out.write(emit_yaml(spec).encode())
    here = str(Path(path).parent)
    for mod, value in list(sys.modules.items()):
        if here in str(getattr(value, "__file__", "") or ""):
            del sys.modules[mod]
"""


def lower_all(seed: str, cwd: Path, home: Path) -> bytes:
    files = [str(REPO / "examples" / e / "system.py") for e in EXAMPLES]
    env = {**os.environ, "PYTHONHASHSEED": seed, "HOME": str(home)}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    res = subprocess.run(
        [sys.executable, "-c", SCRIPT, *files], cwd=cwd, env=env, capture_output=True, check=False
    )
    assert res.returncode == 0, res.stderr.decode()
    return res.stdout


def test_examples_lower_to_identical_bytes_across_processes(tmp_path: Path) -> None:
    home = REPO / "tests" / "examples" / "no-home"
    first = lower_all("0", REPO, home)
    second = lower_all("4242", tmp_path, home)
    third = lower_all("random", REPO, home)
    # Every system was lowered: 5 one-system examples, composition has 2, variants 10.
    assert first.count(b"\n== ") + 1 == 5 + 2 + 10
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()
    assert first == second == third
