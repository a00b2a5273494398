"""Risk JSON report: schema validity for inspect/diff/history, the Bcc change, stability."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from risk_samples import (
    ATTACKER,
    BCC_LINE,
    BCC_TEXT,
    INTEGRITY_16,
    NAME,
    bcc_profile,
    clean_profile,
    postmark_diff,
    postmark_history,
    postmark_inspect,
)

import distrust
from distrust.analyze.results import DiffResult, HistoryResult, InspectResult
from distrust.analyze.score import assess_profile
from distrust.report import render_risk
from distrust.report.risk_json import SCHEMA_VERSION, render_risk_json

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "risk-report.schema.json"
CHANGE_FIELDS = {
    "change",
    "kind",
    "value",
    "file",
    "line",
    "in_changed_lines",
    "severity",
    "rule_id",
    "explanation",
}


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("risk-json")
    return {
        "inspect": postmark_inspect(tmp / "inspect"),
        "diff": postmark_diff(tmp / "diff"),
        "history": postmark_history(tmp / "history"),
    }


def _doc(result: InspectResult | DiffResult | HistoryResult) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(render_risk_json(result))
    return doc


@pytest.mark.parametrize("command", ["inspect", "diff", "history"])
def test_every_command_validates_against_the_schema(
    validator: jsonschema.protocols.Validator, samples: dict[str, Any], command: str
) -> None:
    doc = _doc(samples[command])
    validator.validate(doc)
    assert doc["schema_version"] == SCHEMA_VERSION == "1"
    assert doc["tool"] == {"name": "distrust", "version": distrust.__version__}
    assert doc["command"] == command


def test_diff_reports_the_added_bcc_as_a_critical_change(samples: dict[str, Any]) -> None:
    doc = _doc(samples["diff"])
    assert doc["package"] == {"ecosystem": "npm", "name": NAME, "version": "1.0.16"}
    assert doc["old"]["version"] == "1.0.15" and doc["new"]["version"] == "1.0.16"
    assert doc["integrity"] == INTEGRITY_16
    assert doc["risk"]["level"] == "critical" and 90 <= doc["risk"]["score"] <= 100
    for change in doc["changes"]:
        assert set(change) == CHANGE_FIELDS
    bcc = [c for c in doc["changes"] if c["kind"] == "email.recipient"]
    assert bcc == [
        {
            "change": "added",
            "kind": "email.recipient",
            "value": f"bcc={ATTACKER}",
            "file": "index.js",
            "line": BCC_LINE,
            "in_changed_lines": True,
            "severity": "critical",
            "rule_id": "DT-RISK-003",
            "explanation": bcc[0]["explanation"],
        }
    ]
    assert ATTACKER in bcc[0]["explanation"]
    # The change rated critical comes first: changes are sorted most severe first.
    assert doc["changes"][0] == bcc[0]
    unrated = [c for c in doc["changes"] if c["rule_id"] is None]
    assert unrated and all(c["severity"] == "none" and c["explanation"] == "" for c in unrated)


def test_diff_findings_carry_evidence_and_the_new_version_verdict(samples: dict[str, Any]) -> None:
    doc = _doc(samples["diff"])
    by_rule = {f["rule_id"]: f for f in doc["findings"]}
    assert by_rule["DT-RISK-003"]["severity"] == "critical"
    assert by_rule["DT-RISK-003"]["evidence"] == [{"file": "index.js", "line": BCC_LINE, "snippet": BCC_TEXT}]
    assert by_rule["DT-RISK-003"]["version"] == "1.0.16"
    assert by_rule["DT-RISK-003"]["remediation"]
    assert doc["new_version"]["risk"]["level"] == "critical"
    assert [f["rule_id"] for f in doc["new_version"]["findings"]] == ["DT-RISK-001"]
    assert doc["unanalysed"] == [{"file": "assets/logo.bin", "reason": "binary file, not code"}]
    assert "capabilities" not in doc and "steps" not in doc


def test_inspect_lists_capabilities_in_reading_order_and_sorted_metadata(samples: dict[str, Any]) -> None:
    doc = _doc(samples["inspect"])
    caps = doc["capabilities"]
    assert {
        "kind": "email.recipient",
        "value": f"bcc={ATTACKER}",
        "file": "index.js",
        "line": BCC_LINE,
    } in caps
    assert caps == sorted(caps, key=lambda c: (c["file"], c["line"], c["kind"], c["value"]))
    assert list(doc["metadata"]) == sorted(doc["metadata"])
    assert doc["metadata"]["publisher"] == "phanpak"
    assert [f["rule_id"] for f in doc["findings"]] == ["DT-RISK-001"]
    assert "changes" not in doc and "old" not in doc


def test_history_marks_the_step_where_behaviour_changed(samples: dict[str, Any]) -> None:
    doc = _doc(samples["history"])
    assert doc["package"] == {"ecosystem": "npm", "name": NAME, "version": "1.0.16"}
    assert doc["integrity"] is None
    steps = doc["steps"]
    assert [(s["old"], s["new"]) for s in steps] == [
        ("1.0.13", "1.0.14"),
        ("1.0.14", "1.0.15"),
        ("1.0.15", "1.0.16"),
    ]
    assert [s["behaviour_changed"] for s in steps] == [False, False, True]
    last = steps[-1]
    assert last["publisher"] == "phanpak" and last["published"].startswith("2025-09-17")
    assert last["risk"]["level"] == "critical"
    assert any(c["rule_id"] == "DT-RISK-003" and c["line"] == BCC_LINE for c in last["changes"])
    assert doc["risk"] == last["risk"]
    assert doc["first"]["package"]["version"] == "1.0.13" and doc["first"]["risk"]["level"] == "none"
    assert {f["version"] for f in doc["findings"]} == {"1.0.16"}
    assert doc["notices"] == [
        {"message": "registry gave no publish time for 1.0.12", "file": None, "line": None}
    ]


def test_output_is_stable_whatever_order_the_engine_produced(samples: dict[str, Any]) -> None:
    result: DiffResult = samples["diff"]
    shuffled = dataclasses.replace(
        result,
        assessment=dataclasses.replace(
            result.assessment,
            findings=tuple(reversed(result.assessment.findings)),
            changes=tuple(reversed(result.assessment.changes)),
        ),
        new=dataclasses.replace(result.new, capabilities=tuple(reversed(result.new.capabilities))),
    )
    assert render_risk_json(result) == render_risk_json(result)
    assert render_risk_json(shuffled) == render_risk_json(result)
    assert render_risk(result, "JSON") == render_risk_json(result)


def test_schema_rejects_parts_of_another_command(
    validator: jsonschema.protocols.Validator, samples: dict[str, Any]
) -> None:
    """The schema's per-command rules can fail: a test that always passed would prove nothing."""
    inspect_doc = _doc(samples["inspect"])
    diff_doc = _doc(samples["diff"])
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({**inspect_doc, "changes": diff_doc["changes"]})
    without_changes = {k: v for k, v in diff_doc.items() if k != "changes"}
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(without_changes)
    bad_change = {**diff_doc, "changes": [{**diff_doc["changes"][0], "extra": 1}]}
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(bad_change)


def test_clean_version_and_empty_history_validate(
    validator: jsonschema.protocols.Validator, tmp_path: Path
) -> None:
    clean = clean_profile(tmp_path / "clean")
    doc = _doc(InspectResult(clean, assess_profile(clean)))
    validator.validate(doc)
    assert doc["risk"] == {"score": 0, "level": "none"} and doc["findings"] == []
    empty = _doc(HistoryResult("npm", NAME, None, ()))
    validator.validate(empty)
    assert empty["package"]["version"] is None and empty["first"] is None and empty["steps"] == []


def test_secrets_in_package_text_are_masked(
    validator: jsonschema.protocols.Validator, tmp_path: Path
) -> None:
    profile = bcc_profile(tmp_path / "v")
    token = "ghp_" + "a1B2c3D4e5" * 4
    leaky = dataclasses.replace(
        profile,
        capabilities=(
            *profile.capabilities,
            dataclasses.replace(
                profile.capabilities[0], kind="network.url", value=f"https://x.test/?t={token}"
            ),
        ),
    )
    text = render_risk_json(InspectResult(leaky, assess_profile(leaky)))
    validator.validate(json.loads(text))
    assert token not in text
    assert "ghp_…[redacted]" in text
