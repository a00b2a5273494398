"""Registry metadata signals: who published a version, and whether the package pretends to be
someone else's.

Code analysis cannot see the most telling facts of a supply-chain attack: postmark-mcp 1.0.16
looked like ActiveCampaign's project because its registry page linked to ActiveCampaign's
repository, while the account ``phanpak`` published every version. Those facts live in the
registry documents the fetch stage hands us (the full npm packument, the PyPI JSON document);
this module reads them, never the network.

Rules are data (``rules/metadata.toml``); each rule id has exactly one small check function
here, registered with :func:`_check`. Well-known organisations and package names are data too
(``data/orgs.toml``, ``data/lookalike.toml``, ``data/popular-*.txt``; see ``data/README.md``).

Registry documents are untrusted input: any field may be missing, of the wrong type or full of
control characters. A missing field means "unknown" (and a rule that needs it stays silent);
only a document that cannot be used at all (not a mapping, the version absent) raises
:class:`MetadataError`.
"""

from __future__ import annotations

import re
import string
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from packaging.version import InvalidVersion, Version

from distrust.model import Ecosystem, Evidence, Finding, Notice, PackageRef, Severity

__all__ = [
    "Lookalike",
    "MetaRule",
    "MetadataError",
    "MetadataReport",
    "MetadataRuleError",
    "assess_npm_metadata",
    "assess_pypi_metadata",
    "find_lookalikes",
    "load_metadata_rules",
    "parse_metadata_rules",
]

DORMANT_DAYS = 365
LONG_HISTORY_DAYS = 2 * 365
LONG_HISTORY_VERSIONS = 10
_TEXT_LIMIT = 300


class MetadataError(ValueError):
    """A registry document is unusable; the message names the package, field and version."""


class MetadataRuleError(Exception):
    """``metadata.toml`` (or a data file) is malformed; the message names the rule and field."""


@dataclass(frozen=True)
class MetadataReport:
    """What the registry says about one version: facts to display and findings to judge.

    ``facts`` are ``(label, value)`` pairs in display order, with "unknown" where the document
    is silent. ``notices`` list fields that were present but unreadable.
    """

    facts: tuple[tuple[str, str], ...]
    findings: tuple[Finding, ...]
    notices: tuple[Notice, ...] = ()


# ---------------------------------------------------------------- rules (data) ---------------


@dataclass(frozen=True)
class Adjustment:
    """Move a rule's severity to ``severity`` when its check reports condition ``when``."""

    when: str
    severity: Severity


@dataclass(frozen=True)
class MetaRule:
    """One metadata rule as ``metadata.toml`` declares it."""

    id: str
    name: str
    severity: Severity
    title: str
    explanation: str
    rationale: str
    remediation: str
    escalate: tuple[Adjustment, ...] = ()
    soften: tuple[Adjustment, ...] = ()

    def severity_for(self, conditions: Iterable[str]) -> Severity:
        """Base severity, raised by every escalation that holds, then capped by any softening."""
        held = set(conditions)
        level = max([self.severity, *(a.severity for a in self.escalate if a.when in held)])
        caps = [a.severity for a in self.soften if a.when in held]
        return min([level, *caps])


@dataclass(frozen=True)
class Hit:
    """A check's answer: placeholder values for the rule's text, conditions, and evidence."""

    params: Mapping[str, str]
    conditions: frozenset[str] = frozenset()
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class _CheckSpec:
    function: Callable[[PackageView], Hit | None]
    provides: frozenset[str]
    conditions: frozenset[str]


CHECKS: dict[str, _CheckSpec] = {}
_COMMON_PARAMS = frozenset({"package", "version"})
_RULE_KEYS = frozenset(
    {"id", "name", "severity", "title", "explanation", "rationale", "remediation", "escalate", "soften"}
)
_RULE_ID = re.compile(r"DT-META-\d{3}")


def _check(
    rule_id: str, *, provides: Iterable[str], conditions: Iterable[str] = ()
) -> Callable[[Callable[[PackageView], Hit | None]], Callable[[PackageView], Hit | None]]:
    """Register the check for ``rule_id``, declaring which placeholders and conditions it fills.

    The declaration lets the rule loader refuse a template placeholder or an escalation
    condition that no check ever produces, instead of printing "{publisher}" to a user.
    """

    def register(fn: Callable[[PackageView], Hit | None]) -> Callable[[PackageView], Hit | None]:
        if rule_id in CHECKS:
            raise MetadataRuleError(f"two checks registered for {rule_id}")
        CHECKS[rule_id] = _CheckSpec(fn, frozenset(provides), frozenset(conditions))
        return fn

    return register


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _adjustments(raw: object, where: str, key: str, spec: _CheckSpec | None) -> tuple[Adjustment, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise MetadataRuleError(f"{where}: {key} must be a list of {{when, severity}} tables")
    out: list[Adjustment] = []
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"when", "severity"}:
            raise MetadataRuleError(f"{where}: each {key} entry needs exactly 'when' and 'severity'")
        when, level = item["when"], item["severity"]
        if not isinstance(when, str) or not isinstance(level, str):
            raise MetadataRuleError(f"{where}: {key} 'when' and 'severity' must be strings")
        if spec is not None and when not in spec.conditions:
            raise MetadataRuleError(
                f"{where}: {key} condition {when!r} is never reported by the check "
                f"(it reports: {', '.join(sorted(spec.conditions)) or 'none'})"
            )
        try:
            out.append(Adjustment(when, Severity.parse(level)))
        except ValueError as exc:
            raise MetadataRuleError(f"{where}: {key}: {exc}") from None
    return tuple(out)


