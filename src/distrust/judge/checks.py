"""One small check per configuration rule, registered by rule id in :data:`CHECKS`.

A check looks at one resolved server and yields :class:`Hit` records, single observations with
their evidence. It never decides the final severity, never merges, never formats the rule's
text: the engine (``judge/engine.py``) does that from the rule data in ``rules.toml``, so
dedup, escalation and redaction are done once, the same way for every rule.

The tables in this module (install-evidence phrases, shell wrappers, download-and-execute
pipelines, mail words, remote bridges, shared temp dirs) are data: extend them, not the code.
"""

from __future__ import annotations

import ipaddress
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePath
from urllib.parse import urlsplit

from packaging.version import InvalidVersion, Version

from distrust.judge.fields import (
    ConfigField,
    arg_fields,
    command_line,
    config_fields,
    display_path,
    flag_name,
    key_words,
)
from distrust.judge.lookup import AdvisoryLookup, IocLike
from distrust.judge.secrets import SecretHit, find_secrets, is_secret_key
from distrust.model import Advisory, Ecosystem, Evidence, Installation, PackageRef, ResolvedServer

# --- context ----------------------------------------------------------------------------------

SHARED_TEMP_DIRS: tuple[Path, ...] = (
    Path("/tmp"),
    Path("/var/tmp"),
    Path("/dev/shm"),
    Path("/private/tmp"),
    Path("/private/var/tmp"),
)


@dataclass(frozen=True)
class HostContext:
    """Facts about this machine that checks depend on, injectable so tests are not host-bound."""

    shared_temp_dirs: tuple[Path, ...] = SHARED_TEMP_DIRS
    uid: int | None = None
    home: Path | None = None

    @classmethod
    def current(cls) -> HostContext:
        getuid = getattr(os, "getuid", None)
        return cls(SHARED_TEMP_DIRS, getuid() if getuid else None, Path.home())


@dataclass(frozen=True)
class CheckContext:
    """What every check may consult besides the server itself."""

    intel: AdvisoryLookup
    host: HostContext
    iocs: tuple[IocLike, ...] = ()


@dataclass(frozen=True)
class Hit:
    """One observation for one rule on one server; the engine merges hits into a Finding.

    ``fact`` is a short clause for the finding's detail; ``params`` fill the rule's templates
    (a check computes server-wide params once and attaches them to each hit, so merging is a
    plain de-duplication); ``conditions`` name the escalations from rules.toml that apply.
    """

    fact: str
    evidence: tuple[Evidence, ...] = ()
    advisories: tuple[str, ...] = ()
    params: tuple[tuple[str, str], ...] = ()
    conditions: frozenset[str] = frozenset()
    package: PackageRef | None = None


CheckFn = Callable[[ResolvedServer, CheckContext], Iterable[Hit]]


@dataclass(frozen=True)
class Check:
    """A check function plus what it promises: the placeholders it fills, the conditions it reports."""

    run: CheckFn
    params: frozenset[str] = frozenset()
    conditions: frozenset[str] = frozenset()


# --- shared helpers -----------------------------------------------------------------------------

ADVISORY_ECOSYSTEMS: frozenset[str] = frozenset({Ecosystem.NPM, Ecosystem.PYPI})


def entry_evidence(server: ResolvedServer, snippet: str | None = None) -> Evidence:
    """Evidence pointing at the server's entry in its config file."""
    spec = server.spec
    return Evidence(str(spec.config_path), spec.line, snippet)


def _field_evidence(server: ResolvedServer, fld: ConfigField, shown: str | None = None) -> Evidence:
    value = fld.value if shown is None else shown
    if len(value) > 200:
        value = value[:200] + "…"
    return entry_evidence(server, f"{server.spec.name}: {fld.location} = {value}")


def _ids(advisories: Iterable[Advisory]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a.id for a in advisories))


def _version_key(version: str) -> tuple[int, Version | str]:
    """Sort key for npm and PyPI versions alike; unparseable ones sort first, by text."""
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


def _pkg_text(ref: PackageRef) -> str:
    return str(ref) if ref.version else ref.name


