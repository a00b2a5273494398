"""Turning capabilities into judgements: rules → findings → a score and a level.

Two questions are asked of a package. *What can this version do?* (``assess_profile``: version
rules over one profile, so a brand-new package is judged too). *What did this release add?*
(``assess_diff``: change rules over the added capabilities, plus every version rule that fires
on the new version but did not on the old one). The second question is what catches a
postmark-mcp 1.0.16 on the day it is published, before any advisory exists.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from distrust.analyze.diff import compute_changes
from distrust.analyze.kinds import DYNAMIC
from distrust.analyze.rules import RiskRule, credential_domains, known_service_domains, load_rules
from distrust.model import Capability, Change, Evidence, Finding, PackageRef, Profile, Severity

# Files that do not run when the package is used: findings there are one level less severe.
_TEST_PATH = re.compile(
    r"(^|/)(tests?|__tests__|spec|specs|examples?|docs?|benchmarks?|fixtures?|demo|samples?)(/|$)"
    r"|(^|/)[^/]*[._-](test|spec)\.[cm]?[jt]sx?$|(^|/)test_[^/]*\.py$|(^|/)[^/]*_test\.py$",
    re.IGNORECASE,
)
_SCRIPT_TOKEN = re.compile(r"^[\w@./-]+\.(?:[cm]?js|ts|py|sh)$")
_EMAIL = re.compile(r"[\w.+-]+@([\w-]+(?:\.[\w-]+)+)")
_HOSTISH = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+(:\d+)?$", re.IGNORECASE)
_URL_IN_TEXT = re.compile(r"[a-z][a-z0-9+.-]*://[^\s'\"<>`]+", re.IGNORECASE)
_TWO_LEVEL_TLDS = frozenset({"co.uk", "com.au", "co.jp", "com.br", "co.nz", "co.in", "com.cn", "org.uk"})
# Generic top-level domains seen in real endpoints; any two-letter label counts as a country TLD.
# Without this, API names such as ``requests.get`` or ``request.request`` read as host names.
# fmt: off
_GENERIC_TLDS = frozenset({
    "com", "net", "org", "io", "dev", "app", "ai", "co", "me", "info", "biz", "xyz", "site", "online",
    "top", "club", "cloud", "tech", "live", "pro", "fun", "link", "sh", "run", "page", "store", "shop",
    "space", "website", "digital", "network", "systems", "services", "email", "mail", "gov", "edu", "mil",
    "int", "arpa", "local", "internal", "onion", "icu", "cc", "tk", "ml", "ga", "cf", "gq", "ws", "ly",
    "gg", "to", "tv",
})
# fmt: on
# RFC 2606/6761 names and friends: placeholders in docs and tests, never a real destination.
_PLACEHOLDER_DOMAINS = frozenset(
    {"example.com", "example.org", "example.net", "localhost", "test", "invalid", "domain.com"}
)
# Files that are documentation, not code: what they mention does not run.
_DOC_FILE = re.compile(
    r"(^|/)(readme|changelog|changes|history|license|licence|notice|authors|contributing)[^/]*$"
    r"|\.(md|markdown|rst|txt|html?|adoc)$|(^|/)(PKG-INFO|METADATA)$",
    re.IGNORECASE,
)
_MAX_EVIDENCE = 5
# Words of package and host names that say nothing about whose service it is.
# fmt: off
_GENERIC_NAME_TOKENS = frozenset({
    "python", "py", "sdk", "api", "apis", "client", "clients", "lib", "libs", "cloud", "core", "tools",
    "tool", "utils", "util", "official", "plugin", "django", "flask", "async", "aio", "http", "https",
    "web", "app", "service", "services", "server", "www", "open", "pypi", "package", "the", "and",
    "for", "requests", "node", "npm", "js", "dev", "test", "beta", "new", "pro", "com", "net", "org",
    "gateway", "auth",
})
# fmt: on

_BASE_SCORE = {
    Severity.NONE: 0,
    Severity.LOW: 10,
    Severity.MEDIUM: 35,
    Severity.HIGH: 65,
    Severity.CRITICAL: 90,
}
_MAX_SCORE = {
    Severity.NONE: 0,
    Severity.LOW: 34,
    Severity.MEDIUM: 64,
    Severity.HIGH: 89,
    Severity.CRITICAL: 100,
}


@dataclass(frozen=True)
class RatedChange:
    """A capability change with the most severe rule that fired on it (if any)."""

    change: Change
    severity: Severity
    rule_id: str | None
    explanation: str


@dataclass(frozen=True)
class Assessment:
    """The verdict on one version or one upgrade: a 0–100 score, a level, and why."""

    score: int
    level: Severity
    findings: tuple[Finding, ...]
    changes: tuple[RatedChange, ...] = ()


def is_test_path(path: str) -> bool:
    """True for files that do not ship behaviour users run: tests, examples, docs, fixtures."""
    return bool(_TEST_PATH.search(path))


def is_doc_path(path: str) -> bool:
    """True for documentation files (README, licences, metadata): text that never runs."""
    return bool(_DOC_FILE.search(path))


def is_placeholder_domain(domain: str) -> bool:
    """Reserved or placeholder names (example.com, localhost, *.test): never a real endpoint."""
    return domain in _PLACEHOLDER_DOMAINS or domain.endswith((".test", ".invalid", ".localhost"))


def _url_host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:  # e.g. "http://[not-ipv6" in a docstring
        return ""


def _looks_like_host(token: str) -> bool:
    if not _HOSTISH.match(token):
        return False
    tld = token.split(":", 1)[0].rsplit(".", 1)[-1].lower()
    return tld.isdigit() or len(tld) == 2 or tld in _GENERIC_TLDS


def domain_of(value: str) -> str:
    """The registrable domain a capability value points at ('' when it names none)."""
    text = value.split("=", 1)[1] if re.match(r"^[a-z_-]+=", value) else value
    host = ""
    if m := _EMAIL.search(text):
        host = m.group(1)
    elif m := _URL_IN_TEXT.search(text):
        host = _url_host(m.group(0))
    else:
        for token in text.split():
            if _looks_like_host(token):
                host = token.split(":", 1)[0]
                break
    host = host.lower().strip(".")
    if not host or re.fullmatch(r"[\d.]+", host):
        return host
    labels = host.split(".")
    keep = 3 if ".".join(labels[-2:]) in _TWO_LEVEL_TLDS else 2
    return ".".join(labels[-keep:])


def _profile_domains(caps: Iterable[Capability]) -> set[str]:
    kinds = ("network.", "email.")
    return {d for c in caps if c.kind.startswith(kinds) and (d := domain_of(c.value))}


def install_files(profile: Profile) -> frozenset[str]:
    """Files that run at install time: hook owners (setup.py, .pth) and scripts hooks name."""
    files = set(profile.artifact.files)
    main = dict(profile.metadata).get("main", "index.js")
    out: set[str] = set()
    for cap in profile.capabilities:
        if cap.kind != "install.hook":
            continue
        if not cap.file.endswith("package.json"):
            out.add(cap.file)
        base = cap.file.rsplit("/", 1)[0] + "/" if "/" in cap.file else ""
        command = cap.value.split(":", 1)[1] if ":" in cap.value else cap.value
        try:
            tokens = shlex.split(command)
        except ValueError:
            tokens = command.split()
        for tok in tokens:
            candidate = tok.lstrip("./") if tok not in (".", "./") else main.lstrip("./")
            for name in (candidate, candidate + ".js", candidate.rstrip("/") + "/index.js"):
                full = base + name
                if (_SCRIPT_TOKEN.match(name) or tok in (".", "./")) and full in files:
                    out.add(full)
                    break
    return frozenset(out)


def _fmt(template: str, **values: str | int) -> str:
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template


def _values_for(cap: Capability) -> dict[str, str | int]:
    field, _, rest = cap.value.partition("=") if cap.kind == "email.recipient" else ("", "", cap.value)
    return {
        "value": cap.value if len(cap.value) <= 200 else cap.value[:197] + "…",
        "field": field.capitalize() if field in ("bcc", "cc", "to") else field,
        "address": rest,
        "domain": domain_of(cap.value),
        "file": cap.file,
        "line": cap.line,
    }


def _partner_values(partner: Capability | None) -> dict[str, str | int]:
    if partner is None:
        return {"partner": "", "partner_file": "", "partner_line": "", "partner_domain": ""}
    return {
        "partner": partner.kind,
        "partner_file": partner.file,
        "partner_line": partner.line,
        "partner_domain": domain_of(partner.value),
    }


@dataclass
class _Hit:
    rule: RiskRule
    cap: Capability
    partner: Capability | None
    severity: Severity


def _partners(rule: RiskRule, pool: Sequence[Capability]) -> Capability | bool | None:
    """The partner capability that completes a combination rule; True when none is needed."""
    if not rule.with_any and not rule.with_all:
        return True
    kinds_present = {c.kind: c for c in pool}
    if any(k not in kinds_present for k in rule.with_all):
        return None
    if rule.with_any:
        for kind in rule.with_any:
            if kind in kinds_present:
                return kinds_present[kind]
        return None
    return kinds_present[rule.with_all[0]]


def _effective(rule: RiskRule, cap: Capability) -> Severity:
    """The rule's severity where the capability sits: lower in docs and tests, which do not run."""
    if not rule.test_downgrade:
        return rule.severity
    if is_doc_path(cap.file):
        return Severity(max(Severity.LOW, rule.severity - 2))
    if is_test_path(cap.file):
        return Severity(max(Severity.LOW, rule.severity - rule.test_downgrade))
    return rule.severity


