"""Source locations: the first frame outside systemkit, from helpers and nested functions."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from systemkit import Service, System, lower
from systemkit.loader import load


def make_service() -> Service:
    def inner() -> Service:
        return Service("nested", "alpine")  # the location is this line

    return inner()


def test_location_of_an_object_made_in_a_nested_function() -> None:
    svc = make_service()
    assert svc.location is not None
    assert svc.location.file.endswith("test_model_locations.py")
    source = Path(__file__).read_text().splitlines()
    assert "the location is this line" in source[svc.location.line - 1]


def test_locations_from_a_helper_module_in_another_file(tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text(
        textwrap.dedent(
            """
            from systemkit import Service

            def getty() -> Service:
                return Service("getty", "linuxkit/getty:1")
            """
        )
    )
    (tmp_path / "system.py").write_text(
        textwrap.dedent(
            """
            from systemkit import System
            from helpers import getty

            system = System(services=[getty()])
            """
        )
    )
    try:
        systems = load(tmp_path / "system.py")
    finally:
        sys.modules.pop("helpers", None)
    system = systems["system"]
    svc_loc = system.services[0].location
    sys_loc = system.location
    assert svc_loc is not None and sys_loc is not None
    assert svc_loc.file.endswith("helpers.py") and svc_loc.line == 5
    assert sys_loc.file.endswith("system.py") and sys_loc.line == 5
    lowered = lower(system)
    assert lowered.locations["$.services[0]"] == svc_loc
    assert lowered.location_of("$.services[0].env[0]") == svc_loc


def test_spec_has_no_location_data() -> None:
    a = lower(System(services=[Service("a", "alpine")]))
    b = lower(System(services=[Service("a", "alpine")]))
    assert a.spec == b.spec
