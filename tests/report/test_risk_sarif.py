"""Risk SARIF report: official 2.1.0 schema, rule table, package-root locations, fingerprints."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from risk_samples import BCC_LINE, BCC_TEXT, NAME, postmark_diff, postmark_history, postmark_inspect

from distrust.analyze.results import DiffResult
from distrust.analyze.rules import load_rules
from distrust.model import Severity
from distrust.report import render_risk
from distrust.report.common import RuleMeta
from distrust.report.risk_sarif import FINGERPRINT_KEY, PACKAGE_ROOT_ID, fingerprint, render_risk_sarif

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


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("risk-sarif")
    return {
        "inspect": postmark_inspect(tmp / "inspect"),
        "diff": postmark_diff(tmp / "diff"),
        "history": postmark_history(tmp / "history"),
    }


def _run(result: Any, **kwargs: Any) -> dict[str, Any]:
    log = json.loads(render_risk_sarif(result, **kwargs))
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1
    run: dict[str, Any] = log["runs"][0]
    return run


@pytest.mark.parametrize("command", ["inspect", "diff", "history"])
def test_validates_against_the_official_sarif_schema(
    sarif_validator: jsonschema.Draft4Validator, samples: dict[str, Any], command: str
) -> None:
    log = json.loads(render_risk_sarif(samples[command]))
    errors = sorted(sarif_validator.iter_errors(log), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


def test_the_bcc_result_points_at_line_36_of_the_new_package(samples: dict[str, Any]) -> None:
    result: DiffResult = samples["diff"]
    run = _run(result)
    base = run["originalUriBaseIds"][PACKAGE_ROOT_ID]
    assert base["uri"] == result.new.artifact.root.as_uri() + "/"
    (bcc,) = [r for r in run["results"] if r["ruleId"] == "DT-RISK-003"]
    assert bcc["level"] == "error"
    physical = bcc["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "index.js", "uriBaseId": PACKAGE_ROOT_ID}
    assert physical["region"]["startLine"] == BCC_LINE
    assert physical["region"]["snippet"]["text"] == BCC_TEXT
    context = physical["contextRegion"]
    assert (context["startLine"], context["endLine"]) == (BCC_LINE - 2, BCC_LINE + 2)
    assert BCC_TEXT in context["snippet"]["text"]
    assert "phan@giftshop.club" in bcc["message"]["text"] and "Remediation:" in bcc["message"]["text"]
    assert run["properties"]["command"] == "diff"
    assert run["properties"]["risk"]["level"] == "critical"
    # Results are most severe first, and every ruleIndex names the rule it claims.
    rules = run["tool"]["driver"]["rules"]
    for r in run["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]


def test_rule_table_describes_every_shipped_rule(samples: dict[str, Any]) -> None:
    rules = _run(samples["inspect"])["tool"]["driver"]["rules"]
    shipped = load_rules()
    assert [r["id"] for r in rules] == sorted(r.id for r in shipped)
    by_id = {r["id"]: r for r in rules}
    hidden = by_id["DT-RISK-003"]
    assert hidden["name"] == "AddedHiddenRecipient"
    assert hidden["properties"]["security-severity"] == "9.5"
    assert hidden["defaultConfiguration"]["level"] == "error"
    # Templates ({field}, {address}) never leak into a descriptor.
    for rule in rules:
        for key in ("shortDescription", "fullDescription", "help"):
            assert "{" not in rule[key]["text"], (rule["id"], key)


def test_a_custom_rule_catalogue_replaces_the_shipped_one(samples: dict[str, Any]) -> None:
    custom = {"DT-RISK-001": RuleMeta("DT-RISK-001", "Hidden recipient", Severity.CRITICAL, "Why.", "Fix.")}
    rules = _run(samples["inspect"], rules=custom)["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["DT-RISK-001"]
    assert rules[0]["shortDescription"]["text"] == "Hidden recipient"
    assert rules[0]["help"]["text"] == "Why.\n\nRemediation: Fix."
    # A finding whose rule the catalogue does not know still gets a descriptor.
    diff_rules = _run(samples["diff"], rules=custom)["tool"]["driver"]["rules"]
    assert [r["id"] for r in diff_rules] == ["DT-RISK-001", "DT-RISK-003"]


def test_history_gives_each_version_its_own_root(samples: dict[str, Any]) -> None:
    run = _run(samples["history"])
    bases = run["originalUriBaseIds"]
    assert f"{PACKAGE_ROOT_ID}@1.0.16" in bases and "uri" not in bases[f"{PACKAGE_ROOT_ID}@1.0.16"]
    assert NAME in bases[f"{PACKAGE_ROOT_ID}@1.0.16"]["description"]["text"]
    assert bases[f"{PACKAGE_ROOT_ID}@1.0.13"]["uri"].startswith("file://")
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] for r in run["results"]}
    assert uris == {f"{PACKAGE_ROOT_ID}@1.0.16"}
    assert run["properties"]["behaviourChangedAt"] == ["1.0.16"]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert any("1.0.12" in n["message"]["text"] for n in notes)


def test_unanalysed_files_become_tool_notifications(samples: dict[str, Any]) -> None:
    run = _run(samples["diff"])
    notes = run["invocations"][0]["toolExecutionNotifications"]
    (note,) = notes
    assert note["message"]["text"] == "not analysed: binary file, not code"
    location = note["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "assets/logo.bin", "uriBaseId": PACKAGE_ROOT_ID}


def test_fingerprints_ignore_version_and_line_but_not_the_code(samples: dict[str, Any]) -> None:
    result: DiffResult = samples["diff"]
    finding = next(f for f in result.assessment.findings if f.rule_id == "DT-RISK-003")
    assert finding.package is not None
    moved = dataclasses.replace(
        finding,
        package=dataclasses.replace(finding.package, version="1.0.17"),
        evidence=tuple(dataclasses.replace(e, line=99) for e in finding.evidence),
    )
    assert fingerprint(moved) == fingerprint(finding)
    other = dataclasses.replace(
        finding,
        evidence=tuple(dataclasses.replace(e, snippet="Bcc: 'x@y.example',") for e in finding.evidence),
    )
    assert fingerprint(other) != fingerprint(finding)
    run = _run(result)
    assert all(FINGERPRINT_KEY in r["partialFingerprints"] for r in run["results"])


def test_output_is_deterministic(samples: dict[str, Any]) -> None:
    result = samples["diff"]
    assert render_risk_sarif(result) == render_risk_sarif(result)
    assert render_risk(result, "sarif") == render_risk_sarif(result)
