"""Test systems like code: boot a system under qemu and drive it from pytest.

The pytest plugin (entry point ``pytest11``, loaded wherever systemkit is installed) gives the
fixtures ``systemkit_vm`` (a :class:`VMFactory`; its machines stop when the test ends) and
``systemkit_vm_module`` (machines shared by a module's tests)::

    from systemkit.testing import Machine, VMFactory

    def test_web(systemkit_vm: VMFactory) -> None:
        m: Machine = systemkit_vm(web_system(), memory="512M")
        m.wait_for_open_port(80)
        assert "ok" in m.succeed("wget -qO- http://127.0.0.1/health")
        m.shutdown()

:func:`spec_view` tests a system without booting it (its lowered spec, typed). See
docs/testing.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from systemkit.testing.machine import (
    CommandFailed,
    CommandRecord,
    Machine,
    MachineError,
    WaitTimeout,
)
from systemkit.testing.vm import CommandResult, VMError

if TYPE_CHECKING:
    from systemkit.testing.agent import AGENT_NAME, AgentError
    from systemkit.testing.factory import SystemLike, VMFactory
    from systemkit.testing.specview import SpecView, spec_view

# The pytest plugin is loaded in every pytest run: what needs the build machinery or the image
# store is imported on first use. (Hidden from mypy, which would otherwise accept any name.)
_LAZY = {
    "AGENT_NAME": "systemkit.testing.agent",
    "AgentError": "systemkit.testing.agent",
    "SystemLike": "systemkit.testing.factory",
    "VMFactory": "systemkit.testing.factory",
    "SpecView": "systemkit.testing.specview",
    "spec_view": "systemkit.testing.specview",
}

if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        if name in _LAZY:
            return getattr(importlib.import_module(_LAZY[name]), name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AGENT_NAME",
    "AgentError",
    "CommandFailed",
    "CommandRecord",
    "CommandResult",
    "Machine",
    "MachineError",
    "SpecView",
    "SystemLike",
    "VMError",
    "VMFactory",
    "WaitTimeout",
    "spec_view",
]
