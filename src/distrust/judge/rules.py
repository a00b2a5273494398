"""Load the configuration rules from ``rules.toml`` and hold them as a :class:`RuleSet`.

Rules are data so that reports (SARIF help text, the RULES page, ``--explain``) and the
checks share one source of truth. The loader is strict on purpose: a typo in a key, a
placeholder no check fills, or a rule without a check (or a check without a rule) would each
make a finding silently wrong or missing, so each is a :class:`RuleLoadError` naming the file,
the line of the rule and the field.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from distrust.judge.checks import CHECKS, Check
from distrust.model import Severity

RULES_FILE = Path(__file__).with_name("rules.toml")

# Placeholders the engine fills for every rule (see engine._base_params).
BASE_PARAMS: frozenset[str] = frozenset(
    {"server", "client", "config", "package", "name", "command", "credentials"}
)

_REQUIRED_TEXT = ("id", "name", "severity", "title", "rationale", "remediation")
_KNOWN_KEYS = frozenset({*_REQUIRED_TEXT, "escalate", "supersedes"})
_ID = re.compile(r"DT-[A-Z]+-\d{3}")
_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


class RuleLoadError(Exception):
    """rules.toml is unusable; the message names the file, line and field to fix."""


@dataclass(frozen=True)
class Escalation:
    """Raise the rule's severity to ``severity`` when its check reports condition ``when``."""

    when: str
    severity: Severity


@dataclass(frozen=True)
class Rule:
    """One configuration rule, as reports show it."""

    id: str
    name: str
    severity: Severity
    title: str
    rationale: str
    remediation: str
    escalate: tuple[Escalation, ...] = ()
    supersedes: tuple[str, ...] = ()

    def severity_for(self, conditions: Iterable[str]) -> Severity:
        """The base severity, raised by every escalation whose condition holds."""
        held = set(conditions)
        return max([self.severity, *(e.severity for e in self.escalate if e.when in held)])


