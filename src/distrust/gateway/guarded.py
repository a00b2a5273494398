"""A server run with no way out but the egress proxy, and every request read against intent.

This is where the gateway's parts meet: the relay (which knows the tool call in flight), the
egress proxy on a private unix socket (which sees each outbound request, decrypted), the
inspectors (which find the recipients in it) and the bubblewrap sandbox (which makes the proxy
the only exit). postmark-mcp 1.0.16 only ever talked to api.postmarkapp.com; what gave it away
was a Bcc no tool call had asked for, and that is what gets blocked here.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from distrust.gateway import relay
from distrust.gateway.audit import AuditLog
from distrust.gateway.egress import InflightCall, InspectionContext
from distrust.gateway.egress.inspectors import default_inspectors
from distrust.gateway.egress.policy import EgressPolicy
from distrust.gateway.egress.proxy import EgressProxy, EgressProxyThread
from distrust.gateway.egress.tls import CertificateAuthority
from distrust.gateway.launch import ServerLaunch
from distrust.gateway.sandbox import SandboxSpec, ensure_preload, probe, sandboxed
from distrust.gateway.surface import SurfaceStore
from distrust.judge.secrets import is_secret_key

# Test and demo hook: route a real host to a local stand-in (``host=url,host=url``). The server
# keeps believing it talks to the real host; nothing else changes. Never needed in normal use.
OVERRIDES_ENV = "DISTRUST_EGRESS_OVERRIDES"


class GuardError(Exception):
    """The guarded run cannot start (no sandbox support, bad override); the message says why."""


@dataclass(frozen=True)
class EgressSettings:
    """What one server may reach and whom it may mail, from the lock (or ``run`` options)."""

    allow_hosts: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()  # addresses or @domains always allowed as recipients
    ro_paths: tuple[Path, ...] = ()  # the server's code (store entry, script folder)
    rw_paths: tuple[Path, ...] = ()  # per-server filesystem grants
    overrides: Mapping[str, str] = field(default_factory=dict)
    iocs: tuple[str, ...] = ()


def overrides_from_env(environ: Mapping[str, str]) -> dict[str, str]:
    """Parse ``DISTRUST_EGRESS_OVERRIDES`` (``host=url,…``); a malformed entry is an error."""
    text = environ.get(OVERRIDES_ENV, "").strip()
    result: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        host, sep, url = item.partition("=")
        if not sep or not host or not url.startswith(("http://", "https://")):
            raise GuardError(f"{OVERRIDES_ENV}: {item!r} is not host=http(s)://url")
        result[host.strip().lower()] = url.strip()
    return result


def known_iocs() -> tuple[str, ...]:
    """Malicious addresses and domains from the advisory store (empty if it cannot be read)."""
    from distrust.intel.store import AdvisoryStore

    try:
        return tuple(i.value for i in AdvisoryStore.load().iocs() if i.kind in ("email", "domain"))
    except Exception:  # intel is advisory here; the recipient rule still applies without it
        return ()


class RelayIntent:
    """The relay's in-flight tool calls, as the egress inspectors ask for them."""

    def inflight(self, server: str) -> list[InflightCall]:
        return [InflightCall(str(c.call_id), c.tool, c.arguments) for c in relay.inflight(server)]

    def flag(self, server: str, call_id: str, detail: str) -> None:
        gateway = relay.session(server)
        if gateway is None:
            return
        for call in relay.inflight(server):
            if str(call.call_id) == call_id:
                gateway.flag_call(call.call_id, "blocked-egress", detail)
                return


def run_guarded(
    launch: ServerLaunch,
    *,
    server_name: str,
    surfaces: SurfaceStore,
    audit: AuditLog,
    settings: EgressSettings,
    sandbox: bool = True,
) -> int:
    """Run ``launch`` behind the relay, inside the sandbox, with egress through the proxy.

    ``sandbox=False`` is the explicit, logged opt-out: the proxy still runs and the server is
    told to use it, but nothing stops it from going around.
    """
    support = probe()
    if sandbox and not support.ok:
        raise GuardError(
            f"cannot sandbox {server_name}: {support.reason}. "
            "Install bubblewrap and socat, or run with --no-sandbox (logged) at your own risk."
        )
    ca = CertificateAuthority.load_or_create()
    secrets = tuple((k, v) for k, v in launch.env.items() if is_secret_key(k) and len(v) >= 8)

    def context() -> InspectionContext:
        return InspectionContext(
            calls=(),
            allowed_recipients=settings.recipients,
            iocs=settings.iocs,
            server_secrets=secrets,
        )

    def on_event(event: dict[str, object]) -> None:
        audit.event(server_name, "egress", dict(event))

    policy = EgressPolicy(allow_hosts=settings.allow_hosts, upstream_overrides=dict(settings.overrides))
    proxy = EgressProxy(
        server_name,
        policy,
        default_inspectors(settings.allow_hosts),
        RelayIntent(),
        ca,
        context=context,
        on_event=on_event,
    )
    workdir = Path(tempfile.mkdtemp(prefix="distrust-"))  # short path: unix socket names are capped
    try:
        socket_path = workdir / "egress.sock"
        with EgressProxyThread(proxy, unix_path=socket_path):
            if sandbox:
                spec = SandboxSpec(
                    egress_socket=socket_path,
                    ro_paths=tuple(p for p in settings.ro_paths if p.exists()),
                    rw_paths=settings.rw_paths,
                    ca_cert=ca.ca_cert_path,
                    node_preload=ensure_preload(),
                )
                guarded = sandboxed(launch, spec, support=support)
            else:
                audit.event(server_name, "sandbox-disabled", {"reason": "--no-sandbox"})
                guarded = launch
            return relay.run_stdio(guarded, server_name=server_name, surfaces=surfaces, audit=audit)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def script_paths(command: Sequence[str]) -> tuple[Path, ...]:
    """Folders an ad-hoc command's own files live in (``node /srv/x/index.js`` → ``/srv/x``).

    The sandbox mounts only what it is told; the package root (nearest folder with a
    package.json or pyproject.toml) is mounted read-only so the server can load its modules.
    """
    found: list[Path] = []
    for word in command[1:]:
        path = Path(word)
        if not path.is_absolute() or not path.exists():
            continue
        folder = path if path.is_dir() else path.parent
        root = folder
        for candidate in (folder, *folder.parents):
            if (candidate / "package.json").exists() or (candidate / "pyproject.toml").exists():
                root = candidate
                break
        found.append(Path(os.path.realpath(root)))
        modules = root / "node_modules"
        if modules.is_symlink():  # a linked node_modules lives elsewhere: mount where it points
            found.append(Path(os.path.realpath(modules)))
    return tuple(dict.fromkeys(found))
