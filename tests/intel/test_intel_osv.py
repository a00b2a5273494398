"""OSV parsing and the spec's evaluation algorithm, checked against an independent reference."""

from __future__ import annotations

import bisect
import functools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.version import Version

from distrust.intel import npm_semver
from distrust.intel.osv import (
    NPM_SEMVER,
    PEP440,
    IntelError,
    Ordering,
    OsvEvent,
    OsvRange,
    parse_record,
    range_includes,
    record_affects,
)

# --- the reference: paint a sorted universe of versions, event by event ---------------------


def reference_affected(universe: list[str], events: list[tuple[str, str]], ordering: Ordering) -> set[str]:
    """Versions of ``universe`` a range affects, computed without ``range_includes``.

    Sort the universe; every event (in the spec's stable version order) repaints the suffix of
    the universe from where it takes effect: ``introduced`` and ``fixed`` from their own version
    on, ``last_affected`` from just after it. ``limit`` events cut the top of the result.
    """
    key = functools.cmp_to_key(lambda a, b: -1 if a < b else (1 if b < a else 0))
    parsed = sorted(((ordering.parse(v), v) for v in universe), key=lambda p: key(p[0]))
    keys = [key(p[0]) for p in parsed]
    status = [False] * len(parsed)
    timeline = [(e, v) for e, v in events if e != "limit"]
    zero = [(e, v) for e, v in timeline if e == "introduced" and v == "0"]
    rest = sorted(
        ((e, v) for e, v in timeline if (e, v) not in zero), key=lambda ev: key(ordering.parse(ev[1]))
    )
    for kind, version in zero + rest:
        if kind == "introduced" and version == "0":
            start = 0
        elif kind == "last_affected":
            start = bisect.bisect_right(keys, key(ordering.parse(version)))
        else:
            start = bisect.bisect_left(keys, key(ordering.parse(version)))
        for i in range(start, len(status)):
            status[i] = kind == "introduced"
    limits = [v for e, v in events if e == "limit"]
    if limits and not any("*" in v for v in limits):
        top = max(bisect.bisect_left(keys, key(ordering.parse(v))) for v in limits)
        for i in range(top, len(status)):
            status[i] = False
    return {text for (_, text), hit in zip(parsed, status, strict=True) if hit}


NPM_VERSIONS = [
    "0.0.1",
    "0.1.0",
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0",
    "1.0.15",
    "1.0.16",
    "1.0.17",
    "1.2.3",
    "2.0.0-rc.1",
    "2.0.0",
    "10.0.0",
]
PYPI_VERSIONS = [
    "0.1",
    "1.0.dev1",
    "1.0a1",
    "1.0rc1",
    "1.0",
    "1.0.0",  # equal to "1.0" under PEP 440: ties must behave
    "1.0.post1",
    "1.1",
    "1.10",
    "2.0b2",
    "2.0",
    "10.0",
    "2!0.5",  # epoch 2 sorts above every epoch-0 version
]


@st.composite
def event_lists(draw: st.DrawFn, universe: list[str]) -> list[tuple[str, str]]:
    """Valid event lists (the spec forbids mixing fixed and last_affected in one range)."""
    closer = draw(st.sampled_from(["fixed", "last_affected"]))
    kinds = st.sampled_from(["introduced", "introduced", closer, closer, "limit"])
    events = [("introduced", draw(st.sampled_from(["0", *universe])))]
    events += [(draw(kinds), draw(st.sampled_from(universe))) for _ in range(draw(st.integers(0, 5)))]
    if draw(st.integers(0, 6)) == 0:
        events.append(("limit", "*"))
    return draw(st.permutations(events))


def _check_against_reference(universe: list[str], events: list[tuple[str, str]], ordering: Ordering) -> None:
    rng = OsvRange("ECOSYSTEM", tuple(OsvEvent(kind, version) for kind, version in events))
    ours = {v for v in universe if range_includes(rng, ordering.parse(v), ordering)}
    assert ours == reference_affected(universe, events, ordering), events


PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(event_lists(NPM_VERSIONS))
def test_npm_range_matching_equals_reference(events: list[tuple[str, str]]) -> None:
    _check_against_reference(NPM_VERSIONS, events, NPM_SEMVER)


@PROPERTY
@given(event_lists(PYPI_VERSIONS))
def test_pep440_range_matching_equals_reference(events: list[tuple[str, str]]) -> None:
    _check_against_reference(PYPI_VERSIONS, events, PEP440)


def test_reference_orderings_are_the_real_ones() -> None:
    assert [str(v) for v in sorted(map(Version, PYPI_VERSIONS))] == [str(Version(v)) for v in PYPI_VERSIONS]
    assert sorted(NPM_VERSIONS, key=functools.cmp_to_key(npm_semver.compare)) == NPM_VERSIONS


# --- records ------------------------------------------------------------------------------------


def record(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "TEST-1",
        "modified": "2025-01-01T00:00:00Z",
        "summary": "a test advisory",
        "affected": [
            {
                "package": {"ecosystem": "npm", "name": "demo"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"fixed": "1.2.0"}]}],
            }
        ],
    }
    data.update(overrides)
    return data


def affects(data: dict[str, Any], version: str, name: str = "demo", ecosystem: str = "npm") -> bool:
    return record_affects(parse_record(data, "test.json"), ecosystem, name, version).affected


def test_semver_range_edges() -> None:
    data = record()
    assert [affects(data, v) for v in ("0.9.9", "1.0.0", "1.1.9", "1.2.0-rc.1", "1.2.0")] == [
        False,
        True,
        True,
        True,  # a pre-release of the fix sorts before it: still affected
        False,
    ]


def test_last_affected_is_inclusive_and_limit_is_exclusive() -> None:
    last = record(
        affected=[
            {
                "package": {"ecosystem": "PyPI", "name": "demo"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"last_affected": "2.1"}]}],
            }
        ]
    )
    assert affects(last, "2.1", ecosystem="PyPI") and affects(last, "2.1.0", ecosystem="PyPI")
    assert not affects(last, "2.1.post1", ecosystem="PyPI")
    limited = record(
        affected=[
            {
                "package": {"ecosystem": "npm", "name": "demo"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"limit": "3.0.0"}]}],
            }
        ]
    )
    assert affects(limited, "2.9.9") and not affects(limited, "3.0.0")


def test_explicit_versions_and_several_ranges() -> None:
    data = record(
        affected=[
            {
                "package": {"ecosystem": "npm", "name": "demo"},
                "versions": ["0.5.0"],
                "ranges": [
                    {"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"fixed": "1.0.2"}]},
                    {"type": "SEMVER", "events": [{"introduced": "3.0.0"}, {"fixed": "3.2.5"}]},
                ],
            }
        ]
    )
    hits = [v for v in ("0.5.0", "0.6.0", "1.0.1", "1.0.2", "3.2.4", "3.2.5") if affects(data, v)]
    assert hits == ["0.5.0", "1.0.1", "3.2.4"]


def test_withdrawn_records_never_match() -> None:
    data = record(withdrawn="2025-02-01T00:00:00Z")
    assert not affects(data, "1.1.0")


def test_pypi_names_are_normalised_and_versions_compare_by_pep440() -> None:
    data = record(affected=[{"package": {"ecosystem": "PyPI", "name": "Foo_Bar.baz"}, "versions": ["1.0"]}])
    assert affects(data, "1.0", name="foo-bar-baz", ecosystem="PyPI")
    assert affects(data, "1.0.0", name="FOO__bar-Baz", ecosystem="PyPI")  # 1.0 == 1.0.0 in PEP 440
    assert not affects(data, "1.0.1", name="foo-bar-baz", ecosystem="PyPI")
    npm = record(affected=[{"package": {"ecosystem": "npm", "name": "JSONStream"}, "versions": ["1.0.0"]}])
    assert affects(npm, "1.0.0", name="JSONStream")
    assert not affects(npm, "1.0.0", name="jsonstream")  # a different npm package


def test_unreadable_versions_do_not_match_and_say_why() -> None:
    parsed = parse_record(record(), "test.json")
    verdict = record_affects(parsed, "npm", "demo", "not-a-version")
    assert not verdict.affected
    assert verdict.unjudged and "not-a-version" in verdict.unjudged[0] and "TEST-1" in verdict.unjudged[0]
    broken = parse_record(
        record(
            affected=[
                {
                    "package": {"ecosystem": "npm", "name": "demo"},
                    "ranges": [{"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"fixed": "banana"}]}],
                }
            ]
        ),
        "test.json",
    )
    verdict = record_affects(broken, "npm", "demo", "1.5.0")
    assert not verdict.affected and "unreadable version" in verdict.unjudged[0]


def test_git_ranges_are_ignored_and_unknown_orderings_reported() -> None:
    data = record(
        affected=[
            {
                "package": {"ecosystem": "Debian:12", "name": "demo"},
                "ranges": [
                    {"type": "GIT", "repo": "https://example.invalid/r", "events": [{"introduced": "0"}]},
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}]},
                ],
            }
        ]
    )
    verdict = record_affects(parse_record(data, "t.json"), "Debian:12", "demo", "1.0-1")
    assert not verdict.affected
    assert verdict.unjudged == ("TEST-1: no ECOSYSTEM version ordering for ecosystem 'Debian:12'",)


