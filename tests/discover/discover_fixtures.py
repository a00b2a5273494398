"""Helpers that build fixture homes for discovery tests: our own config text, written to tmp dirs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from distrust.model import ServerSpec


def write(root: Path, relative: str, content: str | bytes) -> Path:
    """Write ``content`` at ``root/relative``, creating parent directories."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def write_json(root: Path, relative: str, data: Any) -> Path:
    return write(root, relative, json.dumps(data, indent=2))


def by_name(servers: tuple[ServerSpec, ...] | list[ServerSpec]) -> dict[str, ServerSpec]:
    """Servers keyed by name; fails if a name repeats (tests pick unique names on purpose)."""
    out: dict[str, ServerSpec] = {}
    for spec in servers:
        assert spec.name not in out, f"duplicate server name {spec.name!r}"
        out[spec.name] = spec
    return out


def line_of(path: Path, needle: str) -> int:
    """1-based line of the first line containing ``needle``: the expected line of an entry."""
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in text:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


POSTMARK_STDIO = {
    "command": "npx",
    "args": ["-y", "postmark-mcp"],
    "env": {"POSTMARK_SERVER_TOKEN": "secret-token-value", "DEFAULT_SENDER_EMAIL": "me@example.com"},
}
