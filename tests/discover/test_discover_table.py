"""The locations table is complete, consistent, and rejects its own typos loudly."""

from __future__ import annotations

import copy
import tomllib
from importlib import resources
from typing import Any

import pytest

from distrust.discover.table import TableError, load_table, parse_table

REQUIRED_CLIENTS = {
    "claude-desktop",
    "claude-code",
    "cursor",
    "vscode",
    "windsurf",
    "cline",
    "continue",
    "zed",
    "gemini",
    "codex",
    "goose",
}


def _raw() -> dict[str, Any]:
    text = resources.files("distrust.discover").joinpath("clients.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def test_every_client_has_locations_with_docs() -> None:
    table = load_table()
    assert {loc.client.id for loc in table.locations} == REQUIRED_CLIENTS
    for loc in table.locations:
        assert loc.doc.startswith("http") or "(" in loc.doc, loc.id
        assert loc.paths and loc.keys and loc.os


def test_each_desktop_client_covers_three_systems() -> None:
    table = load_table()
    for client in REQUIRED_CLIENTS:
        systems = {os_name for loc in table.locations if loc.client.id == client for os_name in loc.os}
        assert systems == {"linux", "macos", "windows"}, client


def test_project_rows_cover_the_documented_project_files() -> None:
    paths = {p for loc in load_table().project_locations for p in loc.paths}
    assert {".mcp.json", ".cursor/mcp.json", ".vscode/mcp.json", ".gemini/settings.json"} <= paths
    assert {".continue/mcpServers/*", ".zed/settings.json"} <= paths


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["location"][0].update(client="nobody"), "unknown client"),
        (lambda d: d["location"][0].update(bases=["moon"]), "unknown or missing bases"),
        (lambda d: d["location"][0].update(format="xml"), "format 'xml'"),
        (lambda d: d["location"][0].update(scope="global"), "scope 'global'"),
        (lambda d: d["location"][0].update(keys=[]), "key paths"),
        (lambda d: d["location"][1].update(id=d["location"][0]["id"]), "used twice"),
        (lambda d: d["location"][0].update(paths=["{product}/x.json"]), "products"),
        (lambda d: d["client"]["cursor"].update(url_transport="ws"), "url_transport"),
    ],
)
def test_table_typos_fail_loudly(mutate: Any, message: str) -> None:
    data = copy.deepcopy(_raw())
    mutate(data)
    with pytest.raises(TableError, match=message):
        parse_table(data)
