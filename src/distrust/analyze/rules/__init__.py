"""Loading the Risk Engine's rules, which live as data in ``risk.toml`` beside this file.

Keeping rules as data (GuardDog's lesson) means the rule list is also the documentation:
``RULES.md`` is generated from the same file, and a rule's rationale is what a person reads
when it fires.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from distrust.analyze.kinds import KINDS
from distrust.analyze.lazyregex import LazyRegex
from distrust.model import Severity

_APPLIES = ("version", "change")
_SCOPES = ("file", "line", "install", "package")


class RuleError(Exception):
    """The rule file is malformed; the message names the rule and field."""


@dataclass(frozen=True)
class RiskRule:
    """One detection rule; see the header of ``risk.toml`` for what each field means."""

    id: str
    name: str
    applies: str
    severity: Severity
    kinds: tuple[str, ...]
    title: str
    explanation: str
    rationale: str
    remediation: str
    value_pattern: LazyRegex[str] | None = None
    value_exclude: LazyRegex[str] | None = None
    with_any: tuple[str, ...] = ()
    with_all: tuple[str, ...] = ()
    scope: str = "file"
    changed_lines: bool = False
    new_domain: bool = False
    foreign_host: bool = False
    min_platforms: int = 1
    min_distinct: int = 1  # distinct trigger values needed in scope (a stealer's shopping list)
    file_pattern: LazyRegex[str] | None = None  # only capabilities in files whose path matches
    test_downgrade: int = 1  # levels lower in test files (0 = keep); docs are always 2 lower

    def value_matches(self, value: str) -> bool:
        if self.value_pattern is not None and not self.value_pattern.search(value):
            return False
        return not (self.value_exclude is not None and self.value_exclude.search(value))


def _compile(rule_id: str, field: str, text: object, *, check: bool = True) -> LazyRegex[str] | None:
    """The case-insensitive regex of a rule field; ``check`` compiles it now to report mistakes."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise RuleError(f"rule {rule_id}: {field} must be a string")
    pattern = LazyRegex(text, re.IGNORECASE)
    if check:
        try:
            pattern.compiled  # noqa: B018 - compiled for its error, kept for its first use
        except re.error as exc:
            raise RuleError(f"rule {rule_id}: {field} is not a valid regex: {exc}") from None
    return pattern


def _kinds(rule_id: str, field: str, raw: object) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(k, str) for k in raw):
        raise RuleError(f"rule {rule_id}: {field} must be a list of capability kinds")
    unknown = [k for k in raw if k not in KINDS]
    if unknown:
        raise RuleError(f"rule {rule_id}: {field} names unknown kinds {unknown}")
    return tuple(raw)


