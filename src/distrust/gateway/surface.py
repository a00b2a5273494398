"""What a server shows the model: its instructions and tool definitions, and where they are pinned.

A rug pull is a server that changes a tool's description (or adds a tool) after the user
approved it, so the model starts following new instructions nobody reviewed. The gateway
therefore records the *surface* on first run and refuses changes until the user approves
them. This module holds the records and the storage protocol; ``gateway/lock.py`` stores
surfaces in ``distrust.lock``, and the relay enforces them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Protocol


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: equal values always give equal text (and digests)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class ToolDef:
    """One tool as ``tools/list`` describes it; JSON-valued fields kept as canonical JSON text."""

    name: str
    description: str = ""
    title: str | None = None
    input_schema: str = "{}"  # canonical JSON of inputSchema
    output_schema: str | None = None  # canonical JSON of outputSchema, if any
    annotations: str | None = None  # canonical JSON of annotations, if any

    @classmethod
    def from_mcp(cls, tool: dict[str, Any]) -> ToolDef:
        """Build from one entry of a ``tools/list`` result (unknown fields ignored)."""
        return cls(
            name=str(tool.get("name", "")),
            description=str(tool.get("description") or ""),
            title=tool.get("title") if isinstance(tool.get("title"), str) else None,
            input_schema=canonical_json(tool.get("inputSchema", {})),
            output_schema=canonical_json(tool["outputSchema"]) if "outputSchema" in tool else None,
            annotations=canonical_json(tool["annotations"]) if "annotations" in tool else None,
        )

    def digest(self) -> str:
        return hashlib.sha256(canonical_json(self.__dict__).encode()).hexdigest()


@dataclass(frozen=True)
class Surface:
    """Everything a server tells the model about itself."""

    instructions: str | None
    tools: tuple[ToolDef, ...]  # sorted by name

    def digest(self) -> str:
        payload = {"instructions": self.instructions, "tools": [t.digest() for t in self.tools]}
        return hashlib.sha256(canonical_json(payload).encode()).hexdigest()

    def tool(self, name: str) -> ToolDef | None:
        return next((t for t in self.tools if t.name == name), None)


class SurfaceStore(Protocol):
    """Where pinned surfaces live (the lock file in production, anything in tests)."""

    def pinned(self, server: str) -> Surface | None:
        """The approved surface of ``server``, or None before its first run."""
        ...

    def pin(self, server: str, surface: Surface) -> None:
        """Record ``surface`` as approved (first run, or ``distrust approve``)."""
        ...

    def propose(self, server: str, surface: Surface) -> None:
        """Remember a changed surface awaiting approval, so ``approve`` can show the difference."""
        ...

    def proposed(self, server: str) -> Surface | None:
        """The changed surface awaiting approval, if any."""
        ...