@dataclass(frozen=True)
class RuleSet:
    """The rules in file order; iterate it, or look rules up by id."""

    rules: tuple[Rule, ...]
    source: str = ""

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __contains__(self, rule_id: object) -> bool:
        return any(r.id == rule_id for r in self.rules)

    def get(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(f"unknown rule {rule_id!r} (known: {', '.join(r.id for r in self.rules)})")

    def only(self, rule_ids: Iterable[str]) -> RuleSet:
        """The subset with these ids, e.g. for ``--rule``; unknown ids are an error, not ignored."""
        wanted = set(rule_ids)
        self._require_known(wanted)
        return RuleSet(tuple(r for r in self.rules if r.id in wanted), self.source)

    def without(self, rule_ids: Iterable[str]) -> RuleSet:
        """All rules except these, e.g. for a policy that disables a rule."""
        unwanted = set(rule_ids)
        self._require_known(unwanted)
        return RuleSet(tuple(r for r in self.rules if r.id not in unwanted), self.source)

    def _require_known(self, ids: set[str]) -> None:
        unknown = sorted(i for i in ids if i not in self)
        if unknown:
            raise KeyError(
                f"unknown rule id(s) {', '.join(unknown)} (known: {', '.join(r.id for r in self.rules)})"
            )


def load_rules(path: Path | None = None, *, checks: Mapping[str, Check] | None = None) -> RuleSet:
    """Read and validate a rules file (default: the bundled ``rules.toml``) against the checks."""
    if path is None and checks is None:
        return _bundled_rules()
    source = path or RULES_FILE
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleLoadError(f"{source}: cannot read rules: {exc}") from None
    return parse_rules(text, str(source), checks=CHECKS if checks is None else checks)


@lru_cache(maxsize=1)
def _bundled_rules() -> RuleSet:
    return parse_rules(RULES_FILE.read_text(encoding="utf-8"), str(RULES_FILE), checks=CHECKS)


def parse_rules(text: str, source: str, *, checks: Mapping[str, Check]) -> RuleSet:
    """Validate rules TOML text; ``source`` names it in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleLoadError(f"{source}: invalid TOML: {exc}") from None
    entries = data.get("rules")
    if not isinstance(entries, list) or not entries:
        raise RuleLoadError(f"{source}: expected one or more [[rules]] tables")
    extra_top = sorted(set(data) - {"rules"})
    if extra_top:
        raise RuleLoadError(f"{source}: unknown top-level key(s) {', '.join(extra_top)}")
    lines = _rule_lines(text)
    rules: list[Rule] = []
    for index, entry in enumerate(entries):
        where = f"{source}:{lines[index]}" if index < len(lines) else f"{source}: rules[{index}]"
        rules.append(_parse_rule(entry, where, checks))
    _check_consistency(rules, source, lines, checks)
    return RuleSet(tuple(rules), source)


def _rule_lines(text: str) -> list[int]:
    """Line numbers of each ``[[rules]]`` header, so errors can point at the rule."""
    return [
        n for n, line in enumerate(text.splitlines(), start=1) if re.match(r"\s*\[\[\s*rules\s*\]\]", line)
    ]


def _parse_rule(entry: Any, where: str, checks: Mapping[str, Check]) -> Rule:
    if not isinstance(entry, dict):
        raise RuleLoadError(f"{where}: a rule must be a table")
    rule_id = entry.get("id")
    label = f"{where} (rule {rule_id})" if isinstance(rule_id, str) else where
    unknown = sorted(set(entry) - _KNOWN_KEYS)
    if unknown:
        raise RuleLoadError(f"{label}: unknown field(s) {', '.join(unknown)}")
    for key in _REQUIRED_TEXT:
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            raise RuleLoadError(f"{label}: field {key!r} must be a non-empty string")
    if not _ID.fullmatch(entry["id"]):
        raise RuleLoadError(f"{label}: field 'id' must look like DT-SCAN-001, got {entry['id']!r}")
    if not _NAME.fullmatch(entry["name"]):
        raise RuleLoadError(f"{label}: field 'name' must be kebab-case, got {entry['name']!r}")
    severity = _severity(entry["severity"], f"{label}: field 'severity'")
    check = checks.get(entry["id"])
    if check is None:
        raise RuleLoadError(f"{label}: no check is registered for this rule id (judge/checks.py CHECKS)")
    allowed = BASE_PARAMS | check.params
    for key in ("title", "remediation"):
        _check_template(entry[key], allowed, f"{label}: field {key!r}")
    escalate = _escalations(entry.get("escalate", []), severity, check, label)
    supersedes = entry.get("supersedes", [])
    if not isinstance(supersedes, list) or not all(isinstance(s, str) for s in supersedes):
        raise RuleLoadError(f"{label}: field 'supersedes' must be a list of rule ids")
    return Rule(
        id=entry["id"],
        name=entry["name"],
        severity=severity,
        title=entry["title"].strip(),
        rationale=" ".join(entry["rationale"].split()),
        remediation=entry["remediation"].strip(),
        escalate=escalate,
        supersedes=tuple(supersedes),
    )


def _severity(value: str, where: str) -> Severity:
    try:
        return Severity.parse(value)
    except ValueError as exc:
        raise RuleLoadError(f"{where}: {exc}") from None


def _check_template(template: str, allowed: frozenset[str], where: str) -> None:
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise RuleLoadError(f"{where}: bad template: {exc}") from None
    for _, field_name, spec, conversion in parts:
        if field_name is None:
            continue
        if spec or conversion or field_name not in allowed:
            choices = ", ".join(sorted(allowed))
            raise RuleLoadError(
                f"{where}: placeholder {{{field_name}}} is not filled by its check (use: {choices})"
            )


def _escalations(raw: Any, base: Severity, check: Check, label: str) -> tuple[Escalation, ...]:
    if not isinstance(raw, list):
        raise RuleLoadError(f"{label}: field 'escalate' must be a list of [[rules.escalate]] tables")
    out: list[Escalation] = []
    for i, item in enumerate(raw):
        where = f"{label}: escalate[{i}]"
        if not isinstance(item, dict) or set(item) != {"when", "severity"}:
            raise RuleLoadError(f"{where}: needs exactly the fields 'when' and 'severity'")
        when = item["when"]
        if when not in check.conditions:
            known = ", ".join(sorted(check.conditions)) or "none"
            raise RuleLoadError(f"{where}: the check never reports condition {when!r} (it reports: {known})")
        severity = _severity(str(item["severity"]), f"{where} field 'severity'")
        if severity <= base:
            raise RuleLoadError(
                f"{where}: escalation to {severity.label} does not raise the base {base.label}"
            )
        out.append(Escalation(when, severity))
    return tuple(out)


def _check_consistency(rules: list[Rule], source: str, lines: list[int], checks: Mapping[str, Check]) -> None:
    ids: dict[str, int] = {}
    names: set[str] = set()
    for index, rule in enumerate(rules):
        line = lines[index] if index < len(lines) else 0
        if rule.id in ids:
            raise RuleLoadError(f"{source}:{line}: rule id {rule.id} repeats the rule at line {ids[rule.id]}")
        if rule.name in names:
            raise RuleLoadError(f"{source}:{line}: rule name {rule.name!r} is used twice")
        ids[rule.id] = line
        names.add(rule.name)
    for index, rule in enumerate(rules):
        for target in rule.supersedes:
            if target not in ids or target == rule.id:
                line = lines[index] if index < len(lines) else 0
                raise RuleLoadError(
                    f"{source}:{line}: rule {rule.id} field 'supersedes' names unknown rule {target}"
                )
    orphans = sorted(set(checks) - set(ids))
    if orphans:
        raise RuleLoadError(
            f"{source}: check(s) {', '.join(orphans)} in judge/checks.py have no rule in this file"
        )
