"""Turn one client's server entry into a :class:`~distrust.model.ServerSpec`.

Clients spell the same ideas differently (``command`` or ``cmd``, ``env`` or ``envs``, ``url``,
``serverUrl``, ``uri`` or ``httpUrl``; Zed nests ``command: {path, args, env}``, Continue's old
JSON nests ``transport: {type, command}``). The spellings are listed in the tables below, so
one normaliser reads every dialect and a new spelling is a one-line change.

A malformed field never drops the server: a server whose ``args`` are broken is still a server
the client may start, and hiding it from a security scan would be worse than reporting it with
the broken field left empty. Each problem becomes a :class:`~distrust.model.Notice`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distrust.discover.table import Client
from distrust.model import Notice, ServerSpec

# Field spellings, first match wins. Values are the client keys that carry the same meaning.
COMMAND_FIELDS = ("command", "cmd")
ARGS_FIELDS = ("args",)
ENV_FIELDS = ("env", "envs")
HEADER_FIELDS = ("headers", "http_headers")
CWD_FIELDS = ("cwd",)
TYPE_FIELDS = ("type", "transport", "transportType")
# URL spellings and the transport each implies (None: the client's default for a bare url).
URL_FIELDS: tuple[tuple[str, str | None], ...] = (
    ("url", None),
    ("serverUrl", None),  # Windsurf
    ("uri", None),  # Goose
    ("httpUrl", "http"),  # Gemini CLI: httpUrl is Streamable HTTP, url is SSE
)

# Explicit transport names, compared after lower-casing and dropping "-" and "_".
TRANSPORT_NAMES = {
    "stdio": "stdio",
    "local": "stdio",  # GitHub Copilot CLI / portable mcp.json
    "http": "http",
    "streamablehttp": "http",
    "streamable": "http",
    "sse": "sse",
}


@dataclass(frozen=True)
class EntryContext:
    """Where an entry was found: everything a ServerSpec or a Notice needs besides the entry."""

    client: Client
    config_path: Path
    scope: str


def _canonical_transport(name: str) -> str | None:
    return TRANSPORT_NAMES.get(name.lower().replace("-", "").replace("_", ""))


def _scalar_text(value: Any) -> str | None:
    """Config values that clients coerce to strings (numbers, booleans); None for the rest."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return None


def _type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"


def _summary(problems: list[str], limit: int = 3) -> str:
    """At most ``limit`` problems spelled out; a hostile list must not flood the notices."""
    shown = ", ".join(problems[:limit])
    more = len(problems) - limit
    return f"{shown} and {more} more" if more > 0 else shown


class _Reader:
    """Collects notices while reading the fields of one entry."""

    def __init__(self, name: str, ctx: EntryContext, line: int | None) -> None:
        self.name = name
        self.ctx = ctx
        self.line = line
        self.notices: list[Notice] = []

    def notice(self, problem: str) -> None:
        message = f"{self.ctx.client.name} server {self.name!r}: {problem}"
        self.notices.append(Notice(message, self.ctx.config_path, self.line))

    def first(self, entry: Mapping[str, Any], fields: tuple[str, ...]) -> tuple[str, Any] | None:
        for field in fields:
            if field in entry and entry[field] is not None:
                return field, entry[field]
        return None

    def text(self, entry: Mapping[str, Any], fields: tuple[str, ...]) -> str | None:
        found = self.first(entry, fields)
        if found is None:
            return None
        field, value = found
        if isinstance(value, str):
            return value
        self.notice(f"{field} should be a string, found {_type_name(value)}; ignored")
        return None

    def args(self, field: str, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list):
            self.notice(f"{field} should be a list of strings, found {_type_name(value)}; ignored")
            return ()
        out: list[str] = []
        bad: list[str] = []
        for index, item in enumerate(value):
            text = _scalar_text(item)
            if text is None:
                bad.append(f"{field}[{index}] is {_type_name(item)}")
            else:
                out.append(text)
        if bad:
            self.notice(f"{_summary(bad)}, expected strings; left out")
        return tuple(out)

    def pairs(self, field: str, value: Any) -> tuple[tuple[str, str], ...]:
        if not isinstance(value, dict):
            found = _type_name(value)
            self.notice(f"{field} should be an object of names to strings, found {found}; ignored")
            return ()
        out: list[tuple[str, str]] = []
        bad: list[str] = []
        for key, item in value.items():
            text = "" if item is None else _scalar_text(item)
            if text is None:
                bad.append(f"{field}.{key} is {_type_name(item)}")  # never echo a value: may be a secret
            else:
                out.append((str(key), text))
        if bad:
            self.notice(f"{_summary(bad)}, expected strings; left out")
        return tuple(out)


