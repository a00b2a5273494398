"""Load ``clients.toml``, the table of where each MCP client keeps its servers.

The table is data so that supporting a new client, or a client moving its config, is a change
to one reviewed file rather than to code. It is validated on load: a typo in a base or client
id fails loudly (with the row id) instead of silently never finding a config.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any

from distrust.discover.formats import FORMATS

SCOPES = ("user", "project", "workspace")
PROJECT_BASE = "project"
TRANSPORTS = ("stdio", "http", "sse")

KeyPath = tuple[str, ...]


class TableError(ValueError):
    """``clients.toml`` is malformed; the message names the row and field."""


@dataclass(frozen=True)
class Base:
    """Where paths start: a directory under the home, and/or one named by an env variable."""

    id: str
    under_home: str | None
    env: str | None

    def directories(self, home: Path, env: Mapping[str, str] | None) -> list[Path]:
        found: list[Path] = []
        if self.under_home is not None:
            found.append(home / self.under_home if self.under_home else home)
        if self.env and env and env.get(self.env):
            found.append(Path(env[self.env]))
        return found


@dataclass(frozen=True)
class Client:
    id: str
    name: str
    url_transport: str
    ignore_types: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Location:
    """One row of the table: a file (or glob) a client reads, and how to find servers in it."""

    id: str
    client: Client
    os: tuple[str, ...]
    bases: tuple[Base, ...]
    paths: tuple[str, ...]  # templates with {product} already expanded
    fmt: str
    keys: tuple[KeyPath, ...]
    scope: str
    wildcard_scope: str
    doc: str

    @property
    def is_project(self) -> bool:
        return any(base.id == PROJECT_BASE for base in self.bases)

    def file_names(self) -> set[str]:
        return {PurePosixPath(p).name for p in self.paths}

    def candidates(self, home: Path, env: Mapping[str, str] | None) -> Iterator[Path]:
        """Every path this row names under ``home`` (globs expanded, sorted)."""
        for base in self.bases:
            for directory in base.directories(home, env):
                yield from expand(directory, self.paths)

    def project_candidates(self, project: Path) -> Iterator[Path]:
        yield from expand(project, self.paths)


@dataclass(frozen=True)
class Shape:
    """How to recognise a file given explicitly: the keys that hold its servers."""

    keys: tuple[KeyPath, ...]
    client: str
    wildcard_scope: str


@dataclass(frozen=True)
class Table:
    clients: Mapping[str, Client]
    locations: tuple[Location, ...]
    shapes: tuple[Shape, ...]

    @property
    def user_locations(self) -> tuple[Location, ...]:
        return tuple(loc for loc in self.locations if not loc.is_project)

    @property
    def project_locations(self) -> tuple[Location, ...]:
        return tuple(loc for loc in self.locations if loc.is_project)


def expand(directory: Path, templates: Sequence[str]) -> Iterator[Path]:
    """Join each template to ``directory``; a ``*`` in it is globbed (no match: nothing)."""
    for template in templates:
        if "*" not in template:
            yield directory / template if template else directory
            continue
        try:
            yield from sorted(directory.glob(template))
        except (OSError, ValueError):
            continue  # an unreadable directory holds no config we can name; nothing to report


@functools.cache
def load_table() -> Table:
    """The bundled table, parsed and validated once per process."""
    text = resources.files("distrust.discover").joinpath("clients.toml").read_text(encoding="utf-8")
    return parse_table(tomllib.loads(text))


def parse_table(data: Mapping[str, Any]) -> Table:
    """Validate raw table data; raise :class:`TableError` naming the offending row."""
    bases = {bid: _base(bid, raw) for bid, raw in _table(data, "base", "(top level)").items()}
    clients = {cid: _client(cid, raw) for cid, raw in _table(data, "client", "(top level)").items()}
    locations = tuple(_location(raw, bases, clients) for raw in _rows(data, "location"))
    seen: set[str] = set()
    for loc in locations:
        if loc.id in seen:
            raise TableError(f"location {loc.id!r}: id used twice")
        seen.add(loc.id)
    shapes = tuple(_shape(i, raw, clients) for i, raw in enumerate(_rows(data, "shape")))
    return Table(clients, locations, shapes)


def _table(data: Mapping[str, Any], field: str, where: str) -> Mapping[str, Any]:
    value = data.get(field)
    if not isinstance(value, dict):
        raise TableError(f"{where}: [{field}.*] tables are missing")
    return value


def _rows(data: Mapping[str, Any], field: str) -> list[Mapping[str, Any]]:
    value = data.get(field)
    if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
        raise TableError(f"[[{field}]] rows are missing or malformed")
    return value


def _str(raw: Mapping[str, Any], field: str, where: str, default: str | None = None) -> str:
    value = raw.get(field, default)
    if not isinstance(value, str):
        raise TableError(f"{where}: field {field!r} must be a string")
    return value


def _str_list(
    raw: Mapping[str, Any], field: str, where: str, default: Sequence[str] | None = None
) -> tuple[str, ...]:
    value = raw.get(field, default)
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise TableError(f"{where}: field {field!r} must be a list of strings")
    return tuple(value)


def _keys(raw: Mapping[str, Any], where: str) -> tuple[KeyPath, ...]:
    value = raw.get("keys")
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(p, list) and p and all(isinstance(k, str) for k in p) for p in value)
    ):
        raise TableError(f"{where}: field 'keys' must be a non-empty list of key paths (lists of strings)")
    return tuple(tuple(p) for p in value)


def _scope(raw: Mapping[str, Any], field: str, where: str, default: str) -> str:
    scope = _str(raw, field, where, default)
    if scope not in SCOPES:
        raise TableError(f"{where}: {field} {scope!r} is not one of {', '.join(SCOPES)}")
    return scope


def _base(bid: str, raw: Any) -> Base:
    where = f"base {bid!r}"
    if not isinstance(raw, dict):
        raise TableError(f"{where}: must be a table")
    under_home = raw.get("under_home")
    env = raw.get("env")
    if under_home is not None and not isinstance(under_home, str):
        raise TableError(f"{where}: field 'under_home' must be a string")
    if env is not None and not isinstance(env, str):
        raise TableError(f"{where}: field 'env' must be a string")
    return Base(bid, under_home, env)


def _client(cid: str, raw: Any) -> Client:
    where = f"client {cid!r}"
    if not isinstance(raw, dict):
        raise TableError(f"{where}: must be a table")
    url_transport = _str(raw, "url_transport", where)
    if url_transport not in ("http", "sse"):
        raise TableError(f"{where}: url_transport must be 'http' or 'sse'")
    ignore = _str_list(raw, "ignore_types", where, ())
    return Client(cid, _str(raw, "name", where), url_transport, frozenset(ignore))


def _location(raw: Mapping[str, Any], bases: Mapping[str, Base], clients: Mapping[str, Client]) -> Location:
    where = f"location {raw.get('id')!r}"
    lid = _str(raw, "id", where)
    client_id = _str(raw, "client", where)
    if client_id not in clients:
        raise TableError(f"{where}: unknown client {client_id!r}")
    base_ids = _str_list(raw, "bases", where)
    unknown = [b for b in base_ids if b not in bases]
    if unknown or not base_ids:
        raise TableError(f"{where}: unknown or missing bases {unknown}")
    if PROJECT_BASE in base_ids and len(base_ids) > 1:
        raise TableError(f"{where}: 'project' cannot be combined with other bases")
    products = _str_list(raw, "products", where, ())
    templates = _str_list(raw, "paths", where)
    paths: list[str] = []
    for template in templates:
        if "{product}" in template:
            if not products:
                raise TableError(f"{where}: path {template!r} uses {{product}} but 'products' is empty")
            paths.extend(template.replace("{product}", product) for product in products)
        else:
            paths.append(template)
    fmt = _str(raw, "format", where)
    if fmt not in (*FORMATS, "auto"):
        raise TableError(f"{where}: format {fmt!r} is not one of {', '.join((*FORMATS, 'auto'))}")
    os_names = _str_list(raw, "os", where)
    if not os_names or not set(os_names) <= {"linux", "macos", "windows"}:
        raise TableError(f"{where}: 'os' must list linux, macos and/or windows")
    return Location(
        id=lid,
        client=clients[client_id],
        os=os_names,
        bases=tuple(bases[b] for b in base_ids),
        paths=tuple(paths),
        fmt=fmt,
        keys=_keys(raw, where),
        scope=_scope(raw, "scope", where, "user"),
        wildcard_scope=_scope(raw, "wildcard_scope", where, _str(raw, "scope", where, "user")),
        doc=_str(raw, "doc", where),
    )


def _shape(index: int, raw: Mapping[str, Any], clients: Mapping[str, Client]) -> Shape:
    where = f"shape #{index + 1}"
    client = _str(raw, "client", where, "")
    if client and client not in clients:
        raise TableError(f"{where}: unknown client {client!r}")
    return Shape(_keys(raw, where), client, _scope(raw, "wildcard_scope", where, "user"))
