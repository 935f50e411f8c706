"""Shared fixtures of the differential (impl vs spec) tests."""

from __future__ import annotations

import pytest
from smspec.impl import registry


@pytest.fixture(scope="module")
def spec_backend():
    """Run the spec side unpatched, whatever backend the session uses; restore it afterwards.

    Modules that call spec functions by their module attribute use it with
    ``pytestmark = pytest.mark.usefixtures("spec_backend")``.
    """
    previous = registry.active_backend()
    registry.use_backend("spec")
    yield
    registry.use_backend(previous)