# How each kind of installation evidence is described in a finding, and how to remove it.
INSTALL_PHRASES: dict[str, str] = {
    "npx-cache": "npx cache at {path} holds {version}",
    "npm-global": "global npm install at {path} is {version}",
    "node_modules": "node_modules at {path} holds {version}",
    "uv-tool": "uv tool environment at {path} is {version}",
    "uv-cache": "uv cache at {path} holds {version}",
    "pipx": "pipx environment at {path} is {version}",
    "venv": "virtual environment at {path} has {version}",
    "system": "system-wide install at {path} is {version}",
    "lockfile": "lockfile {path} pins {version}",
    "npm-log": "npm log{when} shows {version} was installed",
}
INSTALL_PHRASE_DEFAULT = "{source} evidence at {path} shows {version}"

CLEANUP_PHRASES: dict[str, str] = {
    "npx-cache": "delete the npx cache entry {entry}",
    "npm-global": "run `npm uninstall -g {name}`",
    "node_modules": "remove {path}",
    "uv-tool": "run `uv tool uninstall {name}`",
    "uv-cache": "run `uv cache clean {name}`",
    "pipx": "run `pipx uninstall {name}`",
    "venv": "uninstall {name} from the environment at {path}",
    "system": "uninstall {name} from {path}",
    "lockfile": "update {path}",
    # npm-log is history: there is nothing left on disk to remove.
}


@dataclass(frozen=True)
class Sighting:
    """One place a version of the server's package is declared or installed."""

    ref: PackageRef
    where: str
    evidence: Evidence
    installation: Installation | None = None


def sightings(server: ResolvedServer, host: HostContext) -> list[Sighting]:
    """The declared version (if any) and every installed copy, each with its evidence."""
    out: list[Sighting] = []
    pkg = server.package
    if pkg and pkg.version and pkg.ecosystem in ADVISORY_ECOSYSTEMS:
        verb = "pins" if pkg.pinned else "resolves to"
        out.append(
            Sighting(pkg, f"the config {verb} {pkg.version}", entry_evidence(server, command_line_of(server)))
        )
    for inst in server.installed:
        ref = inst.ref
        if not ref.version or ref.ecosystem not in ADVISORY_ECOSYSTEMS:
            continue
        template = INSTALL_PHRASES.get(inst.source, INSTALL_PHRASE_DEFAULT)
        when = f" {inst.when.date().isoformat()}" if inst.when else ""
        where = template.format(
            path=display_path(inst.path, host.home), version=ref.version, when=when, source=inst.source
        )
        snippet = f"{_pkg_text(ref)} ({inst.source})"
        out.append(Sighting(ref, where, Evidence(str(inst.path), inst.line, snippet), inst))
    return out


def command_line_of(server: ResolvedServer) -> str:
    """The raw command line; the engine scrubs secrets out of every evidence snippet."""
    return f"{server.spec.name}: {command_line(server.spec)}"


def _npx_entry(path: Path) -> Path:
    """``~/.npm/_npx/<hash>`` for a path inside it: deleting that directory removes the cached copy."""
    parts = path.parts
    if "_npx" in parts:
        i = parts.index("_npx")
        if i + 1 < len(parts):
            return Path(*parts[: i + 2])
    return path


def cleanup_clause(installs: Iterable[Installation], host: HostContext) -> str:
    """``", then delete the npx cache entry X and run `pipx uninstall y`"`` or "" if nothing to remove."""
    phrases: list[str] = []
    for inst in installs:
        template = CLEANUP_PHRASES.get(inst.source)
        if template is None:
            continue
        phrase = template.format(
            entry=display_path(_npx_entry(inst.path), host.home),
            path=display_path(inst.path, host.home),
            name=inst.ref.name,
        )
        if phrase not in phrases:
            phrases.append(phrase)
    return ", then " + " and ".join(phrases) if phrases else ""


# --- DT-SCAN-001 malicious version ---------------------------------------------------------------


