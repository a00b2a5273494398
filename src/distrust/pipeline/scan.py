"""``distrust scan``: discover → resolve → judge. Nothing here prints.

Kept apart from the Risk Engine commands so a scan does not pay for importing the parsers
and the HTTP client it never uses: the whole command must finish in about a second.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from distrust.discover import discover
from distrust.intel.store import AdvisoryStore
from distrust.judge import StoreLookup, check_servers
from distrust.model import ScanResult
from distrust.resolve import ResolveContext, resolve_all_detailed

# Global npm prefixes outside any home directory. Only looked at when scanning this machine's
# real home: a scan of another home (``--home``) must not mix in this machine's packages.
SYSTEM_NODE_ROOTS = (Path("/usr/local/lib/node_modules"), Path("/usr/lib/node_modules"))


@dataclass(frozen=True)
class ScanOptions:
    """What ``distrust scan`` was asked to look at."""

    home: Path | None = None
    projects: tuple[Path, ...] = ()
    extra_configs: tuple[Path, ...] = ()
    env: Mapping[str, str] | None = None


def run_scan(options: ScanOptions, store: AdvisoryStore | None = None) -> ScanResult:
    """Discover every configured server, resolve what runs, and judge it against intel and rules."""
    env = dict(os.environ) if options.env is None else dict(options.env)
    real_home = options.home is None
    home = options.home if options.home is not None else Path.home()
    projects = options.projects or (Path.cwd(),)
    found = discover(home, projects=projects, extra_configs=options.extra_configs, env=env)
    ctx = ResolveContext(
        home=home,
        projects=tuple(projects),
        env=env,
        system_roots=tuple(p for p in SYSTEM_NODE_ROOTS if p.is_dir()) if real_home else (),
    )
    resolution = resolve_all_detailed(found.servers, ctx)
    resolved = resolution.servers
    intel = store if store is not None else AdvisoryStore.load()
    findings = check_servers(resolved, StoreLookup(intel))
    return ScanResult(
        servers=resolved,
        findings=findings,
        notices=(*found.notices, *resolution.notices),
        configs_read=found.configs_read,
    )
