"""npm_semver against npm's own semver package (7.7.3), plus known answers that need no node."""

from __future__ import annotations

import functools
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from distrust.intel import npm_semver
from distrust.intel.npm_semver import NpmRange, compare, max_satisfying, parse, satisfies, valid

BATCH = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)

# --- generators: strings npm sees in the wild and the corners where implementations differ ---

# Cheap strategies (sampled_from and small integers): each example is a batch of dozens of
# strings, and richer generators (from_regex, filters) made Hypothesis spend minutes drawing.
SAFE_NUMBER = st.one_of(st.integers(0, 12), st.sampled_from([99, 1234, 2**31, 2**53 - 2])).map(str)
ODD_NUMBER = st.sampled_from(
    ["00", "01", "007", "9007199254740991", "9007199254740992", "99999999999999999999"]
)
WORDS = st.sampled_from(
    ["alpha", "beta", "rc", "pre", "x", "X", "a-b", "-", "--1", "0a", "1a", "A1", "z9-", "beta2", "RC"]
)
IDENTIFIER = st.one_of(SAFE_NUMBER, WORDS)
ODD_IDENTIFIER = st.one_of(IDENTIFIER, ODD_NUMBER)
BUILD = st.sampled_from(["b", "build.1", "001", "sha-5114f85", "x.y-z"])


@st.composite
def strict_versions(draw: st.DrawFn) -> str:
    """Valid SemVer 2.0.0 versions, numeric identifiers below 2^53 (a strict total order)."""
    core = ".".join(draw(st.integers(0, 3).map(str) | SAFE_NUMBER) for _ in range(3))
    text = core
    if draw(st.booleans()):
        ids = draw(st.lists(IDENTIFIER, min_size=1, max_size=3))
        text += "-" + ".".join(ids)
    if draw(st.integers(0, 4)) == 0:
        text += "+" + draw(BUILD)
    return text


@st.composite
def any_versions(draw: st.DrawFn) -> str:
    """Anything a config or lockfile might call a version, valid or not, loose or strict."""
    core = ".".join(draw(st.integers(0, 3).map(str) | ODD_NUMBER) for _ in range(draw(st.integers(2, 3))))
    text = draw(st.sampled_from(["", "", "v", "=", "v=", " ", "=v ", "\t", "V"])) + core
    if draw(st.booleans()):
        text += draw(st.sampled_from(["-", "-", ""])) + ".".join(
            draw(st.lists(ODD_IDENTIFIER, min_size=1, max_size=3))
        )
    if draw(st.integers(0, 4)) == 0:
        text += "+" + draw(BUILD)
    text += draw(st.sampled_from(["", "", "", " ", "\n", "\u00a0", "\ufeff", "\x85", "x"]))
    return text


X_PART = st.sampled_from(["0", "1", "2", "3", "10", "x", "X", "*", "01"])


@st.composite
def partial_versions(draw: st.DrawFn) -> str:
    parts = draw(st.lists(X_PART, min_size=1, max_size=3))
    text = ".".join(parts)
    if len(parts) == 3 and draw(st.integers(0, 3)) == 0:
        text += "-" + ".".join(draw(st.lists(IDENTIFIER, min_size=1, max_size=2)))
    if draw(st.integers(0, 9)) == 0:
        text += "+b"
    return draw(st.sampled_from(["", "", "v", "="])) + text


@st.composite
def ranges(draw: st.DrawFn) -> str:
    alternatives = []
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.integers(0, 4)) == 0:
            alternatives.append(f"{draw(partial_versions())} - {draw(partial_versions())}")
            continue
        comparators = []
        for _ in range(draw(st.integers(1, 2))):
            op = draw(st.sampled_from(["", "^", "~", "~>", "<", "<=", ">", ">=", "=", "^ ", "> ", "~ "]))
            comparators.append(op + draw(partial_versions()))
        alternatives.append(" ".join(comparators))
    text = draw(st.sampled_from([" || ", "||", " ||  "])).join(alternatives)
    special = [
        "*",
        "",
        " ",
        "x",
        ">=0.0.0",
        "^99999999999999999999",
        "* || 1.0.0-0",
        "1.0.0-x || *",
        "<0.0.0-0",
    ]
    return draw(st.sampled_from([text] * 9 + special))


# --- agreement with the real package ------------------------------------------------------------


