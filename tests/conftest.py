"""Shared test setup: keep every test away from the real user's data and cache directories."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_state(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    state = tmp_path_factory.mktemp("distrust-state")
    monkeypatch.setenv("DISTRUST_DATA_DIR", str(state / "data"))
    monkeypatch.setenv("DISTRUST_CACHE_DIR", str(state / "cache"))
    monkeypatch.setenv("DISTRUST_CONFIG_DIR", str(state / "config"))
    # No test may hand its command to a resident analyser the developer left running: this
    # socket only exists if a test starts its own analyser there.
    monkeypatch.setenv("DISTRUST_RESIDENT_SOCKET", str(state / "resident" / "resident.sock"))
    # The Node proxy preload, installed from its pinned lock by scripts/test.sh (no network here).
    preload = Path(__file__).parent / "tools" / "preload"
    if (preload / "node_modules").is_dir():
        monkeypatch.setenv("DISTRUST_NODE_PRELOAD_DIR", str(preload))
    yield


TOOLS_DIR = Path(__file__).parent / "tools"