def check_malicious_version(server: ResolvedServer, ctx: CheckContext) -> Iterator[Hit]:
    """Every declared and installed version, matched against malicious advisories."""
    bad: list[tuple[Sighting, tuple[str, ...]]] = []
    for s in sightings(server, ctx.host):
        assert s.ref.version is not None
        ids = _ids(a for a in ctx.intel.match(s.ref.ecosystem, s.ref.name, s.ref.version) if a.malicious)
        if ids:
            bad.append((s, ids))
    cleanup = cleanup_clause((s.installation for s, _ in bad if s.installation), ctx.host)
    for s, ids in bad:
        assert s.ref.version is not None
        yield Hit(
            fact=f"{s.where} ({', '.join(ids)})",
            evidence=(s.evidence,),
            advisories=ids,
            params=(("versions", s.ref.version), ("cleanup", cleanup)),
            package=s.ref,
        )


# --- DT-SCAN-002 malicious in every version --------------------------------------------------------


def _subject(server: ResolvedServer) -> PackageRef | None:
    if server.package is not None:
        return server.package
    return server.installed[0].ref if server.installed else None


def check_malicious_package(server: ResolvedServer, ctx: CheckContext) -> Iterator[Hit]:
    """Advisories that cover every version: there is nothing safe to pin or upgrade to."""
    pkg = _subject(server)
    if pkg is None or pkg.ecosystem not in ADVISORY_ECOSYSTEMS:
        return
    ids = _ids(
        a
        for a in ctx.intel.advisories_for(pkg.ecosystem, pkg.name)
        if a.malicious and ctx.intel.affects_all_versions(pkg.ecosystem, pkg.name, a.id)
    )
    if not ids:
        return
    cleanup = cleanup_clause(server.installed, ctx.host)
    params = (("cleanup", cleanup),)
    yield Hit(
        fact=f"{', '.join(ids)} say every version of {pkg.name} is malicious",
        evidence=(entry_evidence(server, command_line_of(server)),),
        advisories=ids,
        params=params,
        package=pkg,
    )
    for s in sightings(server, ctx.host):
        if s.installation is not None:
            yield Hit(fact=s.where, evidence=(s.evidence,), advisories=ids, params=params, package=pkg)


# --- DT-SCAN-003 vulnerable version ----------------------------------------------------------------


def _fix_for(current: str, fixes: tuple[str, ...]) -> str | None:
    """The first fixed version above ``current``; fixes on other branches below it do not help."""
    ordered = sorted(fixes, key=_version_key)
    above = [f for f in ordered if _version_key(f) > _version_key(current)]
    return above[0] if above else (ordered[-1] if ordered else None)


def check_vulnerable_version(server: ResolvedServer, ctx: CheckContext) -> Iterator[Hit]:
    """Non-malicious advisories matching any declared or installed version, with the fix to move to."""
    found: list[tuple[Sighting, tuple[str, ...]]] = []
    targets: list[str] = []
    unfixed: list[str] = []
    name = ""
    for s in sightings(server, ctx.host):
        assert s.ref.version is not None
        advisories = [
            a for a in ctx.intel.match(s.ref.ecosystem, s.ref.name, s.ref.version) if not a.malicious
        ]
        if not advisories:
            continue
        name = s.ref.name
        found.append((s, _ids(advisories)))
        for adv in advisories:
            fix = _fix_for(s.ref.version, ctx.intel.fixed_versions(s.ref.ecosystem, s.ref.name, adv.id))
            if fix is None:
                unfixed.append(adv.id)
            else:
                targets.append(fix)
    if not found:
        return
    parts: list[str] = []
    if targets:
        parts.append(f"Upgrade {name} to {max(targets, key=_version_key)} or later")
    if unfixed:
        unfixed_ids = ", ".join(dict.fromkeys(unfixed))
        parts.append(f"no fixed release exists for {unfixed_ids}: replace {name} or run it isolated")
    upgrade = "; ".join(parts)
    upgrade = upgrade[:1].upper() + upgrade[1:]
    cleanup = cleanup_clause((s.installation for s, _ in found if s.installation), ctx.host)
    for s, ids in found:
        yield Hit(
            fact=f"{s.where} ({', '.join(ids)})",
            evidence=(s.evidence,),
            advisories=ids,
            params=(("versions", s.ref.version or ""), ("upgrade", upgrade), ("cleanup", cleanup)),
            package=s.ref,
        )


