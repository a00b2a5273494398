"""Each lockfile format: every exact version with the line a person would open."""

from __future__ import annotations

import re

import pytest
from resolve_helpers import FIXTURES

from distrust.resolve.lockfiles import (
    LOCKFILE_FORMATS,
    LockfileError,
    parse_bun_lock,
    parse_package_lock,
    parse_pipfile_lock,
    parse_pnpm_lock,
    parse_requirements,
    parse_yarn_lock,
)


def squash(text: str) -> str:
    return re.sub(r"[-_.]", "", text.lower())


PARSERS = {fmt.id: fmt.parser for fmt in LOCKFILE_FORMATS}

# (fixture, parser id, expected [(name, version, line)])
CASES = [
    (
        "package-lock-v3.json",
        "npm-lock",
        [("@acme/mcp-tools", "2.1.0", 15), ("postmark-mcp", "1.0.16", 20), ("postmark-mcp", "1.0.2", 28)],
    ),
    (
        "package-lock-v1.json",
        "npm-lock",
        [("@acme/mcp-tools", "2.0.0", 7), ("postmark-mcp", "1.0.1", 15), ("postmark-mcp", "1.0.16", 22)],
    ),
    (
        "pnpm-lock-v5.yaml",
        "pnpm-lock",
        [("@acme/mcp-tools", "2.1.0", 13), ("postmark-mcp", "1.0.16", 19), ("postmark-mcp", "1.0.3", 23)],
    ),
    ("pnpm-lock-v6.yaml", "pnpm-lock", [("@acme/mcp-tools", "2.1.0", 17), ("postmark-mcp", "1.0.16", 23)]),
    ("pnpm-lock-v9.yaml", "pnpm-lock", [("@acme/mcp-tools", "2.1.0", 20), ("postmark-mcp", "1.0.16", 25)]),
    (
        "yarn-classic.lock",
        "yarn-lock",
        [("@acme/mcp-tools", "2.1.0", 5), ("postmark-mcp", "1.0.2", 12), ("postmark-mcp", "1.0.16", 17)],
    ),
    ("yarn-berry.lock", "yarn-lock", [("@acme/mcp-tools", "2.1.0", 8), ("postmark-mcp", "1.0.16", 21)]),
    (
        "bun.lock",
        "bun-lock",
        [("@acme/mcp-tools", "2.1.0", 14), ("postmark-mcp", "1.0.2", 16), ("postmark-mcp", "1.0.16", 18)],
    ),
    (
        "uv.lock",
        "uv-lock",
        [
            ("mail-project", "0.1.0", 6),
            ("mcp-server-fetch", "2025.4.7", 14),
            ("postmark-helper", "3.1.0", 20),
        ],
    ),
    ("poetry.lock", "poetry-lock", [("mcp-server-fetch", "2025.1.17", 4), ("postmark-helper", "3.0.0", 14)]),
    (
        "requirements.txt",
        "requirements",
        [("mcp-server-fetch", "2025.4.7", 2), ("postmark-helper", "3.1.0", 5)],
    ),
    ("Pipfile.lock", "pipfile-lock", [("mcp-server-fetch", "2025.4.7", 19)]),
]


@pytest.mark.parametrize(("fixture", "parser_id", "expected"), CASES, ids=[c[0] for c in CASES])
def test_fixture_lockfiles(fixture: str, parser_id: str, expected: list[tuple[str, str, int]]) -> None:
    text = (FIXTURES / "lockfiles" / fixture).read_text()
    entries = PARSERS[parser_id](text, fixture)
    assert [(e.name, e.version, e.line) for e in entries] == expected
    lines = text.splitlines()
    for e in entries:  # the line really mentions the package (names are normalised, so compare loosely)
        assert e.line is not None
        assert squash(e.name.split("/")[-1]) in squash(lines[e.line - 1])


def test_workspace_and_link_entries_are_not_installs() -> None:
    v3 = parse_package_lock((FIXTURES / "lockfiles" / "package-lock-v3.json").read_text(), "x")
    assert "local-link" not in {e.name for e in v3}
    berry = parse_yarn_lock((FIXTURES / "lockfiles" / "yarn-berry.lock").read_text(), "x")
    assert "mail-project" not in {e.name for e in berry}


def test_pnpm_only_reads_the_packages_section() -> None:
    text = "lockfileVersion: '9.0'\nimporters:\n  a@1.0.0:\n    x: 1\npackages:\n  b@2.0.0:\n    r: 1\n"
    assert [(e.name, e.version) for e in parse_pnpm_lock(text, "x")] == [("b", "2.0.0")]


def test_pnpm_non_registry_versions_are_skipped() -> None:
    text = (
        "packages:\n  foo@https://codeload.github.com/a/b/tar.gz/abc:\n    r: 1\n"
        "  bar@file:../bar:\n    r: 1\n"
    )
    assert parse_pnpm_lock(text, "x") == []


def test_bun_lock_comments_and_strings_with_slashes() -> None:
    text = '{\n  /* c */ "packages": {\n    "a": ["a@1.0.0", "https://x//y,]", {},],  // trailing\n  },\n}\n'
    [entry] = parse_bun_lock(text, "bun.lock")
    assert (entry.name, entry.version, entry.line) == ("a", "1.0.0", 3)


def test_requirements_skip_ranges_options_and_urls() -> None:
    text = "\n".join(
        [
            "-e .",
            "--extra-index-url https://x",
            "pkg>=1.0",
            "other==2.*",
            "git+https://github.com/a/b",
            "exact===1.0.0",
            "spaced == 3.0",
            "name @ https://example.com/name-1.0.tar.gz",
        ]
    )
    assert [(e.name, e.version, e.line) for e in parse_requirements(text, "r.txt")] == [
        ("exact", "1.0.0", 6),
        ("spaced", "3.0", 7),
    ]


@pytest.mark.parametrize(
    ("parser", "text", "needle"),
    [
        (parse_package_lock, '{\n  "packages": [\n', "r.json:3: invalid JSON"),
        (parse_package_lock, "[1, 2]", "expected a JSON object"),
        (parse_pipfile_lock, "{", "invalid JSON"),
        (parse_bun_lock, '{"packages": {"a": ["a@1.0.0"]', "invalid JSON"),
    ],
)
def test_malformed_lockfiles_raise_named_errors(parser: object, text: str, needle: str) -> None:
    with pytest.raises(LockfileError, match=needle.replace(".", r"\.")):
        parser(text, "r.json")  # type: ignore[operator]


def test_json_lockfile_with_odd_shapes_does_not_crash() -> None:
    text = '{"packages": {"node_modules/a": "oops", "node_modules/b": {"version": 3}}, "dependencies": 5}'
    assert parse_package_lock(text, "x") == []
    assert (
        parse_package_lock('{"dependencies": {"a": {"version": "1.0.0", "dependencies": "x"}}}', "x")[
            0
        ].version
        == "1.0.0"
    )
