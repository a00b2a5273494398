"""Opt-in: fetch real packages from the real registries (``DISTRUST_NETWORK_TESTS=1``)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from distrust.fetch import fetch, npm_packument

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(
        os.environ.get("DISTRUST_NETWORK_TESTS") != "1", reason="set DISTRUST_NETWORK_TESTS=1"
    ),
]


def test_real_npm_and_pypi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("DISTRUST_NPM_REGISTRY", "npm_config_registry", "DISTRUST_PYPI_INDEX"):
        monkeypatch.delenv(var, raising=False)
    npm = fetch("npm:is-number@7.0.0", cache_dir=tmp_path)
    assert npm.integrity.startswith("sha512-") and not npm.weak_integrity
    assert "index.js" in npm.files and "package.json" in npm.files
    meta = npm_packument("is-number")
    assert meta["versions"]["7.0.0"]["dist"]["integrity"] == npm.integrity
    assert "7.0.0" in meta["time"]  # the full document, not the abbreviated one

    six = fetch("pypi:six==1.16.0", cache_dir=tmp_path)
    assert six.archive is not None
    assert six.integrity == "sha256:" + hashlib.sha256(six.archive.read_bytes()).hexdigest()
    assert "six.py" in six.files and "setup.py" in six.files  # the sdist, not the wheel
    assert fetch("pypi:six==1.16.0", cache_dir=tmp_path).from_cache