# --- DT-SCAN-004 floating version ----------------------------------------------------------------

CONDITION_HAS_ADVISORIES = "package-has-advisories"


def check_floating_version(server: ResolvedServer, ctx: CheckContext) -> Iterator[Hit]:
    """A registry package with no exact version in the config: the registry decides what runs."""
    pkg = server.package
    if pkg is None or pkg.ecosystem not in ADVISORY_ECOSYSTEMS or pkg.pinned:
        return
    if pkg.spec and pkg.spec not in ("latest", "*", ""):
        fact = f"the config asks for {pkg.name} {pkg.spec}, a range the registry can move"
    else:
        fact = f"the config names no version of {pkg.name}, so each launch runs whatever is newest"
    known = _ids(ctx.intel.advisories_for(pkg.ecosystem, pkg.name))
    conditions: frozenset[str] = frozenset()
    if known:
        fact += (
            f"; {pkg.name} already has advisories ({', '.join(known)}), so a launch can fetch a bad version"
        )
        conditions = frozenset({CONDITION_HAS_ADVISORIES})
    clean = [v for v in server.versions if not ctx.intel.match(pkg.ecosystem, pkg.name, v)]
    example_version = max(clean, key=_version_key) if clean else "<reviewed version>"
    example = str(PackageRef(pkg.ecosystem, pkg.name, example_version))
    yield Hit(
        fact=fact,
        evidence=(entry_evidence(server, command_line_of(server)),),
        advisories=known,
        params=(("pinned_example", example),),
        conditions=conditions,
        package=pkg,
    )


# --- DT-SCAN-005 docker tag without digest ---------------------------------------------------------


def check_docker_digest(server: ResolvedServer, ctx: CheckContext) -> Iterator[Hit]:
    """A docker image named by a movable tag instead of an immutable digest."""
    pkg = server.package
    if pkg is None or pkg.ecosystem != Ecosystem.DOCKER:
        return
    texts = [t for t in (pkg.name, pkg.version, pkg.spec) if t]
    if any("sha256:" in t for t in texts):
        return
    image = pkg.name.split("@", 1)[0]
    tag = pkg.version or pkg.spec
    shown = f"tag {tag}" if tag else "no tag, which means latest"
    yield Hit(
        fact=f"image {image} is pulled by {shown}; whoever can push to it decides what runs",
        evidence=(entry_evidence(server, command_line_of(server)),),
        params=(("image", image),),
        package=pkg,
    )


# --- DT-SCAN-006 indicators of compromise ----------------------------------------------------------


@lru_cache(maxsize=1024)
def _ioc_pattern(kind: str, value: str) -> re.Pattern[str]:
    escaped = re.escape(value.strip())
    if kind == "domain":
        return re.compile(rf"(?<![a-z0-9-]){escaped}(?![a-z0-9-])(?!\.[a-z0-9])", re.IGNORECASE)
    if kind == "account":
        return re.compile(rf"(?<![A-Za-z0-9_.-]){escaped}(?![A-Za-z0-9_-])", re.IGNORECASE)
    if kind == "email":
        return re.compile(rf"(?<![A-Za-z0-9._%+-]){escaped}(?![a-z0-9-])(?!\.[a-z0-9])", re.IGNORECASE)
    return re.compile(escaped, re.IGNORECASE)


def _contains_other(longer: str, shorter: str) -> bool:
    return longer.lower() != shorter.lower() and shorter.lower() in longer.lower()


