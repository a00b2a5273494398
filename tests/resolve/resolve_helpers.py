"""Builders for fake homes: npx caches, global prefixes, venvs, written as package managers do.

The module name is unique across tests/ because test directories are not packages."""

from __future__ import annotations

import json
import os
from pathlib import Path

from distrust.model import ServerSpec
from distrust.resolve import ResolveContext

FIXTURES = Path(__file__).parent.parent / "fixtures" / "resolve"


class FakeMachine:
    """A home directory plus projects, populated with the layouts real tools produce."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home" / "user"
        self.home.mkdir(parents=True)
        self.projects: list[Path] = []
        self.env: dict[str, str] = {}

    def context(self, system_roots: tuple[Path, ...] = ()) -> ResolveContext:
        return ResolveContext(
            home=self.home, projects=tuple(self.projects), env=dict(self.env), system_roots=system_roots
        )

    def project(self, name: str = "proj") -> Path:
        path = self.root / "work" / name
        path.mkdir(parents=True, exist_ok=True)
        if path not in self.projects:
            self.projects.append(path)
        return path

    @staticmethod
    def node_package(node_modules: Path, name: str, version: str, mtime: float | None = None) -> Path:
        """``node_modules/<name>/package.json`` with a dist/index.js, as npm extracts it."""
        pkg = node_modules / name
        (pkg / "dist").mkdir(parents=True, exist_ok=True)
        (pkg / "package.json").write_text(
            json.dumps({"name": name, "version": version, "bin": "dist/index.js"})
        )
        (pkg / "dist" / "index.js").write_text("// fixture\n")
        (pkg / "dist" / "package.json").write_text('{"type": "module"}')  # nested, nameless: must be skipped
        if mtime is not None:
            os.utime(pkg, (mtime, mtime))
        return pkg

    def npx_cache(
        self, hash_: str, packages: dict[str, str], base: Path | None = None, mtime: float | None = None
    ) -> Path:
        """``~/.npm/_npx/<hash>/node_modules/…`` with the _npx package.json npx writes."""
        root = (base or self.home / ".npm") / "_npx" / hash_
        for name, version in packages.items():
            self.node_package(root / "node_modules", name, version, mtime)
        (root / "package.json").write_text(
            json.dumps(
                {
                    "dependencies": {n: f"^{v}" for n, v in packages.items()},
                    "_npx": {"packages": [f"{n}@{v}" for n, v in packages.items()]},
                }
            )
        )
        return root

    @staticmethod
    def dist_info(
        site_packages: Path,
        name: str,
        version: str,
        top_level: str | None = None,
        console_scripts: tuple[str, ...] = (),
    ) -> Path:
        """``<site-packages>/<name>-<version>.dist-info`` as wheel installers write it."""
        dist = site_packages / f"{name.replace('-', '_')}-{version}.dist-info"
        dist.mkdir(parents=True, exist_ok=True)
        (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        if top_level is not None:
            (dist / "top_level.txt").write_text(top_level + "\n")
            (site_packages / top_level).mkdir(exist_ok=True)
            (site_packages / top_level / "__init__.py").write_text("")
        if console_scripts:
            lines = "\n".join(f"{s} = {name.replace('-', '_')}:main" for s in console_scripts)
            (dist / "entry_points.txt").write_text(f"[console_scripts]\n{lines}\n")
        return dist

    @staticmethod
    def venv(root: Path) -> Path:
        """A virtualenv skeleton: pyvenv.cfg, bin/, lib/python3.12/site-packages."""
        (root / "bin").mkdir(parents=True, exist_ok=True)
        (root / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.12.0\n")
        site = root / "lib" / "python3.12" / "site-packages"
        site.mkdir(parents=True, exist_ok=True)
        return site


def server(
    command: str | None, *args: str, name: str = "srv", cwd: str | None = None, url: str | None = None
) -> ServerSpec:
    return ServerSpec(
        client="test",
        config_path=Path("/cfg/mcp.json"),
        name=name,
        transport="http" if url else "stdio",
        command=command,
        args=args,
        url=url,
        cwd=cwd,
    )
