"""``Init``: a typed, located init image, lowering exactly as the plain string does."""

from __future__ import annotations

import pytest

from systemkit import Init, System, UserError, lower
from systemkit.spec.codec import spec_bytes

REF = "linuxkit/init:8eea386739975a43af558eec757a7dcb3a3d2e7b"


def test_init_lowers_to_the_same_spec_as_the_string() -> None:
    as_object = lower(System(init=[Init(REF), "linuxkit/runc:v1.0.0"]))
    as_string = lower(System(init=[REF, "linuxkit/runc:v1.0.0"]))
    assert spec_bytes(as_object.spec) == spec_bytes(as_string.spec)
    assert as_object.spec.init[0] == "docker.io/" + REF


def test_init_is_frozen_located_and_checked() -> None:
    init = Init(REF)
    assert init.location is not None and init.location.file.endswith("test_model_init.py")
    with pytest.raises(AttributeError):
        init.image = "x"  # type: ignore[misc]
    with pytest.raises(UserError, match="SK105"):
        Init("Bad:Ref")
    assert str(init) == REF