def check_ioc(server: ResolvedServer, ctx: CheckContext) -> Iterator[Hit]:
    """Any advisory indicator (address, domain, account, URL) anywhere in the entry."""
    if not ctx.iocs:
        return
    for fld in config_fields(server.spec):
        matched = [
            ioc
            for ioc in ctx.iocs
            if ioc.value.strip() and _ioc_pattern(ioc.kind, ioc.value).search(fld.value)
        ]
        for ioc in matched:
            # phan@giftshop.club also contains the domain IOC: report the most specific one.
            if any(_contains_other(o.value, ioc.value) for o in matched):
                continue
            yield Hit(
                fact=f"{fld.location} contains {ioc.kind} {ioc.value} ({ioc.advisory_id})",
                evidence=(_field_evidence(server, fld),),
                advisories=(ioc.advisory_id,),
                params=(("iocs", ioc.value),),
                package=server.package,
            )


# --- DT-SCAN-007 inline secrets ------------------------------------------------------------------


def _secret_name(secret: SecretHit) -> str:
    """What the user calls the credential to rotate: its key, or what and where it is."""
    if secret.key and is_secret_key(secret.key):
        return secret.key
    return f"the {secret.description} in {secret.location}"


def check_inline_secret(server: ResolvedServer, ctx: CheckContext) -> Iterator[Hit]:
    """Literal credentials in env values, headers, arguments or the URL (shown redacted only)."""
    for secret in find_secrets(server.spec):
        yield Hit(
            fact=secret.label,
            evidence=(entry_evidence(server, f"{server.spec.name}: {secret.label}"),),
            params=(("secret_keys", _secret_name(secret)),),
            package=server.package,
        )


# --- DT-SCAN-008 mail copy / forwarding parameters -----------------------------------------------

