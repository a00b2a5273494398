"""Confine an MCP server so the egress proxy is its only way out (Linux: bubblewrap; macOS: draft).

``distrust run`` wraps a :class:`~distrust.gateway.launch.ServerLaunch` with :func:`sandboxed`
after :func:`probe` says the machine supports it; the egress proxy's unix socket and CA go into
the :class:`SandboxSpec`.
"""

from distrust.gateway.sandbox.linux import (
    SYSTEM_MOUNTS,
    PreloadError,
    SandboxError,
    SandboxSpec,
    SandboxSupport,
    ensure_preload,
    probe,
    sandboxed,
)

__all__ = [
    "SYSTEM_MOUNTS",
    "PreloadError",
    "SandboxError",
    "SandboxSpec",
    "SandboxSupport",
    "ensure_preload",
    "probe",
    "sandboxed",
]
