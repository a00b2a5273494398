"""Tool pinning: approve a server's surface once, then refuse what changes behind the user's back.

The policy, in one place (the relay only moves JSON around it):

* **First run** (nothing pinned): every tool whose definition carries no poisoning marker is
  pinned together with the server's instructions. A *poisoned* tool (hidden instructions for
  the model, invisible characters, terminal escapes) is not pinned: it is hidden and refused
  exactly like a changed tool, and the full surface is recorded as a proposal for
  ``distrust approve``. Poisoned instructions are stripped and proposed the same way.
* **Later runs**: a tool whose definition differs from the pinned one, or that was not
  pinned, is hidden from ``tools/list`` and calls to it are refused until approved. A tool that
  disappeared is reported, not refused (the server simply cannot be asked for it).
* **Instructions** that differ from the pinned ones are replaced by the pinned text (they go
  into the model's context just like tool descriptions, so forwarding them would defeat the
  pin), and the change is proposed.

What the user approves is always a complete :class:`~distrust.gateway.surface.Surface`, so a
later approval cannot silently widen to tools the user never saw.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distrust.analyze.textscan import prompt_injection_markers
from distrust.fsutil import ReadError, atomic_write, read_text_capped
from distrust.gateway.surface import Surface, ToolDef

# --- poisoning markers -----------------------------------------------------------------------


@dataclass(frozen=True)
class PoisonMarker:
    """A pattern that, in a tool definition, addresses the model or hides text from the user."""

    id: str
    pattern: re.Pattern[str]
    label: str
    rationale: str


def _pm(id_: str, regex: str, label: str, rationale: str) -> PoisonMarker:
    return PoisonMarker(id_, re.compile(regex, re.IGNORECASE), label, rationale)


GATEWAY_MARKERS: tuple[PoisonMarker, ...] = (
    # The shared table in analyze/textscan.py (tags, "ignore previous instructions", "do not tell
    # the user", credential paths, invisible unicode) is applied first; these are the extra
    # shapes only a live tool definition shows.
    _pm(
        "ansi-escape",
        r"\x1b[\[\]PX^_]|\x9b",
        "terminal escape sequence",
        "ANSI escapes can hide or rewrite text in terminal clients (line-jumping attacks)",
    ),
    _pm(
        "read-before-use",
        r"\bbefore\s+(?:using|calling|invoking)\s+this\s+tool\b[^.\n]{0,80}"
        r"\b(?:read|open|cat|load|fetch|send|pass|call)\b",
        "asks the model to do something first",
        "a tool description has no business making the model read files or call things first",
    ),
    _pm(
        "mcp-client-config",
        r"(?:^|[\s/\"'`])(?:mcp\.json|claude_desktop_config\.json|\.cursor/mcp\.json)",
        "reference to an MCP client config",
        "client configs list every server with its API keys",
    ),
    _pm(
        "as-the-model",
        r"\byou\s+(?:must|should)\s+(?:always|never|first)\b",
        "imperative aimed at the model",
        "descriptions describe the tool; orders to the model are how poisoning is phrased",
    ),
)

_INSTEAD_RE = re.compile(r"\binstead\b", re.IGNORECASE)


def text_markers(text: str) -> list[str]:
    """Labels of every poisoning marker in ``text`` (shared table first, then the gateway's own)."""
    found = list(prompt_injection_markers(text))
    found.extend(m.label for m in GATEWAY_MARKERS if m.pattern.search(text))
    return list(dict.fromkeys(found))


def _tool_text(tool: ToolDef) -> str:
    # Every field the model reads: the schema carries per-argument descriptions too
    # ("full-schema poisoning"), so it is scanned as text, not just the description.
    parts = [tool.description, tool.title or "", tool.input_schema, tool.output_schema or ""]
    return "\n".join(parts)


def poisoning_markers(tool: ToolDef, other_tools: Iterable[str] = ()) -> list[str]:
    """Why a tool definition looks poisoned (empty when it looks clean).

    ``other_tools`` are the names of the other tools the client will see (of this and other
    servers); a description that names one of them together with "instead" is trying to steer
    the model away from it (tool shadowing).
    """
    text = _tool_text(tool)
    found = text_markers(text)
    if _INSTEAD_RE.search(tool.description):
        for name in other_tools:
            if name != tool.name and len(name) > 2 and re.search(rf"\b{re.escape(name)}\b", tool.description):
                found.append(f"steers the model away from tool {name!r}")
                break
    return found


# --- differences, for ``distrust approve`` -----------------------------------------------------

_SHOWN = 240


def _short(text: str | None) -> str:
    if text is None:
        return "(none)"
    flat = text.replace("\n", "\\n")
    shown = flat if len(flat) <= _SHOWN else flat[:_SHOWN] + f"… ({len(flat)} chars)"
    return repr(shown)


def _tool_changes(old: ToolDef, new: ToolDef) -> list[str]:
    changes = []
    labels = (
        ("description", "description"),
        ("title", "title"),
        ("input_schema", "input schema"),
        ("output_schema", "output schema"),
        ("annotations", "annotations"),
    )
    for attr, label in labels:
        before, after = getattr(old, attr), getattr(new, attr)
        if before != after:
            changes.append(f"  {label}: {_short(before)} -> {_short(after)}")
    return changes


def diff_surfaces(old: Surface | None, new: Surface) -> list[str]:
    """Readable differences from the approved surface to a proposed one, one item per line.

    Lines start with ``+`` (tool added), ``-`` (removed), ``~`` (changed, followed by indented
    field changes) or ``!`` (a poisoning marker in the new definition), so a reviewer can scan
    them; an empty list means the surfaces are identical.
    """
    lines: list[str] = []
    before_tools = {t.name: t for t in old.tools} if old else {}
    names = [t.name for t in new.tools]
    if (old.instructions if old else None) != new.instructions:
        lines.append(
            f"~ instructions: {_short(old.instructions if old else None)} -> {_short(new.instructions)}"
        )
        for marker in text_markers(new.instructions or ""):
            lines.append(f"! instructions: {marker}")
    for tool in new.tools:
        previous = before_tools.get(tool.name)
        if previous is None:
            lines.append(f"+ tool {tool.name}: {_short(tool.description)}")
        elif previous.digest() != tool.digest():
            lines.append(f"~ tool {tool.name}")
            lines.extend(_tool_changes(previous, tool))
        else:
            continue
        lines.extend(f"! tool {tool.name}: {m}" for m in poisoning_markers(tool, names))
    new_names = set(names)
    lines.extend(f"- tool {name}" for name in sorted(before_tools) if name not in new_names)
    return lines


# --- a JSON-file store for ad-hoc ``distrust run -- CMD`` -----------------------------------------


def surface_to_json(surface: Surface) -> dict[str, Any]:
    """Plain JSON form of a surface (tool fields as stored in :class:`ToolDef`)."""
    return {
        "instructions": surface.instructions,
        "tools": [dict(t.__dict__) for t in surface.tools],
    }


def surface_from_json(data: Any, where: str) -> Surface:
    """Inverse of :func:`surface_to_json`; raises :class:`SurfaceFileError` naming ``where``."""
    if not isinstance(data, dict) or not isinstance(data.get("tools"), list):
        raise SurfaceFileError(f"{where}: expected an object with a 'tools' list")
    instructions = data.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise SurfaceFileError(f"{where}.instructions: expected a string or null")
    tools = []
    fields = ("name", "description", "title", "input_schema", "output_schema", "annotations")
    for i, raw in enumerate(data["tools"]):
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise SurfaceFileError(f"{where}.tools[{i}]: expected an object with a string 'name'")
        for key in fields[1:]:
            if raw.get(key) is not None and not isinstance(raw.get(key), str):
                raise SurfaceFileError(f"{where}.tools[{i}].{key}: expected a string")
        tools.append(
            ToolDef(
                name=raw["name"],
                description=raw.get("description") or "",
                title=raw.get("title"),
                input_schema=raw.get("input_schema") or "{}",
                output_schema=raw.get("output_schema"),
                annotations=raw.get("annotations"),
            )
        )
    return Surface(instructions, tuple(sorted(tools, key=lambda t: t.name)))


class SurfaceFileError(Exception):
    """The pins file is unreadable or malformed; the message names the file and the field."""


class FileSurfaceStore:
    """Pinned and proposed surfaces in one JSON file (``{"servers": {name: {pinned, proposed}}}``).

    Used when ``distrust run -- CMD`` runs a server that no ``distrust.lock`` describes. Every
    call re-reads the file, so an approval made in another terminal is seen by a running relay
    at the next ``tools/list``; writes are atomic.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> dict[str, Any]:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(read_text_capped(self.path))
        except ReadError as exc:
            raise SurfaceFileError(str(exc)) from None
        except json.JSONDecodeError as exc:
            raise SurfaceFileError(f"{self.path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
        servers = data.get("servers") if isinstance(data, dict) else None
        if not isinstance(servers, dict):
            raise SurfaceFileError(f"{self.path}: expected an object with a 'servers' object")
        return servers

    def _get(self, server: str, slot: str) -> Surface | None:
        entry = self._load().get(server)
        if not isinstance(entry, dict) or entry.get(slot) is None:
            return None
        return surface_from_json(entry[slot], f"{self.path}: servers.{server}.{slot}")

    def _set(self, server: str, slot: str, surface: Surface | None) -> None:
        servers = self._load()
        entry = servers.setdefault(server, {})
        if not isinstance(entry, dict):
            raise SurfaceFileError(f"{self.path}: servers.{server}: expected an object")
        entry[slot] = surface_to_json(surface) if surface is not None else None
        text = json.dumps({"version": 1, "servers": servers}, indent=2, sort_keys=True, ensure_ascii=False)
        atomic_write(self.path, text + "\n", mode=0o600)

    def pinned(self, server: str) -> Surface | None:
        return self._get(server, "pinned")

    def pin(self, server: str, surface: Surface) -> None:
        self._set(server, "pinned", surface)
        if self._get(server, "proposed") == surface:
            self._set(server, "proposed", None)

    def propose(self, server: str, surface: Surface) -> None:
        self._set(server, "proposed", surface)

    def proposed(self, server: str) -> Surface | None:
        return self._get(server, "proposed")


class MemorySurfaceStore:
    """A SurfaceStore kept in memory: for tests and for embedding the relay in other programs."""

    def __init__(self) -> None:
        self._pinned: dict[str, Surface] = {}
        self._proposed: dict[str, Surface] = {}

    def pinned(self, server: str) -> Surface | None:
        return self._pinned.get(server)

    def pin(self, server: str, surface: Surface) -> None:
        self._pinned[server] = surface
        if self._proposed.get(server) == surface:
            del self._proposed[server]

    def propose(self, server: str, surface: Surface) -> None:
        self._proposed[server] = surface

    def proposed(self, server: str) -> Surface | None:
        return self._proposed.get(server)


# --- the per-session guard -----------------------------------------------------------------------

BLOCKED_TOOL_CODE = -32051
"""JSON-RPC error code for a ``tools/call`` refused because the tool is not approved.

In the implementation-defined server-error range (-32000..-32099), away from the codes the MCP
SDKs already use (-32000 connection closed, -32001 request timeout, -32002 resource not found).
"""


@dataclass(frozen=True)
class ToolVerdict:
    """What the guard decided about one listed tool, and why."""

    name: str
    status: str  # "pinned" | "first-pin" | "changed" | "added" | "poisoned"
    markers: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.status in ("pinned", "first-pin")


@dataclass
class PinGuard:
    """Applies the pinning policy to one server session.

    The relay feeds it what it sees (instructions, pages of ``tools/list``) and asks it which
    tools to show and which calls to allow. ``notify`` receives human-readable warnings (the
    relay prints them on stderr, which MCP clients put in their server log) and ``record``
    receives structured events for the audit log.
    """

    server: str
    store: Any  # SurfaceStore; typed loosely so tests can pass any object with the four methods
    notify: Callable[[str], None] = lambda _msg: None
    record: Callable[[str, dict[str, Any]], None] = lambda _kind, _detail: None
    _pinned: Surface | None = None
    _loaded: bool = False
    _observed_instructions: str | None = None
    _instructions_seen: bool = False
    _listing: dict[str, ToolDef] = field(default_factory=dict)
    _allowed: dict[str, str] = field(default_factory=dict)  # tool name -> digest shown this session
    _hidden: dict[str, ToolVerdict] = field(default_factory=dict)

    def _current_pin(self, refresh: bool = False) -> Surface | None:
        if refresh or not self._loaded:
            self._pinned = self.store.pinned(self.server)
            self._loaded = True
            if self._pinned is not None and not self._allowed and not self._listing:
                # Until this session lists tools, trust the pinned definitions by name.
                self._allowed = {t.name: t.digest() for t in self._pinned.tools}
        return self._pinned

    # instructions -------------------------------------------------------------------------

    def instructions(self, text: str | None) -> str | None:
        """What to forward in place of the server's ``instructions`` (from initialize or discover)."""
        self._observed_instructions = text
        self._instructions_seen = True
        pinned = self._current_pin(refresh=True)
        if pinned is None:
            markers = text_markers(text or "")
            if markers:
                self.notify(
                    f"distrust: {self.server}: server instructions look poisoned ({', '.join(markers)}); "
                    f"they were removed. Review with `distrust approve {self.server}`."
                )
                self.record("instructions-stripped", {"markers": markers})
                return None
            return text
        if text != pinned.instructions:
            self.notify(
                f"distrust: {self.server}: server instructions changed since they were approved; the "
                f"approved text is used. Review with `distrust approve {self.server}`."
            )
            self.record("instructions-changed", {"diff": diff_surfaces(pinned, Surface(text, pinned.tools))})
            self.store.propose(self.server, Surface(text, pinned.tools))
            return pinned.instructions
        return text

    # tools/list -----------------------------------------------------------------------------

    def begin_listing(self) -> None:
        """A ``tools/list`` without a cursor starts a fresh listing (re-reading the pin)."""
        self._listing = {}
        self._current_pin(refresh=True)

    def check_page(self, tools: list[Any]) -> tuple[list[Any], list[ToolVerdict]]:
        """Split one page of raw tool objects into those to show and verdicts for all of them."""
        pinned = self._current_pin()
        defs: list[tuple[Any, ToolDef]] = []
        for raw in tools:
            tool = ToolDef.from_mcp(raw) if isinstance(raw, dict) else ToolDef(name="")
            defs.append((raw, tool))
            self._listing[tool.name] = tool
        names = [t.name for _, t in defs] + (list(self._pinned_names()) if pinned else [])
        kept: list[Any] = []
        verdicts: list[ToolVerdict] = []
        for raw, tool in defs:
            verdict = self._judge(tool, pinned, names)
            verdicts.append(verdict)
            if verdict.allowed:
                kept.append(raw)
                self._allowed[tool.name] = tool.digest()
                self._hidden.pop(tool.name, None)
            else:
                self._allowed.pop(tool.name, None)
                self._hidden[tool.name] = verdict
        return kept, verdicts

    def _pinned_names(self) -> Iterable[str]:
        return (t.name for t in self._pinned.tools) if self._pinned else ()

    def _judge(self, tool: ToolDef, pinned: Surface | None, names: list[str]) -> ToolVerdict:
        if not tool.name:
            return ToolVerdict(tool.name, "poisoned", ("tool without a name",))
        if pinned is not None:
            approved = pinned.tool(tool.name)
            if approved is not None and approved.digest() == tool.digest():
                return ToolVerdict(tool.name, "pinned")
        markers = tuple(poisoning_markers(tool, names))
        if pinned is None:
            return ToolVerdict(tool.name, "poisoned" if markers else "first-pin", markers)
        status = "changed" if pinned.tool(tool.name) is not None else "added"
        return ToolVerdict(tool.name, status, markers)

    def finish_listing(self) -> list[str]:
        """The last page arrived: pin on first run, propose and report on a change. Returns notes."""
        pinned = self._pinned
        observed_instr = (
            self._observed_instructions
            if self._instructions_seen
            else (pinned.instructions if pinned else None)
        )
        observed = Surface(observed_instr, tuple(sorted(self._listing.values(), key=lambda t: t.name)))
        notes: list[str] = []
        if pinned is None:
            clean_instr = observed_instr if not text_markers(observed_instr or "") else None
            clean = Surface(clean_instr, tuple(t for t in observed.tools if t.name in self._allowed))
            self.store.pin(self.server, clean)
            self._pinned, self._loaded = clean, True
            self.record("pinned", {"tools": [t.name for t in clean.tools], "digest": clean.digest()})
            if clean != observed:
                self.store.propose(self.server, observed)
                notes = diff_surfaces(clean, observed)
        elif observed.digest() != pinned.digest():
            self.store.propose(self.server, observed)
            notes = diff_surfaces(pinned, observed)
        if notes:
            hidden = sorted(self._hidden)
            self.record("surface-proposed", {"diff": notes, "hidden": hidden})
            summary = f"{len(hidden)} tool(s) hidden: {', '.join(hidden)}" if hidden else "no tool hidden"
            self.notify(
                f"distrust: {self.server}: the server's tools differ from what was approved ({summary}). "
                f"Review with `distrust approve {self.server}`:\n  " + "\n  ".join(notes)
            )
        return notes

    def visible(self, raw: Any) -> bool:
        """Would this tool object be shown right now? (for tool lists the relay did not ask for)"""
        if not isinstance(raw, dict):
            return False
        tool = ToolDef.from_mcp(raw)
        return self._allowed.get(tool.name) == tool.digest()

    def approved_instructions(self, text: str | None) -> str | None:
        """The instructions that may be shown in place of ``text``, without recording anything."""
        pinned = self._current_pin()
        if pinned is not None:
            return pinned.instructions
        return None if text_markers(text or "") else text

    # tools/call -------------------------------------------------------------------------------

    def refusal(self, tool: str) -> str | None:
        """None when a call to ``tool`` may go through, else the message to send the client.

        A refused tool is looked up once more in the store: if the user approved the very
        definition this session saw, the call is let through without a restart.
        """
        if tool in self._allowed:
            return None
        hidden = self._hidden.get(tool)
        pinned = self._current_pin(refresh=True)
        if hidden is not None and pinned is not None:
            seen = self._listing.get(tool)
            approved = pinned.tool(tool)
            if seen is not None and approved is not None and approved.digest() == seen.digest():
                self._allowed[tool] = seen.digest()
                del self._hidden[tool]
                return None
        if hidden is None and pinned is not None and not self._listing:
            approved = pinned.tool(tool)
            if approved is not None:  # pinned after this session started, not listed yet
                self._allowed[tool] = approved.digest()
                return None
        reason = {
            "changed": "its definition changed since it was approved",
            "added": "it was added after the server was approved",
            "poisoned": "its description carries hidden instructions for the model",
        }.get(hidden.status if hidden else "", "it is not in the approved tool list")
        if hidden and hidden.markers:
            reason += f" ({', '.join(hidden.markers)})"
        return (
            f"distrust blocked tool {tool!r} of server {self.server!r}: {reason}. "
            f"Review the change and run `distrust approve {self.server}` to allow it."
        )