FORWARD_WORDS: frozenset[str] = frozenset({"BCC", "CC", "FORWARD", "FORWARDING", "FWD", "COPY", "REDIRECT"})
# Keys naming the user's own identity: an address there is the sender, not an extra recipient.
IDENTITY_WORDS: frozenset[str] = frozenset(
    {"FROM", "SENDER", "USER", "USERNAME", "LOGIN", "ACCOUNT", "OWNER", "AUTHOR", "REPLY"}
)
DISABLED_VALUES: frozenset[str] = frozenset({"", "false", "0", "no", "off", "none", "null", "disabled"})
EMAIL_ADDRESS = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![A-Za-z0-9-])(?!:)"
)
AT_DOMAIN = re.compile(r"^@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


def _mail_fields(server: ResolvedServer) -> list[ConfigField]:
    env = [ConfigField(f"env {k}", v, key=k) for k, v in server.spec.env]
    return [*env, *arg_fields(server.spec.args)]


def _addresses(value: str) -> list[str]:
    text = value.strip()
    if AT_DOMAIN.match(text):
        return [text]
    if "://" in text and not text.lower().startswith("mailto:"):
        return []  # user@host inside a URL is a login, not a recipient
    return EMAIL_ADDRESS.findall(text)


def check_mail_forwarding(server: ResolvedServer, ctx: CheckContext) -> Iterator[Hit]:
    """Config keys that add recipients, and addresses handed to the server outside sender settings."""
    fields = _mail_fields(server)
    keys_with_values = {f.key for f in fields if f.key}
    for fld in fields:
        own_flag = flag_name(fld.value) if fld.key is None else None
        key = fld.key or own_flag
        words = key_words(key) if key else frozenset()
        if own_flag and own_flag in keys_with_values:
            continue  # reported with its value
        names_forwarding = bool(words & FORWARD_WORDS)
        value = "" if own_flag else fld.value
        if names_forwarding and (own_flag or value.strip().lower() not in DISABLED_VALUES):
            shown = f" = {value}" if value else ""
            yield Hit(
                fact=f"{fld.location}{f' ({key})' if fld.key and fld.key not in fld.location else ''} "
                f"names a copy/forward parameter{shown}",
                evidence=(_field_evidence(server, fld),),
                params=(("mail_params", key or fld.location),),
                package=server.package,
            )
            continue
        if words & IDENTITY_WORDS or own_flag:
            continue
        for address in _addresses(value):
            yield Hit(
                fact=f"{fld.location} hands the server the address {address}",
                evidence=(_field_evidence(server, fld),),
                params=(("mail_params", fld.key or fld.location),),
                package=server.package,
            )


# --- DT-SCAN-009 plain-http remote -------------------------------------------------------------

# Local stdio packages whose job is to connect to a remote MCP server given as an argument.
REMOTE_BRIDGES: frozenset[str] = frozenset({"mcp-remote", "supergateway", "mcp-proxy"})


def _is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_unspecified


def _remote_urls(server: ResolvedServer) -> list[tuple[str, str]]:
    spec = server.spec
    out: list[tuple[str, str]] = []
    if spec.url:
        out.append(("url", spec.url))
    names = {server.package.name} if server.package else set()
    names |= {re.sub(r"(?<=.)@[^/@]*$", "", a) for a in spec.args}
    if names & REMOTE_BRIDGES:
        out.extend((f"args[{i}]", a) for i, a in enumerate(spec.args) if "://" in a)
    return out


def check_plaintext_remote(server: ResolvedServer, ctx: CheckContext) -> Iterator[Hit]:
    """An MCP endpoint over http:// to a host that is not this machine."""
    for location, url in _remote_urls(server):
        try:
            parts = urlsplit(url.strip())
            host = parts.hostname or ""
        except ValueError:
            continue
        if parts.scheme.lower() != "http" or not host or _is_loopback(host):
            continue
        yield Hit(
            fact=f"{location} {url} sends every request and token to {host} unencrypted",
            evidence=(entry_evidence(server, f"{server.spec.name}: {location} = {url}"),),
            params=(("urls", url),),
            package=server.package,
        )


# --- DT-SCAN-010 shell wrappers and download-and-execute ----------------------------------------


@dataclass(frozen=True)
class Wrapper:
    """An interpreter that runs code given inline: ``command`` names, and the flags that do it."""

    id: str
    commands: re.Pattern[str]
    flags: re.Pattern[str]
    description: str


def _wrapper(wrapper_id: str, commands: str, flags: str, description: str) -> Wrapper:
    return Wrapper(wrapper_id, re.compile(commands), re.compile(flags), description)


SHELL_WRAPPERS: tuple[Wrapper, ...] = (
    _wrapper("posix-shell", r"(?:ba|z|da|k|a|fi)?sh|busybox", r"-[a-z]*c[a-z]*",
             "a shell running a command string"),
    _wrapper("cmd", r"cmd", r"(?i)/[ck]", "cmd.exe running a command string"),
    _wrapper("powershell", r"(?i)powershell|pwsh", r"(?i)-(?:c|command|e|ec|enc|encodedcommand)",
             "PowerShell running a command string"),
    _wrapper("python-inline", r"python[0-9.]*|py", r"-[A-Za-z]*c", "Python running inline code"),
    _wrapper("node-inline", r"node|nodejs|bun", r"-e|--eval|-p|--print", "Node.js running inline code"),
    _wrapper("perl-ruby-inline", r"perl|ruby", r"-[A-Za-z]*[eE]", "an interpreter running inline code"),
    _wrapper("npx-call", r"npx", r"-c|--call", "npx running a shell command string"),
)  # fmt: skip

DOWNLOAD_EXECUTE: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("pipe-to-interpreter",
     re.compile(r"(?i)\b(?:curl|wget|fetch)\b[^|;&]*\|\s*(?:sudo\s+)?"
                r"(?:(?:ba|z|da|k)?sh|python[0-9.]*|node|perl|ruby)\b"),
     "downloads a script and pipes it into an interpreter"),
    ("process-substitution", re.compile(r"(?i)\b(?:(?:ba|z|da|k)?sh|source)\s+<\(\s*(?:curl|wget)\b"),
     "runs a downloaded script via <(...)"),
    ("command-substitution", re.compile(r"(?i)\$\(\s*(?:curl|wget)\b"), "executes the output of a download"),
    ("powershell-iex",
     re.compile(r"(?i)\b(?:iwr|irm|invoke-webrequest|invoke-restmethod|downloadstring)\b[^;]*\|\s*(?:iex|invoke-expression)\b|"
                r"\b(?:iex|invoke-expression)\b\s*\(*\s*(?:iwr|irm|invoke-webrequest|invoke-restmethod|\(?new-object)"),
     "PowerShell downloads code and runs it with Invoke-Expression"),
)  # fmt: skip


