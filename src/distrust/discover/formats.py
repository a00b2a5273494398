"""Turn the text of a config file into Python values, keeping the lines of server entries.

Three syntaxes cover every client: JSON with comments (most), YAML (Continue, Goose) and TOML
(Codex). Each loader raises :class:`ConfigSyntaxError` with the line where the file is broken,
so a notice can send the user straight to it. YAML is read with a safe loader only: a config
must never be able to construct Python objects.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from distrust.discover.jsonc import JsoncError, LinedDict
from distrust.discover.jsonc import loads as jsonc_loads

FORMATS = ("jsonc", "yaml", "toml")

# Which syntax a file uses when a location does not say (``auto``): by its extension.
_EXTENSION_FORMATS = {".json": "jsonc", ".jsonc": "jsonc", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml"}


class ConfigSyntaxError(ValueError):
    """The file is not valid in its syntax; ``line``/``column`` are 1-based when known."""

    def __init__(self, reason: str, line: int | None = None, column: int | None = None) -> None:
        where = f"line {line}" + (f", column {column}" if column else "") + ": " if line else ""
        super().__init__(f"{where}{reason}")
        self.reason = reason
        self.line = line
        self.column = column


def format_for(path_name: str, declared: str) -> str | None:
    """The syntax to parse a file with: the declared one, or for ``auto`` the extension's."""
    if declared != "auto":
        return declared
    lowered = path_name.lower()
    for ext, fmt in _EXTENSION_FORMATS.items():
        if lowered.endswith(ext):
            return fmt
    return None


@dataclass(frozen=True)
class Document:
    """A parsed config: its root value plus what is needed to find the line of an entry."""

    root: Any
    fmt: str
    text: str

    def key_line(self, container: Any, key: str, path: Sequence[str]) -> int | None:
        """The line where ``key`` of ``container`` (found at ``path``) is written."""
        if isinstance(container, LinedDict):
            return container.key_lines.get(key)
        if self.fmt == "toml":
            return _toml_key_line(self.text, [*path, key])
        return None

    @staticmethod
    def item_line(item: Any) -> int | None:
        """The line where a list item that is an object starts."""
        return item.line if isinstance(item, LinedDict) else None


def parse(text: str, fmt: str) -> Document:
    """Parse ``text`` as ``fmt`` (``jsonc``, ``yaml`` or ``toml``)."""
    if fmt == "jsonc":
        try:
            return Document(jsonc_loads(text), fmt, text)
        except JsoncError as exc:
            raise ConfigSyntaxError(exc.reason, exc.line, exc.column) from None
    if fmt == "yaml":
        return Document(_yaml_loads(text), fmt, text)
    if fmt == "toml":
        try:
            return Document(tomllib.loads(text), fmt, text)
        except tomllib.TOMLDecodeError as exc:
            raise _toml_error(exc, text) from None
    raise ValueError(f"unknown config format {fmt!r} (expected one of {', '.join(FORMATS)})")


# --- YAML ------------------------------------------------------------------------------------


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings are LinedDicts, so YAML server entries have lines too."""


def _construct_lined_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LinedDict:
    loader.flatten_mapping(node)  # resolve ``<<`` merge keys the way SafeLoader does
    result = LinedDict(node.start_mark.line + 1)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, list | dict):
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                "found an unhashable key",
                key_node.start_mark,
            )
        text_key = key if isinstance(key, str) else str(key)
        result[text_key] = loader.construct_object(value_node, deep=True)
        result.key_lines[text_key] = key_node.start_mark.line + 1
    return result


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_lined_mapping)


def _yaml_loads(text: str) -> Any:
    try:
        root = yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass: no Python objects
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = " ".join(part for part in (exc.context, exc.problem) if part) or "invalid YAML"
        if mark is None:
            raise ConfigSyntaxError(reason) from None
        raise ConfigSyntaxError(reason, mark.line + 1, mark.column + 1) from None
    except yaml.YAMLError as exc:
        raise ConfigSyntaxError(f"invalid YAML: {exc}") from None
    except RecursionError:
        raise ConfigSyntaxError("nested too deeply to read") from None
    return LinedDict(1) if root is None else root


# --- TOML ------------------------------------------------------------------------------------

_WS = r"[ \t]*"  # spaces within one line; \s would let ^ match across lines
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


def _toml_error(exc: tomllib.TOMLDecodeError, text: str) -> ConfigSyntaxError:
    message = str(exc)
    match = _TOML_POSITION.search(message)
    if not match:
        if message.endswith("(at end of document)"):
            reason = message.removesuffix("(at end of document)").strip()
            return ConfigSyntaxError(f"{reason} at the end of the file", text.count("\n") + 1)
        return ConfigSyntaxError(message)
    reason = message[: match.start()].strip() or "invalid TOML"
    return ConfigSyntaxError(reason, int(match.group(1)), int(match.group(2)))


def _toml_key_pattern(key: str) -> str:
    escaped = re.escape(key)
    return rf"(?:{escaped}|\"{escaped}\"|'{escaped}')"


def _toml_key_line(text: str, path: Sequence[str]) -> int | None:
    """Best-effort line of a dotted TOML key: tomllib keeps no positions, so search the text.

    Tried in order: a table header ``[a.b]`` (also ``[a.b.env]``), then a dotted key
    ``a.b.x = …`` or ``a.b = {…}``, then the last component as a key under a ``[a]`` header.
    """
    if not path:
        return None
    sep = rf"{_WS}\.{_WS}"
    dotted = sep.join(_toml_key_pattern(k) for k in path)
    header = re.compile(rf"^{_WS}\[{_WS}{dotted}{_WS}[\].]", re.MULTILINE)
    assignment = re.compile(rf"^{_WS}{dotted}{_WS}[=.]", re.MULTILINE)
    for pattern in (header, assignment):
        match = pattern.search(text)
        if match:
            return text.count("\n", 0, match.start()) + 1
    if len(path) >= 2:
        parent = sep.join(_toml_key_pattern(k) for k in path[:-1])
        parent_header = re.compile(rf"^{_WS}\[{_WS}{parent}{_WS}\]", re.MULTILINE).search(text)
        if parent_header:
            child = re.compile(rf"^{_WS}{_toml_key_pattern(path[-1])}{_WS}[=.]", re.MULTILINE)
            match = child.search(text, parent_header.end())
            if match:
                return text.count("\n", 0, match.start()) + 1
    return None
