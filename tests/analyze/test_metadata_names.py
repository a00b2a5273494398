"""Lookalike names (DT-META-007) and the well-known name data behind them."""

from __future__ import annotations

import time

import pytest
from metadata_docs import npm_packument

from distrust.analyze import metadata
from distrust.analyze.metadata import assess_npm_metadata, find_lookalikes
from distrust.model import Ecosystem, Severity

NPM, PYPI = Ecosystem.NPM, Ecosystem.PYPI
LOOKALIKE = "DT-META-007"


def severity_of(name: str, *, releases: list[tuple[str, int, str]] | None = None) -> Severity | None:
    doc = npm_packument(name, releases or [("1.0.0", 0, "someone")])
    found = [
        f for f in assess_npm_metadata(doc, doc["dist-tags"]["latest"]).findings if f.rule_id == LOOKALIKE
    ]
    return found[0].severity if found else None


@pytest.mark.parametrize(
    ("name", "target", "severity"),
    [
        ("expres", "express", Severity.HIGH),  # one deletion from a top package
        ("lodahs", "lodash", Severity.HIGH),  # transposition
        ("l0dash", "lodash", Severity.HIGH),  # look-alike digit
        ("cornmander", "commander", Severity.HIGH),  # "rn" reads as "m"
        ("lodash-js", "lodash", Severity.MEDIUM),  # affix added
        ("mcp-server-github", "@modelcontextprotocol/server-github", Severity.HIGH),  # scope dropped
        ("modelcontextprotocol-server-github", "@modelcontextprotocol/server-github", Severity.HIGH),
        ("server-filesystem", "@modelcontextprotocol/server-filesystem", Severity.HIGH),
        ("@mcp/server-github", "@modelcontextprotocol/server-github", Severity.HIGH),  # scope swapped
        ("@modelcontextprotocol/server-filesytem", "@modelcontextprotocol/server-filesystem", Severity.LOW),
        ("notion-mcp-server", "@notionhq/notion-mcp-server", Severity.HIGH),
        ("@modelcontextprotocoi/sdk", "@modelcontextprotocol/sdk", Severity.HIGH),  # scope typo
        ("@tyeps/node", "@types/node", Severity.HIGH),
    ],
)
def test_lookalikes_are_flagged(name: str, target: str, severity: Severity) -> None:
    matches = find_lookalikes(name, NPM)
    assert matches, f"{name} should look like {target}"
    assert matches[0].target == target
    assert severity_of(name) is severity


@pytest.mark.parametrize(
    "name",
    [
        "express",
        "lodash",
        "react",
        "react-dom",
        "@modelcontextprotocol/server-github",
        "@modelcontextprotocol/sdk",
        "@types/node",
        "@types/lodash",  # a scope added to a popular name is normal (@types, @babel)
        "@aws-sdk/client-ses",  # sibling of popular @aws-sdk/client-sso inside the owned scope
        "@acme/core",  # generic bare names under another scope
        "@someone/mcp",  # @stripe/mcp's bare name is too generic to count
        "postmark-mcp",  # no well-known "postmark" target; the impostor is caught by impersonation
        "widget-kit",
        "my-company-internal-tool",
    ],
)
def test_real_and_unrelated_names_are_not_flagged(name: str) -> None:
    assert find_lookalikes(name, NPM) == ()


def test_established_near_names_are_not_flagged() -> None:
    # listed in established-npm.txt: real packages with >= 500k downloads a month
    assert "ansicolors" in metadata._name_index(NPM).exact
    assert find_lookalikes("ansicolors", NPM) == ()


def test_old_package_with_long_history_is_low() -> None:
    releases = [(f"1.{i}.0", i * 90, "tj") for i in range(12)]  # ~3 years, 12 versions
    assert severity_of("expresso", releases=releases) is Severity.LOW
    assert severity_of("expresso") is Severity.HIGH


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("reqeusts", "requests"),
        ("python-requests", "requests"),
        ("numpyy", "numpy"),
        ("mcp-server-fetc", None),
    ],
)
def test_pypi_lookalikes(name: str, target: str | None) -> None:
    matches = find_lookalikes(name, PYPI)
    if target is None:
        assert matches and matches[0].target == "mcp-server-fetch"
        assert "copies-official" in matches[0].conditions
    else:
        assert matches and matches[0].target == target


@pytest.mark.parametrize(
    "name", ["requests", "Requests", "typing_extensions", "typing.extensions", "mcp", "numpy"]
)
def test_pypi_names_are_compared_after_pep503_normalisation(name: str) -> None:
    # separators and case are the same project on PyPI, never a lookalike
    assert find_lookalikes(name, PYPI) == ()


def test_npm_separator_swap_is_a_lookalike() -> None:
    assert find_lookalikes("react_dom", NPM)[0].target == "react-dom"


def test_short_names_are_not_compared_by_distance() -> None:
    assert find_lookalikes("mss", NPM) == ()  # "ms" is too short to typosquat-match


def test_unknown_ecosystem_has_no_lookalikes() -> None:
    assert find_lookalikes("express", "docker") == ()


def test_osa_distance() -> None:
    d = metadata._osa_distance
    assert d("lodash", "lodahs", 2) == 1
    assert d("express", "expres", 1) == 1
    assert d("abc", "abc", 1) == 0
    assert d("kitten", "sitting", 3) == 3
    assert d("kitten", "sitting", 2) == 3  # over the limit: limit + 1
    assert d("ab", "abcdef", 2) == 3


def test_lookups_are_fast() -> None:
    find_lookalikes("warm-up", NPM)
    names = [f"some-package-{i}" for i in range(200)] + ["expres", "lodahs", "@scope/thing-server"]
    started = time.perf_counter()
    for name in names:
        find_lookalikes(name, NPM)
    per_lookup = (time.perf_counter() - started) / len(names)
    assert per_lookup < 0.02, f"{per_lookup * 1000:.1f} ms per lookup"


def test_popular_lists_are_ranked_and_sized() -> None:
    for key in ("npm", "pypi"):
        rows = metadata._read_list(f"popular-{key}.txt")
        assert len(rows) == 1000
        assert [rank for _, rank in rows] == list(range(1, 1001))
    assert metadata._read_list("popular-pypi.txt")[0][0] == "boto3"


def test_official_names_are_targets_in_both_ecosystems() -> None:
    npm_index, pypi_index = metadata._name_index(NPM), metadata._name_index(PYPI)
    assert "@modelcontextprotocol/server-filesystem" in npm_index.exact
    assert "mcp-server-fetch" in pypi_index.exact
    assert "mcp-server-github" in npm_index.scope_dropped