def _program(command: str) -> str:
    """``/usr/bin/Bash.EXE`` -> ``bash``: the program name as wrapper tables spell it."""
    name = PurePath(command.replace("\\", "/")).name.lower()
    return name[:-4] if name.endswith(".exe") else name


def check_shell_wrapper(server: ResolvedServer, ctx: CheckContext) -> Iterator[Hit]:
    """Inline-code interpreters and download-and-execute pipelines anywhere in the command line."""
    spec = server.spec
    if not spec.command:
        return
    program = _program(spec.command)
    snippet = command_line_of(server)
    for wrapper in SHELL_WRAPPERS:
        if not wrapper.commands.fullmatch(program):
            continue
        for i, arg in enumerate(spec.args):
            if wrapper.flags.fullmatch(arg):
                yield Hit(
                    fact=f"{spec.command} {arg} (args[{i}]) is {wrapper.description}",
                    evidence=(entry_evidence(server, snippet),),
                    package=server.package,
                )
                break
            if not arg.startswith("-"):
                break  # options after the script or package belong to it, not to the interpreter
    whole = " ".join([spec.command, *spec.args])
    for pattern_id, pattern, description in DOWNLOAD_EXECUTE:
        if pattern.search(whole):
            yield Hit(
                fact=f"the command line {description} ({pattern_id})",
                evidence=(entry_evidence(server, snippet),),
                package=server.package,
            )


# --- DT-SCAN-011 world-writable paths -------------------------------------------------------------

# Programs whose first positional argument is the code they run.
INTERPRETERS: re.Pattern[str] = re.compile(
    r"node|nodejs|bun|deno|tsx|ts-node|python[0-9.]*|py|ruby|perl|php|(?:ba|z|da|k)?sh"
)
# Options, for any program, whose value is code or the directory the code lives in.
CODE_PATH_FLAGS: frozenset[str] = frozenset(
    {"-r", "--require", "--import", "--loader", "--experimental-loader", "--directory", "--project", "--from",
     "--prefix"}
)  # fmt: skip
_SUBCOMMANDS: frozenset[str] = frozenset({"run"})
SCRIPT_SUFFIXES: tuple[str, ...] = (".js", ".mjs", ".cjs", ".ts", ".mts", ".py", ".rb", ".pl", ".php", ".sh")
# Package runners that also accept a local directory or tarball path instead of a package name.
LAUNCHERS: frozenset[str] = frozenset({"npx", "uvx", "bunx", "pipx"})


def _looks_like_path(text: str) -> bool:
    return bool(re.match(r"^(?:/|~[/\\]|\.{1,2}[/\\]|[A-Za-z]:[/\\])", text)) or "/" in text or "\\" in text


def _code_paths(server: ResolvedServer) -> list[tuple[str, str]]:
    """The command if given as a path, code-path option values, and the script an interpreter runs.

    Whether an option takes a value is not knowable in general (``-y pkg``, ``-u script.py``),
    so the script is the first non-option argument that looks like a file of code.
    """
    spec = server.spec
    out: list[tuple[str, str]] = []
    if spec.command and _looks_like_path(spec.command):
        out.append(("command", spec.command))
    program = _program(spec.command or "")
    is_interpreter = bool(INTERPRETERS.fullmatch(program))
    is_launcher = program in LAUNCHERS
    script_found = False
    for fld in arg_fields(spec.args):
        value = fld.value
        if fld.key in CODE_PATH_FLAGS and _looks_like_path(value):
            out.append((fld.location, value))
            continue
        if script_found or value.startswith("-") or value in _SUBCOMMANDS:
            continue
        is_script = _looks_like_path(value) or value.lower().endswith(SCRIPT_SUFFIXES)
        if (is_interpreter and is_script) or (is_launcher and _looks_like_path(value)):
            out.append((fld.location, value))
            script_found = True
    return out


def _resolve(text: str, spec_cwd: str | None) -> Path | None:
    path = Path(os.path.expanduser(text))
    if not path.is_absolute():
        if not spec_cwd:
            return None  # the client's working directory is unknown: do not guess
        path = Path(os.path.expanduser(spec_cwd)) / path
    return path


