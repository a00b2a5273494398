"""Where package managers leave installed copies: a table, so the list is also the documentation.

Each :class:`Location` names a base directory (from an environment variable, the home, a
project or a system root) and glob patterns beneath it. A pattern ends at a directory of one
of two shapes:

* ``node_modules`` shape: holds ``<name>/package.json`` and ``@scope/<name>/package.json``;
* ``site-packages`` shape: holds ``<dist>-<version>.dist-info`` directories.

Every base that exists is scanned, not just the one the tool would use today: an override set
now (``npm_config_cache``) does not erase evidence left under the default earlier.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from distrust.resolve.context import ResolveContext


class Shape:
    NODE_MODULES = "node_modules"
    SITE_PACKAGES = "site-packages"
    NPM_LOGS = "npm-logs"


class Source:
    """``Installation.source`` values this stage produces."""

    NPX_CACHE = "npx-cache"
    NPM_GLOBAL = "npm-global"
    NODE_MODULES = "node_modules"
    UV_TOOL = "uv-tool"
    UV_CACHE = "uv-cache"
    PIPX = "pipx"
    VENV = "venv"
    SYSTEM = "system"
    LOCKFILE = "lockfile"
    NPM_LOG = "npm-log"


_PY_SITE = ("lib/python*/site-packages", "Lib/site-packages")


@dataclass(frozen=True)
class Location:
    id: str
    source: str
    shape: str
    bases: tuple[str, ...]  # "env:VAR", "env:VAR/sub/dir", "home:sub/dir", "project:", "system:"
    patterns: tuple[str, ...]  # globs below each base; "." is the base itself
    rationale: str


def _under(prefixes: tuple[str, ...], tails: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{p}/{t}" for p in prefixes for t in tails)


NPM_CACHE_BASES = ("env:npm_config_cache", "home:.npm", "env:LOCALAPPDATA/npm-cache", "env:APPDATA/npm-cache")

LOCATIONS: tuple[Location, ...] = (
    Location(
        "npx-cache",
        Source.NPX_CACHE,
        Shape.NODE_MODULES,
        NPM_CACHE_BASES,
        ("_npx/*/node_modules",),
        "npx installs each requested package set into _npx/<hash>/ and reuses it on later runs, "
        "so a floating `npx -y pkg` may run any version cached here",
    ),
    Location(
        "npm-prefix",
        Source.NPM_GLOBAL,
        Shape.NODE_MODULES,
        ("env:npm_config_prefix", "home:.npm-global", "home:.local", "home:.npm-packages"),
        ("lib/node_modules", "node_modules"),
        "`npm install -g` puts packages under <prefix>/lib/node_modules (Windows: <prefix>/node_modules)",
    ),
    Location(
        "npm-appdata",
        Source.NPM_GLOBAL,
        Shape.NODE_MODULES,
        ("env:APPDATA/npm",),
        ("node_modules",),
        "the default global prefix on Windows is %APPDATA%\\npm",
    ),
    Location(
        "nvm",
        Source.NPM_GLOBAL,
        Shape.NODE_MODULES,
        ("env:NVM_DIR", "home:.nvm"),
        ("versions/node/*/lib/node_modules",),
        "each nvm-managed Node version has its own global prefix",
    ),
    Location(
        "fnm",
        Source.NPM_GLOBAL,
        Shape.NODE_MODULES,
        ("env:FNM_DIR", "home:.local/share/fnm", "home:.fnm", "home:Library/Application Support/fnm"),
        ("node-versions/*/installation/lib/node_modules",),
        "fnm keeps one global prefix per Node version",
    ),
    Location(
        "asdf",
        Source.NPM_GLOBAL,
        Shape.NODE_MODULES,
        ("env:ASDF_DATA_DIR", "home:.asdf"),
        ("installs/nodejs/*/lib/node_modules",),
        "asdf keeps one global prefix per Node version",
    ),
    Location(
        "volta",
        Source.NPM_GLOBAL,
        Shape.NODE_MODULES,
        ("env:VOLTA_HOME", "home:.volta"),
        (
            "tools/image/packages/*/lib/node_modules",
            "tools/image/packages/@*/*/lib/node_modules",
            "tools/image/packages/*/node_modules",
        ),
        "Volta installs every global package into its own image directory",
    ),
    Location(
        "pnpm-global",
        Source.NPM_GLOBAL,
        Shape.NODE_MODULES,
        ("env:PNPM_HOME", "home:.local/share/pnpm", "home:Library/pnpm", "env:LOCALAPPDATA/pnpm"),
        ("global/*/node_modules",),
        "`pnpm add -g` keeps a global project under <pnpm home>/global/<v>",
    ),
    Location(
        "bun-global",
        Source.NPM_GLOBAL,
        Shape.NODE_MODULES,
        ("env:BUN_INSTALL", "home:.bun"),
        ("install/global/node_modules",),
        "`bun add -g` installs into ~/.bun/install/global",
    ),
    Location(
        "project-node-modules",
        Source.NODE_MODULES,
        Shape.NODE_MODULES,
        ("project:",),
        ("node_modules",),
        "a server started from a project (node_modules/.bin, pnpm exec) runs the copy installed there",
    ),
    Location(
        "uv-tools",
        Source.UV_TOOL,
        Shape.SITE_PACKAGES,
        (
            "env:UV_TOOL_DIR",
            "env:XDG_DATA_HOME/uv/tools",
            "home:.local/share/uv/tools",
            "env:APPDATA/uv/data/tools",
        ),
        _under(("*",), _PY_SITE),
        "`uv tool install` makes one venv per tool; uvx prefers an installed tool over a fresh fetch",
    ),
    Location(
        "uv-cache",
        Source.UV_CACHE,
        Shape.SITE_PACKAGES,
        (
            "env:UV_CACHE_DIR",
            "env:XDG_CACHE_HOME/uv",
            "home:.cache/uv",
            "home:Library/Caches/uv",
            "env:LOCALAPPDATA/uv/cache",
        ),
        ("archive-v0/*", *_under(("archive-v0/*",), _PY_SITE)),
        "uvx runs from unpacked wheels (archive-v0/<id>/) and cached ephemeral venvs, reused while cached",
    ),
    Location(
        "pipx",
        Source.PIPX,
        Shape.SITE_PACKAGES,
        ("env:PIPX_HOME", "home:.local/share/pipx", "home:.local/pipx", "env:LOCALAPPDATA/pipx/pipx"),
        _under(("venvs/*", ".cache/*"), _PY_SITE),
        "`pipx install` makes venvs/<name>; `pipx run` caches its venv under .cache/<hash> for days",
    ),
    Location(
        "project-venv",
        Source.VENV,
        Shape.SITE_PACKAGES,
        ("project:",),
        _under((".venv", "venv", "env"), _PY_SITE),
        "`uv run` and `python -m` in a project use the project's virtualenv",
    ),
    Location(
        "system-roots",
        Source.NPM_GLOBAL,
        Shape.NODE_MODULES,
        ("system:",),
        (".",),
        "global node_modules outside the home (/usr/local/lib/node_modules, Homebrew)",
    ),
    Location(
        "system-site-packages",
        Source.SYSTEM,
        Shape.SITE_PACKAGES,
        ("system:",),
        (".",),
        "system Python site-packages given as system roots",
    ),
    Location(
        "npm-logs",
        Source.NPM_LOG,
        Shape.NPM_LOGS,
        ("env:npm_config_logs_dir",),
        (".",),
        "npm writes a debug log of every run; its lines prove which versions were fetched and placed",
    ),
    Location(
        "npm-logs-in-cache",
        Source.NPM_LOG,
        Shape.NPM_LOGS,
        NPM_CACHE_BASES,
        ("_logs",),
        "the default log directory is <npm cache>/_logs",
    ),
)


def base_dirs(base: str, ctx: ResolveContext) -> list[Path]:
    """The directories a base expression stands for on this machine (possibly none)."""
    kind, _, rest = base.partition(":")
    if kind == "home":
        return [ctx.home / rest] if rest else [ctx.home]
    if kind == "env":
        var, _, sub = rest.partition("/")
        value = ctx.getenv(var)
        if not value:
            return []
        root = ctx.home / value[2:] if value.startswith("~/") else Path(value)
        return [root / sub] if sub else [root]
    if kind == "project":
        return list(ctx.projects)
    if kind == "system":
        return list(ctx.system_roots)
    raise ValueError(f"unknown base kind in location table: {base!r}")


def expand(location: Location, ctx: ResolveContext) -> list[Path]:
    """Every existing directory a location points at, sorted and without duplicates."""
    found: dict[str, Path] = {}
    for base in location.bases:
        for root in base_dirs(base, ctx):
            if not root.is_dir():
                continue
            for pattern in location.patterns:
                matches = [root] if pattern == "." else sorted(root.glob(pattern))
                for match in matches:
                    if match.is_dir():
                        found.setdefault(str(match), match)
    return list(found.values())