def test_malformed_events_make_the_range_unjudged() -> None:
    data = record(
        affected=[
            {
                "package": {"ecosystem": "npm", "name": "demo"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "1.0.0", "fixed": "2.0.0"}]}],
            }
        ]
    )
    verdict = record_affects(parse_record(data, "t.json"), "npm", "demo", "1.5.0")
    assert not verdict.affected and "exactly one of" in verdict.unjudged[0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must be a JSON object"),
        ({"modified": "2025-01-01T00:00:00Z"}, "field 'id'"),
        (record(modified=None), "field 'modified'"),
        (record(aliases="GHSA-x"), "field 'aliases'"),
        (record(affected=[{"package": {"ecosystem": "npm"}}]), "field 'affected[0].package'"),
        (record(affected=[{"package": {"ecosystem": "npm", "name": "x"}, "ranges": [{}]}]), "ranges[0].type"),
    ],
)
def test_structural_errors_name_the_file_and_field(data: Any, message: str) -> None:
    with pytest.raises(IntelError) as info:
        parse_record(data, "feeds/bad.json")
    assert "feeds/bad.json" in str(info.value) and message in str(info.value)


@pytest.mark.parametrize(
    ("overrides", "malicious"),
    [
        ({"id": "MAL-2025-1"}, True),
        ({"id": "GHSA-aaaa-bbbb-cccc", "aliases": ["MAL-2025-2"]}, True),
        ({"id": "GHSA-aaaa-bbbb-cccc", "summary": "Malicious code in demo (npm)"}, True),
        ({"id": "GHSA-aaaa-bbbb-cccc", "database_specific": {"cwe_ids": ["CWE-506"]}}, True),
        ({"id": "GHSA-aaaa-bbbb-cccc", "summary": "Prototype pollution in demo"}, False),
    ],
)
def test_malicious_flag(overrides: dict[str, Any], malicious: bool) -> None:
    assert parse_record(record(**overrides), "t.json").malicious is malicious


def test_iocs_are_read_from_database_specific() -> None:
    data = record(
        database_specific={
            "iocs": {
                "emails": ["a@evil.test"],
                "domains": ["evil.test"],
                "ips": ["192.0.2.1"],
                "accounts": ["bob"],
            }
        }
    )
    iocs = parse_record(data, "t.json").iocs
    assert {(i.value, i.kind, i.advisory_id) for i in iocs} == {
        ("a@evil.test", "email", "TEST-1"),
        ("evil.test", "domain", "TEST-1"),
        ("bob", "account", "TEST-1"),
    }
