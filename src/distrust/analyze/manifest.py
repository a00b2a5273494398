"""Package manifests: what runs at install time, what gets pulled in, and who the package claims to be.

Install hooks are the most common delivery of malicious packages: an npm ``postinstall`` or a
``setup.py`` that phones home before the user has run a single line of the library. This module
reads npm ``package.json`` and Python ``setup.py``, ``setup.cfg``, ``pyproject.toml``, ``*.pth``,
``PKG-INFO``/``METADATA`` as *data* (``setup.py`` through ``ast``, never executed) and reports
``install.hook``, ``dependency``/``dependency.url`` capabilities plus the package's claimed
metadata (name, version, author…) for :class:`~distrust.model.Profile`.

Bad input never raises: a broken manifest yields a problem string naming the file and, when
the parser knows it, the line.
"""

from __future__ import annotations

import ast
import json
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from distrust.analyze import textscan
from distrust.analyze.kinds import DYNAMIC
from distrust.analyze.textscan import decode_source
from distrust.model import Capability


@dataclass(frozen=True)
class ManifestResult:
    """Capabilities and claimed metadata of one manifest, plus problems that limited reading it."""

    capabilities: tuple[Capability, ...] = ()
    metadata: tuple[tuple[str, str], ...] = ()
    problems: tuple[str, ...] = ()


@dataclass
class _Builder:
    path: str
    lines: list[str]
    caps: list[Capability] = field(default_factory=list)
    metadata: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, kind: str, value: str, line: int) -> None:
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        self.caps.append(Capability(kind, value, self.path, line, textscan.snippet(text)))

    def meta(self, key: str, value: object) -> None:
        if isinstance(value, str) and value.strip() and value.strip().upper() != "UNKNOWN":
            self.metadata.append((key, " ".join(value.split())[:300]))

    def line_of(self, needle: str, default: int = 1) -> int:
        """First line containing ``needle``: JSON and TOML parsers do not report positions."""
        for number, text in enumerate(self.lines, start=1):
            if needle in text:
                return number
        return default

    def result(self) -> ManifestResult:
        return ManifestResult(tuple(self.caps), tuple(self.metadata), tuple(self.problems))


# --- npm -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LifecycleScript:
    """An npm lifecycle script that runs on the user's machine during ``npm install``."""

    name: str
    rationale: str


NPM_INSTALL_SCRIPTS: tuple[LifecycleScript, ...] = (
    LifecycleScript("preinstall", "runs before the package is installed"),
    LifecycleScript("install", "runs during install (npm's default for binding.gyp is node-gyp rebuild)"),
    LifecycleScript("postinstall", "runs after install: the classic malware hook"),
    LifecycleScript("prepare", "runs on install from git and on local npm install"),
    LifecycleScript("prepublish", "deprecated; still runs on local npm install"),
    LifecycleScript("preprepare", "runs before prepare"),
    LifecycleScript("postprepare", "runs after prepare"),
)

NPM_DEPENDENCY_SECTIONS = ("dependencies", "optionalDependencies", "peerDependencies")
"""Sections installed for the package's users (devDependencies are not)."""

_NPM_URL_SPEC = re.compile(
    r"^(?:git\+|git://|github:|gitlab:|bitbucket:|gist:|https?://|file:|link:)"
    r"|^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(?:#.*)?$"  # GitHub shorthand user/repo[#ref]
)