def _package_name(profile: Profile) -> str:
    return dict(profile.metadata).get("name") or profile.artifact.ref.name


def _version_hits(profile: Profile, rules: Sequence[RiskRule]) -> list[_Hit]:
    package = _package_name(profile)
    by_file: dict[str, list[Capability]] = {}
    for c in profile.capabilities:
        by_file.setdefault(c.file, []).append(c)
    inst = install_files(profile)
    install_pool = [c for c in profile.capabilities if c.file in inst]
    hits: list[_Hit] = []
    for rule in rules:
        if rule.applies != "version":
            continue
        for cap in profile.capabilities:
            if cap.kind not in rule.kinds or not rule.value_matches(cap.value):
                continue
            if rule.file_pattern is not None and not rule.file_pattern.search(cap.file):
                continue
            if rule.scope == "line":
                pool = [c for c in by_file.get(cap.file, []) if c.line == cap.line]
            elif rule.scope == "install":
                pool = install_pool
            elif rule.scope == "package":
                pool = list(profile.capabilities)
            else:
                pool = by_file.get(cap.file, [])
            if rule.min_distinct > 1:
                same = {c.value for c in pool if c.kind == cap.kind and rule.value_matches(c.value)}
                if len(same) < rule.min_distinct:
                    continue
            partner: Capability | bool | None
            if rule.foreign_host:
                partner = _foreign_partner(cap, pool, package)
                enough = cap.kind != "env.read.secret" or _platforms(pool) >= rule.min_platforms
                if partner is not None and not enough:
                    partner = None
            else:
                partner = _partners(rule, pool)
            if partner is None:
                continue
            hits.append(
                _Hit(rule, cap, partner if isinstance(partner, Capability) else None, _effective(rule, cap))
            )
    return hits


