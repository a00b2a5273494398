"""Where resolution looks: one user's home, their projects, their environment.

Everything that depends on the machine comes in through :class:`ResolveContext`, never from
``os.environ`` or ``Path.home()`` directly, so tests (and scans of another user's home, or of a
mounted disk image during incident response) describe the machine completely.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ResolveContext:
    """The machine as resolution sees it.

    ``projects`` are directories whose ``node_modules``, virtualenvs and lockfiles count as
    evidence. ``system_roots`` are global install directories outside the home
    (``/usr/local/lib/node_modules``, ``/usr/lib/node_modules``); tests leave them empty.
    """

    home: Path
    projects: tuple[Path, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    system_roots: tuple[Path, ...] = ()

    @classmethod
    def for_current_user(cls, projects: tuple[Path, ...] = ()) -> ResolveContext:
        """The context of the person running distrust, with the usual system-wide npm roots."""
        roots = tuple(
            Path(p)
            for p in (
                "/usr/local/lib/node_modules",
                "/usr/lib/node_modules",
                "/opt/homebrew/lib/node_modules",
            )
            if Path(p).is_dir()
        )
        return cls(home=Path.home(), projects=projects, env=dict(os.environ), system_roots=roots)

    def getenv(self, name: str) -> str | None:
        """An environment value; npm's ``npm_config_*`` are case-insensitive, as npm reads them."""
        value = self.env.get(name)
        if value is None and name.lower().startswith("npm_config_"):
            wanted = name.lower()
            value = next((v for k, v in self.env.items() if k.lower() == wanted), None)
        return value or None
