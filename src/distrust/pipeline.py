"""Walks the stages for each command, so the CLI only parses arguments and picks a report.

Each function here is the whole of one command minus its presentation: it takes plain
values, calls the stages left to right (discover → resolve → judge; fetch → analyze → judge)
and returns model records. Nothing in this module prints.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from distrust.discover import discover
from distrust.intel.store import AdvisoryStore
from distrust.judge import check_servers
from distrust.model import ScanResult
from distrust.resolve import ResolveContext, resolve_all

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
    resolved = resolve_all(found.servers, ctx)
    intel = store if store is not None else AdvisoryStore.load()
    findings = check_servers(resolved, intel)
    return ScanResult(
        servers=resolved,
        findings=findings,
        notices=found.notices,
        configs_read=found.configs_read,
    )
