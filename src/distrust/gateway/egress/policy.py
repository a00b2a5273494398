"""Which hosts a sandboxed server may reach, decided before any byte leaves the machine.

The sandbox has no DNS of its own, so the proxy resolves names and judges the addresses: a
name on the allowlist that resolves to ``127.0.0.1`` or ``169.254.169.254`` would otherwise be
a path from the sandbox to the host's own services or a cloud metadata endpoint. The proxy then
connects to the address it judged (see :class:`HostDecision`), so a second, different DNS
answer cannot slip in between the check and the connection.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import urlsplit

DEFAULT_MAX_BODY = 10 * 1024 * 1024
DNS_CACHE_SECONDS = 30.0

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Address ranges a sandboxed server must never reach, with the reason shown when one is hit.
# Data, not ifs: add a range here and every check picks it up.
FORBIDDEN_NETWORKS: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "unspecified / 'this network'"),
    ("10.0.0.0/8", "private network (RFC 1918)"),
    ("100.64.0.0/10", "carrier-grade NAT (RFC 6598)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local (includes cloud metadata endpoints)"),
    ("172.16.0.0/12", "private network (RFC 1918)"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.168.0.0/16", "private network (RFC 1918)"),
    ("198.18.0.0/15", "benchmarking network"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("255.255.255.255/32", "broadcast"),
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("fc00::/7", "unique local (private)"),
    ("fe80::/10", "link-local"),
    ("ff00::/8", "multicast"),
    ("64:ff9b:1::/48", "local-use NAT64"),
)
_NETWORKS = tuple((ipaddress.ip_network(net), why) for net, why in FORBIDDEN_NETWORKS)

Resolver = Callable[[str, int], list[str]]


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host`` (TCP), in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def forbidden_reason(address: IPAddress) -> str | None:
    """Why ``address`` is off limits, or None. IPv4-mapped IPv6 is judged as the IPv4 inside."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for network, why in _NETWORKS:
        if address.version == network.version and address in network:
            return why
    return None


def normalise_host(host: str) -> str:
    """Hosts compare case-insensitively and without the DNS root dot or IPv6 brackets."""
    return host.strip().strip("[]").rstrip(".").lower()


@dataclass(frozen=True)
class HostDecision:
    """The outcome of a host check: a reason to deny, or where to connect.

    ``address`` is the judged IP to connect to (None for an override, which has its own URL);
    ``override`` is the stand-in base URL when the host is routed elsewhere.
    """

    reason: str | None
    address: str | None = None
    override: str | None = None

    @property
    def allowed(self) -> bool:
        return self.reason is None


@dataclass
class EgressPolicy:
    """Allowlist, private-address rule and body cap for one server's egress.

    ``allow_hosts`` entries are exact names (``api.postmarkapp.com``) or ``*.suffix`` patterns,
    which match any subdomain but not the bare suffix. ``upstream_overrides`` routes a host to a
    stand-in (``http://127.0.0.1:PORT``) for tests and demos: the server still believes it talks
    to the real host, and the stand-in may be on loopback because the user named it explicitly.
    """

    allow_hosts: tuple[str, ...]
    deny_private: bool = True
    upstream_overrides: Mapping[str, str] = field(default_factory=dict)
    max_body: int = DEFAULT_MAX_BODY
    allow_ports: tuple[int, ...] = (80, 443)
    resolver: Resolver = field(default=system_resolver, repr=False)
    dns_cache_seconds: float = DNS_CACHE_SECONDS

    def __post_init__(self) -> None:
        overrides: dict[str, str] = {}
        for host, url in self.upstream_overrides.items():
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"upstream override for {host!r}: {url!r} is not an http(s):// URL")
            overrides[normalise_host(host)] = url.rstrip("/")
        self.upstream_overrides = MappingProxyType(overrides)
        self._exact = frozenset(normalise_host(h) for h in self.allow_hosts if not h.startswith("*."))
        self._suffixes = tuple("." + normalise_host(h[2:]) for h in self.allow_hosts if h.startswith("*."))
        self._cache: dict[tuple[str, int], tuple[float, HostDecision]] = {}
        self._lock = threading.Lock()

    def is_listed(self, host: str) -> bool:
        """Whether ``host`` is on the allowlist (exactly or under a ``*.`` pattern)."""
        name = normalise_host(host)
        return name in self._exact or name.endswith(self._suffixes) or name in self.upstream_overrides

    def check_host(self, host: str, port: int) -> str | None:
        """The reason to deny a connection to ``host:port``, or None when it may go ahead."""
        return self.decide(host, port).reason

    def decide_without_dns(self, host: str, port: int) -> HostDecision | None:
        """The decision when it needs no DNS lookup (override, unlisted, bad port, cached), else None.

        Lets the proxy answer most requests on its event loop and send only real lookups to a thread.
        """
        name = normalise_host(host)
        if not name:
            return HostDecision("empty host name")
        override = self.upstream_overrides.get(name)
        if override is not None:
            return HostDecision(None, override=override)
        if not self.is_listed(name):
            return HostDecision(f"host {name} is not on this server's egress allowlist")
        if port not in self.allow_ports:
            allowed = ", ".join(str(p) for p in self.allow_ports)
            return HostDecision(f"port {port} is not allowed (allowed: {allowed})")
        with self._lock:
            hit = self._cache.get((name, port))
            if hit is not None and hit[0] > time.monotonic():
                return hit[1]
        return None

    def decide(self, host: str, port: int) -> HostDecision:
        """Judge ``host:port``; resolves DNS (blocking, cached briefly), so call it off the event loop."""
        quick = self.decide_without_dns(host, port)
        if quick is not None:
            return quick
        name = normalise_host(host)
        key = (name, port)
        now = time.monotonic()
        decision = self._resolve_and_judge(name, port)
        with self._lock:
            self._cache[key] = (now + self.dns_cache_seconds, decision)
        return decision

    def _resolve_and_judge(self, name: str, port: int) -> HostDecision:
        try:
            addresses = [ipaddress.ip_address(name)]
        except ValueError:
            try:
                addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in self.resolver(name, port)]
            except (OSError, UnicodeError, ValueError) as exc:
                return HostDecision(f"cannot resolve {name}: {exc}")
        if not addresses:
            return HostDecision(f"cannot resolve {name}: no addresses")
        if self.deny_private:
            # Every answer must be public: a round-robin set with one private entry is an attack.
            for address in addresses:
                why = forbidden_reason(address)
                if why is not None:
                    return HostDecision(f"{name} resolves to {address}, a {why} address")
        return HostDecision(None, address=str(addresses[0]))
