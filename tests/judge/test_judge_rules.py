"""The rules file is data; the loader must refuse anything that would make findings wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from distrust.judge import CHECKS, Check, RuleLoadError, load_rules, parse_rules
from distrust.judge.rules import RULES_FILE
from distrust.model import Severity

BUNDLED = RULES_FILE.read_text(encoding="utf-8")


def _noop(server: object, ctx: object) -> list[object]:
    return []


def _parse(text: str, checks: dict[str, Check] | None = None) -> object:
    return parse_rules(text, "rules-under-test.toml", checks=CHECKS if checks is None else checks)


def test_bundled_rules_match_the_check_table_exactly() -> None:
    rules = load_rules()
    assert [r.id for r in rules] == sorted(CHECKS)
    assert len(rules) == 12
    for rule in rules:
        assert rule.name and rule.title and rule.remediation
        assert len(rule.rationale) > 150, f"{rule.id} rationale should explain why, in a paragraph"
        assert "\n" not in rule.rationale
    assert rules.get("DT-SCAN-001").severity is Severity.CRITICAL
    assert rules.get("DT-SCAN-012").severity is Severity.LOW


def test_severities_are_the_ones_the_issue_asks_for() -> None:
    expected = {
        "malicious-version": Severity.CRITICAL,
        "malicious-package": Severity.CRITICAL,
        "vulnerable-version": Severity.HIGH,
        "floating-version": Severity.MEDIUM,
        "docker-tag-without-digest": Severity.MEDIUM,
        "ioc-in-config": Severity.CRITICAL,
        "inline-secret": Severity.HIGH,
        "mail-forwarding-parameter": Severity.HIGH,
        "plaintext-remote": Severity.HIGH,
        "shell-wrapper": Severity.HIGH,
        "world-writable-path": Severity.HIGH,
        "unresolved-package": Severity.LOW,
    }
    assert {r.name: r.severity for r in load_rules()} == expected


def test_explicit_path_loads_the_same_rules(tmp_path: Path) -> None:
    copy = tmp_path / "rules.toml"
    copy.write_text(BUNDLED, encoding="utf-8")
    assert load_rules(copy).rules == load_rules().rules


def test_rule_without_check_is_a_load_error_naming_file_and_line() -> None:
    extra = (
        '\n[[rules]]\nid = "DT-SCAN-099"\nname = "orphan"\nseverity = "low"\ntitle = "t"\n'
        'rationale = "r"\nremediation = "x"\n'
    )
    line = len(BUNDLED.splitlines()) + 2
    with pytest.raises(RuleLoadError, match=rf"rules-under-test.toml:{line} \(rule DT-SCAN-099\): no check"):
        _parse(BUNDLED + extra)


def test_check_without_rule_is_a_load_error() -> None:
    checks = {**CHECKS, "DT-SCAN-100": Check(_noop)}
    with pytest.raises(RuleLoadError, match=r"DT-SCAN-100 in judge/checks.py have no rule"):
        _parse(BUNDLED, checks)


def test_missing_rule_file_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(RuleLoadError, match="cannot read rules"):
        load_rules(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ('severity = "critical"', 'severity = "dire"'),
            r":\d+ \(rule DT-SCAN-001\): field 'severity': unknown severity",
        ),
        (
            ('name = "malicious-version"', 'name = "malicious-version"\nremediaton = "x"'),
            r"\(rule DT-SCAN-001\): unknown field\(s\) remediaton",
        ),
        (
            ('title = "{name} {versions} is a known-malicious version"', 'title = "{name} by {publisher}"'),
            r"\(rule DT-SCAN-001\): field 'title': placeholder \{publisher\} is not filled",
        ),
        (('when = "package-has-advisories"', 'when = "full-moon"'), r"never reports condition 'full-moon'"),
        (
            (
                'when = "package-has-advisories"\nseverity = "high"',
                'when = "package-has-advisories"\nseverity = "low"',
            ),
            r"escalation to low does not raise the base medium",
        ),
        (
            ('supersedes = ["DT-SCAN-001", "DT-SCAN-004"]', 'supersedes = ["DT-SCAN-404"]'),
            r"names unknown rule DT-SCAN-404",
        ),
        (('id = "DT-SCAN-012"', 'id = "DT-SCAN-011"'), r"rule id DT-SCAN-011 repeats the rule at line \d+"),
        (('id = "DT-SCAN-012"', 'id = "scan 12"'), r"field 'id' must look like DT-SCAN-001"),
        (('name = "shell-wrapper"', 'name = "Shell Wrapper"'), r"field 'name' must be kebab-case"),
        (
            ('title = "{name} {versions} is a known-malicious version"', 'title = " "'),
            r"field 'title' must be a non-empty string",
        ),
        (('id = "DT-SCAN-012"', "id = 12"), r"field 'id' must be a non-empty string"),
    ],
)
def test_bad_rule_data_is_refused_with_a_pointed_message(edit: tuple[str, str], message: str) -> None:
    old, new = edit
    assert old in BUNDLED
    with pytest.raises(RuleLoadError, match=message):
        _parse(BUNDLED.replace(old, new, 1))


def test_invalid_toml_names_the_line() -> None:
    with pytest.raises(RuleLoadError, match=r"rules-under-test.toml: invalid TOML: .*line 2"):
        _parse('[[rules]]\nid = "DT-SCAN-001\n')


def test_empty_file_is_refused() -> None:
    with pytest.raises(RuleLoadError, match=r"expected one or more \[\[rules\]\] tables"):
        _parse("")


def test_escalation_raises_only_when_its_condition_holds() -> None:
    floating = load_rules().get("DT-SCAN-004")
    assert floating.severity_for([]) is Severity.MEDIUM
    assert floating.severity_for(["something-else"]) is Severity.MEDIUM
    assert floating.severity_for(["package-has-advisories"]) is Severity.HIGH


def test_rule_subsets_refuse_unknown_ids() -> None:
    rules = load_rules()
    assert [r.id for r in rules.only(["DT-SCAN-007"])] == ["DT-SCAN-007"]
    assert "DT-SCAN-007" not in rules.without(["DT-SCAN-007"])
    assert len(rules.without(["DT-SCAN-007"])) == 11
    with pytest.raises(KeyError, match="DT-SCAN-777"):
        rules.only(["DT-SCAN-777"])
    with pytest.raises(KeyError, match="unknown rule 'nope'"):
        rules.get("nope")


def test_every_template_renders_with_the_params_its_check_declares() -> None:
    from distrust.judge.rules import BASE_PARAMS

    for rule in load_rules():
        params = {p: f"<{p}>" for p in BASE_PARAMS | CHECKS[rule.id].params}
        for template in (rule.title, rule.remediation):
            rendered = template.format_map(params)
            assert not re.search(r"(?<!\$)\{[a-z_]+\}", rendered), (rule.id, rendered)