def parse_metadata_rules(
    text: str, source: str = "metadata.toml", *, require_checks: bool = True
) -> tuple[MetaRule, ...]:
    """Validate the rules TOML; every mistake names ``source``, the rule id and the field.

    With ``require_checks`` every rule must have a registered check and every check a rule,
    and templates may use only the placeholders that check provides.
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MetadataRuleError(f"{source}: invalid TOML: {exc}") from None
    entries = doc.get("rule")
    if not isinstance(entries, list) or not entries:
        raise MetadataRuleError(f"{source}: expected one or more [[rule]] tables")
    rules: list[MetaRule] = []
    for index, raw in enumerate(entries):
        if not isinstance(raw, dict):
            raise MetadataRuleError(f"{source}: rule #{index + 1} is not a table")
        rule_id = raw.get("id")
        where = f"{source}: rule {rule_id or f'#{index + 1}'}"
        if not isinstance(rule_id, str) or not _RULE_ID.fullmatch(rule_id):
            raise MetadataRuleError(f"{where}: id must look like DT-META-001")
        if any(r.id == rule_id for r in rules):
            raise MetadataRuleError(f"{where}: duplicate id")
        unknown = sorted(set(raw) - _RULE_KEYS)
        if unknown:
            raise MetadataRuleError(f"{where}: unknown field(s) {', '.join(unknown)}")
        for key in ("name", "severity", "title", "explanation", "rationale", "remediation"):
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                raise MetadataRuleError(f"{where}: field {key!r} must be a non-empty string")
        spec = CHECKS.get(rule_id)
        if require_checks and spec is None:
            raise MetadataRuleError(f"{where}: no check is registered for this id in analyze/metadata.py")
        try:
            severity = Severity.parse(raw["severity"])
        except ValueError as exc:
            raise MetadataRuleError(f"{where}: severity: {exc}") from None
        if spec is not None:
            allowed = spec.provides | _COMMON_PARAMS
            for key in ("title", "explanation", "remediation"):
                missing = sorted(_placeholders(raw[key]) - allowed)
                if missing:
                    raise MetadataRuleError(
                        f"{where}: {key} uses {', '.join('{' + m + '}' for m in missing)}, "
                        f"which the check does not fill (it fills: {', '.join(sorted(allowed))})"
                    )
        rules.append(
            MetaRule(
                id=rule_id,
                name=raw["name"],
                severity=severity,
                title=raw["title"],
                explanation=raw["explanation"],
                rationale=raw["rationale"].strip(),
                remediation=raw["remediation"],
                escalate=_adjustments(raw.get("escalate"), where, "escalate", spec),
                soften=_adjustments(raw.get("soften"), where, "soften", spec),
            )
        )
    if require_checks:
        orphans = sorted(set(CHECKS) - {r.id for r in rules})
        if orphans:
            raise MetadataRuleError(f"{source}: check(s) {', '.join(orphans)} have no rule in this file")
    return tuple(rules)


@cache
def load_metadata_rules() -> tuple[MetaRule, ...]:
    """The bundled ``rules/metadata.toml`` (parsed and validated once per process)."""
    text = resources.files("distrust.analyze.rules").joinpath("metadata.toml").read_text(encoding="utf-8")
    return parse_metadata_rules(text, "analyze/rules/metadata.toml")


# ---------------------------------------------------------------- text hygiene ---------------


def _clean(value: object, limit: int = _TEXT_LIMIT) -> str:
    """One line of printable text from an untrusted registry field (escape codes removed)."""
    text = value if isinstance(value, str) else str(value)
    kept = "".join(" " if unicodedata.category(ch)[0] in "CZ" and ch != " " else ch for ch in text)
    kept = " ".join(kept.split())
    return kept if len(kept) <= limit else kept[: limit - 1] + "…"


def _str(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _mapping(value: object) -> Mapping[str, Any]:
    """The value if it is a JSON object, else an empty one: a wrong type reads as "absent"."""
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


# ---------------------------------------------------------------- well-known data ------------


@dataclass(frozen=True)
class Org:
    """A well-known organisation and every way it proves that a package is really its own."""

    id: str
    name: str
    owners: frozenset[str]  # lower-cased GitHub/GitLab owners
    aliases: tuple[str, ...] = ()
    npm_scopes: frozenset[str] = frozenset()
    npm_packages: frozenset[str] = frozenset()
    npm_accounts: frozenset[str] = frozenset()
    pypi_packages: frozenset[str] = frozenset()
    pypi_prefixes: tuple[str, ...] = ()
    pypi_accounts: frozenset[str] = frozenset()
    pypi_orgs: frozenset[str] = frozenset()
    email_domains: frozenset[str] = frozenset()


_ORG_LISTS = (
    "owners", "aliases", "npm_scopes", "npm_packages", "npm_accounts", "pypi_packages",
    "pypi_prefixes", "pypi_accounts", "pypi_orgs", "email_domains",
)  # fmt: skip


def _data_text(name: str) -> str:
    return resources.files("distrust.analyze.data").joinpath(name).read_text(encoding="utf-8")


def parse_orgs(text: str, source: str = "orgs.toml") -> tuple[Org, ...]:
    """Validate the organisations table; errors name the file, the org id and the field."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MetadataRuleError(f"{source}: invalid TOML: {exc}") from None
    orgs: list[Org] = []
    for index, raw in enumerate(doc.get("org", [])):
        org_id = raw.get("id") if isinstance(raw, dict) else None
        where = f"{source}: org {org_id or f'#{index + 1}'}"
        if not isinstance(raw, dict) or not isinstance(org_id, str) or not isinstance(raw.get("name"), str):
            raise MetadataRuleError(f"{where}: needs string fields 'id' and 'name'")
        unknown = sorted(set(raw) - {"id", "name", *_ORG_LISTS})
        if unknown:
            raise MetadataRuleError(f"{where}: unknown field(s) {', '.join(unknown)}")
        lists: dict[str, list[str]] = {}
        for key in _ORG_LISTS:
            value = raw.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise MetadataRuleError(f"{where}: {key} must be a list of non-empty strings")
            lists[key] = value
        if not lists["owners"]:
            raise MetadataRuleError(f"{where}: owners must name at least one GitHub/GitLab owner")
        low = {k: frozenset(v.lower() for v in lists[k]) for k in _ORG_LISTS}
        orgs.append(
            Org(
                id=org_id,
                name=raw["name"],
                owners=low["owners"],
                aliases=tuple(lists["aliases"]),
                npm_scopes=low["npm_scopes"],
                npm_packages=low["npm_packages"],
                npm_accounts=low["npm_accounts"],
                pypi_packages=frozenset(_pep503(p) for p in lists["pypi_packages"]),
                pypi_prefixes=tuple(p.lower() for p in lists["pypi_prefixes"]),
                pypi_accounts=low["pypi_accounts"],
                pypi_orgs=low["pypi_orgs"],
                email_domains=low["email_domains"],
            )
        )
    return tuple(orgs)


@cache
def load_orgs() -> tuple[Org, ...]:
    """The bundled organisations table."""
    return parse_orgs(_data_text("orgs.toml"), "analyze/data/orgs.toml")


@cache
def _orgs_by_owner() -> dict[str, Org]:
    return {owner: org for org in load_orgs() for owner in org.owners}


