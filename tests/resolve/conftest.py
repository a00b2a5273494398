"""Fixtures for the resolve tests; the builders live in resolve_helpers."""

from __future__ import annotations

from pathlib import Path

import pytest
from resolve_helpers import FakeMachine


@pytest.fixture
def machine(tmp_path: Path) -> FakeMachine:
    return FakeMachine(tmp_path)
