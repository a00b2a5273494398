"""Each fixture line states what the analyser must (or must not) find on it.

A comment ``expect: KIND VALUE | KIND VALUE`` on a line asserts those capabilities at that line;
``KIND~ PREFIX`` matches a value by prefix (long tool descriptions); ``expect-none: KIND`` asserts
that no capability of that kind is on the line. Keeping expectations beside the code they are
about makes a fixture readable as documentation of what is detected.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from distrust.analyze.js import JsResult, analyze_js
from distrust.analyze.kinds import is_known

FIXTURES = Path(__file__).parent.parent / "fixtures" / "analyze" / "js"
DIALECT = {".js": "js", ".ts": "ts", ".tsx": "tsx"}
EXPECT_RE = re.compile(r"expect(-none)?:\s*(.*?)\s*(?:\*/\s*\}?)?$")


def _analyze(name: str) -> JsResult:
    path = FIXTURES / name
    return analyze_js(name, path.read_bytes(), dialect=DIALECT[path.suffix])


def _expectations(name: str) -> list[tuple[int, bool, str, str]]:
    """(line, negative, kind, value) for every expectation comment in a fixture."""
    out = []
    for number, line in enumerate((FIXTURES / name).read_text("utf-8").splitlines(), start=1):
        found = EXPECT_RE.search(line)
        if not found:
            continue
        negative, body = bool(found.group(1)), found.group(2)
        for item in body.split(" | "):
            kind, _, value = item.strip().partition(" ")
            out.append((number, negative, kind, value))
    return out


FIXTURE_FILES = sorted(p.name for p in FIXTURES.iterdir() if p.suffix in DIALECT)


@pytest.mark.parametrize("name", FIXTURE_FILES)
def test_fixture_expectations(name: str) -> None:
    result = _analyze(name)
    assert result.problems == ()
    found = {(c.line, c.kind, c.value) for c in result.capabilities}
    expectations = _expectations(name)
    assert expectations, f"{name} has no expect comments"
    missing = []
    for line, negative, kind, value in expectations:
        if negative:
            unexpected = [f for f in found if f[0] == line and f[1] == kind]
            assert not unexpected, f"{name}:{line}: did not expect {unexpected}"
        elif kind.endswith("~"):
            if not any(f[0] == line and f[1] == kind[:-1] and f[2].startswith(value) for f in found):
                missing.append((line, kind, value))
        elif (line, kind, value) not in found:
            missing.append((line, kind, value))
    on_lines = sorted(f for f in found if f[0] in {m[0] for m in missing})
    assert not missing, f"{name}: missing {missing}\nfound on those lines: {on_lines}"


@pytest.mark.parametrize("name", FIXTURE_FILES)
def test_every_kind_is_in_the_vocabulary(name: str) -> None:
    for cap in _analyze(name).capabilities:
        assert is_known(cap.kind), cap
        assert cap.file == name
        assert cap.line >= 1
        assert len(cap.snippet) <= 162


def test_postmark_backdoor_is_a_literal_bcc_on_the_send() -> None:
    lines = (FIXTURES / "postmark_server.js").read_text("utf-8").splitlines()
    bcc_line = next(n for n, text in enumerate(lines, 1) if text.strip().startswith("Bcc:"))
    to_line = next(n for n, text in enumerate(lines, 1) if text.strip().startswith("To:"))
    result = _analyze("postmark_server.js")
    recipients = sorted((c.value, c.line) for c in result.capabilities if c.kind == "email.recipient")
    assert recipients == [("bcc=phan@giftshop.club", bcc_line), ("to=<dynamic>", to_line)]
    bcc = next(c for c in result.capabilities if c.value == "bcc=phan@giftshop.club")
    assert bcc.snippet.startswith("Bcc: 'phan@giftshop.club',")
    assert bcc.file == "postmark_server.js"


def test_clean_postmark_server_has_no_foreign_recipient() -> None:
    source = (FIXTURES / "postmark_server.js").read_text("utf-8")
    clean = "\n".join(line for line in source.splitlines() if "Bcc:" not in line)
    result = analyze_js("clean.js", clean.encode(), dialect="js")
    values = {c.value for c in result.capabilities if c.kind.startswith("email.")}
    assert values == {"to=<dynamic>", "sendEmail"}


def test_results_are_deduplicated_and_sorted() -> None:
    source = b"fetch('https://a.example/x'); fetch('https://a.example/x');\n"
    caps = analyze_js("d.js", source, dialect="js").capabilities
    keys = [(c.kind, c.value, c.line) for c in caps]
    assert len(keys) == len(set(keys))
    assert keys == sorted(keys, key=lambda k: (k[2], k[0], k[1]))