def _flatten(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Lift nested dialects to the flat shape: Continue's ``transport: {...}``, Zed's
    ``command: {path, args, env}`` and Goose's ``config: {...}``."""
    flat = dict(entry)
    transport = flat.get("transport")
    if isinstance(transport, dict):
        del flat["transport"]
        flat = {**transport, **{k: v for k, v in flat.items() if k not in transport}}
    command = flat.get("command")
    if isinstance(command, dict):
        flat["command"] = command.get("path")
        for field in ("args", "env"):
            if field in command and field not in flat:
                flat[field] = command[field]
    config = flat.get("config")
    if isinstance(config, dict) and not any(k in flat for k in ("cmd", "command", "uri", "url")):
        flat = {**config, **{k: v for k, v in flat.items() if k != "config"}}
    return flat


def normalize_entry(
    name: str, raw: Any, ctx: EntryContext, line: int | None
) -> tuple[ServerSpec | None, list[Notice]]:
    """Read one entry. Returns ``(None, notices)`` when it describes no runnable server."""
    reader = _Reader(name, ctx, line)
    if not isinstance(raw, dict):
        reader.notice(f"entry should be an object, found {_type_name(raw)}; skipped")
        return None, reader.notices
    entry = _flatten(raw)

    declared = reader.text(entry, TYPE_FIELDS)
    if declared is not None and declared.lower() in ctx.client.ignore_types:
        return None, reader.notices  # built into the client, nothing installed to judge

    command = reader.text(entry, COMMAND_FIELDS)
    url: str | None = None
    url_implies: str | None = None
    for field, implies in URL_FIELDS:
        if entry.get(field) is not None:
            url = reader.text(entry, (field,))
            url_implies = implies
            break

    transport: str | None = None
    if declared is not None:
        transport = _canonical_transport(declared)
        if transport is None:
            reader.notice(f"unknown transport type {declared!r}; guessed from its fields")
    if transport is None:
        if command:
            transport = "stdio"
        elif url:
            transport = url_implies or ctx.client.url_transport

    if transport is None:
        if entry.get("source") == "extension" or "settings" in entry:
            reader.notice("provided by an editor extension; its command is not in this file, not analysed")
        else:
            reader.notice("has neither a command nor a url; skipped")
        return None, reader.notices
    if transport == "stdio" and not command:
        reader.notice("declares stdio transport but has no command; skipped")
        return None, reader.notices
    if transport in ("http", "sse") and not url and not command:
        reader.notice(f"declares {transport} transport but has no url; skipped")
        return None, reader.notices

    args_found = reader.first(entry, ARGS_FIELDS)
    env_found = reader.first(entry, ENV_FIELDS)
    headers_found = reader.first(entry, HEADER_FIELDS)
    disabled = entry.get("disabled") is True or entry.get("enabled") is False

    spec = ServerSpec(
        client=ctx.client.id,
        config_path=ctx.config_path,
        name=name,
        transport=transport,
        command=command,
        args=reader.args(*args_found) if args_found else (),
        env=reader.pairs(*env_found) if env_found else (),
        url=url,
        headers=reader.pairs(*headers_found) if headers_found else (),
        scope=ctx.scope,
        line=line,
        cwd=reader.text(entry, CWD_FIELDS),
        disabled=disabled,
    )
    return spec, reader.notices
