"""SARIF report: validity against the official 2.1.0 schema, levels, rules, locations, dedup."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from report_samples import (
    CLAUDE_CONFIG,
    CURSOR_CONFIG,
    EXPECTED_ORDER,
    MALICIOUS,
    NPX_DIR,
    SECRETS,
    VSCODE_CONFIG,
    empty_result,
    reversed_result,
    sample_result,
)

import distrust
from distrust.model import ScanResult, Severity
from distrust.report.common import RuleMeta
from distrust.report.sarif import FINGERPRINT_KEY, fingerprint, render_sarif

SARIF_SCHEMA = (
    Path(__file__).resolve().parents[1]
    / "tools/node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json"
)


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.Draft4Validator:
    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"official SARIF schema not installed at {SARIF_SCHEMA} (run npm ci in tests/tools)")
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def _run(result: ScanResult | None = None, **kwargs: Any) -> dict[str, Any]:
    log = json.loads(render_sarif(result or sample_result(), **kwargs))
    assert len(log["runs"]) == 1
    run: dict[str, Any] = log["runs"][0]
    return run


def test_validates_against_the_official_sarif_schema(sarif_validator: jsonschema.Draft4Validator) -> None:
    rules = {
        "intel.malicious-version": RuleMeta(
            "intel.malicious-version",
            "Known malicious version",
            Severity.CRITICAL,
            "OSV lists it as malware.",
            "Remove it.",
        )
    }
    for text in (
        render_sarif(sample_result()),
        render_sarif(sample_result(), rules=rules),
        render_sarif(empty_result()),
    ):
        errors = sorted(sarif_validator.iter_errors(json.loads(text)), key=str)
        assert not errors, errors[0]


def test_official_schema_would_catch_a_wrong_level(sarif_validator: jsonschema.Draft4Validator) -> None:
    log = json.loads(render_sarif(sample_result()))
    log["runs"][0]["results"][0]["level"] = "critical"
    assert not sarif_validator.is_valid(log)


def test_log_header_and_driver() -> None:
    log = json.loads(render_sarif(sample_result()))
    assert log["version"] == "2.1.0"
    assert log["$schema"].startswith("https://")
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "distrust"
    assert driver["version"] == distrust.__version__


def test_results_order_levels_and_rule_indexes() -> None:
    run = _run()
    results = run["results"]
    rules = run["tool"]["driver"]["rules"]
    assert tuple(r["ruleId"] for r in results) == EXPECTED_ORDER
    assert [r["level"] for r in results] == ["error", "error", "warning", "note"]
    assert [r["id"] for r in rules] == sorted(EXPECTED_ORDER)
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    assert "MAL-2025-47604" in results[0]["message"]["text"]
    assert results[0]["properties"]["advisories"] == ["MAL-2025-47604"]


def test_rule_descriptors_fall_back_to_the_finding_title() -> None:
    rules = {r["id"]: r for r in _run()["tool"]["driver"]["rules"]}
    malicious = rules["intel.malicious-version"]
    assert malicious["shortDescription"]["text"] == MALICIOUS.title
    assert malicious["defaultConfiguration"]["level"] == "error"
    assert malicious["properties"]["security-severity"] == "9.5"
    float(rules["config.unpinned"]["properties"]["security-severity"])  # numeric string
    assert rules["config.unpinned"]["defaultConfiguration"]["level"] == "warning"


def test_rule_descriptors_use_the_catalogue_when_given() -> None:
    meta = RuleMeta(
        id="config.unpinned",
        title="Floating package version",
        severity=Severity.HIGH,
        rationale="A floating spec installs whatever the registry serves next (see postmark-mcp 1.0.16).",
        remediation="Pin an exact version.",
    )
    rule = {r["id"]: r for r in _run(rules={"config.unpinned": meta})["tool"]["driver"]["rules"]}[
        "config.unpinned"
    ]
    assert rule["shortDescription"]["text"] == "Floating package version"
    assert rule["fullDescription"]["text"] == meta.rationale
    assert meta.rationale in rule["help"]["text"] and "Pin an exact version." in rule["help"]["text"]
    assert rule["defaultConfiguration"]["level"] == "error"
    assert rule["properties"]["security-severity"] == "8.0"


def test_locations_point_at_evidence_and_config() -> None:
    results = _run()["results"]
    malicious_locs = [loc["physicalLocation"] for loc in results[0]["locations"]]
    assert malicious_locs[0]["artifactLocation"]["uri"] == (NPX_DIR / "index.js").as_uri()
    assert malicious_locs[0]["region"]["startLine"] == 231
    assert malicious_locs[1]["artifactLocation"]["uri"] == CLAUDE_CONFIG.as_uri()
    assert malicious_locs[1]["region"]["startLine"] == 4
    secret_locs = [loc["physicalLocation"] for loc in results[1]["locations"]]
    # Evidence already in the config file: the config is not listed a second time.
    assert [loc["artifactLocation"]["uri"] for loc in secret_locs] == [CURSOR_CONFIG.as_uri()]
    assert secret_locs[0]["region"]["startLine"] == 12
    assert "locations" in results[3] and results[3]["locations"] == []


def test_notices_become_tool_notifications() -> None:
    notes = _run()["invocations"][0]["toolExecutionNotifications"]
    assert notes[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == VSCODE_CONFIG.as_uri()
    assert notes[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 7
    assert "invocations" not in _run(empty_result())


def test_fingerprints_survive_line_moves_and_rewording_but_not_a_different_server() -> None:
    moved = dataclasses.replace(
        MALICIOUS,
        title="reworded",
        server=dataclasses.replace(MALICIOUS.server, line=40) if MALICIOUS.server else None,
        evidence=tuple(dataclasses.replace(e, line=(e.line or 0) + 10) for e in MALICIOUS.evidence),
    )
    assert fingerprint(moved) == fingerprint(MALICIOUS)
    other = dataclasses.replace(
        MALICIOUS,
        server=dataclasses.replace(MALICIOUS.server, name="postmark-2") if MALICIOUS.server else None,
    )
    assert fingerprint(other) != fingerprint(MALICIOUS)
    prints = [r["partialFingerprints"][FINGERPRINT_KEY] for r in _run()["results"]]
    assert len(set(prints)) == len(prints)


def test_rendering_is_stable_and_independent_of_input_order() -> None:
    first = render_sarif(sample_result())
    assert render_sarif(sample_result()) == first
    assert render_sarif(reversed_result()) == first


def test_no_secret_value_appears() -> None:
    text = render_sarif(sample_result())
    for secret in SECRETS:
        assert secret not in text, secret


def test_templated_rule_text_falls_back_to_the_finding() -> None:
    meta = RuleMeta(
        id="intel.malicious-version",
        title="{name} {versions} is a known-malicious version",
        severity=Severity.CRITICAL,
        rationale="An advisory says this exact version \nwas published to attack.",
        remediation="Remove {name} from {config}.",
    )
    rules = _run(rules={meta.id: meta})["tool"]["driver"]["rules"]
    rule = next(r for r in rules if r["id"] == meta.id)
    assert rule["shortDescription"]["text"] == MALICIOUS.title
    assert rule["fullDescription"]["text"] == "An advisory says this exact version was published to attack."
    assert "{" not in rule["help"]["text"]