def _pep503(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# ---------------------------------------------------------------- lookalike names ------------


@dataclass(frozen=True)
class Lookalike:
    """One well-known name that ``name`` imitates, and how.

    ``conditions`` feed the rule's severity: ``copies-official`` (an official MCP name),
    ``top-one-edit`` (one edit from a top package), ``same-scope`` (inside the target's own
    npm scope, so only its owners could publish it).
    """

    target: str
    how: str
    distance: int
    conditions: frozenset[str]


@dataclass(frozen=True)
class _Target:
    name: str  # as the registry spells it
    canon: str  # lower-case (npm) or PEP 503 (PyPI)
    folded: str
    scope: str | None  # "@scope" for scoped npm names
    bare: str  # folded name without the scope
    rank: int | None  # 1 = most popular; None for official names not on the popular list
    official: bool


@dataclass(frozen=True)
class _LookalikeConfig:
    min_length: int
    long_length: int
    max_edits: int
    max_edits_long: int
    top_rank: int
    separators: tuple[str, ...]
    confusables: tuple[tuple[str, str], ...]
    prefixes: dict[str, tuple[str, ...]]
    suffixes: dict[str, tuple[str, ...]]
    scope_bare: re.Pattern[str]
    scope_bare_min: int
    generic_bare: frozenset[str]
    drop_forms: tuple[str, ...]
    official: dict[str, tuple[str, ...]]


def _strings(doc: Mapping[str, Any], section: str, key: str, source: str) -> tuple[str, ...]:
    value = doc.get(section, {}).get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MetadataRuleError(f"{source}: [{section}] {key} must be a list of strings")
    return tuple(value)


def _int(doc: Mapping[str, Any], section: str, key: str, source: str) -> int:
    value = doc.get(section, {}).get(key)
    if not isinstance(value, int) or value < 0:
        raise MetadataRuleError(f"{source}: [{section}] {key} must be a non-negative integer")
    return value


@cache
def _lookalike_config() -> _LookalikeConfig:
    source = "analyze/data/lookalike.toml"
    try:
        doc = tomllib.loads(_data_text("lookalike.toml"))
    except tomllib.TOMLDecodeError as exc:
        raise MetadataRuleError(f"{source}: invalid TOML: {exc}") from None
    pairs = doc.get("fold", {}).get("confusables")
    if not isinstance(pairs, list) or not all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(s, str) for s in p) for p in pairs
    ):
        raise MetadataRuleError(f"{source}: [fold] confusables must be a list of [from, to] pairs")
    pattern = doc.get("scope", {}).get("bare_pattern")
    try:
        scope_bare = re.compile(pattern if isinstance(pattern, str) else "(?!)")
    except re.error as exc:
        raise MetadataRuleError(f"{source}: [scope] bare_pattern is not a valid regex: {exc}") from None
    return _LookalikeConfig(
        min_length=_int(doc, "edit_distance", "min_length", source),
        long_length=_int(doc, "edit_distance", "long_length", source),
        max_edits=_int(doc, "edit_distance", "max_edits", source),
        max_edits_long=_int(doc, "edit_distance", "max_edits_long", source),
        top_rank=_int(doc, "edit_distance", "top_rank", source),
        separators=_strings(doc, "fold", "separators", source),
        confusables=tuple((a, b) for a, b in pairs),
        prefixes={
            Ecosystem.NPM: _strings(doc, "affixes", "npm_prefixes", source),
            Ecosystem.PYPI: _strings(doc, "affixes", "pypi_prefixes", source),
        },
        suffixes={
            Ecosystem.NPM: _strings(doc, "affixes", "npm_suffixes", source),
            Ecosystem.PYPI: _strings(doc, "affixes", "pypi_suffixes", source),
        },
        scope_bare=scope_bare,
        scope_bare_min=_int(doc, "scope", "bare_min_length", source),
        generic_bare=frozenset(_strings(doc, "scope", "generic_bare", source)),
        drop_forms=_strings(doc, "scope", "drop_forms", source),
        official={
            Ecosystem.NPM: _strings(doc, "official", "npm", source),
            Ecosystem.PYPI: _strings(doc, "official", "pypi", source),
        },
    )


def _canon(name: str, ecosystem: str) -> str:
    return _pep503(name) if ecosystem == Ecosystem.PYPI else name.strip().lower()


def _fold(canon: str) -> str:
    """Map look-alike characters and separators to one spelling, so "l0dash" meets "lodash"."""
    cfg = _lookalike_config()
    text = canon
    for sep in cfg.separators:
        text = text.replace(sep, "-")
    for confusable, plain in cfg.confusables:
        text = text.replace(confusable, plain)
    return text


def _split_scope(canon: str) -> tuple[str | None, str]:
    if canon.startswith("@") and "/" in canon:
        scope, _, bare = canon.partition("/")
        return scope, bare
    return None, canon


