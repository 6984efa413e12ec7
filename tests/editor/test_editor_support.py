"""What an editor shows: jedi's completion and signature help for ``Service(`` list the keyword
fields with their docs (from the spec's field declarations, via the generated ``Args:``
sections), and the docstrings match the spec."""

from __future__ import annotations

import sys

import jedi

from systemkit import File, Service, System
from systemkit.model import docstrings

CALL = 'Service("web", "nginx:1.27", '
SOURCE = f"from systemkit import Service\n\n{CALL}"


def _script(source: str) -> jedi.Script:
    env = jedi.create_environment(sys.executable, safe=False)
    return jedi.Script(source, path="system.py", environment=env)


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_signature_help_for_service_lists_every_field_with_its_doc() -> None:
    (sig,) = _script(SOURCE).get_signatures(3, len(CALL))
    names = [p.name for p in sig.params]
    assert names[:2] == ["name", "image"]
    assert "_location" not in names  # the location is no parameter
    doc = _flat(sig.docstring())
    assert "A long-running container" in doc
    for name, field_doc in docstrings.arg_docs(Service):
        assert name in names
        assert _flat(f"{name}: {field_doc}") in doc, name
    assert "command: command, replacing Entrypoint and Cmd" in doc


def test_completion_in_a_service_call_offers_the_keyword_fields() -> None:
    offered = {c.name for c in _script(SOURCE).complete(3, len(CALL)) if c.type == "param"}
    assert {f"{name}=" for name, _ in docstrings.arg_docs(Service)[2:]} <= offered
    assert "_location=" not in offered
    partial = SOURCE + "comm"
    found = _script(partial).complete(3, len(CALL) + 4)
    assert [c.name for c in found if c.type == "param"] == ["command="]


def test_docstrings_are_generated_from_the_spec() -> None:
    assert docstrings.stale() == [], "run: python3 scripts/gen_model_docs.py"
    assert "contents: inline contents" in (File.__doc__ or "")
    assert "binds_add: bind mounts appended to the label's" in _flat(Service.__doc__ or "")
    assert "files: files added to the image" in (System.__doc__ or "")
