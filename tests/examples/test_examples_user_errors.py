"""Mistakes in a system.py are reported at the user's line, never as a systemkit traceback."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.support.cli import systemkit_cli


def test_wrong_capability_is_reported_at_its_line(tmp_path: Path) -> None:
    source = textwrap.dedent(
        """\
        from systemkit import Kernel, Service, System

        GETTY = "linuxkit/getty:a86d74c8f89be8956330c3b115b0b1f2e09ef6e0"


        def web() -> Service:
            return Service(
                "web",
                "nginx:1.25",
                capabilities=["CAP_NET_BIND_SERVICE", "CAP_CHWON"],
            )


        system = System(
            kernel=Kernel("linuxkit/kernel:6.12.59", cmdline="console=ttyS0"),
            services=[Service("getty", GETTY), web()],
        )
        """
    )
    (tmp_path / "system.py").write_text(source)
    # the line of the wrong capability itself, not only of the constructor call around it
    wrong_line = 1 + next(i for i, line in enumerate(source.splitlines()) if "CAP_CHWON" in line)
    res = systemkit_cli("lower", "system.py", cwd=tmp_path)
    assert res.returncode == 1
    assert res.stdout == ""
    assert "Traceback" not in res.stderr
    assert f"system.py:{wrong_line}:" in res.stderr
    assert "unknown capability 'CAP_CHWON'" in res.stderr
    assert "CAP_CHOWN" in res.stderr  # the hint guesses what was meant


def test_every_wrong_value_is_reported_in_one_run(tmp_path: Path) -> None:
    (tmp_path / "system.py").write_text(
        textwrap.dedent(
            """\
            from systemkit import File, Service, System

            system = System(
                services=[Service("a", "alpine", capabilities=["CAP_NOPE"])],
                files=[File("/etc/x", contents="x", mode=0o1777777)],
            )
            """
        )
    )
    res = systemkit_cli("lower", "system.py", cwd=tmp_path)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert "system.py:4:" in res.stderr and "CAP_NOPE" in res.stderr
    assert "system.py:5:" in res.stderr and "mode" in res.stderr


def test_an_exception_in_the_users_code_shows_the_users_frames_only(tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text(
        textwrap.dedent(
            """\
            def port_of(name: str) -> int:
                ports = {"web": 80}
                return ports[name]
            """
        )
    )
    (tmp_path / "system.py").write_text(
        textwrap.dedent(
            """\
            from helpers import port_of

            from systemkit import Service, System


            def service(name: str) -> Service:
                return Service(name, "nginx:1.25", env={"PORT": str(port_of(name))})


            # A generator: systemkit's own code runs it, between the user's frames.
            system = System(services=(service(n) for n in ["web", "api"]))
            """
        )
    )
    res = systemkit_cli("lower", "system.py", cwd=tmp_path)
    assert res.returncode == 1
    err = res.stderr
    assert "KeyError: 'api'" in err
    assert "Traceback (most recent call last)" not in err
    # The user's frames, innermost last: system.py (module, generator, service) then helpers.py.
    assert 'system.py", line 11' in err
    assert 'system.py", line 7, in service' in err
    assert 'helpers.py", line 3, in port_of' in err
    assert err.index('system.py", line 7') < err.index('helpers.py", line 3')
    # ... and nothing of systemkit's, nor of the Python import machinery.
    assert "systemkit/" not in err and "importlib" not in err and "<frozen" not in err


def test_model_constructor_frames_are_hidden_too(tmp_path: Path) -> None:
    (tmp_path / "system.py").write_text(
        textwrap.dedent(
            """\
            from systemkit import Service, System

            def service(name: str) -> Service:
                raise RuntimeError(f"no image for {name}")

            system = System(services=(service(n) for n in ["web"]))
            """
        )
    )
    res = systemkit_cli("lower", "system.py", cwd=tmp_path)
    assert res.returncode == 1 and "RuntimeError: no image for web" in res.stderr
    assert "attrs generated" not in res.stderr and "systemkit.model" not in res.stderr