def _foreign_partner(secret: Capability, pool: Sequence[Capability], package: str) -> Capability | None:
    """A network call to a hard-coded host that the credential read in ``secret`` does not belong to.

    SDKs read their own service's key and call that service; a GitHub token sent anywhere but
    GitHub is theft. Only well-known credentials (the ``[[credential]]`` table) are judged, so
    an unfamiliar SDK's key is never mistaken for a foreign one.

    A ``network.send_secret`` (secret-named fields posted to a literal URL) is its own partner.
    Its credential has no table entry, so its home is judged from the package: the host must
    share a meaningful word with the package name (``cos.myqcloud.com`` for ``cos-python-sdk``),
    or be a well-known service of the table; anything else is foreign.
    """
    if secret.kind == "network.send_secret":
        return secret if is_foreign_host(secret.value, package) else None
    home = credential_domains(secret.value)
    if home is None:
        return None
    for cap in pool:
        if cap.kind not in ("network.request", "network.url", "network.host") or cap.value.endswith(DYNAMIC):
            continue
        dom = domain_of(cap.value)
        if dom and dom not in home and not _is_local(dom) and not is_placeholder_domain(dom):
            return cap
    return None


def _name_tokens(text: str) -> set[str]:
    return {
        t
        for t in re.split(r"[^a-z0-9]+", text.lower())
        if len(t) >= 3 and t not in _GENERIC_NAME_TOKENS and not re.fullmatch(r"v?\d+", t)
    }


