"""Language-neutral scanners over raw text, shared by every analyser.

The JavaScript and Python analysers see string literals; shell scripts, READMEs and JSON files
are only text. All of them must agree on what an "interesting" string is: the same URL regex,
the same list of credential locations, the same persistence paths. Keeping those lists here as
plain data tables (``pattern``, ``label``, ``rationale``) means one reviewed list, readable as
documentation, instead of a tangle of ``if`` statements in each analyser.

Everything here is pure: text in, values out. :func:`scan_text` is the one function that turns
findings into :class:`~distrust.model.Capability` records, for files no language analyser reads.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import ipaddress
import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from distrust.analyze.lazyregex import LazyRegex
from distrust.model import Capability

# --- tables --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PathPattern:
    """One entry of a path table: a case-insensitive regex, a short label and why it matters."""

    id: str
    pattern: LazyRegex[str]
    label: str
    rationale: str


def _p(id_: str, regex: str, label: str, rationale: str) -> PathPattern:
    return PathPattern(id_, LazyRegex(regex, re.IGNORECASE), label, rationale)


# A path component boundary: not glued to a word character, dot or dash on the left. This lets
# ".env" match "~/.env" or " .env" but not "process.env", and works both for a bare literal
# (".ssh") and for a path embedded in a command or sentence.
_L = r"(?<![\w.-])"
_R = r"(?![\w-])"

SENSITIVE_PATHS: tuple[PathPattern, ...] = (
    _p("ssh-dir", _L + r"\.ssh" + _R, "SSH directory", "private keys and known hosts live in ~/.ssh"),
    _p("ssh-key", _L + r"id_(?:rsa|dsa|ecdsa|ed25519)" + _R, "SSH private key", "default SSH key names"),
    _p(
        "npmrc", _L + r"\.npmrc" + _R, "npm credentials (.npmrc)", "holds npm auth tokens; npm worms steal it"
    ),
    _p("pypirc", _L + r"\.pypirc" + _R, "PyPI credentials (.pypirc)", "holds PyPI upload tokens"),
    _p("aws", _L + r"\.aws/(?:credentials|config)" + _R, "AWS credentials", "AWS access keys"),
    _p("dotenv", _L + r"\.env(?:\.[a-z]+)?(?![\w/-])", "dotenv file (.env)", "app secrets by convention"),
    _p("git-credentials", _L + r"\.git-credentials" + _R, "git credentials", "plain-text git passwords"),
    _p("netrc", _L + r"[._]netrc" + _R, "netrc credentials", "plain-text login passwords for hosts"),
    _p("docker", r"\.docker/config\.json", "Docker registry credentials", "registry auth tokens"),
    _p("kube", r"\.kube/config", "Kubernetes config", "cluster credentials"),
    _p("gh-cli", r"gh/hosts\.yml", "GitHub CLI token", "gh stores its OAuth token there"),
    _p("gcloud", r"\.config/gcloud" + _R, "Google Cloud credentials", "gcloud tokens"),
    _p("azure", _L + r"\.azure/", "Azure CLI credentials", "az tokens"),
    _p("gnupg", _L + r"\.gnupg" + _R, "GnuPG keyring", "private signing keys"),
    _p("history", _L + r"\.(?:bash|zsh|sh)_history" + _R, "shell history", "commands often contain secrets"),
    _p("passwd", r"/etc/(?:passwd|shadow)" + _R, "system account database", "user list / password hashes"),
    _p("keychain", r"Library/Keychains", "macOS keychain", "stored passwords"),
    _p(
        "browser-profile",
        r"(?:Google/Chrome|Chromium|BraveSoftware/Brave-Browser|Microsoft/Edge|Vivaldi|Yandex/YandexBrowser"
        r"|Opera Software/Opera(?: GX)? Stable|google-chrome|\.mozilla/firefox|Mozilla/Firefox/Profiles)"
        + _R,
        "browser profile directory",
        "saved passwords, cookies and session tokens of the user's browser",
    ),
    _p("login-data", r"Login Data" + _R, "browser saved passwords (Login Data)", "Chromium password store"),
    _p("web-data", r"(?<![\w-])Web Data" + _R, "browser autofill (Web Data)", "cards and addresses"),
    _p(
        "local-state",
        r"(?<![\w-])Local State" + _R,
        "browser key (Local State)",
        "key that decrypts passwords",
    ),
    _p(
        "cookies",
        r"(?:Network|Default|Profile \d+)/Cookies" + _R + r"|cookies\.sqlite",
        "browser cookies",
        "session cookies let an attacker log in as the user",
    ),
    _p(
        "firefox-logins",
        _L + r"(?:logins\.json|key[34]\.db)" + _R,
        "Firefox saved passwords",
        "password store",
    ),
    _p(
        "leveldb",
        r"Local Storage/leveldb",
        "app Local Storage (leveldb)",
        "Electron/browser tokens, e.g. Discord",
    ),
    _p(
        "discord",
        r"(?:^|/)(?:discord|discordcanary|discordptb|lightcord)/",
        "Discord client data",
        "Discord token stealers read the client's Local Storage",
    ),
    _p("telegram", r"Telegram Desktop/tdata", "Telegram session", "tdata holds the logged-in session"),
    _p("wallet-dat", _L + r"wallet\.dat" + _R, "crypto wallet: wallet.dat", "Bitcoin Core wallet file"),
    _p("wallet-exodus", r"Exodus/|exodus\.wallet", "crypto wallet: Exodus", "wallet data directory"),
    _p("wallet-electrum", r"Electrum/wallets|\.electrum" + _R, "crypto wallet: Electrum", "wallet files"),
    _p("wallet-atomic", r"atomic/Local Storage", "crypto wallet: Atomic", "wallet data"),
    _p("wallet-keystore", r"Ethereum/keystore", "crypto wallet: Ethereum keystore", "encrypted private keys"),
    _p(
        "wallet-extension",
        r"nkbihfbeogaeaoehlefnkodbefgpgknn|bfnaelmomeimhlpmgjnjophhpkkoljpa|MetaMask",
        "crypto wallet: browser extension (MetaMask/Phantom)",
        "extension storage holds the encrypted vault",
    ),
    _p(
        "mcp-config",
        r"claude_desktop_config\.json|(?:^|/|\s)\.?(?:cursor|vscode)/mcp\.json|(?<![\w.-])mcp\.json|"
        r"mcp_config\.json|cline_mcp_settings\.json|(?<![\w-])\.claude\.json",
        "MCP client config",
        "lists every MCP server with its API keys in env",
    ),
)

PERSISTENCE_PATHS: tuple[PathPattern, ...] = (
    _p(
        "shell-rc",
        r"(?:^|[/~\s\"'])\.(?:bashrc|bash_profile|bash_login|profile|zshrc|zprofile|zshenv|zlogin)" + _R,
        "shell startup file",
        "code appended here runs in every new shell",
    ),
    _p(
        "crontab", r"(?<![\w-])crontab" + _R + r"|/etc/cron|/var/spool/cron", "cron", "scheduled re-execution"
    ),
    _p(
        "systemd",
        r"systemd/(?:system|user)/|/etc/systemd|systemctl\s+(?:--user\s+)?enable",
        "systemd unit",
        "a service restarts the payload at boot",
    ),
    _p("launchd", r"Library/Launch(?:Agents|Daemons)", "macOS launch agent", "runs at login/boot"),
    _p("run-key", r"CurrentVersion/Run(?:Once)?" + _R, "Windows Run registry key", "runs at every logon"),
    _p("winlogon", r"CurrentVersion/Winlogon", "Windows Winlogon key", "logon hijack"),
    _p(
        "startup-folder",
        r"Start Menu/Programs/Startup|shell:startup",
        "Windows Startup folder",
        "runs at logon",
    ),
    _p("schtasks", r"(?<![\w-])schtasks" + _R, "Windows scheduled task", "scheduled re-execution"),
    _p("autostart", r"\.config/autostart", "XDG autostart", "runs at desktop login"),
    _p("init", r"/etc/rc\.local|/etc/init\.d|/etc/profile\.d", "system init script", "runs at boot/login"),
    _p("ld-preload", r"/etc/ld\.so\.preload", "ld.so.preload", "injects a library into every process"),
    _p(
        "py-startup",
        _L + r"(?:sitecustomize|usercustomize)\.py" + _R,
        "Python startup hook",
        "runs in every Python process",
    ),
)

PROPAGATION_PATTERNS: tuple[PathPattern, ...] = (
    _p("twine", r"\btwine\s+upload\b|upload\.pypi\.org", "PyPI upload", "publishing packages as the victim"),
    _p("pypi-token", r"\bpypi-AgE", "PyPI API token", "token prefix of PyPI upload tokens"),
    _p("npm-publish", r"\bnpm\s+publish\b", "npm publish", "publishing packages as the victim (npm worms)"),
    _p("npm-token", r"_authToken", "npm auth token", "npm registry credential key"),
    _p(
        "gh-workflow",
        r"\.github/workflows",
        "CI workflow file",
        "a workflow write runs code in CI with secrets",
    ),
    _p("git-push", r"\bgit\s+push\b", "git push", "pushes code to the victim's repositories"),
    _p("gh-token", r"\bgh\s+auth\s+token\b", "GitHub CLI token read", "steals the GitHub token"),
)

PUBLIC_IP_SERVICES: tuple[str, ...] = (
    "api.ipify.org",
    "api64.ipify.org",
    "ipify.org",
    "ipinfo.io",
    "ifconfig.me",
    "ifconfig.co",
    "icanhazip.com",
    "checkip.amazonaws.com",
    "ip-api.com",
    "ipapi.co",
    "ipwho.is",
    "myexternalip.com",
    "wtfismyip.com",
    "api.myip.com",
    "ident.me",
    "ipecho.net",
    "geolocation-db.com",
    "checkip.dyndns.org",
)
"""Hosts that answer "what is my public IP": a classic first step of victim profiling."""


@dataclass(frozen=True)
class Marker:
    """A prompt-injection marker: text that addresses the model rather than describing a tool."""

    id: str
    pattern: LazyRegex[str]
    label: str
    rationale: str


def _m(id_: str, regex: str, label: str, rationale: str) -> Marker:
    return Marker(id_, LazyRegex(regex, re.IGNORECASE), label, rationale)


PROMPT_INJECTION_MARKERS: tuple[Marker, ...] = (
    _m(
        "tag",
        r"<\s*/?\s*(?:important|system|instructions?|secret|hidden|admin)\s*>",
        "instruction tag",
        "<IMPORTANT>/<SYSTEM> blocks are the signature of tool-poisoning attacks",
    ),
    _m(
        "ignore-previous",
        r"\b(?:ignore|disregard|forget)\s+(?:all\s+)?(?:the\s+)?(?:previous|prior|above|earlier)\s+"
        r"(?:instructions|rules|messages)",
        "ignore previous instructions",
        "overrides the user's or client's instructions",
    ),
    _m(
        "hide-from-user",
        r"\b(?:do\s+not|don'?t|never)\s+(?:tell|mention|inform|reveal|show|notify|alert|disclose)\b"
        r"[^.\n]{0,60}\buser",
        "hide from the user",
        "a benign tool never asks the model to keep secrets from its user",
    ),
    _m(
        "sidenote",
        r"\b(?:pass|send|include|put)\s+(?:its|the|their|all)\s+(?:content|contents|data)\s+(?:as|in|into)\b",
        "exfiltration instruction",
        "asks the model to smuggle data through a parameter",
    ),
    _m(
        "other-tools",
        r"\b(?:when|whenever|before)\s+(?:using|calling)\s+(?:any\s+)?(?:other|the\s+\w+)\s+tools?\b",
        "instructions about other tools",
        "tool shadowing: changes how other servers' tools behave",
    ),
)

# --- literal extraction ---------------------------------------------------------------------


@dataclass(frozen=True)
class TextHit:
    """A value found in text, with its 1-based line and character offset."""

    value: str
    line: int
    offset: int


_URL_RE = re.compile(r"\b(?:https?|wss?|ftps?)://[^\s\"'<>`\\)\]}|^]+", re.IGNORECASE)
# Decoded text is often glued together ("…threadinghttps://…"): there the scheme need not start a word.
_EMBEDDED_URL_RE = re.compile(r"(?:https?|wss?|ftps?)://[^\s\"'<>`\\)\]}|^]+", re.IGNORECASE)
_EMAIL_RE = re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b")
_IPV4_RE = re.compile(
    r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w.])"
)
# Address-shaped strings that are file names or package specs, not mailboxes.
_NOT_EMAIL_TLDS = frozenset(
    {"png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "js", "mjs", "cjs", "ts", "tsx", "jsx", "py", "css"}
    | {"scss", "json", "map", "md", "txt", "html", "xml", "yml", "yaml", "lock"}
)
_NOT_EMAIL_LOCALS = frozenset({"git"})  # git@github.com is an SSH login, not a mailbox


class _Lines:
    """Maps character offsets to 1-based line numbers in O(log n), indexed on first use."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._starts: list[int] | None = None

    def line(self, offset: int) -> int:
        if self._starts is None:
            self._starts = [0]
            self._starts.extend(m.end() for m in re.finditer("\n", self._text))
        return bisect.bisect_right(self._starts, offset)


