"""Find secrets written into a server entry, and redact them everywhere distrust prints.

Two complementary signals, both kept as data tables below:

* **token shapes** recognise a credential by its own form wherever it appears (``ghp_…``,
  ``AKIA…``, a JWT, ``Bearer …``, a password in a URL), whatever key it sits under;
* **secret-named keys** (``*_TOKEN``, ``X-Api-Key``, ``--password``) holding a literal value
  catch the many credentials that have no recognisable shape.

A literal is only a secret if it is not a *reference* that the client resolves at launch
(``${env:X}``, ``${input:x}``, ``$X``, ``<your-key>``, 1Password ``op://`` links): those are
exactly what we recommend, so flagging them would punish the fix.

Redaction keeps only a public, fixed prefix that names the kind of token and the length, e.g.
``ghp_…(40 chars)``: enough to recognise which token to rotate, nothing to reuse.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from distrust.judge.fields import ConfigField, config_fields, key_words
from distrust.model import ServerSpec


@dataclass(frozen=True)
class TokenShape:
    """A credential format recognisable on its own. ``group`` is the part that is secret."""

    id: str
    description: str
    pattern: re.Pattern[str]
    shown_prefix: int = 0  # how many leading characters are a public, fixed marker
    group: int = 0


TOKEN_SHAPES: tuple[TokenShape, ...] = (
    # Order matters: the first shape to claim a span wins, so specific prefixes come first.
    TokenShape(
        "private-key",
        "PEM private key",
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"),
        shown_prefix=0,
    ),
    TokenShape("github-pat", "GitHub fine-grained token", re.compile(r"github_pat_[A-Za-z0-9_]{22,255}"), 11),
    TokenShape("github-token", "GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,255}"), 4),
    TokenShape("anthropic-key", "Anthropic API key", re.compile(r"\bsk-ant-[A-Za-z0-9_-]{20,}"), 7),
    TokenShape(
        "openai-key",
        "OpenAI-style API key",
        re.compile(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"),
        3,
    ),
    TokenShape("stripe-key", "Stripe secret key", re.compile(r"\b[rs]k_(?:live|test)_[0-9A-Za-z]{16,}"), 8),
    TokenShape("slack-token", "Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), 5),
    TokenShape("aws-access-key-id", "AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), 4),
    TokenShape("google-api-key", "Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}"), 4),
    TokenShape("npm-token", "npm access token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"), 4),
    TokenShape(
        "jwt",
        "JSON Web Token",
        re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
        3,
    ),
    TokenShape(
        "bearer", "HTTP bearer token", re.compile(r"(?i)\bBearer\s+([A-Za-z0-9._~+/=-]{8,})"), 0, group=1
    ),
    TokenShape(
        "basic-auth",
        "HTTP basic-auth credential",
        re.compile(r"(?i)\bBasic\s+([A-Za-z0-9+/=]{8,})"),
        0,
        group=1,
    ),
    TokenShape(
        "url-password",
        "password inside a URL",
        re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@]+:([^\s/@]+)@"),
        0,
        group=1,
    ),
)


@dataclass(frozen=True)
class KeyedShape:
    """A format that is only a secret under a telling key (a UUID is not secret in general)."""

    id: str
    description: str
    key_word: str
    pattern: re.Pattern[str]


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

KEYED_SHAPES: tuple[KeyedShape, ...] = (
    KeyedShape("postmark-token", "Postmark server/account token", "POSTMARK", _UUID),
)

# Words that make a key name a secret's name; also matched as a suffix of one run-together
# word (APIKEY, ACCESSTOKEN) for the long ones, where a suffix match cannot be an accident.
SECRET_WORDS: frozenset[str] = frozenset(
    {
        "TOKEN", "SECRET", "KEY", "APIKEY", "PASSWORD", "PASSWD", "PASS", "PWD", "PASSPHRASE",
        "AUTH", "AUTHORIZATION", "CREDENTIAL", "CREDENTIALS", "CREDS", "PAT", "COOKIE",
    }
)  # fmt: skip
SECRET_SUFFIXES: tuple[str, ...] = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "APIKEY")

# Words that say the key names something *about* a secret, not the secret itself
# (TOKEN_FILE is a path, AUTH_MODE a setting, PUBLIC_KEY is public, MAX_TOKENS a number).
NOT_SECRET_WORDS: frozenset[str] = frozenset(
    {
        "FILE", "PATH", "DIR", "DIRECTORY", "URL", "URI", "ENDPOINT", "HOST", "HOSTNAME", "PORT",
        "DOMAIN", "REGION", "ID", "NAME", "USER", "USERNAME", "EMAIL", "TYPE", "MODE", "METHOD",
        "PROVIDER", "SCOPE", "SCOPES", "HEADER", "ENABLED", "DISABLED", "REQUIRED", "LIMIT", "MAX",
        "MIN", "COUNT", "TIMEOUT", "TTL", "EXPIRY", "EXPIRES", "LENGTH", "SIZE", "VERSION", "FORMAT",
        "LOCATION", "KIND", "ALGORITHM", "PUBLIC", "PUBLISHABLE", "ENV", "VAR",
    }
)  # fmt: skip

# References a client resolves at launch. A value made only of these (plus an auth scheme word)
# carries no secret.
REFERENCE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("vscode-style ${…}", re.compile(r"\$\{[^{}]*\}")),
    ("shell $NAME", re.compile(r"\$[A-Za-z_][A-Za-z0-9_]*")),
    ("windows %NAME%", re.compile(r"%[A-Za-z_][A-Za-z0-9_]*%")),
    ("template {{…}}", re.compile(r"\{\{[^{}]*\}\}")),
    ("angle-bracket <…>", re.compile(r"<[^<>]*>")),
    ("secret-manager reference", re.compile(r"\b(?:op|keychain|keyring|vault|awssm|gcpsm)://\S+")),
)
AUTH_SCHEME_WORDS: frozenset[str] = frozenset({"bearer", "basic", "token", "apikey"})

# Whole values that are obviously a "fill me in" marker, not a credential.
PLACEHOLDER_VALUE = re.compile(
    r"(?ix)^(?:"
    r"(?:your|insert|enter|put|replace)[-_ .]\w+(?:[-_ .]\w+)*"
    r"|x{3,}|\*{3,}|\.{3,}|…|-+"
    r"|change[-_]?me|replace[-_]?me|todo|tbd|fixme|redacted|placeholder|dummy|example|sample"
    r")$"
)
_BENIGN_LITERAL = re.compile(
    r"(?i)^(?:true|false|yes|no|on|off|none|null|nil|undefined|0|1|-?\d+(?:\.\d+)?)$"
)
_PATHLIKE = re.compile(r"^(?:/|~[/\\]|\.{1,2}[/\\]|[A-Za-z]:[/\\]|file://)")
_MIN_SECRET_LENGTH = 4


@dataclass(frozen=True)
class SecretHit:
    """A secret found in the entry. ``value`` is the raw secret: never put it in output."""

    location: str
    kind: str
    description: str
    value: str = field(repr=False)
    key: str | None = None
    shown_prefix: int = 0

    @property
    def redacted(self) -> str:
        return redact(self.value, self.shown_prefix)

    @property
    def label(self) -> str:
        """Where and what, safe to print: ``env GITHUB_TOKEN = ghp_…(40 chars) (GitHub token)``."""
        return f"{self.location} = {self.redacted} ({self.description})"


def redact(value: str, shown_prefix: int = 0) -> str:
    """``ghp_…(40 chars)``: a public marker prefix (never more than a quarter) and the length."""
    keep = min(shown_prefix, len(value) // 4)
    return f"{value[:keep]}…({len(value)} chars)"


def is_secret_key(name: str) -> bool:
    """Does this env/header/flag name say it holds a credential?"""
    words = key_words(name)
    if words & NOT_SECRET_WORDS:
        return False
    if words & SECRET_WORDS:
        return True
    return any(w.endswith(SECRET_SUFFIXES) for w in words)


def is_reference(value: str) -> bool:
    """True when the value names where a secret comes from instead of containing it."""
    text = value.strip()
    if PLACEHOLDER_VALUE.match(text):
        return True
    stripped = text
    found = False
    for _, pattern in REFERENCE_PATTERNS:
        stripped, n = pattern.subn(" ", stripped)
        found = found or n > 0
    if not found:
        return False
    leftover = [w for w in re.split(r"[\s:=]+", stripped) if w]
    return all(w.lower() in AUTH_SCHEME_WORDS for w in leftover)


def _is_benign_literal(value: str) -> bool:
    """Values that cannot be a credential even under a secret-named key."""
    text = value.strip()
    if len(text) < _MIN_SECRET_LENGTH or _BENIGN_LITERAL.match(text) or _PATHLIKE.match(text):
        return True
    if "://" in text:  # a URL: only its password or secret query parameters can be secret
        return True
    return is_reference(text)


def _shape_hits(fld: ConfigField) -> list[SecretHit]:
    hits: list[SecretHit] = []
    claimed: list[tuple[int, int]] = []
    for shape in TOKEN_SHAPES:
        for m in shape.pattern.finditer(fld.value):
            start, end = m.span(shape.group)
            if any(start < c_end and c_start < end for c_start, c_end in claimed):
                continue
            secret = m.group(shape.group)
            if shape.group and is_reference(secret):
                continue
            claimed.append((start, end))
            hits.append(
                SecretHit(fld.location, shape.id, shape.description, secret, fld.key, shape.shown_prefix)
            )
    return hits


def _keyed_hits(fld: ConfigField) -> list[SecretHit]:
    if fld.key is None:
        return []
    words = key_words(fld.key)
    for shape in KEYED_SHAPES:
        m = shape.pattern.search(fld.value)
        if shape.key_word in words and m:
            return [SecretHit(fld.location, shape.id, shape.description, m.group(0), fld.key)]
    if not is_secret_key(fld.key) or _is_benign_literal(fld.value):
        return []
    value = fld.value.strip()
    scheme = re.match(r"(?i)^(?:bearer|basic|token)\s+", value)
    if scheme:
        value = value[scheme.end() :]
    return [SecretHit(fld.location, "secret-named-key", f"literal value of {fld.key}", value, fld.key)]


def _url_query_hits(fld: ConfigField) -> list[SecretHit]:
    hits: list[SecretHit] = []
    for url in re.findall(r"\bhttps?://\S+", fld.value):
        try:
            query = urlsplit(url).query
        except ValueError:
            continue
        for name, val in parse_qsl(query, keep_blank_values=False):
            if is_secret_key(name) and not _is_benign_literal(val):
                hits.append(
                    SecretHit(
                        f"{fld.location} query {name}", "url-query-secret", f"URL parameter {name}", val, name
                    )
                )
    return hits


def find_secrets(spec: ServerSpec) -> tuple[SecretHit, ...]:
    """Every secret literal in the entry, at most one per (location, value)."""
    hits: list[SecretHit] = []
    seen: set[tuple[str, str]] = set()
    for fld in config_fields(spec):
        shaped = _shape_hits(fld)
        candidates = [*shaped, *_url_query_hits(fld)]
        # A secret-named key adds a hit only if no shape already explains its value.
        if not shaped:
            candidates.extend(_keyed_hits(fld))
        for hit in candidates:
            if (hit.location, hit.value) not in seen:
                seen.add((hit.location, hit.value))
                hits.append(hit)
    return tuple(hits)


def scrub(text: str, secrets: tuple[SecretHit, ...]) -> str:
    """Replace every known secret (longest first) and every token shape in ``text``."""
    for hit in sorted(secrets, key=lambda h: len(h.value), reverse=True):
        if hit.value:
            text = text.replace(hit.value, hit.redacted)
    for shape in TOKEN_SHAPES:
        text = shape.pattern.sub(functools.partial(_redact_match, shape=shape), text)
    return text


def _redact_match(m: re.Match[str], shape: TokenShape) -> str:
    secret = m.group(shape.group)
    if "…(" in secret or (shape.group and is_reference(secret)):
        return m.group(0)
    start, end = m.span(shape.group)
    whole_start = m.start(0)
    whole = m.group(0)
    return whole[: start - whole_start] + redact(secret, shape.shown_prefix) + whole[end - whole_start :]


def redacted_spec(spec: ServerSpec, secrets: tuple[SecretHit, ...] | None = None) -> ServerSpec:
    """A copy of the entry safe to attach to a Finding: every secret value replaced by its redaction."""
    found = find_secrets(spec) if secrets is None else secrets

    def clean(text: str) -> str:
        return scrub(text, found)

    return dataclasses.replace(
        spec,
        command=clean(spec.command) if spec.command else spec.command,
        args=tuple(clean(a) for a in spec.args),
        env=tuple((k, clean(v)) for k, v in spec.env),
        url=clean(spec.url) if spec.url else spec.url,
        headers=tuple((k, clean(v)) for k, v in spec.headers),
        cwd=clean(spec.cwd) if spec.cwd else spec.cwd,
    )