def is_foreign_host(value: str, package: str) -> bool:
    """True when the URL in ``value`` points at a host unrelated to ``package`` and to known services.

    Related means a meaningful word is shared either way: a word of the package name inside the
    host name, or a word of the host name inside the package name (``pyfcm`` and
    ``fcm.googleapis.com``), or two words that start alike for five letters or more
    (``postmarker`` and ``postmarkapp.com``, ``instaloader`` and ``instagram.com``). Generic words
    (sdk, api, python, client, cloud…) do not count, so ``python-cos-sdk-v5`` and
    ``api.aliyun-sdk-requests.xyz`` are strangers.
    """
    match = _URL_IN_TEXT.search(value)
    host = _url_host(match.group(0)).lower() if match else ""
    domain = domain_of(value)
    if not host or not domain or "." not in host:
        return False
    if _is_local(domain) or is_placeholder_domain(domain) or domain in known_service_domains():
        return False
    labels = host.split(".")
    suffix = 2 if ".".join(labels[-2:]) in _TWO_LEVEL_TLDS else 1
    host_words = "-".join(labels[:-suffix])
    compact_package = re.sub(r"[^a-z0-9]", "", package.lower())
    compact_host = re.sub(r"[^a-z0-9]", "", host_words)
    package_words, host_word_set = _name_tokens(package), _name_tokens(host_words)
    if any(word in compact_host for word in package_words):
        return False
    if any(word in compact_package for word in host_word_set):
        return False
    return not any(p[:5] == h[:5] for p in package_words for h in host_word_set if min(len(p), len(h)) >= 5)


def _platforms(pool: Sequence[Capability]) -> int:
    """How many different services' well-known credentials the capabilities read."""
    return len({d for c in pool if c.kind == "env.read.secret" and (d := credential_domains(c.value))})


def _is_local(domain: str) -> bool:
    return domain in ("localhost", "127.0.0.1", "0.0.0.0") or domain.endswith((".local", ".localhost"))


def _novelty(domain: str, old_domains: set[str]) -> str:
    if not domain:
        return "the value is computed at run time."
    if domain in old_domains:
        return f"earlier versions already referred to {domain}."
    return f"no earlier version referred to {domain}."


def _group(hits: Sequence[_Hit], package: PackageRef | None, old_domains: set[str] | None) -> list[Finding]:
    """One finding per rule and title; occurrences become evidence, the worst one sets severity."""
    groups: dict[tuple[str, str], list[_Hit]] = {}
    for hit in hits:
        vals = _values_for(hit.cap)
        title = _fmt(hit.rule.title, **vals, **_partner_values(hit.partner))
        groups.setdefault((hit.rule.id, title), []).append(hit)
    findings: list[Finding] = []
    for (rule_id, title), members in groups.items():
        members.sort(key=lambda h: (-h.severity, is_test_path(h.cap.file), h.cap.file, h.cap.line))
        first = members[0]
        vals = _values_for(first.cap)
        partner = first.partner
        explanation = _fmt(
            first.rule.explanation,
            **vals,
            **_partner_values(partner),
            novelty=_novelty(str(vals["domain"]), old_domains or set()),
        )
        if len(members) > 1:
            explanation += f" ({len(members)} places in all.)"
        evidence = tuple(
            Evidence(file=h.cap.file, line=h.cap.line, snippet=h.cap.snippet or None)
            for h in members[:_MAX_EVIDENCE]
        )
        findings.append(
            Finding(
                rule_id=rule_id,
                severity=first.severity,
                title=title,
                detail=explanation,
                remediation=_fmt(first.rule.remediation, **vals),
                package=package,
                evidence=evidence,
            )
        )
    # What a release *changed* reads first: in a diff, change rules lead at equal severity.
    applies = {h.rule.id: h.rule.applies for h in hits}
    findings.sort(key=lambda f: (-f.severity, applies.get(f.rule_id) != "change", f.rule_id, f.title))
    return findings


def _score(findings: Sequence[Finding]) -> tuple[int, Severity]:
    level = max((f.severity for f in findings), default=Severity.NONE)
    if level == Severity.NONE:
        return 0, level
    same = sum(1 for f in findings if f.severity == level)
    lower = sum(1 for f in findings if f.severity < level)
    raw = _BASE_SCORE[level] + 4 * (same - 1) + lower
    return min(raw, _MAX_SCORE[level]), level


