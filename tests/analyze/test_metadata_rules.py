"""The metadata rules file and the data tables: every rule has a check and vice versa, and a
broken file is refused with a message that says where."""

from __future__ import annotations

from importlib import resources

import pytest

from distrust.analyze import metadata
from distrust.analyze.metadata import (
    CHECKS,
    MetadataRuleError,
    load_metadata_rules,
    parse_metadata_rules,
)
from distrust.model import Severity

RULES_TEXT = resources.files("distrust.analyze.rules").joinpath("metadata.toml").read_text(encoding="utf-8")

GOOD_RULE = """
[[rule]]
id = "DT-META-003"
name = "dormant-then-release"
severity = "low"
title = "{package}@{version} after {days} days"
explanation = "quiet since {previous_published}"
rationale = "because"
remediation = "look"
"""


def test_every_rule_has_a_check_and_every_check_a_rule() -> None:
    rules = load_metadata_rules()
    assert {r.id for r in rules} == set(CHECKS)
    assert len(rules) == 7
    assert [r.name for r in rules] == [
        "publisher-changed",
        "provenance-lost",
        "dormant-then-release",
        "deprecated",
        "impersonation",
        "yanked",
        "lookalike-name",
    ]


def test_severities_as_documented() -> None:
    rules = {r.name: r for r in load_metadata_rules()}
    assert rules["publisher-changed"].severity is Severity.MEDIUM
    assert rules["publisher-changed"].severity_for({"provenance-lost"}) is Severity.HIGH
    assert rules["publisher-changed"].severity_for({"dormant", "was-maintainer"}) is Severity.LOW
    assert rules["impersonation"].severity is Severity.HIGH
    assert rules["impersonation"].severity_for({"author-only"}) is Severity.MEDIUM
    assert rules["lookalike-name"].severity_for({"copies-official"}) is Severity.HIGH
    assert rules["lookalike-name"].severity_for({"copies-official", "same-scope"}) is Severity.LOW
    assert rules["dormant-then-release"].severity is Severity.LOW
    assert rules["deprecated"].severity is Severity.LOW


def test_a_rule_without_check_is_refused() -> None:
    text = RULES_TEXT + GOOD_RULE.replace("DT-META-003", "DT-META-099")
    with pytest.raises(MetadataRuleError, match=r"rule DT-META-099: no check is registered"):
        parse_metadata_rules(text)


def test_a_check_without_rule_is_refused() -> None:
    with pytest.raises(MetadataRuleError, match=r"DT-META-00[124567].* have no rule"):
        parse_metadata_rules(GOOD_RULE)


def test_unknown_placeholder_is_refused() -> None:
    text = GOOD_RULE.replace("{days}", "{dayz}")
    with pytest.raises(MetadataRuleError, match=r"DT-META-003: title uses \{dayz\}"):
        parse_metadata_rules(text, require_checks=False)


def test_unknown_condition_is_refused() -> None:
    text = GOOD_RULE + 'escalate = [{ when = "full-moon", severity = "high" }]\n'
    with pytest.raises(
        MetadataRuleError, match=r"DT-META-003: escalate condition 'full-moon' is never reported"
    ):
        parse_metadata_rules(text, require_checks=False)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('severity = "low"', 'severity = "dire"'), r"DT-META-003: severity: unknown severity 'dire'"),
        (('id = "DT-META-003"', 'id = "META-3"'), r"id must look like DT-META-001"),
        (('rationale = "because"', 'rationale = ""'), r"field 'rationale' must be a non-empty string"),
        (("name = ", "nmae = "), r"unknown field\(s\) nmae"),
        (("[[rule]]", "[[rule"), r"invalid TOML"),
    ],
)
def test_malformed_rules_name_the_rule_and_field(change: tuple[str, str], message: str) -> None:
    with pytest.raises(MetadataRuleError, match=message):
        parse_metadata_rules(GOOD_RULE.replace(*change), "x.toml", require_checks=False)


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(MetadataRuleError, match="duplicate id"):
        parse_metadata_rules(GOOD_RULE + GOOD_RULE, require_checks=False)


def test_orgs_table_loads_and_is_strict() -> None:
    orgs = {o.id: o for o in metadata.load_orgs()}
    assert "activecampaign" in orgs["activecampaign"].owners
    assert "@modelcontextprotocol" in orgs["modelcontextprotocol"].npm_scopes
    owners = [owner for org in orgs.values() for owner in org.owners]
    assert len(owners) == len(set(owners)), "an owner belongs to one organisation only"
    with pytest.raises(MetadataRuleError, match=r"orgs.toml: org x: owners must be a list"):
        metadata.parse_orgs('[[org]]\nid = "x"\nname = "X"\nowners = "x"\n')
    with pytest.raises(MetadataRuleError, match=r"org x: unknown field\(s\) scopes"):
        metadata.parse_orgs('[[org]]\nid = "x"\nname = "X"\nowners = ["x"]\nscopes = []\n')


def test_official_names_are_not_established_or_contradictory() -> None:
    config = metadata._lookalike_config()
    for ecosystem, names in config.official.items():
        assert len(names) == len(set(names)), ecosystem
        for name in names:
            assert metadata.find_lookalikes(name, ecosystem) == (), name