def analyze_package_json(path: str, data: bytes, *, has_binding_gyp: bool = False) -> ManifestResult:
    """Install scripts, dependencies and metadata of an npm ``package.json``.

    ``has_binding_gyp`` says a ``binding.gyp`` sits beside it: npm then runs ``node-gyp
    rebuild`` at install even without an install script, which is an implicit hook.
    """
    text = decode_source(data)
    b = _Builder(path, text.splitlines())
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as exc:
        b.problems.append(f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")
        return b.result()
    if not isinstance(manifest, dict):
        b.problems.append(f"{path}: expected a JSON object, found {type(manifest).__name__}")
        return b.result()

    for key in ("name", "version", "description", "homepage"):
        b.meta(key, manifest.get(key))
    b.meta("repository", _npm_url_field(manifest.get("repository")))
    b.meta("author", _npm_person(manifest.get("author")))
    b.meta("license", _npm_license(manifest.get("license")))

    scripts = manifest.get("scripts")
    if scripts is not None and not isinstance(scripts, dict):
        b.problems.append(f"{path}: field 'scripts' is not an object")
        scripts = {}
    scripts = scripts or {}
    for hook in NPM_INSTALL_SCRIPTS:
        command = scripts.get(hook.name)
        if isinstance(command, str) and command.strip():
            line = b.line_of(f'"{hook.name}"')
            b.add("install.hook", f"{hook.name}: {command.strip()}", line)
            for cap in textscan.scan_text(path, command, shell=True):
                b.add(cap.kind, cap.value, line)
    gyp = manifest.get("gypfile")
    if (gyp is True or (has_binding_gyp and gyp is not False)) and not (
        scripts.get("install") or scripts.get("preinstall")
    ):
        b.add("install.hook", "install: node-gyp rebuild (implicit: binding.gyp)", b.line_of('"gypfile"'))

    for section in NPM_DEPENDENCY_SECTIONS:
        deps = manifest.get(section)
        if deps is None:
            continue
        if not isinstance(deps, dict):
            b.problems.append(f"{path}: field {section!r} is not an object")
            continue
        for name, spec in deps.items():
            spec_text = spec if isinstance(spec, str) else json.dumps(spec)
            line = b.line_of(f'"{name}"')
            b.add("dependency", f"{name}@{spec_text}", line)
            if _NPM_URL_SPEC.search(spec_text.strip()):
                b.add("dependency.url", f"{name}@{spec_text}", line)

    bins = manifest.get("bin")
    if isinstance(bins, str):
        b.meta("bin", f"{manifest.get('name', '?')}: {bins}")
    elif isinstance(bins, dict):
        for name, target in bins.items():
            b.meta("bin", f"{name}: {target}")
    return b.result()


def _npm_url_field(value: object) -> str | None:
    if isinstance(value, dict):
        url = value.get("url")
        return url if isinstance(url, str) else None
    return value if isinstance(value, str) else None


def _npm_person(value: object) -> str | None:
    if isinstance(value, dict):
        name, email = value.get("name"), value.get("email")
        parts = [p for p in (name, f"<{email}>" if email else None) if isinstance(p, str)]
        return " ".join(parts) or None
    return value if isinstance(value, str) else None


def _npm_license(value: object) -> str | None:
    if isinstance(value, dict):
        kind = value.get("type")
        return kind if isinstance(kind, str) else None
    return value if isinstance(value, str) else None


# --- Python: requirements ----------------------------------------------------------------------


def _requirement(b: _Builder, requirement: str, line: int, *, where: str) -> None:
    """A PEP 508 requirement as dependency (and dependency.url when it names a URL)."""
    text = requirement.strip()
    if not text or text.startswith("#"):
        return
    if text == DYNAMIC:
        b.add("dependency", f"{DYNAMIC}@{DYNAMIC}", line)
        return
    # Imported here: packaging's requirement grammar costs ~20 ms to load, and npm packages
    # (most inspections) never have a PEP 508 requirement.
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        if re.match(r"^(?:git\+|https?://|file:)", text):
            b.add("dependency", f"{text}@{text}", line)
            b.add("dependency.url", text, line)
        else:
            b.problems.append(f"{b.path}:{line}: invalid requirement {text!r} in {where}: {exc}")
        return
    if req.url:
        b.add("dependency", f"{req.name}@{req.url}", line)
        b.add("dependency.url", f"{req.name}@{req.url}", line)
    else:
        b.add("dependency", f"{req.name}@{req.specifier or '*'}", line)


# --- Python: setup.py ------------------------------------------------------------------------

SETUP_NETWORK_MODULES = frozenset(
    {
        "requests",
        "urllib.request",
        "urllib2",
        "urllib3",
        "httpx",
        "aiohttp",
        "http.client",
        "httplib",
        "socket",
        "ftplib",
        "smtplib",
        "telnetlib",
        "paramiko",
        "pycurl",
        "websocket",
        "dns.resolver",
        "getpass",
        "discord_webhook",
        "telebot",
    }
)
"""Modules whose import in setup.py means talking to the network or reading who the user is."""

INSTALL_COMMANDS = frozenset(
    {
        "install",
        "develop",
        "egg_info",
        "build_py",
        "build",
        "build_ext",
        "build_clib",
        "sdist",
        "bdist_wheel",
        "bdist_egg",
        "bdist",
        "easy_install",
        "install_lib",
        "install_scripts",
        "install_data",
        "install_egg_info",
    }
)
"""setuptools/distutils commands that run while a package is built or installed."""

RISKY_AT_INSTALL = frozenset(
    {
        "network.request",
        "process.spawn",
        "code.dynamic",
        "code.decode_exec",
        "file.write",
        "file.delete",
        "file.read.sensitive",
        "env.enumerate",
        "recon.system",
        "persistence",
        "propagation",
        "email.send",
    }
)
"""Capabilities that make code running at install time an install hook worth reporting."""

SETUP_METADATA = {
    "name": "name",
    "version": "version",
    "description": "description",
    "url": "homepage",
    "author": "author",
    "license": "license",
}


def analyze_setup_py(path: str, data: bytes) -> ManifestResult:
    """A ``setup.py``: its Python capabilities, its install hooks, dependencies and metadata.

    Install hooks are ``cmdclass`` overrides of install-time commands (and the classes that
    subclass them), and risky code that runs when the file is executed: module top level,
    functions it calls, and the bodies of those command classes.
    """
    # Imported here: the Python analyser (and its folding/flow modules) costs ~40 ms to import,
    # and a package with no Python in it never needs it.
    from distrust.analyze.python import analyze_parsed, parse

    tree, problem = parse(data)
    py = analyze_parsed(path, data, tree, problem)
    text = decode_source(data)
    b = _Builder(path, text.splitlines())
    b.caps.extend(py.capabilities)
    b.problems.extend(f"{path}: {p}" for p in py.problems)
    if tree is None:
        # No tree, so no scopes: all risky code might run at install. Say so rather than guess less.
        for cap in py.capabilities:
            if cap.kind in RISKY_AT_INSTALL:
                b.add("install.hook", f"setup.py (unparsed): {cap.kind} {cap.value}", cap.line)
        if re.search(r"\bcmdclass\s*=", text):
            b.add("install.hook", "cmdclass: <dynamic> (unparsed)", b.line_of("cmdclass"))
        return b.result()

    setup_info = _SetupReader(tree)
    for key, class_name, line in setup_info.cmdclass:
        b.add("install.hook", f"cmdclass {key}: {class_name}", line)
    install_time = setup_info.install_time_lines()
    network_imports = setup_info.network_imports()
    if network_imports and setup_info.install_classes():
        names = ", ".join(sorted({name for name, _ in network_imports}))
        value = f"setup.py: install command, network modules imported: {names}"
        b.add("install.hook", value, network_imports[0][1])
    for cap in py.capabilities:
        if cap.kind in RISKY_AT_INSTALL and cap.line in install_time and not _is_local_exec(cap):
            b.add("install.hook", f"setup.py: {cap.kind} {cap.value}", cap.line)
    for key, meta_key in SETUP_METADATA.items():
        b.meta(meta_key, setup_info.kwargs_text.get(key))
    if setup_info.kwargs_text.get("author_email") and not setup_info.kwargs_text.get("author"):
        b.meta("author", setup_info.kwargs_text.get("author_email"))
    for key in ("install_requires", "setup_requires"):
        for requirement, line in setup_info.requirements.get(key, []):
            _requirement(b, requirement, line, where=key)
    for link, line in setup_info.requirements.get("dependency_links", []):
        b.add("dependency.url", link, line)
    return b.result()


# What counts as risky when it runs the moment a module is imported.
RISKY_AT_IMPORT = frozenset(
    {
        "network.request",
        "process.spawn",
        "code.decode_exec",
        "recon.system",
        "env.enumerate",
        "file.read.sensitive",
        "persistence",
    }
)


def import_time_capabilities(path: str, tree: ast.Module, caps: Iterable[Capability]) -> list[Capability]:
    """``exec.import_time`` records for risky code that runs as soon as the module is imported.

    Libraries define functions; they rarely *do* network calls or start programs at import.
    Malicious packages do, because ``import pkg`` (or a ``.pth`` file) is their trigger. The
    same reachability as setup.py's install time applies: top level and the functions it calls.
    """
    lines = _SetupReader(tree).install_time_lines()
    return [
        Capability("exec.import_time", f"{cap.kind} {cap.value}", path, cap.line, cap.snippet)
        for cap in caps
        if cap.kind in RISKY_AT_IMPORT and cap.line in lines and not _is_local_exec(cap)
    ]


def _is_local_exec(cap: Capability) -> bool:
    """``exec(open("pkg/version.py").read())`` reads a shipped file: common, benign, analysed anyway."""
    return cap.kind == "code.dynamic" and "(file " in cap.value


class _SetupReader:
    """Structure of a setup.py: setup() keywords, cmdclass, and which lines run at install."""

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.assigned: dict[str, ast.expr] = {}
        self.kwargs: dict[str, ast.expr] = {}
        self.kwargs_text: dict[str, str] = {}
        self.requirements: dict[str, list[tuple[str, int]]] = {}
        self.cmdclass: list[tuple[str, str, int]] = []
        self.functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self.classes: dict[str, ast.ClassDef] = {}
        self.top_level: list[ast.stmt] = []
        self._collect(tree.body)
        self._read_setup_call()

    def _collect(self, body: Iterable[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                self.functions[stmt.name] = stmt
            elif isinstance(stmt, ast.ClassDef):
                self.classes[stmt.name] = stmt
            else:
                self.top_level.append(stmt)
                if isinstance(stmt, ast.Assign):
                    for target in stmt.targets:
                        if isinstance(target, ast.Name):
                            self.assigned[target.id] = stmt.value
                for child in ("body", "orelse", "finalbody"):  # if/try/with at top level still run
                    self._collect(getattr(stmt, child, []))
                for handler in getattr(stmt, "handlers", []):
                    self._collect(handler.body)

    def fold(self, node: ast.expr, depth: int = 0) -> str | None:
        """A string built from literals and top-level string variables (``ma + rat + lib``)."""
        if depth > 20:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name) and node.id in self.assigned:
            return self.fold(self.assigned[node.id], depth + 1)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.fold(node.left, depth + 1), self.fold(node.right, depth + 1)
            return left + right if left is not None and right is not None else None
        if isinstance(node, ast.JoinedStr):
            parts = []
            for part in node.values:
                inner = part.value if isinstance(part, ast.FormattedValue) else part
                folded = self.fold(inner, depth + 1)
                if folded is None:
                    return None
                parts.append(folded)
            return "".join(parts)
        return None

    def _resolve(self, node: ast.expr) -> ast.expr:
        if isinstance(node, ast.Name) and node.id in self.assigned:
            return self.assigned[node.id]
        return node

    def _read_setup_call(self) -> None:
        for node in ast.walk(self.tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name != "setup":
                continue
            for kw in node.keywords:
                if kw.arg is None:  # setup(**setup_args)
                    mapping = self._resolve(kw.value)
                    if isinstance(mapping, ast.Dict):
                        for key_node, value_node in zip(mapping.keys, mapping.values, strict=True):
                            if isinstance(key_node, ast.Constant) and isinstance(key_node.value, str):
                                self.kwargs[key_node.value] = value_node
                    elif isinstance(mapping, ast.Call) and getattr(mapping.func, "id", "") == "dict":
                        self.kwargs.update({k.arg: k.value for k in mapping.keywords if k.arg})
                else:
                    self.kwargs[kw.arg] = kw.value
        for key, value in self.kwargs.items():
            resolved = self._resolve(value)
            if isinstance(resolved, ast.Constant) and isinstance(resolved.value, str):
                self.kwargs_text[key] = resolved.value
            if key in ("install_requires", "setup_requires", "dependency_links"):
                if isinstance(resolved, ast.List | ast.Tuple):
                    self.requirements[key] = [(self.fold(e) or DYNAMIC, e.lineno) for e in resolved.elts]
                elif isinstance(resolved, ast.Constant) and isinstance(resolved.value, str):
                    self.requirements[key] = [(line, resolved.lineno) for line in resolved.value.splitlines()]
            if key == "cmdclass":
                self._read_cmdclass(value)

    def _read_cmdclass(self, value: ast.expr) -> None:
        mapping = self._resolve(value)
        pairs: list[tuple[str, ast.expr]] = []
        if isinstance(mapping, ast.Dict):
            pairs = [
                (k.value, v)
                for k, v in zip(mapping.keys, mapping.values, strict=True)
                if isinstance(k, ast.Constant) and isinstance(k.value, str)
            ]
        elif isinstance(mapping, ast.Call) and getattr(mapping.func, "id", "") == "dict":
            pairs = [(k.arg, k.value) for k in mapping.keywords if k.arg]
        if not pairs:
            self.cmdclass.append(("<dynamic>", DYNAMIC, value.lineno))
        for key, class_node in pairs:
            class_name = class_node.id if isinstance(class_node, ast.Name) else ast.unparse(class_node)[:80]
            self.cmdclass.append((key, class_name, class_node.lineno))

    def network_imports(self) -> list[tuple[str, int]]:
        """``(module, line)`` for network or identity modules imported where setup.py runs them.

        setup.py runs before the package's dependencies exist, so a build script has no use for
        an HTTP client, raw sockets or the user's login name; droppers import them to phone home
        from a custom install command (sometimes with the call itself hidden or commented out).
        """
        found: list[tuple[str, int]] = []
        for stmt in self.top_level:
            if isinstance(stmt, ast.Import):
                modules = [alias.name for alias in stmt.names]
            elif isinstance(stmt, ast.ImportFrom) and stmt.module and not stmt.level:
                modules = [stmt.module]
            else:
                continue
            found.extend((m, stmt.lineno) for m in modules if m in SETUP_NETWORK_MODULES)
        return found

    def install_classes(self) -> set[str]:
        """Names of the install-time command classes setup.py defines or registers."""
        return self._install_classes()

    def _install_classes(self) -> set[str]:
        """Classes named in cmdclass or subclassing an install-time command."""
        names = {class_name for _, class_name, _ in self.cmdclass}
        for name, cls in self.classes.items():
            for base in cls.bases:
                base_name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
                if base_name in INSTALL_COMMANDS or base_name.startswith(("_install", "_develop")):
                    names.add(name)
        return names

    def install_time_lines(self) -> set[int]:
        """Lines that run when setup.py runs: top level, functions it calls, command classes."""
        lines: set[int] = set()
        pending: list[ast.AST] = list(self.top_level)
        pending.extend(self.classes[c] for c in self._install_classes() if c in self.classes)
        reached: set[str] = set()
        while pending:
            node = pending.pop()
            start = getattr(node, "lineno", None)
            end = getattr(node, "end_lineno", None) or start
            if start is None or end is None:
                continue
            lines.update(range(start, end + 1))
            for sub in ast.walk(node):
                if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name):
                    callee = sub.func.id
                    if callee in self.functions and callee not in reached:
                        reached.add(callee)
                        pending.append(self.functions[callee])
        # Top-level statements that are compound (if/try) contain defs we must not count as run.
        for name, func in self.functions.items():
            if name not in reached and func.end_lineno:
                lines.difference_update(range(func.lineno, func.end_lineno + 1))
        install_classes = self._install_classes()
        for name, cls in self.classes.items():
            if name not in install_classes and cls.end_lineno:
                lines.difference_update(range(cls.lineno, cls.end_lineno + 1))
        return lines


# --- Python: setup.cfg, pyproject.toml -----------------------------------------------------------


def analyze_setup_cfg(path: str, data: bytes) -> ManifestResult:
    """Metadata and requirements of a declarative ``setup.cfg``."""
    text = decode_source(data)
    b = _Builder(path, text.splitlines())
    import configparser  # Python-only formats load their parsers on first use (npm-only runs never do)

    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text, source=path)
    except configparser.Error as exc:
        b.problems.append(f"{path}: cannot parse: {' '.join(str(exc).split())}")
        return b.result()
    if parser.has_section("metadata"):
        meta = parser["metadata"]
        for key, meta_key in (
            ("name", "name"),
            ("version", "version"),
            ("description", "description"),
            ("url", "homepage"),
            ("home_page", "homepage"),
            ("author", "author"),
            ("license", "license"),
        ):
            b.meta(meta_key, meta.get(key))
        project_urls = meta.get("project_urls", "")
        for line in project_urls.splitlines():
            label, _, url = line.partition("=")
            if label.strip().lower() in ("source", "repository", "source code", "code"):
                b.meta("repository", url.strip())
    if parser.has_section("options"):
        for key in ("install_requires", "setup_requires"):
            for requirement in parser["options"].get(key, "").splitlines():
                if requirement.strip():
                    _requirement(b, requirement, b.line_of(requirement.strip()), where=key)
        for link in parser["options"].get("dependency_links", "").splitlines():
            if link.strip():
                b.add("dependency.url", link.strip(), b.line_of(link.strip()))
        if parser["options"].get("cmdclass"):
            b.add("install.hook", f"cmdclass: {parser['options']['cmdclass'].strip()}", b.line_of("cmdclass"))
    return b.result()


KNOWN_BUILD_BACKENDS = frozenset(
    {
        "setuptools.build_meta",
        "setuptools.build_meta:__legacy__",
        "hatchling.build",
        "flit_core.buildapi",
        "poetry.core.masonry.api",
        "pdm.backend",
        "pdm.pep517.api",
        "maturin",
        "scikit_build_core.build",
        "mesonpy",
        "uv_build",
        "whey",
        "sipbuild.api",
        "enscons.api",
    }
)


def analyze_pyproject(path: str, data: bytes) -> ManifestResult:
    """``[project]``/``[tool.poetry]`` metadata and dependencies, and the build backend.

    A backend loaded from the package itself (``backend-path``) is code the package ships that
    runs at build/install time: an install hook, like a setup.py cmdclass.
    """
    text = decode_source(data)
    b = _Builder(path, text.splitlines())
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        b.problems.append(f"{path}: invalid TOML: {exc}")
        return b.result()

    build = _table(doc.get("build-system"))
    backend = build.get("build-backend")
    if isinstance(backend, str):
        b.meta("build-backend", backend)
        backend_path = build.get("backend-path")
        if backend_path:
            paths = (
                ", ".join(str(p) for p in backend_path)
                if isinstance(backend_path, list)
                else str(backend_path)
            )
            b.add("install.hook", f"build-backend: {backend} (in-tree: {paths})", b.line_of("backend-path"))
    for requirement in _str_list(build.get("requires")):
        _requirement(b, requirement, b.line_of(requirement), where="build-system.requires")

    project = _table(doc.get("project"))
    for key in ("name", "version", "description"):
        b.meta(key, project.get(key))
    license_field = project.get("license")
    b.meta("license", license_field.get("text") if isinstance(license_field, dict) else license_field)
    authors = project.get("authors")
    if isinstance(authors, list) and authors and isinstance(authors[0], dict):
        b.meta("author", _npm_person(authors[0]))
    urls = _table(project.get("urls"))
    for label, url in urls.items():
        lowered = label.lower()
        if lowered in ("homepage", "home", "home-page"):
            b.meta("homepage", url)
        elif lowered in ("repository", "source", "source code", "code", "github"):
            b.meta("repository", url)
    for requirement in _str_list(project.get("dependencies")):
        _requirement(b, requirement, b.line_of(requirement), where="project.dependencies")

    poetry = _table(_table(doc.get("tool")).get("poetry"))
    if poetry:
        for key in ("name", "version", "description", "license", "homepage", "repository"):
            b.meta(key, poetry.get(key))
        poetry_authors = _str_list(poetry.get("authors"))
        if poetry_authors:
            b.meta("author", poetry_authors[0])
        for name, spec in _table(poetry.get("dependencies")).items():
            if name.lower() == "python":
                continue
            line = b.line_of(name)
            if isinstance(spec, dict):
                source = next((spec[k] for k in ("git", "url", "path") if isinstance(spec.get(k), str)), None)
                if source:
                    b.add("dependency", f"{name}@{source}", line)
                    b.add("dependency.url", f"{name}@{source}", line)
                    continue
                spec = spec.get("version", "*")
            b.add("dependency", f"{name}@{spec}", line)
    return b.result()


def _table(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str_list(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


# --- Python: .pth, PKG-INFO / METADATA -----------------------------------------------------------

_PTH_EXEC_LINE = re.compile(r"^import[ \t]")


def analyze_pth(path: str, data: bytes) -> ManifestResult:
    """A ``.pth`` file: lines starting with ``import`` run in every Python process on the machine.

    Each such line is an install hook, and the code on it is analysed as Python with its own
    line number kept, so ``import os; exec(base64.b64decode(...))`` shows what it does.
    """
    text = decode_source(data)
    lines = text.splitlines()
    b = _Builder(path, lines)
    code_lines = []
    for number, line in enumerate(lines, start=1):
        if _PTH_EXEC_LINE.match(line):
            b.add("install.hook", f"{PurePosixPath(path).name}: {line.strip()[:150]}", number)
            code_lines.append(line)
        else:
            code_lines.append("")
    if any(code_lines):
        from distrust.analyze.python import analyze_python  # only .pth files with code need it

        py = analyze_python(path, "\n".join(code_lines).encode("utf-8"))
        b.caps.extend(py.capabilities)
        b.problems.extend(f"{path}: {p}" for p in py.problems)
    return b.result()


def analyze_pkg_info(path: str, data: bytes) -> ManifestResult:
    """Core metadata (``PKG-INFO`` in sdists, ``METADATA`` in wheels): identity and Requires-Dist."""
    text = decode_source(data)
    b = _Builder(path, text.splitlines())
    headers, _, _body = text.partition("\n\n")
    from email.parser import HeaderParser

    message = HeaderParser().parsestr(headers)
    for header, key in (
        ("Name", "name"),
        ("Version", "version"),
        ("Summary", "description"),
        ("Home-page", "homepage"),
        ("License", "license"),
    ):
        b.meta(key, message.get(header))
    author = message.get("Author") or message.get("Author-email") or message.get("Maintainer")
    b.meta("author", author)
    for project_url in message.get_all("Project-URL") or []:
        label, _, url = str(project_url).partition(",")
        lowered = label.strip().lower()
        if lowered in ("source", "repository", "source code", "code", "github"):
            b.meta("repository", url.strip())
        elif lowered in ("homepage", "home"):
            b.meta("homepage", url.strip())
    for requirement in message.get_all("Requires-Dist") or []:
        req = str(requirement)
        _requirement(b, req, b.line_of(req), where="Requires-Dist")
    return b.result()


# --- dispatch --------------------------------------------------------------------------------

Analyzer = Callable[[str, bytes], ManifestResult]

MANIFESTS: dict[str, Analyzer] = {
    "package.json": analyze_package_json,
    "setup.py": analyze_setup_py,
    "setup.cfg": analyze_setup_cfg,
    "pyproject.toml": analyze_pyproject,
    "PKG-INFO": analyze_pkg_info,
    "METADATA": analyze_pkg_info,
}
"""Manifest file names and the reader for each; ``*.pth`` is matched by suffix."""

METADATA_PRIORITY: dict[str, int] = {
    "package.json": 0,
    "PKG-INFO": 1,
    "METADATA": 1,
    "pyproject.toml": 2,
    "setup.cfg": 3,
    "setup.py": 4,
}
"""Which manifest's claim wins when several state the same field (lower wins)."""


def manifest_analyzer(path: str) -> Analyzer | None:
    """The reader for a manifest path, or None when the file is not a manifest."""
    return manifest_analyzer_for_name(PurePosixPath(path).name)


def manifest_analyzer_for_name(name: str) -> Analyzer | None:
    """:func:`manifest_analyzer` for a file name alone (the last component of its path)."""
    if name.endswith(".pth"):
        return analyze_pth
    return MANIFESTS.get(name)


def analyze_manifest(path: str, data: bytes, *, has_binding_gyp: bool = False) -> ManifestResult | None:
    """Read any manifest by its file name; None when ``path`` is not a manifest."""
    if PurePosixPath(path).name == "package.json":
        return analyze_package_json(path, data, has_binding_gyp=has_binding_gyp)
    analyzer = manifest_analyzer(path)
    return analyzer(path, data) if analyzer else None