@BATCH
@given(st.lists(st.lists(strict_versions(), min_size=2, max_size=15), min_size=4, max_size=4))
def test_sort_order_matches_node(node_semver, lists: list[list[str]]) -> None:
    expected = node_semver.ask(sort=lists)["sort"]
    ours = [sorted(versions, key=functools.cmp_to_key(compare)) for versions in lists]
    assert ours == expected


@BATCH
@given(st.lists(st.tuples(any_versions(), any_versions(), st.booleans()), min_size=40, max_size=40))
def test_compare_and_validity_match_node(node_semver, pairs: list[tuple[str, str, bool]]) -> None:
    answers = node_semver.ask(
        compare=[list(p) for p in pairs],
        valid=[[v, loose] for a, b, _ in pairs for v in (a, b) for loose in (False, True)],
    )
    ours_valid = [valid(v, loose=loose) for a, b, _ in pairs for v in (a, b) for loose in (False, True)]
    assert ours_valid == answers["valid"]
    ours_compare: list[int | None] = []
    for a, b, loose in pairs:
        try:
            ours_compare.append(compare(a, b, loose=loose))
        except npm_semver.InvalidVersionError:
            ours_compare.append(None)
    assert ours_compare == answers["compare"]


@BATCH
@given(
    st.lists(any_versions() | strict_versions(), min_size=15, max_size=15),
    st.lists(ranges(), min_size=6, max_size=6),
)
def test_satisfies_matches_node(node_semver, versions: list[str], range_texts: list[str]) -> None:
    options = [{}, {"loose": True}, {"includePrerelease": True}]
    questions = [[v, r, o] for r in range_texts for v in versions for o in options]
    expected = node_semver.ask(satisfies=questions)["satisfies"]
    ours = [
        satisfies(v, r, loose=bool(o.get("loose")), include_prerelease=bool(o.get("includePrerelease")))
        for v, r, o in questions
    ]
    mismatches = [(q, e) for q, e, o in zip(questions, expected, ours, strict=True) if e != o]
    assert not mismatches


@BATCH
@given(st.lists(strict_versions(), min_size=1, max_size=30), st.lists(ranges(), min_size=5, max_size=5))
def test_max_satisfying_matches_node(node_semver, versions: list[str], range_texts: list[str]) -> None:
    expected = node_semver.ask(maxSatisfying=[[versions, r] for r in range_texts])["maxSatisfying"]
    assert [max_satisfying(versions, r) for r in range_texts] == expected


# --- known answers (no node needed) -------------------------------------------------------------


def test_semver_spec_precedence_example() -> None:
    chain = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
    ]
    for lower, higher in itertools.pairwise(chain):
        assert parse(lower) < parse(higher)
        assert compare(higher, lower) == 1


def test_build_metadata_is_ignored_and_loose_forms_are_npms() -> None:
    assert parse("1.0.0+a") == parse("1.0.0+b")
    assert valid("v1.2.3") == "1.2.3"
    assert valid("  1.2.3\n") == "1.2.3"
    assert valid("=1.2.3") is None
    assert valid("=1.2.3", loose=True) == "1.2.3"
    assert valid("1.2.3beta", loose=True) == "1.2.3-beta"
    assert valid("1.2.03") is None


@pytest.mark.parametrize(
    ("version", "range_text", "expected"),
    [
        ("1.0.16", "^1.0.0", True),
        ("1.0.15", ">=1.0.16", False),
        ("1.2.4-alpha", "^1.2.3", False),  # pre-releases need a comparator on the same x.y.z
        ("1.2.3-pr.2", "^1.2.3-pr.1", True),
        ("1.0.0-beta", "* || 1.0.0-beta", False),  # npm collapses a range containing * to *
        ("2.0.0", "1.0.0 - 2.0.0", True),
        ("2.0.1", "1.0.0 - 2", True),
        ("0.2.0", "^0.1.x", False),
        ("1.0.0", "not a range", False),
        ("not a version", "*", False),
    ],
)
def test_satisfies_known_answers(version: str, range_text: str, expected: bool) -> None:
    assert satisfies(version, range_text) is expected


def test_invalid_range_raises_named_error() -> None:
    with pytest.raises(npm_semver.InvalidRangeError, match="invalid"):
        NpmRange.parse("1.2.3 >= >=")
    with pytest.raises(npm_semver.InvalidVersionError, match="'nope'"):
        parse("nope")
