"""A server entry flattened into the strings a config check can look at.

Several checks (secrets, mail forwarding, indicators of compromise) ask the same question of
every value in a server entry: "does this string, under this key, look like X?". Flattening
once, with a human-readable location for each value, keeps those checks short and makes their
evidence say exactly where in the entry the problem is (``env GITHUB_TOKEN``, ``args[3]``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from distrust.model import ServerSpec

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")

# Options whose value is an HTTP header line (``--header "Authorization: Bearer …"``, as
# mcp-remote and curl take it): the header name, not the flag, is the value's key.
HEADER_FLAGS: frozenset[str] = frozenset({"--header", "-H", "--headers"})


@dataclass(frozen=True)
class ConfigField:
    """One string in a server entry.

    ``key`` is the name the value is given under, when it has one: the env variable, the
    header, or the option flag an argument belongs to (``--api-key`` for ``--api-key=x`` and
    for the argument after a bare ``--api-key``; ``KEY`` for a ``KEY=value`` argument).
    """

    location: str
    value: str = field(repr=False)
    key: str | None = None


def key_words(name: str) -> frozenset[str]:
    """Split ``GITHUB_TOKEN``, ``X-Api-Key``, ``apiKey`` or ``--api-key`` into upper-case words."""
    return frozenset(w.upper() for w in _WORD.findall(name))


def flag_name(arg: str) -> str | None:
    """The option name of ``--name``/``--name=value``/``-n`` arguments, or None for positionals."""
    if not arg.startswith("-") or arg in ("-", "--"):
        return None
    name = arg.split("=", 1)[0]
    return name if re.fullmatch(r"--?[A-Za-z][A-Za-z0-9_.-]*", name) else None


def arg_fields(args: tuple[str, ...]) -> list[ConfigField]:
    """Arguments with the key each one is given under (see :class:`ConfigField`)."""
    out: list[ConfigField] = []
    pending_flag: str | None = None
    for i, arg in enumerate(args):
        loc = f"args[{i}]"
        flag = flag_name(arg)
        if flag is not None:
            if "=" in arg:
                out.append(ConfigField(loc, arg.split("=", 1)[1], key=flag))
                pending_flag = None
            else:
                out.append(ConfigField(loc, arg, key=None))
                pending_flag = flag
            continue
        if pending_flag is not None:
            header = re.fullmatch(r"([A-Za-z][A-Za-z0-9_-]*)\s*:\s*(.*)", arg, flags=re.DOTALL)
            if pending_flag in HEADER_FLAGS and header:
                out.append(ConfigField(loc, header.group(2), key=header.group(1)))
            else:
                out.append(ConfigField(loc, arg, key=pending_flag))
            pending_flag = None
            continue
        assignment = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", arg, flags=re.DOTALL)
        if assignment:
            out.append(ConfigField(loc, assignment.group(2), key=assignment.group(1)))
        else:
            out.append(ConfigField(loc, arg))
    return out


def config_fields(spec: ServerSpec) -> list[ConfigField]:
    """Every string in the entry: command, arguments, env values, url, headers, working dir."""
    out: list[ConfigField] = []
    if spec.command:
        out.append(ConfigField("command", spec.command))
    out.extend(arg_fields(spec.args))
    out.extend(ConfigField(f"env {k}", v, key=k) for k, v in spec.env)
    if spec.url:
        out.append(ConfigField("url", spec.url))
    out.extend(ConfigField(f"header {k}", v, key=k) for k, v in spec.headers)
    if spec.cwd:
        out.append(ConfigField("cwd", spec.cwd))
    return out


def display_path(path: Path | str, home: Path | None = None) -> str:
    """Show a path the way the user would type it: under the home directory as ``~/…``."""
    text = str(path)
    home_text = str(home if home is not None else Path.home())
    if home_text not in ("", "/") and (text == home_text or text.startswith(home_text.rstrip("/") + "/")):
        return "~" + text[len(home_text.rstrip("/")) :]
    return text


def command_line(spec: ServerSpec) -> str:
    """The entry as one line (``npx -y pkg`` or the URL); callers must pass a redacted spec."""
    if spec.command:
        return " ".join([spec.command, *(_quote(a) for a in spec.args)])
    return spec.url or ""


def _quote(arg: str) -> str:
    return f'"{arg}"' if (not arg or any(c.isspace() for c in arg)) else arg
