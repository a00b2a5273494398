"""Registry metadata rules on hand-built npm packuments and PyPI documents."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from metadata_docs import npm_packument, postmark_mcp_like, pypi_document

from distrust.analyze.metadata import (
    MetadataError,
    MetadataReport,
    assess_npm_metadata,
    assess_pypi_metadata,
)
from distrust.model import Finding, Severity

IMPERSONATION = "DT-META-005"


def by_rule(report: MetadataReport) -> dict[str, Finding]:
    ids = [f.rule_id for f in report.findings]
    assert len(ids) == len(set(ids)), f"one finding per rule expected, got {ids}"
    return {f.rule_id: f for f in report.findings}


def facts(report: MetadataReport) -> dict[str, str]:
    return dict(report.facts)


# ---------------------------------------------------------------- postmark-mcp -----------------


def test_postmark_mcp_impostor_is_impersonation_naming_activecampaign_and_phanpak() -> None:
    report = assess_npm_metadata(postmark_mcp_like(), "1.0.16")
    finding = by_rule(report)[IMPERSONATION]
    assert finding.severity is Severity.HIGH
    assert "ActiveCampaign" in finding.title and "phanpak" in finding.title
    assert "ActiveCampaign" in finding.detail and "phanpak" in finding.detail
    assert "repository" in finding.detail
    assert finding.package is not None and str(finding.package) == "postmark-mcp@1.0.16"
    assert any("github.com/ActiveCampaign/postmark-mcp" in (e.snippet or "") for e in finding.evidence)
    assert "{" not in finding.title + finding.detail + finding.remediation


def test_postmark_mcp_impostor_facts() -> None:
    got = facts(assess_npm_metadata(postmark_mcp_like(), "1.0.16"))
    assert got["publisher"] == "phanpak"
    assert got["previous version"] == "1.0.15"
    assert got["previous publisher"] == "phanpak"
    assert got["provenance"] == "no"
    assert got["versions"] == "17"
    assert got["days since previous release"] == "7"
    assert got["published"].startswith("2025-08-21")
    assert got["repository"] == "git+https://github.com/ActiveCampaign/postmark-mcp.git"
    assert got["deprecated"] == "no"
    # facts never carry email addresses of accounts
    assert "giftshop" not in repr(got)


def test_same_package_pointing_at_its_own_repository_is_not_impersonation() -> None:
    doc = postmark_mcp_like(repository="git+https://github.com/phanpak/postmark-mcp.git")
    for version in doc["versions"].values():
        version["homepage"] = "https://github.com/phanpak/postmark-mcp#readme"
    report = assess_npm_metadata(doc, "1.0.16")
    assert IMPERSONATION not in by_rule(report)
    # the same publisher all along: none of the publisher rules fire either
    assert {f.rule_id for f in report.findings} <= {"DT-META-007"}


def test_homepage_on_org_pages_domain_is_a_claim_too() -> None:
    doc = postmark_mcp_like(repository="git+https://github.com/phanpak/postmark-mcp.git")
    for version in doc["versions"].values():
        version["homepage"] = "http://ActiveCampaign.github.io/postmark.js"
    finding = by_rule(assess_npm_metadata(doc, "1.0.16"))[IMPERSONATION]
    assert finding.severity is Severity.HIGH and "homepage" in finding.detail


@pytest.mark.parametrize(
    "repository",
    [
        "github:ActiveCampaign/postmark-mcp",
        "ActiveCampaign/postmark-mcp",
        "git@github.com:ActiveCampaign/postmark-mcp.git",
        "https://www.github.com/ActiveCampaign/postmark-mcp/tree/main",
    ],
)
def test_repository_spellings_are_understood(repository: str) -> None:
    doc = postmark_mcp_like(repository=repository)
    for version in doc["versions"].values():
        del version["homepage"]
    assert IMPERSONATION in by_rule(assess_npm_metadata(doc, "1.0.16"))


def test_the_real_postmark_client_is_not_an_impostor() -> None:
    doc = npm_packument(
        "postmark",
        [("4.0.4", 0, "postmark-dev"), ("4.0.5", 30, "postmark-dev")],
        repository="git+https://github.com/ActiveCampaign/postmark.js.git",
        homepage="http://ActiveCampaign.github.io/postmark.js",
        author="Postmark (under ActiveCampaign LLC)",
    )
    assert IMPERSONATION not in by_rule(assess_npm_metadata(doc, "4.0.5"))


@pytest.mark.parametrize(
    ("name", "publisher", "email"),
    [
        ("@modelcontextprotocol/server-everything-else", "someone", "someone@example.org"),  # org scope
        ("mcp-thing", "jspahrsummers", "j@example.org"),  # a known account
        ("mcp-thing", "dev", "dev@anthropic.com"),  # a verified email domain of the org
    ],
)
def test_ownership_shown_by_scope_account_or_email_domain(name: str, publisher: str, email: str) -> None:
    doc = npm_packument(
        name,
        [("0.1.0", 0, publisher)],
        repository="https://github.com/modelcontextprotocol/servers.git",
        emails={publisher: email},
    )
    assert IMPERSONATION not in by_rule(assess_npm_metadata(doc, "0.1.0"))


def test_author_claim_alone_is_medium() -> None:
    doc = npm_packument(
        "mail-helper-tool",
        [("0.1.0", 0, "someone")],
        repository="https://github.com/someone/mail-helper-tool",
        author={"name": "Postmark", "email": "support@postmarkapp.com"},
    )
    finding = by_rule(assess_npm_metadata(doc, "0.1.0"))[IMPERSONATION]
    assert finding.severity is Severity.MEDIUM
    assert "author" in finding.detail and "ActiveCampaign" in finding.title


def test_no_publisher_information_means_no_impersonation_verdict() -> None:
    doc = postmark_mcp_like()
    for version in doc["versions"].values():
        del version["_npmUser"], version["maintainers"]
    del doc["maintainers"]
    report = assess_npm_metadata(doc, "1.0.16")
    assert IMPERSONATION not in by_rule(report)
    assert facts(report)["publisher"] == "unknown"
    assert facts(report)["maintainers"] == "unknown"


# ---------------------------------------------------------------- publisher / provenance ------


def _takeover_doc() -> dict[str, Any]:
    releases = [
        ("4.0.0", 0, "alice"),
        ("4.0.1", 40, "bob"),
        ("4.1.0", 90, "alice"),
        ("4.1.1", 120, "mallory"),
    ]
    return npm_packument(
        "widget-kit",
        releases,
        repository="git+https://github.com/widget/widget-kit.git",
        attested={"4.0.1", "4.1.0"},
        maintainers_of={"4.0.0": ["alice", "bob"], "4.0.1": ["alice", "bob"], "4.1.0": ["alice", "bob"]},
    )


def test_new_publisher_without_attestations_is_publisher_changed_and_provenance_lost() -> None:
    report = assess_npm_metadata(_takeover_doc(), "4.1.1")
    found = by_rule(report)
    changed, lost = found["DT-META-001"], found["DT-META-002"]
    assert changed.severity is Severity.HIGH  # escalated: provenance lost in the same release
    assert "mallory" in changed.title and "alice, bob" in changed.detail
    assert "provenance" in changed.detail
    assert lost.severity is Severity.MEDIUM
    assert "4.1.0" in lost.title and "2 of 3" in lost.detail
    got = facts(report)
    assert got["provenance"] == "no" and got["previous version"] == "4.1.0"
    assert got["previous publisher"] == "alice"


def test_attested_release_by_known_publisher_is_quiet() -> None:
    report = assess_npm_metadata(_takeover_doc(), "4.1.0")
    assert report.findings == ()
    assert facts(report)["provenance"] == "yes (dist.attestations)"


def test_publisher_who_was_already_a_maintainer_is_low() -> None:
    doc = _takeover_doc()
    doc["versions"]["4.1.1"]["dist"]["attestations"] = {"url": "x", "provenance": {}}
    doc["versions"]["4.1.0"]["maintainers"].append({"name": "mallory", "email": "m@example.org"})
    finding = by_rule(assess_npm_metadata(doc, "4.1.1"))["DT-META-001"]
    assert finding.severity is Severity.LOW
    assert "already listed as a maintainer" in finding.detail


def test_first_release_has_no_publisher_finding() -> None:
    report = assess_npm_metadata(_takeover_doc(), "4.0.0")
    assert "DT-META-001" not in by_rule(report)
    assert facts(report)["previous version"] == "none (first release)"


def test_provenance_never_present_is_not_lost() -> None:
    doc = _takeover_doc()
    for version in doc["versions"].values():
        version["dist"].pop("attestations", None)
    assert "DT-META-002" not in by_rule(assess_npm_metadata(doc, "4.1.1"))


def test_previous_release_is_by_publish_time_not_version_number() -> None:
    # a 3.x backport published after 4.0.0 follows 4.0.0 in time
    doc = npm_packument("lib-x", [("3.0.0", 0, "a"), ("4.0.0", 10, "a"), ("3.0.1", 20, "a")])
    assert facts(assess_npm_metadata(doc, "3.0.1"))["previous version"] == "4.0.0"


def test_missing_times_fall_back_to_version_order() -> None:
    doc = npm_packument("lib-x", [("1.2.0", 0, "a"), ("1.10.0", 10, "a"), ("1.9.0", 20, "b")])
    doc["time"] = {}
    report = assess_npm_metadata(doc, "1.10.0")
    assert facts(report)["previous version"] == "1.9.0"
    assert facts(report)["days since previous release"] == "unknown"
    assert "DT-META-001" not in by_rule(report)  # "a" already published 1.2.0


# ---------------------------------------------------------------- dormancy / deprecation ------


def test_first_release_after_a_long_silence() -> None:
    doc = npm_packument("old-lib", [("1.0.0", 0, "ann"), ("1.0.1", 30, "ann"), ("1.1.0", 30 + 500, "ann")])
    finding = by_rule(assess_npm_metadata(doc, "1.1.0"))["DT-META-003"]
    assert finding.severity is Severity.LOW
    assert "500 days" in finding.title and "1.0.1" in finding.detail


def test_dormancy_with_new_publisher_is_high() -> None:
    doc = npm_packument("old-lib", [("1.0.0", 0, "ann"), ("1.1.0", 400, "zed")])
    found = by_rule(assess_npm_metadata(doc, "1.1.0"))
    assert found["DT-META-001"].severity is Severity.HIGH
    assert found["DT-META-003"].severity is Severity.LOW


def test_deprecated_version_shows_message_without_control_characters() -> None:
    doc = npm_packument(
        "old-lib",
        [("1.0.0", 0, "ann"), ("2.0.0", 10, "ann")],
        deprecated={"1.0.0": "Use 2.x \x1b[31minstead\x1b[0m\nplease"},
    )
    finding = by_rule(assess_npm_metadata(doc, "1.0.0"))["DT-META-004"]
    assert finding.severity is Severity.LOW
    assert "\x1b" not in finding.detail and "\n" not in finding.detail
    assert "Use 2.x" in finding.detail and "instead" in finding.detail
    assert "version 1.0.0" in finding.detail


def test_package_deprecated_through_latest_release() -> None:
    doc = npm_packument("old-lib", [("1.0.0", 0, "ann"), ("2.0.0", 10, "ann")], deprecated={"2.0.0": "gone"})
    finding = by_rule(assess_npm_metadata(doc, "1.0.0"))["DT-META-004"]
    assert "whole package" in finding.detail and "gone" in finding.detail


# ---------------------------------------------------------------- bad input -------------------


def test_unknown_version_is_a_clear_error() -> None:
    with pytest.raises(MetadataError, match=r"postmark-mcp.*'9\.9\.9'.*17 versions; latest 1\.0\.16"):
        assess_npm_metadata(postmark_mcp_like(), "9.9.9")


@pytest.mark.parametrize("doc", [[], "x", {"name": "x"}, {"name": "x", "versions": []}])
def test_not_a_packument_is_a_clear_error(doc: Any) -> None:
    with pytest.raises(MetadataError, match="npm packument"):
        assess_npm_metadata(doc, "1.0.0")


def test_malformed_fields_read_as_unknown_with_notices() -> None:
    doc = postmark_mcp_like()
    doc["time"]["1.0.16"] = "yesterday-ish"
    doc["versions"]["1.0.16"]["_npmUser"] = ["not", "a", "person"]
    doc["versions"]["1.0.16"]["maintainers"] = "nobody"
    doc["versions"]["1.0.16"]["dist"] = None
    doc["versions"]["1.0.16"]["repository"] = 42
    doc["maintainers"] = {"oops": 1}
    doc["versions"]["1.0.3"] = "garbage"
    report = assess_npm_metadata(doc, "1.0.16")
    got = facts(report)
    assert got["publisher"] == "unknown" and got["published"] == "unknown" and got["provenance"] == "unknown"
    messages = " | ".join(n.message for n in report.notices)
    assert "time['1.0.16']" in messages and "versions['1.0.3']" in messages


def test_assessment_does_not_modify_the_document() -> None:
    doc = _takeover_doc()
    before = copy.deepcopy(doc)
    assess_npm_metadata(doc, "4.1.1")
    assert doc == before


# ---------------------------------------------------------------- PyPI ------------------------


def test_pypi_impostor_of_official_mcp_server() -> None:
    doc = pypi_document(
        "mcp-server-fetcher",
        [("0.1.0", 0), ("0.1.1", 10)],
        project_urls={"Repository": "https://github.com/modelcontextprotocol/servers/tree/main/src/fetch"},
        roles=[("Owner", "phanpak")],
        author="Anthropic, PBC.",
        author_email="support@anthropic.com",
    )
    report = assess_pypi_metadata(doc, "0.1.1")
    finding = by_rule(report)[IMPERSONATION]
    assert finding.severity is Severity.HIGH
    assert "phanpak" in finding.title and "Model Context Protocol" in finding.title
    got = facts(report)
    assert got["publisher"] == "unknown" and got["provenance"] == "unknown"
    assert got["maintainers"] == "phanpak"
    assert got["repository"].startswith("https://github.com/modelcontextprotocol/")


def test_pypi_official_server_owned_by_known_accounts_is_quiet() -> None:
    doc = pypi_document(
        "mcp-server-fetch",
        [("2025.1.1", 0), ("2025.4.7", 90)],
        project_urls={"Repository": "https://github.com/modelcontextprotocol/servers/tree/main/src/fetch"},
        roles=[("Owner", "dsp"), ("Owner", "jspahrsummers")],
        author="Anthropic, PBC.",
    )
    assert assess_pypi_metadata(doc, "2025.4.7").findings == ()


def test_pypi_organisation_ownership_counts() -> None:
    doc = pypi_document(
        "anthropic-tools-extra",
        [("1.0.0", 0)],
        project_urls={"Homepage": "https://github.com/anthropics/anthropic-tools-extra"},
        roles=[],
        organization="Anthropic",
    )
    assert IMPERSONATION not in by_rule(assess_pypi_metadata(doc, "1.0.0"))


def test_pypi_yanked_release_and_version_normalisation() -> None:
    doc = pypi_document("widgetry", [("1.0", 0), ("1.1", 40)], yanked={"1.1": "broke imports"})
    report = assess_pypi_metadata(doc, "1.1.0")  # PEP 440: 1.1.0 == 1.1
    finding = by_rule(report)["DT-META-006"]
    assert finding.severity is Severity.MEDIUM and "broke imports" in finding.detail
    assert facts(report)["yanked"] == "yes (broke imports)"
    assert facts(report)["previous version"] == "1.0"


def test_pypi_dormant_and_inactive() -> None:
    doc = pypi_document(
        "widgetry",
        [("1.0", 0), ("2.0", 800)],
        classifiers=["Development Status :: 7 - Inactive"],
    )
    found = by_rule(assess_pypi_metadata(doc, "2.0"))
    assert "800 days" in found["DT-META-003"].title
    assert "Inactive" in found["DT-META-004"].detail


def test_pypi_lookalike_of_popular_package() -> None:
    doc = pypi_document("reqeusts", [("2.0.0", 0)])
    finding = by_rule(assess_pypi_metadata(doc, "2.0.0"))["DT-META-007"]
    assert finding.severity is Severity.HIGH and "requests" in finding.title


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"releases": {}}, "'info'"),
        ({"info": {"name": "x"}}, "'releases'"),
        ({"info": {"name": "x"}, "releases": {"1.0": []}}, r"version '2\.0'"),
    ],
)
def test_pypi_bad_documents(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(MetadataError, match=message):
        assess_pypi_metadata(doc, "2.0")
