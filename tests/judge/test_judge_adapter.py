"""StoreLookup derives fixes and "no safe version" from OSV records; wired to the real store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from judge_support import (
    CURSOR,
    HOME,
    host,
    installed,
    npm,
    only,
    resolved,
    stdio,
)

from distrust.intel.osv import OsvRecord, parse_record
from distrust.intel.store import AdvisoryStore
from distrust.judge import check_servers
from distrust.judge.adapter import StoreLookup
from distrust.model import Advisory, Severity


def _record(record_id: str, affected: list[dict[str, Any]], malicious: bool = False) -> OsvRecord:
    prefix = "MAL-" if malicious else ""
    data = {
        "id": prefix + record_id,
        "modified": "2025-09-25T00:00:00Z",
        "summary": "f",
        "affected": affected,
    }
    return parse_record(data, "test fixture")


def _affected(eco: str, name: str, *events: dict[str, str], kind: str = "SEMVER") -> dict[str, Any]:
    return {"package": {"ecosystem": eco, "name": name}, "ranges": [{"type": kind, "events": list(events)}]}


@dataclass
class RecordsOnly:
    """Only ``record`` matters for the derived answers; the rest is passed through untouched."""

    records: dict[str, OsvRecord] = field(default_factory=dict)

    def match(self, ecosystem: str, name: str, version: str) -> tuple[Advisory, ...]:
        return ()

    def advisories_for(self, ecosystem: str, name: str) -> tuple[Advisory, ...]:
        return ()

    def iocs(self) -> tuple[Any, ...]:
        return ()

    def record(self, record_id: str) -> OsvRecord | None:
        return self.records.get(record_id)


def _lookup(*records: OsvRecord) -> StoreLookup:
    return StoreLookup(RecordsOnly({r.id: r for r in records}))


def test_fixed_versions_come_from_fixed_events_of_version_ranges_only() -> None:
    rec = _record(
        "GHSA-1",
        [
            _affected("npm", "ex", {"introduced": "0"}, {"fixed": "1.2.5"}),
            _affected("npm", "ex", {"introduced": "2.0.0"}, {"fixed": "2.0.1"}),
            _affected("npm", "ex", {"introduced": "abc123"}, {"fixed": "def456"}, kind="GIT"),
            _affected("npm", "other", {"introduced": "0"}, {"fixed": "9.9.9"}),
        ],
    )
    assert _lookup(rec).fixed_versions("npm", "ex", "GHSA-1") == ("1.2.5", "2.0.1")
    assert _lookup(rec).fixed_versions("npm", "ex", "GHSA-404") == ()


def test_all_versions_only_when_the_range_opens_at_zero_and_never_closes() -> None:
    every = _record("2099-1", [_affected("PyPI", "Evil_Pkg", {"introduced": "0"})], malicious=True)
    from_116 = _record("2099-2", [_affected("npm", "pm", {"introduced": "1.0.16"})], malicious=True)
    capped = _record("2099-3", [_affected("npm", "c", {"introduced": "0"}, {"last_affected": "1.0.0"})], True)
    lookup = _lookup(every, from_116, capped)
    assert lookup.affects_all_versions("PyPI", "evil-pkg", "MAL-2099-1")  # PEP 503 names
    assert not lookup.affects_all_versions("npm", "Evil_Pkg", "MAL-2099-1")  # other ecosystem
    assert not lookup.affects_all_versions("npm", "pm", "MAL-2099-2")
    assert not lookup.affects_all_versions("npm", "c", "MAL-2099-3")


def test_postmark_scenario_against_the_real_bundled_store() -> None:
    store = AdvisoryStore.load()  # bundled snapshot; the data dir is an empty tmp dir in tests
    try:
        intel = StoreLookup(store)
        cache = HOME / ".npm/_npx/3f2a9c1d0b7e6a5f/node_modules/postmark-mcp"
        spec = stdio("postmark", "npx", "-y", "postmark-mcp", config=CURSOR, client="cursor", line=12)
        copy = installed(npm("postmark-mcp", "1.0.17"), "npx-cache", cache)
        server = resolved(spec, npm("postmark-mcp"), copy)
        findings = check_servers([server], intel, host=host())
        mal = only(findings, "DT-SCAN-001")
        assert mal.severity is Severity.CRITICAL and "MAL-2025-47604" in mal.advisories
        assert only(findings, "DT-SCAN-004").severity is Severity.HIGH
        assert not [f for f in findings if f.rule_id == "DT-SCAN-002"]  # 1.0.0-1.0.15 were clean

        ioc_spec = stdio("m", "npx", "-y", "mail-mcp@1.0.0", env={"NOTIFY": "phan@giftshop.club"})
        ioc_findings = check_servers([resolved(ioc_spec, npm("mail-mcp", "1.0.0"))], intel, host=host())
        ioc = only(ioc_findings, "DT-SCAN-006")
        assert ioc.severity is Severity.CRITICAL

        pinned = resolved(stdio("p", "npx", "-y", "postmark-mcp@1.0.15"), npm("postmark-mcp", "1.0.15"))
        assert check_servers([pinned], intel, host=host()) == ()
    finally:
        store.close()