# The finders below run over every text file (a package may ship megabytes of JSON and
# Markdown). Their patterns start with a look-behind or \b, so a plain finditer tries the
# full pattern at every character. Each match can only begin at a few places a substring
# search finds (before a "://", at the local part before an "@", at a run of digits and
# dots), so the pattern is tried only there, which yields exactly what finditer yields.


def _matches_at(pattern: re.Pattern[str], text: str, starts: Iterable[int]) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)``, trying only ``starts``: every position a match can begin at.

    ``pattern.match(text, pos)`` sees the characters before ``pos`` for ``\b`` and look-behind,
    so each attempt is the one finditer makes at that position, and taking the first match at
    or after the end of the previous one keeps finditer's left-to-right, non-overlapping order.
    (None of the patterns here can match the empty string.)
    """
    end = 0
    for start in sorted(set(starts)):
        if start >= end and (m := pattern.match(text, start)) is not None:
            yield m
            end = m.end()


def _url_starts(text: str) -> Iterator[int]:
    """A URL begins with its scheme (2 to 5 letters) right before its first ``://``.

    (So does one glued to a preceding word: the scheme still ends where ``://`` begins.)
    """
    i = text.find("://")
    while i != -1:
        yield from range(max(0, i - 5), max(0, i - 1))
        i = text.find("://", i + 1)


_EMAIL_LOCAL_CHARS = frozenset(string.ascii_letters + string.digits + "._%+-")


def _email_starts(text: str) -> Iterator[int]:
    """An address begins where the run of local-part characters before its ``@`` begins.

    Any later start has a local-part character before it, which the look-behind rejects.
    """
    at = text.find("@")
    while at != -1:
        start = at
        while start > 0 and text[start - 1] in _EMAIL_LOCAL_CHARS:
            start -= 1
        if start < at:
            yield start
        at = text.find("@", at + 1)


_IPV4_RUN = re.compile(r"[\d.]{7,}")


def _ipv4_starts(text: str) -> Iterator[int]:
    """An address is made of digits and dots with neither before it: it begins a run of them."""
    return (m.start() for m in _IPV4_RUN.finditer(text))


def find_urls(text: str, *, embedded: bool = False) -> list[TextHit]:
    """URL literals (http, https, ws, wss, ftp), trailing punctuation trimmed.

    ``embedded=True`` also finds a URL glued to a preceding word, as in text decoded from
    character codes where several strings were packed together without separators.
    """
    lines = _Lines(text)
    hits = []
    for m in _matches_at(_EMBEDDED_URL_RE if embedded else _URL_RE, text, _url_starts(text)):
        url = m.group(0).rstrip(".,;:!?*'\"")
        if len(url) > len(m.group(0).split("://", 1)[0]) + 3:
            hits.append(TextHit(url[:500], lines.line(m.start()), m.start()))
    return hits


def find_emails(text: str) -> list[TextHit]:
    """Email address literals, without image names (``logo@2x.png``) and SSH logins (``git@``)."""
    lines = _Lines(text)
    hits = []
    for m in _matches_at(_EMAIL_RE, text, _email_starts(text)):
        address = m.group(0)
        local, _, domain = address.rpartition("@")
        if domain.rsplit(".", 1)[-1].lower() in _NOT_EMAIL_TLDS or local.lower() in _NOT_EMAIL_LOCALS:
            continue
        hits.append(TextHit(address, lines.line(m.start()), m.start()))
    return hits


def is_public_ip(text: str) -> bool:
    """True for a routable address: not private, loopback, link-local, documentation or reserved."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return False
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def find_ips(text: str, *, public_only: bool = True) -> list[TextHit]:
    """IPv4 literals; by default only public ones (a private address says nothing about exfiltration)."""
    lines = _Lines(text)
    return [
        TextHit(m.group(0), lines.line(m.start()), m.start())
        for m in _matches_at(_IPV4_RE, text, _ipv4_starts(text))
        if not public_only or is_public_ip(m.group(0))
    ]


def host_of(url: str) -> str | None:
    """``host[:port]`` of a URL, lower-cased, or None when the URL has no parsable host."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if not host:
        return None
    return f"{host}:{port}" if port else host


def public_ip_service(url_or_host: str) -> str | None:
    """The public-IP lookup service a URL or host names, if any."""
    host = (host_of(url_or_host) if "://" in url_or_host else url_or_host) or ""
    host = host.split(":", 1)[0].lower()
    for service in PUBLIC_IP_SERVICES:
        if host == service or host.endswith("." + service):
            return service
    return None


# --- path tables API -----------------------------------------------------------------------


def _normalise_path(text: str) -> str:
    return text.replace("\\\\", "/").replace("\\", "/")


_PREFILTERS: dict[int, re.Pattern[str]] = {}


def _first_label(table: tuple[PathPattern, ...], text: str) -> str | None:
    # One combined search rejects the common case (no match) before trying entries in order.
    prefilter = _PREFILTERS.get(id(table))
    if prefilter is None:
        prefilter = re.compile("|".join(f"(?:{e.pattern.pattern})" for e in table), re.IGNORECASE)
        _PREFILTERS[id(table)] = prefilter
    normalised = _normalise_path(text)
    if not prefilter.search(normalised):
        return None
    for entry in table:
        if entry.pattern.search(normalised):
            return entry.label
    return None


def sensitive_path_label(text: str) -> str | None:
    """Label of the first credential/private location the text mentions, e.g. ``SSH directory``."""
    return _first_label(SENSITIVE_PATHS, text)


def persistence_label(text: str) -> str | None:
    """Label of the first persistence location (rc file, cron, Run key…) the text mentions."""
    return _first_label(PERSISTENCE_PATHS, text)


def propagation_label(text: str) -> str | None:
    """Label of the first self-propagation marker (twine upload, npm publish, workflow write…)."""
    return _first_label(PROPAGATION_PATTERNS, text)


def prompt_injection_markers(text: str) -> list[str]:
    """Labels of every prompt-injection marker in a tool or prompt description (may be empty).

    Besides the marker table, a description that names a secret file ("read ~/.ssh/id_rsa") or
    hides characters from the reader (invisible unicode) is itself a marker.
    """
    found = [marker.label for marker in PROMPT_INJECTION_MARKERS if marker.pattern.search(text)]
    secret = sensitive_path_label(text)
    if secret:
        found.append(f"reference to {secret}")
    if invisible_chars(text):
        found.append("invisible unicode")
    return found


# --- crypto wallets ------------------------------------------------------------------------

WALLET_ADDRESS_PATTERNS: tuple[tuple[str, LazyRegex[str]], ...] = (
    ("ethereum", LazyRegex(r"0x[a-fA-F0-9]{40}")),
    ("bitcoin", LazyRegex(r"bc1[ac-hj-np-z02-9]{25,87}")),
    ("bitcoin", LazyRegex(r"[13][a-km-zA-HJ-NP-Z1-9]{25,34}")),
    ("tron", LazyRegex(r"T[1-9A-HJ-NP-Za-km-z]{33}")),
    ("monero", LazyRegex(r"4[0-9AB][1-9A-HJ-NP-Za-km-z]{93}")),
)
"""Whole-literal wallet address shapes (a literal that IS an address, not one that contains one)."""


def wallet_address_kind(literal: str) -> str | None:
    """The chain whose address shape the whole literal has (``ethereum``, ``bitcoin``…), else None."""
    text = literal.strip()
    for chain, pattern in WALLET_ADDRESS_PATTERNS:
        if pattern.fullmatch(text):
            # A base58 shape that is all letters or all digits is a word or a number, not an address.
            if chain in ("bitcoin", "tron") and (text.isalpha() or not any(c.isdigit() for c in text[1:])):
                continue
            return chain
    return None


# --- entropy, blobs, invisible characters --------------------------------------------------


def entropy(s: str) -> float:
    """Shannon entropy in bits per character (0 for empty); random base64 approaches 6."""
    if not s:
        return 0.0
    counts = Counter(s)
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


BLOB_MIN_BASE64 = 100  # longer than any hash or integrity string (sha512 base64 is 88)
BLOB_MIN_HEX = 130  # longer than a sha512 hex digest (128)
BLOB_MIN_ENTROPY = 3.0  # random hex is ~4 bits/char, random base64 ~6
ENTROPY_MIN_LENGTH = 80
ENTROPY_THRESHOLD = 5.0  # English prose sits near 4.2, random base64 near 6

_BASE64_RE = LazyRegex(r"[A-Za-z0-9+/]+={0,2}|[A-Za-z0-9_-]+={0,2}")
_HEX_RE = LazyRegex(r"(?:0x)?[0-9a-fA-F]+")


def blob_kind(s: str) -> str | None:
    """``"base64"`` or ``"hex"`` when the whole string is a long encoded blob, else None."""
    text = s.strip()
    if len(text) < min(BLOB_MIN_HEX, BLOB_MIN_BASE64) or entropy(text[:4096]) < BLOB_MIN_ENTROPY:
        return None  # repetitive text ("abab…", "====") is padding or art, not a payload
    if len(text) >= BLOB_MIN_HEX and _HEX_RE.fullmatch(text) and len(text) % 2 == 0:
        return "hex"
    if (
        len(text) >= BLOB_MIN_BASE64
        and _BASE64_RE.fullmatch(text)
        and any(c.isupper() for c in text)
        and any(c.islower() for c in text)
        and any(c.isdigit() for c in text)
    ):
        return "base64"
    return None


def is_blob(s: str) -> bool:
    """True when the whole string is a long base64 or hex blob (see :func:`blob_kind`)."""
    return blob_kind(s) is not None



def decode_source(source: bytes) -> str:
    """Source bytes as text for line excerpts: UTF-8 (BOM allowed), else Latin-1 (never fails).

    Lives here, not in the Python analyser, so manifest readers can use it without importing
    that analyser (and its folding and flow modules) for packages with no Python in them.
    """
    try:
        return source.decode("utf-8-sig")
    except UnicodeDecodeError:
        return source.decode("latin-1")


HIDDEN_BASE64_MIN = 16
HIDDEN_BASE64_MAX = 64 * 1024
_BASE64_LITERAL_RE = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}|[A-Za-z0-9_-]{16,}={0,2}")


def is_readable_text(text: str) -> bool:
    """Printable text (tabs and newlines allowed), as opposed to the bytes of a random blob."""
    return bool(text) and all(ch.isprintable() or ch in "\t\n\r" for ch in text)


def hidden_base64_text(literal: str) -> str | None:
    """The text a base64 literal decodes to, when that text names a URL or a public IP address.

    ``"aHR0cHM6Ly9ldmlsLmV4YW1wbGUvdXBsb2Fk"`` is an endpoint someone did not want read. Short
    base64 is everywhere (ids, hashes, keys) but decodes to random bytes; only decodings that
    are readable text *and* contain an address are returned, so ordinary tokens stay quiet.
    """
    text = literal.strip()
    if not HIDDEN_BASE64_MIN <= len(text) <= HIDDEN_BASE64_MAX or not _BASE64_LITERAL_RE.fullmatch(text):
        return None
    if text.islower() or text.isupper():
        return None  # an identifier or a word (snake_case, CONSTANT_NAME), not an encoding
    padded = text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4)
    try:
        raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        decoded = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    if not is_readable_text(decoded) or is_markup(decoded):
        return None
    if any(not is_namespace_url(h.value) for h in find_urls(decoded, embedded=True)) or find_ips(decoded):
        return decoded
    return None


NAMESPACE_HOSTS = frozenset(
    {
        "www.w3.org",
        "w3.org",
        "schemas.xmlsoap.org",
        "schemas.microsoft.com",
        "schemas.openxmlformats.org",
        "purl.org",
        "json-schema.org",
        "ns.adobe.com",
        "xmlns.com",
        "www.inkscape.org",
        "inkscape.sourceforge.net",
        "sodipodi.sourceforge.net",
        "creativecommons.org",
    }
)
"""Hosts of XML/JSON namespace and schema identifiers: names in a document, never contacted."""

_MARKUP_START = re.compile(r"\s*+(?:<\?xml|<svg|<!doctype|<html|<\w++[^>]{0,2000}?\sxmlns=)", re.IGNORECASE)


def is_namespace_url(url: str) -> bool:
    """True for an XML/JSON namespace or schema URL (``http://www.w3.org/2000/svg``)."""
    host = (host_of(url) or "").split(":", 1)[0]
    return host in NAMESPACE_HOSTS


def is_markup(text: str) -> bool:
    """True for an SVG/XML/HTML document: an embedded icon or template, whose URLs are namespaces."""
    return bool(_MARKUP_START.match(text))


HIDDEN_SUMMARY_MAX = 160


_NAME_OR_PLACE = re.compile(
    r"[A-Za-z_][\w.]*|[\w.-]*[/\\~][^\s]*|(?:[a-z0-9-]+\.)+[a-z]{2,}(?::\d+)?", re.IGNORECASE
)


def hidden_summary(via: tuple[str, ...], text: str) -> str:
    """``obfuscation.decoded`` value: how the text was hidden, then what it says (URLs kept in view).

    ``("base64", "zlib")`` and a long script give ``base64+zlib: import os … https://host/x``:
    the first words, then the addresses the rules judge, within a capability value's length.
    Hidden text is sometimes a credential (a base64 "obfuscated" API key or password): token
    shapes are masked like in snippets, and a lone word that is neither a name, a path nor a
    host is shown only by its length.
    """
    summary = " ".join(text.split())
    if " " not in summary and "://" not in summary and not _NAME_OR_PLACE.fullmatch(summary):
        return f"{'+'.join(via)}: [{len(summary)} characters, not shown]"
    if len(summary) > HIDDEN_SUMMARY_MAX:
        urls = [h.value for h in find_urls(summary, embedded=True) if not is_namespace_url(h.value)]
        head = summary[:100]
        tail = " ".join(u[:90] for u in urls[:1] if u not in head)
        summary = f"{head} … {tail}" if tail else head + " …"
    return f"{'+'.join(via)}: {redact(summary)}"


WHITESPACE_PAYLOAD_MIN = 64


def whitespace_payload(literal: str) -> str | None:
    """Bits hidden as spaces and tabs, decoded: the readable text, ``""`` if unreadable, else None.

    A long literal made only of spaces and tabs carries no visible meaning; read as bits
    (space/tab = 0/1, either way round, 8 bits a character) it is a classic way to hide a
    payload from reviewers. None means the literal is not such a string at all.
    """
    if len(literal) < WHITESPACE_PAYLOAD_MIN or " " not in literal or "\t" not in literal:
        return None
    if literal.strip(" \t"):
        return None
    usable = len(literal) - len(literal) % 8
    for zero, one in ((" ", "\t"), ("\t", " ")):
        bits = literal[:usable].replace(zero, "0").replace(one, "1")
        data = bytes(int(bits[i : i + 8], 2) for i in range(0, usable, 8))
        try:
            decoded = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if is_readable_text(decoded) and len(set(decoded)) >= 4:  # "UUUU…" is a pattern, not a message
            return decoded
    return ""


def is_high_entropy(s: str) -> bool:
    """A long string whose characters look random: packed payloads, keys, encrypted code."""
    return len(s) >= ENTROPY_MIN_LENGTH and entropy(s) >= ENTROPY_THRESHOLD


_INVISIBLE_RE = LazyRegex(
    "[\u200b-\u200f"  # zero-width space/joiners, LRM/RLM
    "\u202a-\u202e"  # bidi embeddings and overrides (Trojan Source)
    "\u2060-\u2064"  # word joiner, invisible operators
    "\u2066-\u2069"  # bidi isolates
    "\u00ad\u180e\ufeff\u115f\u1160\u3164\uffa0"  # soft hyphen, fillers, BOM
    "\U000e0000-\U000e007f"  # tag characters: "ASCII smuggling" to language models
    "\U000e0100-\U000e01ef]"  # variation selectors supplement: used to hide bytes
)


def invisible_chars(text: str) -> list[TextHit]:
    """Invisible or bidi-control characters (value ``U+200B ZERO WIDTH SPACE``); a leading BOM is fine."""
    if text.isascii():
        return []
    lines = _Lines(text)
    hits = []
    for m in _INVISIBLE_RE.finditer(text):
        ch = m.group(0)
        if m.start() == 0 and ch == "\ufeff":
            continue
        name = unicodedata.name(ch, "UNNAMED")
        hits.append(TextHit(f"U+{ord(ch):04X} {name}", lines.line(m.start()), m.start()))
    return hits


# --- secrets in snippets -------------------------------------------------------------------

_SECRET_RES: tuple[LazyRegex[str], ...] = (
    LazyRegex(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"),
    LazyRegex(
        r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|npm_[A-Za-z0-9]{20,}|pypi-[A-Za-z0-9_-]{20,}"
        r"|sk-[A-Za-z0-9_-]{20,}|sk_live_[A-Za-z0-9]{10,}|xox[abposr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}"
        r"|AIza[0-9A-Za-z_-]{30,}|SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,})"
    ),
    LazyRegex(r"(?i)(?<=bearer )[A-Za-z0-9._~+/-]{16,}=*"),
    LazyRegex(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{40,}={0,2}(?![A-Za-z0-9+/_-])"),
)


def redact(text: str) -> str:
    """Mask token-shaped substrings (API keys, private keys, long random strings) in a snippet.

    Reports show snippets; a snippet must never leak the secret a package embeds or steals.
    The first four characters stay so a reader can still tell what kind of token it was.
    """
    for pattern in _SECRET_RES:
        text = pattern.sub(lambda m: m.group(0)[:4] + "…[redacted]", text)
    return text


SNIPPET_MAX = 160


def snippet(line_text: str) -> str:
    """A report-safe excerpt of one source line: stripped, truncated, secrets masked."""
    text = line_text.strip()
    if len(text) > SNIPPET_MAX:
        text = text[:SNIPPET_MAX] + "…"
    return redact(text)


# --- whole-file scanning -------------------------------------------------------------------


@dataclass(frozen=True)
class ShellRule:
    """A shell-command pattern and the capability it implies."""

    id: str
    pattern: LazyRegex[str]
    kind: str
    value: str
    rationale: str


def _s(id_: str, regex: str, kind: str, value: str, rationale: str) -> ShellRule:
    return ShellRule(id_, LazyRegex(regex), kind, value, rationale)


SHELL_RULES: tuple[ShellRule, ...] = (
    _s("curl", r"\b(?:curl|wget)\b", "network.request", "curl/wget", "downloads or uploads data"),
    _s("dev-tcp", r"/dev/(?:tcp|udp)/", "network.request", "/dev/tcp", "bash raw socket: reverse shells"),
    _s(
        "netcat",
        r"(?<![\w-])n(?:c|cat|etcat)\s+(?:-\w+\s+)*[\w.]+\s+\d+",
        "network.request",
        "netcat",
        "raw TCP connection",
    ),
    _s(
        "pipe-shell",
        r"\|\s*(?:sudo\s+)?(?:ba|z|da)?sh\b",
        "code.dynamic",
        "pipe to shell",
        "runs whatever was downloaded or decoded",
    ),
    _s(
        "decode-exec",
        r"base64\s+(?:-d|--decode)[^\n|]*\|\s*(?:ba|z)?sh\b|\beval\s+\"?\$\(\s*echo\b[^\n]*base64",
        "code.decode_exec",
        "base64 | sh",
        "hidden payload decoded and run",
    ),
    _s("eval", r"(?<![\w-])eval\s", "code.dynamic", "eval", "runs a computed command"),
    _s(
        "interpreter",
        r"\b(?:python[23]?|node|perl|ruby)\s+-[ce]\b",
        "process.spawn",
        "inline interpreter",
        "runs inline code",
    ),
    _s("rm-rf", r"\brm\s+-(?:rf|fr|r)\b", "file.delete", "rm -r", "recursive deletion"),
    _s("chmod", r"\bchmod\s+(?:\+x|[0-7]{3,4})\b", "file.write", "chmod", "makes a dropped file executable"),
    _s(
        "recon",
        r"\b(?:whoami|hostname|uname\s+-a|ifconfig|ip\s+addr)\b",
        "recon.system",
        "system recon",
        "collects user and host identity",
    ),
    _s(
        "env-dump",
        r"(?<![\w$-])(?:printenv|env)\s*(?:$|[|>])",
        "env.enumerate",
        "env dump",
        "the whole environment, secrets included",
    ),
)


def scan_text(path: str, text: str, *, shell: bool = False) -> list[Capability]:
    """Capabilities visible in plain text: URLs, hosts' IPs, email addresses, invisible unicode.

    With ``shell=True`` (shell scripts, npm script commands) commands are read too: downloads,
    pipes into a shell, deletion, and mentions of credential, persistence and propagation paths.
    Line numbers are 1-based; snippets are redacted.
    """
    source_lines = text.splitlines()

    def line_text(line: int) -> str:
        return snippet(source_lines[line - 1]) if 0 < line <= len(source_lines) else ""

    caps: list[Capability] = []
    for hit in find_urls(text):
        caps.append(Capability("network.url", hit.value, path, hit.line, line_text(hit.line)))
        service = public_ip_service(hit.value)
        if service:
            caps.append(
                Capability("recon.system", f"public IP lookup {service}", path, hit.line, line_text(hit.line))
            )
    for hit in find_ips(text):
        caps.append(Capability("network.ip", hit.value, path, hit.line, line_text(hit.line)))
    for hit in find_emails(text):
        caps.append(Capability("email.address", hit.value, path, hit.line, line_text(hit.line)))
    seen_lines: set[int] = set()
    for hit in invisible_chars(text):
        if hit.line not in seen_lines:
            seen_lines.add(hit.line)
            caps.append(Capability("obfuscation.unicode", hit.value, path, hit.line, line_text(hit.line)))
    if shell:
        caps.extend(_scan_shell_lines(path, source_lines))
    return caps


def _scan_shell_lines(path: str, source_lines: list[str]) -> list[Capability]:
    caps: list[Capability] = []
    for number, raw in enumerate(source_lines, start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#") or stripped.startswith("REM "):
            continue
        excerpt = snippet(raw)
        for rule in SHELL_RULES:
            if rule.pattern.search(raw):
                caps.append(Capability(rule.kind, rule.value, path, number, excerpt))
        for kind, label in (
            ("file.read.sensitive", sensitive_path_label(raw)),
            ("persistence", persistence_label(raw)),
            ("propagation", propagation_label(raw)),
        ):
            if label:
                caps.append(Capability(kind, label, path, number, excerpt))
    return caps
