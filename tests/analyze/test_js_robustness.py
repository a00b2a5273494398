"""Hostile and odd inputs: binary, huge, deeply nested, broken, obfuscated, minified."""

from __future__ import annotations

import base64
import random
import string

import pytest

from distrust.analyze.js import JsResult, UnknownDialectError, analyze_js, shannon_entropy


def _kinds(result: JsResult) -> dict[str, list[tuple[str, int]]]:
    out: dict[str, list[tuple[str, int]]] = {}
    for cap in result.capabilities:
        out.setdefault(cap.kind, []).append((cap.value, cap.line))
    return out


def test_binary_file_named_js_is_a_problem_not_a_result() -> None:
    elf = b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4 + b"fetch('https://x.example')"
    result = analyze_js("lib/payload.js", elf, dialect="js")
    assert result == JsResult((), ("binary file named .js",))


def test_mostly_invalid_utf8_is_binary_but_a_stray_latin1_byte_is_not() -> None:
    noise = bytes(random.Random(7).randrange(0x80, 0x100) for _ in range(4000))
    assert analyze_js("x.js", noise, dialect="js").problems == ("binary file named .js",)
    latin1 = "// caf\xe9\n".encode("latin-1") + b"fetch('https://ok.example/a');\n" * 20
    result = analyze_js("y.js", latin1, dialect="js")
    assert result.problems == ()
    assert ("fetch https://ok.example/a", 2) in _kinds(result)["network.request"]


def test_file_over_the_limit_is_reported_not_parsed() -> None:
    big = b"var a = 1;\n" * 1000
    result = analyze_js("big.js", big, dialect="js", max_bytes=5000)
    assert result.capabilities == ()
    assert result.problems == (f"file is {len(big)} bytes, over the 5000-byte analysis limit",)


def test_files_over_the_limit_are_reported_not_parsed() -> None:
    # The default (16 MB) admits typescript.js (9 MB); a lower cap shows the reporting path.
    big = b" " * (1024 * 1024 + 1)
    assert "analysis limit" in analyze_js("big.js", big, dialect="js", max_bytes=1024 * 1024).problems[0]


@pytest.mark.parametrize("dialect", ["js", "ts", "tsx"])
def test_deeply_nested_expression_does_not_hit_the_recursion_limit(dialect: str) -> None:
    depth = 5000
    nested = "(" * depth + "eval(atob('ZXZpbA=='))" + ")" * depth
    arrays = "[" * depth + "'https://deep.example/x'" + "]" * depth
    objects = "{a:" * depth + "process.env.SECRET_TOKEN" + "}" * depth
    source = f"const x = {nested};\nconst y = {arrays};\nconst z = ({objects});\n".encode()
    result = analyze_js("deep.js", source, dialect=dialect)
    kinds = _kinds(result)
    assert ("eval", 1) in kinds["code.decode_exec"]
    assert ("https://deep.example/x", 2) in kinds["network.url"]
    assert ("SECRET_TOKEN", 3) in kinds["env.read.secret"]


def test_syntax_errors_keep_what_parsed_and_say_so() -> None:
    broken = b"fetch('https://still.example/found');\n" + b"function ( { ]] ) => => ;;\n" * 40
    result = analyze_js("broken.js", broken, dialect="js")
    assert len(result.problems) == 1
    assert result.problems[0].startswith("syntax errors:")
    assert "first at line" in result.problems[0]
    assert ("https://still.example/found", 1) in _kinds(result)["network.url"]


def test_one_small_syntax_error_is_not_a_problem() -> None:
    source = b"const a = 1;\n" * 200 + b"const b = ;\n" + b"fetch('https://x.example/y');\n"
    result = analyze_js("small.js", source, dialect="js")
    assert result.problems == ()
    assert "network.request" in _kinds(result)


def test_unknown_dialect_is_a_caller_error_naming_the_choices() -> None:
    with pytest.raises(UnknownDialectError, match=r"'coffee'.*js, ts, tsx"):
        analyze_js("a.coffee", b"x = 1", dialect="coffee")


def test_typescript_generics_parse_only_with_the_typescript_grammar() -> None:
    source = b"const m = new Map<string, number>();\nfunction f<T>(x: T): T { return x as T; }\n"
    assert analyze_js("a.ts", source, dialect="ts").problems == ()