def parse_rules(text: str, source: str = "risk.toml", *, check_patterns: bool = True) -> tuple[RiskRule, ...]:
    """Parse and validate a rules document; every mistake is reported with the rule id.

    ``check_patterns=False`` leaves each regex to compile on first use: for the shipped rules,
    whose patterns the test suite compiles, so a run does not pay for rules it never reaches.
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{source}: {exc}") from None
    return _rules_from(doc, check_patterns=check_patterns)


def _rules_from(doc: dict[str, Any], *, check_patterns: bool) -> tuple[RiskRule, ...]:
    rules: list[RiskRule] = []
    seen: set[str] = set()
    check = check_patterns
    for raw in doc.get("rule", []):
        rule_id = str(raw.get("id", "?"))
        if rule_id in seen:
            raise RuleError(f"rule {rule_id}: duplicate id")
        seen.add(rule_id)
        for required in ("name", "applies", "severity", "kinds", "title", "explanation", "rationale"):
            if required not in raw:
                raise RuleError(f"rule {rule_id}: missing field {required!r}")
        if raw["applies"] not in _APPLIES:
            raise RuleError(f"rule {rule_id}: applies must be one of {_APPLIES}")
        scope = raw.get("scope", "file")
        if scope not in _SCOPES:
            raise RuleError(f"rule {rule_id}: scope must be one of {_SCOPES}")
        try:
            severity = Severity.parse(raw["severity"])
        except ValueError as exc:
            raise RuleError(f"rule {rule_id}: {exc}") from None
        test_paths = raw.get("test_paths", "downgrade")
        downgrade = {"keep": 0, "downgrade": 1, "downgrade2": 2}.get(test_paths)
        if downgrade is None:
            raise RuleError(f"rule {rule_id}: test_paths must be 'keep', 'downgrade' or 'downgrade2'")
        rules.append(
            RiskRule(
                id=rule_id,
                name=raw["name"],
                applies=raw["applies"],
                severity=severity,
                kinds=_kinds(rule_id, "kinds", raw["kinds"]),
                title=raw["title"],
                explanation=raw["explanation"],
                rationale=raw["rationale"],
                remediation=raw.get("remediation", ""),
                value_pattern=_compile(rule_id, "value_pattern", raw.get("value_pattern"), check=check),
                value_exclude=_compile(rule_id, "value_exclude", raw.get("value_exclude"), check=check),
                with_any=_kinds(rule_id, "with_any", raw.get("with_any")),
                with_all=_kinds(rule_id, "with_all", raw.get("with_all")),
                scope=scope,
                changed_lines=bool(raw.get("changed_lines", False)),
                new_domain=bool(raw.get("new_domain", False)),
                foreign_host=bool(raw.get("foreign_host", False)),
                min_platforms=int(raw.get("min_platforms", 1)),
                min_distinct=int(raw.get("min_distinct", 1)),
                file_pattern=_compile(rule_id, "file_pattern", raw.get("file_pattern"), check=check),
                test_downgrade=downgrade,
            )
        )
    return tuple(rules)


def _shipped_text() -> str:
    return resources.files(__package__).joinpath("risk.toml").read_text(encoding="utf-8")


@cache
def _shipped_doc() -> dict[str, Any]:
    """``risk.toml`` parsed once per process: rules and credentials both read it."""
    try:
        return tomllib.loads(_shipped_text())
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"risk.toml: {exc}") from None


@cache
def load_rules() -> tuple[RiskRule, ...]:
    """The rules shipped with distrust (parsed once per process; regexes compiled on first use)."""
    return _rules_from(_shipped_doc(), check_patterns=False)


@dataclass(frozen=True)
class Credential:
    """A well-known credential (by env name) and the domains it is legitimately sent to."""

    names: LazyRegex[str]
    domains: frozenset[str]


def parse_credentials(text: str) -> tuple[Credential, ...]:
    """The ``[[credential]]`` table: which service each well-known secret belongs to."""
    return _credentials_from(tomllib.loads(text))


def _credentials_from(doc: dict[str, Any]) -> tuple[Credential, ...]:
    out: list[Credential] = []
    for i, raw in enumerate(doc.get("credential", []), start=1):
        names = _compile(f"credential #{i}", "names", raw.get("names"))
        domains = raw.get("domains")
        if names is None or not isinstance(domains, list) or not domains:
            raise RuleError(f"credential #{i}: needs 'names' (regex) and a non-empty 'domains' list")
        out.append(Credential(names, frozenset(str(d).lower() for d in domains)))
    return tuple(out)


@cache
def _credentials() -> tuple[Credential, ...]:
    return _credentials_from(_shipped_doc())


def credential_domains(env_name: str) -> frozenset[str] | None:
    """Domains the named credential belongs to, or None when it is not a well-known one."""
    for cred in _credentials():
        if cred.names.search(env_name):
            return cred.domains
    return None


@cache
def known_service_domains() -> frozenset[str]:
    """Every domain of the ``[[credential]]`` table: big platforms whose API many packages call."""
    return frozenset(d for cred in _credentials() for d in cred.domains)


def rules_markdown(rules: tuple[RiskRule, ...]) -> str:
    """RULES.md: the rule list as documentation, generated from the same data the engine runs."""
    lines = [
        "# Risk Engine rules",
        "",
        "Generated from `src/distrust/analyze/rules/risk.toml` by `distrust rules --markdown`; "
        "do not edit by hand.",
        "",
        "| id | name | applies to | severity | what it means |",
        "|---|---|---|---|---|",
    ]
    for r in rules:
        what = "one version" if r.applies == "version" else "what a new version added"
        lines.append(f"| {r.id} | {r.name} | {what} | {r.severity.label} | {r.title} |")
    for r in rules:
        lines += ["", f"## {r.id} {r.name} ({r.severity.label})", "", r.rationale, ""]
        lines.append(f"- Triggered by: {', '.join(f'`{k}`' for k in r.kinds)}")
        if r.value_pattern is not None:
            lines.append(f"- Value matches: `{r.value_pattern.pattern}`")
        if r.with_all:
            lines.append(f"- Together with all of ({r.scope}): {', '.join(r.with_all)}")
        if r.with_any:
            lines.append(f"- Together with any of ({r.scope}): {', '.join(r.with_any)}")
        if r.changed_lines:
            lines.append("- Only in lines that are new in this version")
        if r.new_domain:
            lines.append("- Only for domains no earlier version used")
        if r.remediation:
            lines.append(f"- Remediation: {r.remediation}")
    return "\n".join(lines) + "\n"
