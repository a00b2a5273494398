"""The reference oracle for npm semantics: npm's own ``semver`` package, run by node.

One long-lived ``node`` process answers one JSON line per batch of questions, so property
tests pay node's start-up once per session rather than once per example. Tests that
need it are skipped, with the reason, only when ``tests/tools/node_modules/semver`` (installed
by ``cd tests/tools && npm ci --ignore-scripts``) or ``node`` itself is missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SEMVER_DIR = Path(__file__).resolve().parents[1] / "tools" / "node_modules" / "semver"

_ORACLE_JS = r"""
const semver = require(process.argv[1]);
const readline = require('readline');
const attempt = f => { try { return f(); } catch (e) { return null; } };
readline.createInterface({ input: process.stdin }).on('line', line => {
  const q = JSON.parse(line);
  const out = {};
  out.sort = (q.sort || []).map(list => list.slice().sort(semver.compare));
  out.compare = (q.compare || []).map(([a, b, loose]) => attempt(() => semver.compare(a, b, loose)));
  out.valid = (q.valid || []).map(([v, loose]) => semver.valid(v, loose));
  out.satisfies = (q.satisfies || []).map(([v, r, opts]) => semver.satisfies(v, r, opts));
  out.maxSatisfying = (q.maxSatisfying || []).map(([vs, r]) => semver.maxSatisfying(vs, r));
  process.stdout.write(JSON.stringify(out) + '\n');
});
"""


class NodeSemver:
    """Ask npm's semver package a batch of questions; one line in, one line out."""

    def __init__(self, node: str) -> None:
        self.process = subprocess.Popen(
            [node, "-e", _ORACLE_JS, str(SEMVER_DIR)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def ask(self, **questions: list[Any]) -> dict[str, list[Any]]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(questions) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"node semver oracle exited with {self.process.wait(timeout=5)}")
        answers: dict[str, list[Any]] = json.loads(line)
        return answers

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def node_semver() -> Iterator[NodeSemver]:
    node = shutil.which("node")
    if not (SEMVER_DIR / "package.json").is_file():
        pytest.skip(
            f"reference oracle missing: {SEMVER_DIR} (run: cd tests/tools && npm ci --ignore-scripts)"
        )
    if node is None:
        pytest.skip("reference oracle needs node on PATH")
    oracle = NodeSemver(node)
    yield oracle
    oracle.close()