def assess_profile(profile: Profile, rules: Sequence[RiskRule] | None = None) -> Assessment:
    """Judge one version on its own: what could it do to the machine that runs it?"""
    active = load_rules() if rules is None else rules
    findings = _group(_version_hits(profile, active), profile.artifact.ref, None)
    score, level = _score(findings)
    return Assessment(score=score, level=level, findings=tuple(findings))


def _change_hits(
    changes: Sequence[Change], rules: Sequence[RiskRule], old_domains: set[str]
) -> list[tuple[_Hit, Change]]:
    added = [c for c in changes if c.kind == "added"]
    by_file: dict[str, list[Capability]] = {}
    for ch in added:
        by_file.setdefault(ch.capability.file, []).append(ch.capability)
    out: list[tuple[_Hit, Change]] = []
    for rule in rules:
        if rule.applies != "change":
            continue
        for ch in added:
            cap = ch.capability
            if cap.kind not in rule.kinds or not rule.value_matches(cap.value):
                continue
            if rule.changed_lines and not ch.in_changed_lines:
                continue
            if rule.new_domain:
                dom = domain_of(cap.value)
                if not dom or dom in old_domains or cap.value.endswith(DYNAMIC) or is_placeholder_domain(dom):
                    continue
            pool = by_file.get(cap.file, []) if rule.scope == "file" else [c.capability for c in added]
            partner = _partners(rule, pool)
            if partner is None:
                continue
            hit = _Hit(rule, cap, partner if isinstance(partner, Capability) else None, _effective(rule, cap))
            out.append((hit, ch))
    return out


def assess_diff(
    old: Profile,
    new: Profile,
    rules: Sequence[RiskRule] | None = None,
    extra_changes: Sequence[Change] = (),
) -> Assessment:
    """Judge an upgrade: what does ``new`` add that ``old`` did not have?

    ``extra_changes`` carries facts the profiles cannot hold, such as an added dependency whose
    own manifest declares an install hook (found by looking the dependency up).
    """
    active = load_rules() if rules is None else rules
    changes = compute_changes(old, new) + tuple(extra_changes)
    old_domains = _profile_domains(old.capabilities)
    change_hits = _change_hits(changes, active, old_domains)
    old_version_titles = {(f.rule_id, f.title) for f in _group(_version_hits(old, active), None, None)}
    new_version_hits = _version_hits(new, active)
    fresh_version_hits = [
        h
        for h in new_version_hits
        if (h.rule.id, _fmt(h.rule.title, **_values_for(h.cap), **_partner_values(h.partner)))
        not in old_version_titles
    ]
    hits = [h for h, _ in change_hits] + fresh_version_hits
    findings = _group(hits, new.artifact.ref, old_domains)
    score, level = _score(findings)

    worst: dict[int, tuple[Severity, str | None, str]] = {}
    for hit, ch in change_hits:
        _note_worst(worst, id(ch), hit, old_domains)
    cap_to_change = {id(ch.capability): ch for ch in changes}
    for hit in fresh_version_hits:
        matched = cap_to_change.get(id(hit.cap))
        if matched is not None:
            _note_worst(worst, id(matched), hit, old_domains)
    rated: list[RatedChange] = []
    for ch in sorted(changes, key=lambda c: (c.kind, c.capability.file, c.capability.line)):
        severity, rule_id, text = worst.get(id(ch), (Severity.NONE, None, ""))
        rated.append(RatedChange(ch, severity, rule_id, text))
    return Assessment(score=score, level=level, findings=tuple(findings), changes=tuple(rated))


def _note_worst(
    worst: dict[int, tuple[Severity, str | None, str]], key: int, hit: _Hit, old_domains: set[str]
) -> None:
    vals = _values_for(hit.cap)
    partner = hit.partner
    text = _fmt(
        hit.rule.explanation,
        **vals,
        **_partner_values(partner),
        novelty=_novelty(str(vals["domain"]), old_domains),
    )
    if key not in worst or hit.severity > worst[key][0]:
        worst[key] = (hit.severity, hit.rule.id, text)


def with_findings(assessment: Assessment, extra: Sequence[Finding]) -> Assessment:
    """The same assessment with more findings (e.g. registry metadata), score recomputed."""
    if not extra:
        return assessment
    findings = sorted((*assessment.findings, *extra), key=lambda f: (-f.severity, f.rule_id, f.title))
    score, level = _score(findings)
    return Assessment(score=score, level=level, findings=tuple(findings), changes=assessment.changes)
