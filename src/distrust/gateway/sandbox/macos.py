"""A ``sandbox-exec`` (Seatbelt) profile with the Linux sandbox's intent, for macOS.

UNTESTED HERE: distrust's CI runs on Linux, so this module is a reviewed draft, checked only
for the profile text it produces. ``sandbox-exec`` is deprecated by Apple but still ships and
is what comparable tools use.

macOS has no network namespaces, so the egress proxy listens on the host's loopback port and
the profile allows outbound connections to that one port only; DNS, other ports and other
hosts are denied. Reads are denied by default and allowed for system locations, the toolchain,
the store entry and grants; writes only for grants, the private HOME and TMPDIR. Credential
folders are denied again at the end (in SBPL the last matching rule wins), so a grant that
happens to contain one cannot expose it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from distrust.gateway.launch import ServerLaunch
from distrust.gateway.sandbox.linux import CA_ENV_KEYS

SYSTEM_READ_PATHS: tuple[str, ...] = (
    "/usr",
    "/bin",
    "/sbin",
    "/System",
    "/Library/Frameworks",
    "/Library/Apple",
    "/private/etc/ssl",
    "/private/var/db/timezone",
    "/opt/homebrew",
    "/dev",
)
"""Programs, frameworks, CA bundles and Homebrew (where node and python usually live on macOS)."""

SECRET_HOME_PATHS: tuple[str, ...] = (
    ".ssh",
    ".aws",
    ".gnupg",
    ".config/gcloud",
    ".azure",
    ".kube",
    ".docker",
    ".npmrc",
    ".pypirc",
    ".netrc",
    ".git-credentials",
    "Library/Keychains",
)
"""Credential locations under the real HOME that stay unreadable whatever the grants say."""


@dataclass(frozen=True)
class MacSandboxSpec:
    """What one server may touch on macOS; the counterpart of the Linux ``SandboxSpec``."""

    real_home: Path
    private_home: Path
    private_tmp: Path
    ro_paths: tuple[Path, ...] = ()
    rw_paths: tuple[Path, ...] = ()
    proxy_port: int = 3128
    ca_cert: Path | None = None


def _quote(path: Path | str) -> str:
    """An SBPL string literal: backslashes and double quotes escaped, so a path cannot end the rule."""
    text = str(path).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _subpaths(paths: Iterable[Path | str]) -> str:
    return " ".join(f"(subpath {_quote(p)})" for p in paths)


def seatbelt_profile(spec: MacSandboxSpec) -> str:
    """The profile text for ``sandbox-exec -p``."""
    if not 1 <= spec.proxy_port <= 65535:
        raise ValueError(f"proxy_port {spec.proxy_port} is not a TCP port (1-65535)")
    readable = [*spec.ro_paths, *([spec.ca_cert] if spec.ca_cert else [])]
    writable = [spec.private_home, spec.private_tmp, *spec.rw_paths]
    secrets = [spec.real_home / rel for rel in SECRET_HOME_PATHS]
    lines = [
        "(version 1)",
        "(deny default)",
        "(allow process-fork process-exec)",
        "(allow signal (target same-sandbox))",
        "(allow process-info* (target same-sandbox))",
        "(allow sysctl-read)",
        "(allow mach-lookup)",
        "(allow ipc-posix-shm ipc-posix-sem)",
        "(allow file-read-metadata)",
        '(allow file-read* (literal "/"))',
        f"(allow file-read* {_subpaths(SYSTEM_READ_PATHS)})",
    ]
    if readable:
        lines.append(f"(allow file-read* {_subpaths(readable)})")
    lines.append(f"(allow file-read* file-write* {_subpaths(writable)})")
    lines.append('(allow file-write* (literal "/dev/null") (literal "/dev/stdout") (literal "/dev/stderr"))')
    lines.append(f'(allow network-outbound (remote ip "localhost:{spec.proxy_port}"))')
    lines.append(f"(deny file-read* file-write* {_subpaths(secrets)})")
    return "\n".join(lines) + "\n"


def sandboxed_macos(launch: ServerLaunch, spec: MacSandboxSpec) -> ServerLaunch:
    """Wrap ``launch`` in ``sandbox-exec`` with :func:`seatbelt_profile`, proxy and CA variables."""
    env = dict(launch.env)
    proxy = f"http://127.0.0.1:{spec.proxy_port}"
    for key in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        env[key] = proxy
    env["NO_PROXY"] = ""
    env["HOME"] = str(spec.private_home)
    env["TMPDIR"] = str(spec.private_tmp)
    if spec.ca_cert is not None:
        for key in CA_ENV_KEYS:
            env[key] = str(spec.ca_cert)
    command = ("/usr/bin/sandbox-exec", "-p", seatbelt_profile(spec), *launch.command)
    return ServerLaunch(command=command, env=env, cwd=launch.cwd)
