"""`distrust demo postmark` tells the whole story and every layer catches the attack."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from distrust.gateway.sandbox import probe

MODULES = Path(__file__).parent / "tools" / "postmark4" / "node_modules"
DISTRUST = str(Path(sys.executable).with_name("distrust"))


@pytest.mark.skipif(not probe().ok, reason=f"sandbox unavailable: {probe().reason}")
def test_demo_postmark_catches_the_attack_at_every_layer() -> None:
    if not (MODULES / "postmark").is_dir():
        pytest.skip("tests/tools/postmark4 is not installed (run scripts/test.sh)")
    env = {**os.environ, "DISTRUST_DEMO_NODE_MODULES": str(MODULES)}
    proc = subprocess.run(
        [DISTRUST, "demo", "postmark"], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "MISSED" not in out and "Every layer caught it." in out
    assert out.count("caught") == 5  # one mark per act, and the closing line
    assert "MAL-2025-47604" in out
    assert "DT-RISK-003" in out
    assert "phan@giftshop.club" in out
    assert "messages the Postmark stand-in received: 0" in out
    assert "alice@demo.example" in out