def test_empty_file() -> None:
    assert analyze_js("empty.js", b"", dialect="js") == JsResult((), ())


# --- obfuscation ---------------------------------------------------------------------------


def test_long_base64_blob_is_one_blob_and_one_entropy_capability_per_file() -> None:
    rng = random.Random(1)
    blobs = [base64.b64encode(bytes(rng.randrange(256) for _ in range(300))).decode() for _ in range(3)]
    source = "\n".join(f"const b{i} = '{b}';" for i, b in enumerate(blobs)).encode()
    kinds = _kinds(analyze_js("packed.js", source, dialect="js"))
    assert len(kinds["obfuscation.blob"]) == 1
    assert kinds["obfuscation.blob"][0][1] == 1
    assert kinds["obfuscation.blob"][0][0].startswith(blobs[0][:40])
    assert len(kinds["obfuscation.entropy"]) == 1


def test_hex_blob_and_prose_are_told_apart() -> None:
    hex_blob = "".join(random.Random(2).choice("0123456789abcdef") for _ in range(400))
    prose = ("The quick brown fox jumps over the lazy dog, while Zebras quietly vex jumping kings. " * 4)
    source = f"const h = '{hex_blob}';\nconst p = '{prose}';\n".encode()
    kinds = _kinds(analyze_js("h.js", source, dialect="js"))
    assert [line for _, line in kinds["obfuscation.blob"]] == [1]
    assert "obfuscation.entropy" not in kinds  # hex is 4 bits/char; prose has spaces


def test_entropy_of_known_strings() -> None:
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == pytest.approx(2.0)
    assert shannon_entropy(string.ascii_letters + string.digits) == pytest.approx(5.954, abs=0.01)


def test_obfuscator_identifiers_need_ten_distinct_names() -> None:
    nine = "\n".join(f"var _0x{i:04x} = {i};" for i in range(9)).encode()
    assert "obfuscation.identifiers" not in _kinds(analyze_js("a.js", nine, dialect="js"))
    ten = b"var ok = 1;\n" + "\n".join(f"var _0x{i:04x}a = {i};" for i in range(10)).encode()
    kinds = _kinds(analyze_js("b.js", ten, dialect="js"))
    assert kinds["obfuscation.identifiers"] == [("_0x identifiers", 2)]


def test_invisible_unicode_anywhere_but_a_leading_bom_is_fine() -> None:
    bom = "\ufeffconst a = 'caf\u00e9 d\u00e9j\u00e0 vu';\n".encode()
    assert "obfuscation.unicode" not in _kinds(analyze_js("bom.js", bom, dialect="js"))
    trojan = "const ok = 1;\nconst isAdmin = false; /* \u202e } \u2066if (isAdmin)\u2069 \u2066 */\n".encode()
    kinds = _kinds(analyze_js("trojan.js", trojan, dialect="js"))
    assert kinds["obfuscation.unicode"] == [("U+202E,U+2066,U+2069", 2)]
    tag = "const t = 'hi\U000e0041\U000e0042';\n".encode()
    assert _kinds(analyze_js("tag.js", tag, dialect="js"))["obfuscation.unicode"] == [("U+E0041,U+E0042", 1)]


def test_minified_files_are_flagged_once() -> None:
    line = "var a=function(b){return b+1};" * 300  # 9,000 chars, almost no whitespace
    source = ("/* header */\n" + line + "\n" + line + "\n").encode()
    kinds = _kinds(analyze_js("app.min.js", source, dialect="js"))
    assert kinds["obfuscation.minified"] == [("minified", 2)]
    readable = ("function add(a, b) {\n  return a + b;\n}\n" * 200).encode()
    assert "obfuscation.minified" not in _kinds(analyze_js("add.js", readable, dialect="js"))


def test_snippet_of_a_long_line_shows_the_finding() -> None:
    source = ("var x=" + "1+" * 3000 + "fetch('https://far.example/z');\n").encode()
    cap = next(c for c in analyze_js("m.js", source, dialect="js").capabilities if c.kind == "network.url")
    assert "https://far.example/z" in cap.snippet
    assert len(cap.snippet) <= 162


def test_escaped_strings_are_decoded_before_matching() -> None:
    source = b"const u = '\\x68ttps://hidden.example/\\u0070';\n"
    urls = _kinds(analyze_js("e.js", source, dialect="js"))["network.url"]
    assert urls == [("https://hidden.example/p", 1)]
