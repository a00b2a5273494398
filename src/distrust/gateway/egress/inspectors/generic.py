"""The catch-all: IOCs and the server's own secrets leaving in ANY request, to any host.

Email inspectors know where recipients live in five APIs; a malicious server does not have to
use an email API. It can post the user's data to its own host, or send the Postmark token it was
given to somewhere other than Postmark. This inspector reads every request (path, headers, JSON
or form body, else raw text) for two things:

* a known IOC address or domain (``context.iocs``), anywhere, including the host itself;
* a secret env value the server was given (``context.server_secrets``) going to a host that
  secret does not belong to. Where a key belongs is DATA (:data:`SECRET_HOMES`). For keys the
  table does not know, only an *exact* value match (a whole JSON string, form value, header
  value, bearer token or query value) to a host that is neither allowlisted nor named after the
  key's vendor word is flagged: conservative, because blocking a working server for a guess
  would teach users to switch the gateway off.

Reasons name the env key, never the secret value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from distrust.gateway.egress import InspectionContext, OutboundRequest, Verdict
from distrust.gateway.egress.inspectors.base import BodyError, field_text, form_fields, normalised_host
from distrust.gateway.egress.intent import matches_ioc


@dataclass(frozen=True)
class SecretHome:
    """Env keys matching ``key_pattern`` hold a credential for the services at ``hosts``."""

    id: str
    key_pattern: re.Pattern[str]  # matched (search) against the upper-cased env key
    hosts: tuple[str, ...]  # domains; a host matches a domain or any subdomain of it
    rationale: str


def _home(id_: str, pattern: str, hosts: tuple[str, ...], rationale: str) -> SecretHome:
    return SecretHome(id_, re.compile(pattern), hosts, rationale)


SECRET_HOMES: tuple[SecretHome, ...] = (
    _home("postmark", r"POSTMARK", ("postmarkapp.com",), "Postmark server/account tokens"),
    _home("sendgrid", r"SENDGRID", ("sendgrid.com", "sendgrid.net"), "SendGrid API keys"),
    _home("mailgun", r"MAILGUN", ("mailgun.net", "mailgun.org"), "Mailgun API keys"),
    _home("resend", r"RESEND", ("resend.com",), "Resend API keys"),
    _home("aws", r"^AWS_|_AWS_", ("amazonaws.com", "aws.amazon.com"), "AWS credentials sign AWS calls only"),
    _home("github", r"GITHUB|^GH_", ("github.com", "githubusercontent.com"), "GitHub tokens"),
    _home("gitlab", r"GITLAB", ("gitlab.com",), "GitLab tokens"),
    _home("openai", r"OPENAI", ("openai.com",), "OpenAI API keys"),
    _home("anthropic", r"ANTHROPIC|CLAUDE", ("anthropic.com",), "Anthropic API keys"),
    _home("slack", r"SLACK", ("slack.com",), "Slack tokens"),
    _home("stripe", r"STRIPE", ("stripe.com",), "Stripe keys"),
    _home("google", r"GOOGLE|GEMINI|GCP_", ("googleapis.com", "google.com"), "Google API keys"),
    _home("npm", r"^NPM_|NPM_TOKEN", ("npmjs.org", "npmjs.com"), "npm tokens"),
    _home("notion", r"NOTION", ("notion.com", "notion.so"), "Notion tokens"),
    _home("linear", r"LINEAR", ("linear.app",), "Linear API keys"),
    _home("atlassian", r"JIRA|CONFLUENCE|ATLASSIAN", ("atlassian.net", "atlassian.com"), "Atlassian tokens"),
)

# Words in env key names that say "this is a credential", not who it is for.
GENERIC_KEY_WORDS = frozenset(
    {
        "API",
        "KEY",
        "TOKEN",
        "SECRET",
        "ACCESS",
        "AUTH",
        "MCP",
        "SERVER",
        "CLIENT",
        "APP",
        "PRIVATE",
        "PASSWORD",
        "PASS",
        "BEARER",
        "ID",
        "URL",
        "HOST",
        "ACCOUNT",
        "USER",
        "PERSONAL",
        "SERVICE",
    }
)
MIN_KNOWN_SECRET_LENGTH = 8  # shorter values ("true", "prod") would match everywhere
MIN_UNKNOWN_SECRET_LENGTH = 12
_MAX_DEPTH = 64
_AUTH_SCHEMES = re.compile(r"^(?:bearer|token|basic|apikey|api-key)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Place:
    """A piece of text a request carries, and where it sits (for the reason)."""

    where: str  # "path", "query id", "header Authorization", "body.data.note", "form field x", "body"
    text: str


class GenericLeakInspector:
    """Blocks IOC addresses/domains and misplaced secrets in any request; otherwise no opinion."""

    name: str = "generic"

    def __init__(self, allowed_hosts: Iterable[str] = ()) -> None:
        self.allowed_hosts = tuple(h.lower().lstrip(".") for h in allowed_hosts)

    def matches(self, request: OutboundRequest) -> bool:
        return True

    def inspect(self, request: OutboundRequest, context: InspectionContext) -> Verdict | None:
        host = normalised_host(request)
        ioc = matches_ioc("@" + host, context.iocs)
        if ioc is not None:
            reason = f"known-malicious host: the request goes to {host}, which matches {ioc}"
            return self._block(reason, "host", host)
        places = list(request_places(request))
        if context.iocs:
            verdict = self._find_iocs(places, context.iocs)
            if verdict:
                return verdict
        for key, value in context.server_secrets:
            verdict = self._find_secret(host, places, key, value)
            if verdict:
                return verdict
        return None

    def _find_iocs(self, places: list[Place], iocs: Iterable[str]) -> Verdict | None:
        patterns = [(ioc, _ioc_pattern(ioc)) for ioc in iocs if ioc.strip()]
        for place in places:
            for ioc, pattern in patterns:
                if pattern.search(place.text):
                    return self._block(
                        f"known-malicious indicator {ioc} in {place.where}", place.where, ioc.strip().lower()
                    )
        return None

    def _find_secret(self, host: str, places: list[Place], key: str, value: str) -> Verdict | None:
        value = value.strip()
        home = next((h for h in SECRET_HOMES if h.key_pattern.search(key.upper())), None)
        if home is not None:
            if len(value) < MIN_KNOWN_SECRET_LENGTH or _host_in(host, (*home.hosts, *self.allowed_hosts)):
                return None
            forms = {value, quote(value, safe="")}
            for place in places:
                if any(form in place.text for form in forms):
                    return self._block(
                        f"the server's secret {key} is sent to {host} in {place.where}; {key} belongs to "
                        f"{', '.join(home.hosts)} ({home.rationale})",
                        place.where,
                        key,
                    )
            return None
        if len(value) < MIN_UNKNOWN_SECRET_LENGTH or any(c.isspace() for c in value):
            return None
        if _host_in(host, self.allowed_hosts) or _host_named_after(host, key):
            return None
        for place in places:
            if _AUTH_SCHEMES.sub("", place.text.strip()) == value:
                return self._block(
                    f"the server's secret {key} is sent to {host} in {place.where}; nothing says {key} "
                    f"belongs to {host}",
                    place.where,
                    key,
                )
        return None

    def _block(self, reason: str, where: str, value: str) -> Verdict:
        return Verdict(allow=False, reason=reason, inspector=self.name, field=where, value=value)


def request_places(request: OutboundRequest) -> Iterator[Place]:
    """Every piece of text in a request: path, query values, headers, and the body's strings."""
    split = urlsplit(request.path)
    yield Place("path", unquote(split.path))
    for name, value in parse_qsl(split.query, keep_blank_values=True):
        yield Place(f"query {name}", value)
    for name, value in request.headers:
        yield Place(f"header {name}", value)
    if not request.body:
        return
    content_type = (request.header("content-type") or "").lower()
    text = request.body.decode("utf-8", "replace")
    if "json" in content_type or text.lstrip()[:1] in ("{", "["):
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            pass
        else:
            yield from _json_places(data, "body", 0)
            return
    if "x-www-form-urlencoded" in content_type or content_type.startswith("multipart/"):
        try:
            fields = form_fields(request)
        except BodyError:
            fields = []
        if fields:
            for name, raw in fields:
                yield Place(f"form field {name}", field_text(raw))
            return
    yield Place("body", text)


def _json_places(value: Any, where: str, depth: int) -> Iterator[Place]:
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, str):
        yield Place(where, value)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield Place(f"{where} (key)", str(key))
            yield from _json_places(item, f"{where}.{key}", depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _json_places(item, f"{where}[{i}]", depth + 1)


def _ioc_pattern(ioc: str) -> re.Pattern[str]:
    text = ioc.strip().lower().lstrip("@")
    if "@" in text:
        return re.compile(re.escape(text), re.IGNORECASE)
    # a domain: as a whole host name or the end of one (evil.example, mail.evil.example)
    return re.compile(rf"(?<![\w-]){re.escape(text)}(?![\w-]|\.[a-z])", re.IGNORECASE)


def _host_in(host: str, domains: Iterable[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains if d)


def _host_named_after(host: str, key: str) -> bool:
    """``NOTIFYHUB_API_KEY`` to ``api.notifyhub.io``: the key names its vendor, the host matches."""
    parts = re.split(r"[^A-Za-z0-9]+", key)
    words = [w.lower() for w in parts if len(w) >= 3 and w.upper() not in GENERIC_KEY_WORDS]
    labels = host.split(".")
    return any(word in label for word in words for label in labels)
