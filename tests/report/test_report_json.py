"""JSON scan report: schema validity, content, ordering, stability and secrecy."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from report_samples import (
    CLAUDE_CONFIG,
    EXPECTED_ORDER,
    SECRETS,
    VSCODE_CONFIG,
    empty_result,
    reversed_result,
    sample_result,
)

import distrust
from distrust.model import Evidence, Finding, ScanResult, Severity
from distrust.report.json_format import SCHEMA_VERSION, render_json

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "scan-report.schema.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(render_json(sample_result()))
    return doc


def test_output_validates_against_the_published_schema(validator: jsonschema.protocols.Validator) -> None:
    validator.validate(_doc())
    validator.validate(json.loads(render_json(empty_result())))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d["findings"][0].__setitem__("severity", "CRITICAL"),
        lambda d: d["servers"][0].__setitem__("env", {"POSTMARK_SERVER_TOKEN": "x"}),
        lambda d: d["summary"]["findings_by_severity"].pop("none"),
        lambda d: d.__setitem__("schema_version", "2"),
        lambda d: d["findings"][0]["evidence"][0].__setitem__("line", 0),
    ],
)
def test_schema_rejects_documents_that_break_the_contract(
    validator: jsonschema.protocols.Validator, mutate: Any
) -> None:
    doc = copy.deepcopy(_doc())
    mutate(doc)
    assert not validator.is_valid(doc)


def test_top_level_and_tool() -> None:
    doc = _doc()
    assert doc["schema_version"] == SCHEMA_VERSION == "1"
    assert doc["tool"] == {"name": "distrust", "version": distrust.__version__}
    assert doc["summary"] == {
        "servers": 4,
        "findings_by_severity": {"critical": 1, "high": 1, "medium": 1, "low": 1, "none": 0},
    }


def test_postmark_finding_carries_advisory_package_and_evidence() -> None:
    first = _doc()["findings"][0]
    assert first["rule_id"] == "intel.malicious-version"
    assert first["severity"] == "critical"
    assert first["advisories"] == ["MAL-2025-47604"]
    assert first["package"] == {"ecosystem": "npm", "name": "postmark-mcp", "version": "1.0.16"}
    assert first["server"] == {
        "client": "claude-desktop",
        "name": "postmark",
        "config_path": str(CLAUDE_CONFIG),
    }
    assert first["evidence"][0]["line"] == 231
    assert "phan@giftshop.club" in first["evidence"][0]["snippet"]
    assert first["remediation"].startswith("Remove the server")


def test_findings_are_sorted_by_severity_then_client_server_rule() -> None:
    assert tuple(f["rule_id"] for f in _doc()["findings"]) == EXPECTED_ORDER
    unattached = _doc()["findings"][-1]
    assert unattached["server"] is None and unattached["package"] is None


def test_servers_show_declared_and_installed_packages() -> None:
    servers = {s["name"]: s for s in _doc()["servers"]}
    assert [s["name"] for s in _doc()["servers"]] == ["postmark", "analytics", "files", "github"]
    postmark = servers["postmark"]
    assert postmark["package"] == {
        "ecosystem": "npm",
        "name": "postmark-mcp",
        "version": None,
        "pinned": False,
        "spec": "latest",
    }
    assert [(i["version"], i["source"]) for i in postmark["installed"]] == [
        ("1.0.16", "npx-cache"),
        ("1.0.15", "npm-log"),
    ]
    assert postmark["installed"][1]["when"] == "2025-09-10T08:00:00+00:00"
    assert postmark["installed"][1]["line"] == 12
    assert postmark["env_keys"] == ["DEFAULT_SENDER_EMAIL", "POSTMARK_SERVER_TOKEN"]
    assert servers["analytics"]["header_keys"] == ["Authorization"]
    assert servers["analytics"]["package"] is None
    assert servers["github"]["notes"] == ["docker image: tag, no digest"]


def test_notice_keeps_file_and_line() -> None:
    assert _doc()["notices"] == [
        {"message": "could not parse JSON: expected ',' or '}'", "file": str(VSCODE_CONFIG), "line": 7}
    ]


def test_rendering_is_stable_and_independent_of_input_order() -> None:
    first = render_json(sample_result())
    assert render_json(sample_result()) == first
    assert render_json(reversed_result()) == first


def test_no_secret_value_appears() -> None:
    text = render_json(sample_result())
    for secret in SECRETS:
        assert secret not in text, secret
    # The names stay visible, so the reader knows a secret is configured.
    assert "POSTMARK_SERVER_TOKEN" in text and "--api-key" in text and "api_key=" in text


def test_lines_below_one_become_null() -> None:
    finding = Finding("r", Severity.LOW, "t", "d", evidence=(Evidence("f.js", 0, "x"),))
    doc = json.loads(render_json(ScanResult(servers=(), findings=(finding,))))
    assert doc["findings"][0]["evidence"][0]["line"] is None