def _read_list(name: str) -> list[tuple[str, int]]:
    """A generated list: ``name<TAB>rank`` per line, ``#`` comments; rank 1 is the most popular."""
    out: list[tuple[str, int]] = []
    for number, line in enumerate(_data_text(name).splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        try:
            out.append((parts[0], int(parts[1]) if len(parts) > 1 else len(out) + 1))
        except ValueError:
            raise MetadataRuleError(f"analyze/data/{name}:{number}: rank must be an integer") from None
    return out


@dataclass
class _NameIndex:
    """Every target of one ecosystem, indexed so one lookup touches only plausible neighbours."""

    exact: set[str] = field(default_factory=set)  # canonical names that are never lookalikes
    by_folded: dict[str, list[_Target]] = field(default_factory=dict)
    by_length: dict[int, list[_Target]] = field(default_factory=dict)  # folded length -> targets
    scope_dropped: dict[str, list[_Target]] = field(default_factory=dict)  # unscoped form -> official
    official_bare: dict[str, list[_Target]] = field(default_factory=dict)  # bare -> official scoped
    scoped_by_bare: dict[str, list[_Target]] = field(default_factory=dict)  # bare -> scoped targets
    official_scoped: dict[str, list[_Target]] = field(default_factory=dict)  # scope -> official names


@cache
def _name_index(ecosystem: str) -> _NameIndex:
    cfg = _lookalike_config()
    key = "npm" if ecosystem == Ecosystem.NPM else "pypi"
    popular = _read_list(f"popular-{key}.txt")
    official = set(cfg.official[ecosystem])
    ranks = {_canon(n, ecosystem): r for n, r in popular}
    names = {_canon(n, ecosystem): n for n, _ in popular}
    for n in official:
        names.setdefault(_canon(n, ecosystem), n)
    index = _NameIndex()
    index.exact.update(names)
    index.exact.update(_canon(n, ecosystem) for n, _ in _read_list(f"established-{key}.txt"))
    official_canon = {_canon(n, ecosystem) for n in official}
    for canon, name in names.items():
        scope, bare = _split_scope(canon)
        folded = _fold(canon)
        target = _Target(
            name=name,
            canon=canon,
            folded=folded,
            scope=scope,
            bare=_fold(bare),
            rank=ranks.get(canon),
            official=canon in official_canon,
        )
        index.by_folded.setdefault(folded, []).append(target)
        index.by_length.setdefault(len(folded), []).append(target)
        if scope:
            index.scoped_by_bare.setdefault(target.bare, []).append(target)
            if target.official:
                index.official_scoped.setdefault(scope, []).append(target)
        if target.official and scope and _distinctive_bare(bare, cfg):
            index.official_bare.setdefault(target.bare, []).append(target)
            for form in cfg.drop_forms:
                unscoped = _fold(form.format(bare=bare, scope=scope.lstrip("@")))
                index.scope_dropped.setdefault(unscoped, []).append(target)
    return index


def _distinctive_bare(bare: str, cfg: _LookalikeConfig) -> bool:
    if len(bare) < cfg.scope_bare_min or bare in cfg.generic_bare:
        return False
    return bool(cfg.scope_bare.match(bare))


def _osa_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance, or ``limit + 1`` if larger.

    Only a band of width ``2 * limit + 1`` around the diagonal is computed, and the loop stops
    as soon as a whole row exceeds the limit, so a miss costs a few dozen steps.
    """
    la, lb = len(a), len(b)
    over = limit + 1
    if abs(la - lb) > limit:
        return over
    before: list[int] = []
    prev = [j if j <= limit else over for j in range(lb + 1)]
    for i in range(1, la + 1):
        cur = [over] * (lb + 1)
        if i <= limit:
            cur[0] = i
        lo, hi = max(1, i - limit), min(lb, i + limit)
        for j in range(lo, hi + 1):
            best = prev[j - 1] + (a[i - 1] != b[j - 1])
            best = min(best, prev[j] + 1, cur[j - 1] + 1)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                best = min(best, before[j - 2] + 1)
            cur[j] = min(best, over)
        if min(cur[lo - 1 : hi + 1]) >= over:
            return over
        before, prev = prev, cur
    return min(prev[lb], over)


def _edits_allowed(length: int, cfg: _LookalikeConfig) -> int:
    if length < cfg.min_length:
        return 0
    return cfg.max_edits_long if length >= cfg.long_length else cfg.max_edits


def _conditions(target: _Target, distance: int, cfg: _LookalikeConfig, *, same_scope: bool) -> frozenset[str]:
    held: set[str] = set()
    if target.official:
        held.add("copies-official")
    if distance <= 1 and target.rank is not None and target.rank <= cfg.top_rank:
        held.add("top-one-edit")
    if same_scope:
        held.add("same-scope")
    return frozenset(held)


def find_lookalikes(name: str, ecosystem: str) -> tuple[Lookalike, ...]:
    """Well-known names that ``name`` imitates, most telling first; empty if none (or if
    ``name`` is itself well known).

    Candidates are found through indexes (folded spelling, length bucket, scope-dropped forms),
    so a lookup compares the name with a few hundred targets at most.
    """
    if ecosystem not in (Ecosystem.NPM, Ecosystem.PYPI):
        return ()
    cfg = _lookalike_config()
    index = _name_index(ecosystem)
    canon = _canon(name, ecosystem)
    if not canon or canon in index.exact:
        return ()
    scope, bare = _split_scope(canon)
    folded = _fold(canon)
    found: dict[str, Lookalike] = {}

    def add(target: _Target, how: str, distance: int, *, same_scope: bool = False) -> None:
        if target.canon == canon:
            return
        hit = Lookalike(target.name, how, distance, _conditions(target, distance, cfg, same_scope=same_scope))
        old = found.get(target.canon)
        if old is None or hit.distance < old.distance:
            found[target.canon] = hit

    # 1. Same name once look-alike characters and separators are folded.
    for target in index.by_folded.get(folded, []):
        same_scope = scope is not None and target.scope == scope
        add(target, "spelled with look-alike characters or separators as", 1, same_scope=same_scope)
    # 2. An official scoped MCP name with its scope dropped or swapped.
    if scope is None:
        for target in index.scope_dropped.get(folded, []):
            add(target, "an unscoped copy of", 0)
    else:
        for target in index.official_bare.get(_fold(bare), []):
            if target.scope != scope:
                add(target, f"the same name under another scope ({scope}) as", 0)
    # 3. A common affix added to, or removed from, a well-known unscoped name.
    if scope is None:
        for prefix in cfg.prefixes[ecosystem]:
            if folded.startswith(_fold(prefix)):
                _affix_targets(index, folded[len(_fold(prefix)) :], f'"{prefix}" added in front of', add, cfg)
        for suffix in cfg.suffixes[ecosystem]:
            if folded.endswith(_fold(suffix)):
                _affix_targets(index, folded[: -len(_fold(suffix))], f'"{suffix}" added to', add, cfg)
        # and the other way round: the well-known name carries the affix, this one does not
        # ("bn" is not a lookalike of "bn.js": too short to mean anything on its own)
        if len(folded) >= cfg.min_length - 1:
            for suffix in cfg.suffixes[ecosystem]:
                _affix_targets(index, folded + _fold(suffix), f'"{suffix}" removed from', add, cfg)
            for prefix in cfg.prefixes[ecosystem]:
                _affix_targets(index, _fold(prefix) + folded, f'"{prefix}" removed from', add, cfg)
    # 4. One or two edits away (typos, transposed letters).
    if scope is None:
        _near_unscoped(index, folded, add, cfg)
    else:
        _near_scoped(index, scope, _fold(bare), add, cfg)
    order = {"copies-official": 0, "top-one-edit": 1}
    return tuple(
        sorted(
            found.values(),
            key=lambda h: (min((order.get(c, 9) for c in h.conditions), default=9), h.distance, h.target),
        )
    )


def _near_unscoped(index: _NameIndex, folded: str, add: Callable[..., None], cfg: _LookalikeConfig) -> None:
    """Unscoped names one or two edits from an unscoped target (length buckets bound the work)."""
    for length in range(len(folded) - cfg.max_edits_long, len(folded) + cfg.max_edits_long + 1):
        for target in index.by_length.get(length, []):
            allowed = _edits_allowed(len(target.bare), cfg)
            if target.scope is None and allowed:
                _add_if_near(target, folded, target.folded, allowed, add)


def _near_scoped(
    index: _NameIndex, scope: str, bare: str, add: Callable[..., None], cfg: _LookalikeConfig
) -> None:
    """Scoped names: a typo in the scope with the same bare name ("@tyeps/node"), or a typo in
    the bare name inside an official MCP scope. Siblings inside any other owned scope
    (@aws-sdk/client-sso and -sts) are the scope owner's own packages, not squats."""
    for target in index.scoped_by_bare.get(bare, []):
        allowed = _edits_allowed(len(target.scope or "") - 1, cfg)
        if target.scope != scope and allowed:
            _add_if_near(target, scope, target.scope or "", allowed, add)
    for target in index.official_scoped.get(scope, []):
        allowed = _edits_allowed(len(target.bare), cfg)
        if allowed:
            _add_if_near(target, bare, target.bare, allowed, add, same_scope=True)


def _add_if_near(
    target: _Target,
    mine: str,
    theirs: str,
    allowed: int,
    add: Callable[..., None],
    *,
    same_scope: bool = False,
) -> None:
    distance = _osa_distance(mine, theirs, allowed)
    if 0 < distance <= allowed:
        how = "one character away from" if distance == 1 else f"{distance} characters away from"
        add(target, how, distance, same_scope=same_scope)


def _affix_targets(
    index: _NameIndex,
    stem: str,
    how: str,
    add: Callable[..., None],
    cfg: _LookalikeConfig,
) -> None:
    for target in index.by_folded.get(stem, []):
        if target.scope is None and len(target.bare) >= cfg.min_length:
            add(target, how, 2)  # an affix is a bigger change than a typo: never "one edit"


# ---------------------------------------------------------------- normalised view ------------


@dataclass(frozen=True)
class Release:
    """One published version, reduced to what the rules need (None = the document is silent)."""

    version: str
    published: datetime | None = None
    publisher: str | None = None
    maintainers: tuple[str, ...] = ()
    provenance: bool | None = None
    deprecated: str | None = None
    yanked: bool = False
    yanked_reason: str | None = None


@dataclass(frozen=True)
class Claim:
    """Something the package says about who made it: a URL field or an author field."""

    field: str  # "repository", "homepage", "bugs", "author", "project_urls.Source", …
    text: str
    kind: str  # "url" | "author"


@dataclass(frozen=True)
class PackageView:
    """The parts of an npm packument or a PyPI document the checks read, in one shape."""

    ecosystem: str
    name: str
    version: str
    source: str  # the document, for evidence: "registry.npmjs.org/postmark-mcp"
    current: Release
    releases: tuple[Release, ...]  # every version, oldest first where times are known
    earlier: tuple[Release, ...]  # versions published before this one, oldest first
    accounts: tuple[str, ...]  # every account that published or maintains the package
    account_domains: frozenset[str]  # verified email domains of those accounts (npm)
    maintainers: tuple[str, ...]  # current maintainers/owners
    claims: tuple[Claim, ...]
    repository: str | None = None
    homepage: str | None = None
    package_deprecated: str | None = None  # whole package deprecated / inactive
    pypi_orgs: tuple[str, ...] = ()
    notices: tuple[Notice, ...] = ()

    @property
    def previous(self) -> Release | None:
        return self.earlier[-1] if self.earlier else None

    @property
    def first_published(self) -> datetime | None:
        times = [r.published for r in self.releases if r.published is not None]
        return min(times) if times else None

    @property
    def scope(self) -> str | None:
        return _split_scope(self.name.lower())[0]


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


_SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


def _npm_version_key(version: str) -> tuple[Any, ...]:
    """Semver precedence as a sort key; versions that are not semver sort first, by text."""
    match = _SEMVER.match(version.strip())
    if not match:
        return (0, version)
    major, minor, patch, pre = match.groups()
    pre_key: tuple[Any, ...] = (1,)  # a release sorts after its pre-releases
    if pre:
        pre_key = (0, *((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")))
    return (1, int(major), int(minor), int(patch), pre_key)


def _pypi_version_key(version: str) -> tuple[Any, ...]:
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


def _order(
    releases: Sequence[Release], current: Release, key: Callable[[str], tuple[Any, ...]]
) -> tuple[tuple[Release, ...], tuple[Release, ...]]:
    """All releases oldest first, and those published before ``current``.

    Publish time decides when the document has it (a 4.17.21 backport released after 5.0.0
    is newer); otherwise version precedence stands in for it.
    """

    def sort_key(r: Release) -> tuple[Any, ...]:
        if r.published is not None:
            return (0, r.published, key(r.version))
        return (1, key(r.version))

    ordered = tuple(sorted(releases, key=sort_key))
    if current.published is not None:
        when = current.published
        earlier = tuple(r for r in ordered if r.published is not None and r.published < when)
    else:
        mine = key(current.version)
        earlier = tuple(
            sorted((r for r in releases if r.version != current.version and key(r.version) < mine),
                   key=lambda r: key(r.version))
        )  # fmt: skip
    return ordered, earlier


def _person(value: object) -> tuple[str | None, str | None, str | None]:
    """(name, email, url) from an npm person: ``{name, email, url}`` or ``"Name <email> (url)"``."""
    if isinstance(value, Mapping):
        return _str(value.get("name")), _str(value.get("email")), _str(value.get("url"))
    if isinstance(value, str):
        match = re.match(r"^\s*([^<(]*?)\s*(?:<([^>]*)>)?\s*(?:\(([^)]*)\))?\s*$", value)
        if match:
            return _str(match.group(1)), _str(match.group(2)), _str(match.group(3))
        return _str(value), None, None
    return None, None, None


def _url_field(value: object) -> str | None:
    if isinstance(value, Mapping):
        return _str(value.get("url"))
    return _str(value)


def _domain(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return email.rsplit("@", 1)[1].strip().strip(">").lower() or None


def _npm_view(packument: Mapping[str, Any], version: str) -> PackageView:
    if not isinstance(packument, Mapping):
        raise MetadataError(f"npm packument: expected a JSON object, got {type(packument).__name__}")
    name = _str(packument.get("name")) or _str(packument.get("_id")) or "?"
    versions = packument.get("versions")
    if not isinstance(versions, Mapping) or not versions:
        raise MetadataError(f"npm packument for {name!r}: field 'versions' is missing or empty")
    if version not in versions or not isinstance(versions[version], Mapping):
        latest_tag = _str(_mapping(packument.get("dist-tags")).get("latest"))
        raise MetadataError(
            f"npm packument for {name!r}: version {version!r} is not in 'versions' "
            f"({len(versions)} versions; latest {latest_tag or 'unknown'})"
        )
    source = f"registry.npmjs.org/{name}"
    notices: list[Notice] = []
    times = _mapping(packument.get("time"))
    accounts: dict[str, str] = {}
    domains: set[str] = set()

    def remember(person: object) -> str | None:
        who, email, _ = _person(person)
        if who:
            accounts.setdefault(who.lower(), who)
            if (dom := _domain(email)) is not None:
                domains.add(dom)
        return who

    releases: list[Release] = []
    for ver, doc in versions.items():
        if not isinstance(doc, Mapping):
            notices.append(Notice(f"{source}: versions[{ver!r}] is not an object; skipped"))
            continue
        raw_time = times.get(ver)
        published = _parse_time(raw_time)
        if raw_time is not None and published is None:
            notices.append(Notice(f"{source}: time[{ver!r}] is not an ISO date: {_clean(raw_time, 60)!r}"))
        people = _list(doc.get("maintainers"))
        maintainers = tuple(m for m in (remember(p) for p in people) if m)
        dist = doc.get("dist") if isinstance(doc.get("dist"), Mapping) else None
        provenance = None if dist is None else bool(dist.get("attestations"))
        deprecated = doc.get("deprecated")
        releases.append(
            Release(
                version=str(ver),
                published=published,
                publisher=remember(doc.get("_npmUser")),
                maintainers=maintainers,
                provenance=provenance,
                deprecated=_clean(deprecated) if isinstance(deprecated, str) and deprecated.strip() else None,
            )
        )
    top_people = _list(packument.get("maintainers"))
    maintainers = tuple(m for m in (remember(p) for p in top_people) if m)
    current = next(r for r in releases if r.version == version)
    ordered, earlier = _order(releases, current, _npm_version_key)
    this = versions[version]
    claims: list[Claim] = []
    repository = _url_field(this.get("repository")) or _url_field(packument.get("repository"))
    homepage = _str(this.get("homepage")) or _str(packument.get("homepage"))
    bugs = _url_field(this.get("bugs")) or _url_field(packument.get("bugs"))
    for label, url in (("repository", repository), ("homepage", homepage), ("bugs", bugs)):
        if url:
            claims.append(Claim(label, url, "url"))
    author_name, _, author_url = _person(this.get("author") or packument.get("author"))
    if author_url:
        claims.append(Claim("author url", author_url, "url"))
    if author_name:
        claims.append(Claim("author", author_name, "author"))
    tags = _mapping(packument.get("dist-tags"))
    latest = next((r for r in releases if r.version == tags.get("latest")), None)
    package_deprecated = latest.deprecated if latest is not None and latest.version != version else None
    return PackageView(
        ecosystem=Ecosystem.NPM,
        name=name,
        version=version,
        source=source,
        current=current,
        releases=ordered,
        earlier=earlier,
        accounts=tuple(sorted(accounts.values(), key=str.lower)),
        account_domains=frozenset(domains),
        maintainers=maintainers,
        claims=tuple(claims),
        repository=repository,
        homepage=homepage,
        package_deprecated=package_deprecated,
        notices=tuple(notices),
    )


def _pypi_release_key(doc: Mapping[str, Any], version: str) -> str | None:
    releases = doc["releases"]
    if version in releases:
        return version
    try:
        wanted = Version(version)
    except InvalidVersion:
        return None
    for key in releases:
        try:
            if Version(str(key)) == wanted:
                return str(key)
        except InvalidVersion:
            continue
    return None


def _pypi_view(doc: Mapping[str, Any], version: str) -> PackageView:
    if not isinstance(doc, Mapping):
        raise MetadataError(f"PyPI document: expected a JSON object, got {type(doc).__name__}")
    info = doc.get("info")
    if not isinstance(info, Mapping):
        raise MetadataError("PyPI document: field 'info' is missing or not an object")
    name = _str(info.get("name")) or "?"
    if not isinstance(doc.get("releases"), Mapping):
        raise MetadataError(
            f"PyPI document for {name!r}: field 'releases' is missing (the per-version document "
            "/pypi/<name>/<version>/json has none; pass /pypi/<name>/json)"
        )
    key = _pypi_release_key(doc, version)
    if key is None:
        raise MetadataError(
            f"PyPI document for {name!r}: version {version!r} is not in 'releases' "
            f"({len(doc['releases'])} releases; latest {_str(info.get('version')) or 'unknown'})"
        )
    source = f"pypi.org/pypi/{name}/json"
    notices: list[Notice] = []
    releases: list[Release] = []
    for ver, files in doc["releases"].items():
        if not isinstance(files, list):
            notices.append(Notice(f"{source}: releases[{ver!r}] is not a list; skipped"))
            continue
        uploads = [
            t for t in (_parse_time(f.get("upload_time_iso_8601") or f.get("upload_time"))
                        for f in files if isinstance(f, Mapping)) if t is not None
        ]  # fmt: skip
        yanked = bool(files) and all(isinstance(f, Mapping) and f.get("yanked") is True for f in files)
        reasons = {
            _clean(f["yanked_reason"])
            for f in files
            if isinstance(f, Mapping) and _str(f.get("yanked_reason"))
        }
        releases.append(
            Release(
                version=str(ver),
                published=min(uploads) if uploads else None,
                yanked=yanked,
                yanked_reason=sorted(reasons)[0] if yanked and reasons else None,
            )
        )
    current = next(r for r in releases if r.version == key)
    ordered, earlier = _order(releases, current, _pypi_version_key)
    ownership = _mapping(doc.get("ownership"))
    roles = _list(ownership.get("roles"))
    users = tuple(
        dict.fromkeys(u for u in (_str(r.get("user")) for r in roles if isinstance(r, Mapping)) if u)
    )
    org = _str(ownership.get("organization"))
    claims: list[Claim] = []
    urls = _mapping(info.get("project_urls"))
    for label, url in urls.items():
        if _str(url):
            claims.append(Claim(f"project_urls.{_clean(label, 40)}", str(url).strip(), "url"))
    for label in ("home_page", "download_url", "bugtrack_url"):
        if url := _str(info.get(label)):
            claims.append(Claim(label, url, "url"))
    for label in ("author", "maintainer", "author_email", "maintainer_email"):
        if text := _str(info.get(label)):
            person = re.sub(r"<[^>]*>|\S+@\S+", "", text).strip(" ,")  # the names, not the addresses
            if person:
                claims.append(Claim(label, person, "author"))
    url_claims = [c for c in claims if c.kind == "url"]
    repository = next(
        (c.text for c in url_claims if re.search(r"(?i)source|repo|code|git", c.field)),
        next((c.text for c in url_claims if _HOSTED.search(c.text)), None),
    )
    homepage = next((c.text for c in claims if re.search(r"(?i)home", c.field)), None)
    classifiers = _list(info.get("classifiers"))
    inactive = "Development Status :: 7 - Inactive" in classifiers
    return PackageView(
        ecosystem=Ecosystem.PYPI,
        name=name,
        version=key,
        source=source,
        current=current,
        releases=ordered,
        earlier=earlier,
        accounts=users + ((org,) if org else ()),
        account_domains=frozenset(),
        maintainers=users + ((f"organization {org}",) if org else ()),
        claims=tuple(claims),
        repository=repository,
        homepage=homepage,
        package_deprecated="classifier 'Development Status :: 7 - Inactive'" if inactive else None,
        pypi_orgs=(org,) if org else (),
        notices=tuple(notices),
    )


# ---------------------------------------------------------------- checks ---------------------


def _day(when: datetime | None) -> str:
    return when.astimezone(UTC).date().isoformat() if when else "an unknown date"


def _gap(view: PackageView) -> tuple[int, Release] | None:
    """Days between this release and the one before it, when both dates are known."""
    prev = view.previous
    if prev is None or prev.published is None or view.current.published is None:
        return None
    return (view.current.published - prev.published).days, prev


def _provenance_lost(view: PackageView) -> bool:
    prev = view.previous
    return view.current.provenance is False and prev is not None and prev.provenance is True


def _names(items: Iterable[str], limit: int = 5) -> str:
    shown = list(dict.fromkeys(items))
    text = ", ".join(_clean(s, 60) for s in shown[:limit])
    return text + (f" and {len(shown) - limit} more" if len(shown) > limit else "")


@_check(
    "DT-META-001",
    provides={"publisher", "earlier_publishers", "context"},
    conditions={"provenance-lost", "dormant", "was-maintainer"},
)
def _publisher_changed(view: PackageView) -> Hit | None:
    publisher = view.current.publisher
    earlier = [r.publisher for r in view.earlier if r.publisher]
    if not publisher or not earlier or publisher.lower() in {p.lower() for p in earlier}:
        return None
    held: set[str] = set()
    notes: list[str] = []
    if _provenance_lost(view):
        held.add("provenance-lost")
        notes.append(" It was also published without the provenance attestation earlier versions had.")
    gap = _gap(view)
    if gap is not None and gap[0] > DORMANT_DAYS:
        held.add("dormant")
        notes.append(f" It is also the first release in {gap[0]} days.")
    if any(publisher.lower() == m.lower() for r in view.earlier for m in r.maintainers):
        held.add("was-maintainer")
        notes.append(f" {_clean(publisher, 60)} was already listed as a maintainer of an earlier version.")
    return Hit(
        {
            "publisher": _clean(publisher, 60),
            "earlier_publishers": _names(earlier),
            "context": "".join(notes),
        },
        frozenset(held),
        (
            Evidence(
                view.source, snippet=f"versions[{view.version!r}]._npmUser.name = {_clean(publisher, 60)}"
            ),
        ),
    )


@_check("DT-META-002", provides={"previous_version", "with_provenance"})
def _provenance_check(view: PackageView) -> Hit | None:
    if not _provenance_lost(view) or view.previous is None:
        return None
    known = [r for r in view.earlier if r.provenance is not None]
    with_it = sum(1 for r in known if r.provenance)
    return Hit(
        {
            "previous_version": _clean(view.previous.version, 60),
            "with_provenance": f"{with_it} of {len(known)}",
        },
        evidence=(
            Evidence(view.source, snippet=f"versions[{view.previous.version!r}].dist.attestations present"),
            Evidence(view.source, snippet=f"versions[{view.version!r}].dist.attestations absent"),
        ),
    )


@_check("DT-META-003", provides={"days", "published", "previous_version", "previous_published"})
def _dormant(view: PackageView) -> Hit | None:
    gap = _gap(view)
    if gap is None or gap[0] <= DORMANT_DAYS:
        return None
    days, prev = gap
    return Hit(
        {
            "days": str(days),
            "published": _day(view.current.published),
            "previous_version": _clean(prev.version, 60),
            "previous_published": _day(prev.published),
        },
        evidence=(Evidence(view.source, snippet=f"time[{view.version!r}] = {_day(view.current.published)}"),),
    )


@_check("DT-META-004", provides={"what", "message"})
def _deprecated(view: PackageView) -> Hit | None:
    if view.current.deprecated:
        what, message = f"version {view.version}", view.current.deprecated
    elif view.package_deprecated:
        what, message = "the whole package (through its latest release)", view.package_deprecated
    else:
        return None
    evidence = (Evidence(view.source, snippet=f"deprecated: {message}"),)
    return Hit({"what": what, "message": message}, evidence=evidence)


_HOSTED = re.compile(
    r"(?ix)(?:^|[/@.:])(?:www\.)?(github\.com|gitlab\.com)[/:]+(?:(?:orgs|sponsors|users)/)?([a-z0-9][a-z0-9_.-]*)"
)
_PAGES = re.compile(r"(?ix)^(?:[a-z+]+://)?([a-z0-9][a-z0-9-]*)\.(?:github|gitlab)\.io(?:[/:]|$)")
_SHORTHAND = re.compile(r"(?ix)^(?:(github|gitlab):)?([a-z0-9][a-z0-9_.-]*)/[a-z0-9_.-]+$")
_NOT_OWNERS = frozenset({"about", "features", "marketplace", "topics", "login", "explore", "settings"})


def _owner(claim: Claim) -> str | None:
    """The GitHub/GitLab owner a URL names, e.g. ``ActiveCampaign`` for
    ``git+https://github.com/ActiveCampaign/postmark-mcp.git`` or ``ActiveCampaign.github.io``."""
    text = claim.text.strip()
    if m := _HOSTED.search(text):
        owner = m.group(2)
        return None if owner.lower() in _NOT_OWNERS else owner
    if m := _PAGES.match(text):
        return m.group(1)
    if claim.field == "repository" and (m := _SHORTHAND.match(text)):  # npm "owner/repo" means GitHub
        return m.group(2)
    return None


def _belongs_to(org: Org, view: PackageView) -> bool:
    """Whether the registry itself shows that ``org`` controls this package."""
    name = view.name.lower()
    accounts = {a.lower() for a in view.accounts}
    if accounts & org.owners:
        return True
    if view.ecosystem == Ecosystem.NPM:
        return bool(
            (view.scope and view.scope in org.npm_scopes)
            or name in org.npm_packages
            or accounts & org.npm_accounts
            or view.account_domains & org.email_domains
        )
    canon = _pep503(view.name)
    return bool(
        canon in org.pypi_packages
        or any(canon.startswith(_pep503(p)) or view.name.lower().startswith(p) for p in org.pypi_prefixes)
        or accounts & org.pypi_accounts
        or {o.lower() for o in view.pypi_orgs} & org.pypi_orgs
    )


def _alias_match(org: Org, text: str) -> bool:
    return any(re.search(rf"(?i)(?<![\w-]){re.escape(alias)}(?![\w-])", text) for alias in org.aliases)


@_check(
    "DT-META-005",
    provides={"org", "owner", "field", "claim", "accounts"},
    conditions={"author-only"},
)
def _impersonation(view: PackageView) -> Hit | None:
    if not view.accounts:
        return None  # nobody to compare with: the document names no publisher or owner
    if _canon(view.name, view.ecosystem) in _name_index(view.ecosystem).exact:
        return None  # an established, well-known package is not an impostor of its own links
    by_owner = _orgs_by_owner()
    author_hit: Hit | None = None
    for claim in view.claims:
        if claim.kind == "url":
            owner = _owner(claim)
            org = by_owner.get(owner.lower()) if owner else None
            if org is None or _belongs_to(org, view):
                continue
            return _impersonation_hit(view, org, claim, owner or "", frozenset())
        if author_hit is None:
            for org in load_orgs():
                if _alias_match(org, claim.text) and not _belongs_to(org, view):
                    held = frozenset({"author-only"})
                    author_hit = _impersonation_hit(view, org, claim, "named as author", held)
                    break
    return author_hit


def _impersonation_hit(view: PackageView, org: Org, claim: Claim, owner: str, held: frozenset[str]) -> Hit:
    return Hit(
        {
            "org": org.name,
            "owner": owner if owner == "named as author" else f"owner {owner}",
            "field": claim.field,
            "claim": _clean(claim.text, 120),
            "accounts": _names(view.accounts),
        },
        held,
        (
            Evidence(view.source, snippet=f"{claim.field}: {_clean(claim.text, 120)}"),
            Evidence(view.source, snippet=f"published/maintained by: {_names(view.accounts, 10)}"),
        ),
    )


@_check("DT-META-006", provides={"reason"})
def _yanked(view: PackageView) -> Hit | None:
    if not view.current.yanked:
        return None
    reason = view.current.yanked_reason
    return Hit(
        {"reason": f' (reason given: "{reason}")' if reason else " (no reason given)"},
        evidence=(Evidence(view.source, snippet=f"releases[{view.version!r}][*].yanked = true"),),
    )


@_check(
    "DT-META-007",
    provides={"target", "how", "target_note", "context"},
    conditions={"copies-official", "top-one-edit", "same-scope", "long-history"},
)
def _lookalike(view: PackageView) -> Hit | None:
    matches = find_lookalikes(view.name, view.ecosystem)
    if not matches:
        return None
    best = matches[0]
    held = set(best.conditions)
    notes: list[str] = []
    if "same-scope" in held:
        notes.append(
            f" Only the owners of the {view.scope} scope can publish under it, so this is more likely a "
            "typo in your configuration than an impostor."
        )
    first = view.first_published
    if (
        first is not None
        and view.current.published is not None
        and (view.current.published - first).days >= LONG_HISTORY_DAYS
        and len(view.releases) >= LONG_HISTORY_VERSIONS
    ):
        held.add("long-history")
        notes.append(
            f" It has been published since {first.year} with {len(view.releases)} versions, so it may "
            "well be an independent package that merely has a similar name."
        )
    if len(matches) > 1:
        notes.append(f" It also resembles {_names((m.target for m in matches[1:]), 3)}.")
    if "copies-official" in held:
        note = " (an official MCP server or SDK)"
    elif "top-one-edit" in held:
        note = " (one of the most-downloaded packages)"
    else:
        note = ""
    return Hit(
        {"target": best.target, "how": best.how, "target_note": note, "context": "".join(notes)},
        frozenset(held),
        (Evidence(view.source, snippet=f"name: {_clean(view.name, 120)} ~ {best.target}"),),
    )


# ---------------------------------------------------------------- public API -----------------


def assess_npm_metadata(packument: Mapping[str, Any], version: str) -> MetadataReport:
    """Facts and findings for ``version`` from a full npm packument (``GET /<name>``).

    Raises :class:`MetadataError` when the document is not a packument or lacks the version.
    """
    return _assess(_npm_view(packument, version))


def assess_pypi_metadata(doc: Mapping[str, Any], version: str) -> MetadataReport:
    """Facts and findings for ``version`` from a PyPI JSON document (``GET /pypi/<name>/json``).

    The PyPI JSON API names no uploader per release and carries no attestations, so the
    publisher and provenance facts are "unknown" and the rules that need them stay silent.
    """
    return _assess(_pypi_view(doc, version))


def _assess(view: PackageView) -> MetadataReport:
    findings: list[Finding] = []
    params = {"package": _clean(view.name, 120), "version": _clean(view.version, 60)}
    ref = PackageRef(view.ecosystem, view.name, view.version, pinned=True)
    for rule in load_metadata_rules():
        hit = CHECKS[rule.id].function(view)
        if hit is None:
            continue
        values = {**params, **hit.params}
        findings.append(
            Finding(
                rule_id=rule.id,
                severity=rule.severity_for(hit.conditions),
                title=rule.title.format_map(values),
                detail=rule.explanation.format_map(values),
                remediation=rule.remediation.format_map(values),
                package=ref,
                evidence=hit.evidence,
            )
        )
    return MetadataReport(_facts(view), tuple(findings), view.notices)


def _facts(view: PackageView) -> tuple[tuple[str, str], ...]:
    cur, prev = view.current, view.previous
    unknown = "unknown"
    provenance = {None: unknown, True: "yes (dist.attestations)", False: "no"}[cur.provenance]
    gap = _gap(view)
    package_note = f"package: {view.package_deprecated}" if view.package_deprecated else "no"
    deprecated = cur.deprecated or package_note
    published = cur.published.astimezone(UTC).isoformat(timespec="seconds") if cur.published else unknown
    facts: list[tuple[str, str]] = [
        ("publisher", _clean(cur.publisher, 60) if cur.publisher else unknown),
        ("maintainers", _names(view.maintainers, 10) if view.maintainers else unknown),
        ("published", published),
        ("previous version", _clean(prev.version, 60) if prev else "none (first release)"),
        ("previous publisher", _clean(prev.publisher, 60) if prev and prev.publisher else unknown),
        ("provenance", provenance),
        ("repository", _clean(view.repository, 200) if view.repository else "none"),
        ("homepage", _clean(view.homepage, 200) if view.homepage else "none"),
        ("deprecated", deprecated),
        ("versions", str(len(view.releases))),
        ("days since previous release", str(gap[0]) if gap else unknown),
    ]
    if view.ecosystem == Ecosystem.PYPI:
        reason = f" ({cur.yanked_reason})" if cur.yanked_reason else ""
        facts.append(("yanked", f"yes{reason}" if cur.yanked else "no"))
    return tuple(facts)