def _under(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def writable_by_others(path: Path, host: HostContext) -> str | None:
    """Why other local users could replace the code at ``path``, or None if they cannot."""
    try:
        real = Path(os.path.realpath(path))
        st = os.stat(real)
    except (OSError, ValueError):
        return None
    for temp in host.shared_temp_dirs:
        for candidate in {path, real}:
            if _under(candidate, temp) or _under(candidate, Path(os.path.realpath(temp))):
                return f"it is inside the shared temporary directory {temp}"
    if st.st_mode & stat.S_IWOTH:
        return f"{real} itself is world-writable (mode {stat.S_IMODE(st.st_mode):o})"
    trusted_owners = {0} | ({host.uid} if host.uid is not None else set())
    entry, entry_stat = real, st
    for parent in real.parents:
        try:
            pst = os.stat(parent)
        except OSError:
            return None
        if pst.st_mode & stat.S_IWOTH:
            if not pst.st_mode & stat.S_ISVTX:
                return f"directory {parent} is world-writable without the sticky bit"
            if entry_stat.st_uid not in trusted_owners:
                return (
                    f"directory {parent} is world-writable and {entry} belongs to another user "
                    f"(uid {entry_stat.st_uid}), who may replace it"
                )
        entry, entry_stat = parent, pst
    return None


def check_world_writable(server: ResolvedServer, ctx: CheckContext) -> Iterator[Hit]:
    """The server's binary, script or code directory, stat-ed on disk for who may replace it."""
    for location, text in _code_paths(server):
        path = _resolve(text, server.spec.cwd)
        if path is None:
            continue
        reason = writable_by_others(path, ctx.host)
        if reason is None:
            continue
        shown = display_path(path, ctx.host.home)
        yield Hit(
            fact=f"{location} {shown}: {reason}",
            evidence=(entry_evidence(server, f"{server.spec.name}: {location} = {text}"),),
            params=(("paths", shown),),
            package=server.package,
        )


# --- DT-SCAN-012 unresolved package --------------------------------------------------------------


def check_unresolved(server: ResolvedServer, ctx: CheckContext) -> Iterator[Hit]:
    """A local command that resolve could not map to any package or file."""
    spec = server.spec
    if server.package is not None or server.installed or spec.transport != "stdio" or not spec.command:
        return
    why = f" ({'; '.join(server.notes)})" if server.notes else ""
    yield Hit(
        fact=f"no package or version could be determined for `{command_line(spec)}`{why}",
        evidence=(entry_evidence(server, command_line_of(server)),),
    )


# --- registry ------------------------------------------------------------------------------------

CHECKS: dict[str, Check] = {
    "DT-SCAN-001": Check(check_malicious_version, params=frozenset({"versions", "cleanup"})),
    "DT-SCAN-002": Check(check_malicious_package, params=frozenset({"cleanup"})),
    "DT-SCAN-003": Check(check_vulnerable_version, params=frozenset({"versions", "upgrade", "cleanup"})),
    "DT-SCAN-004": Check(
        check_floating_version,
        params=frozenset({"pinned_example"}),
        conditions=frozenset({CONDITION_HAS_ADVISORIES}),
    ),
    "DT-SCAN-005": Check(check_docker_digest, params=frozenset({"image"})),
    "DT-SCAN-006": Check(check_ioc, params=frozenset({"iocs"})),
    "DT-SCAN-007": Check(check_inline_secret, params=frozenset({"secret_keys"})),
    "DT-SCAN-008": Check(check_mail_forwarding, params=frozenset({"mail_params"})),
    "DT-SCAN-009": Check(check_plaintext_remote, params=frozenset({"urls"})),
    "DT-SCAN-010": Check(check_shell_wrapper),
    "DT-SCAN-011": Check(check_world_writable, params=frozenset({"paths"})),
    "DT-SCAN-012": Check(check_unresolved),
}
"""Rule id -> check. The rule loader refuses a rules.toml that does not match this table exactly."""
