"""The constant evaluator on its own: every transform, scoping, and the limits that keep it safe.

All inputs are snippets written for these tests; nothing is executed (the evaluator has no
``eval``), and the "malicious" strings decode to reserved example domains.
"""

from __future__ import annotations

import ast
import base64
import bz2
import codecs
import time
import zlib

import pytest

from distrust.analyze import pyfold
from distrust.analyze.pyfold import Folded, Folder, Frame

IMPORTS = {
    "b64decode": "base64.b64decode",
    "decompress": "zlib.decompress",
    "unhexlify": "binascii.unhexlify",
}


def _resolve(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return IMPORTS.get(node.id, node.id)
    if isinstance(node, ast.Attribute):
        base = _resolve(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def fold_last(source: str) -> Folded | None:
    """Fold the value of the module's last statement (an expression or an assignment)."""
    tree = ast.parse(source)
    last = tree.body[-1]
    node = last.value if isinstance(last, ast.Expr | ast.Assign) else last
    return Folder(_resolve).fold(node, (Frame(tree),))


def value_of(source: str) -> object:
    folded = fold_last(source)
    return None if folded is None else folded.value


B64_URL = base64.b64encode(b"https://drop.example.net/upload").decode()


@pytest.mark.parametrize(
    ("source", "value", "via"),
    [
        (
            f"import base64\nbase64.b64decode('{B64_URL}').decode()",
            "https://drop.example.net/upload",
            ("base64",),
        ),
        (f"K = '{B64_URL}'\nb64decode(K).decode('utf-8')", "https://drop.example.net/upload", ("base64",)),
        ("''.join(map(chr, [71, 69, 84]))", "GET", ("charcodes",)),
        ("''.join([chr(x) for x in [101, 118, 97, 108]])", "eval", ("charcodes",)),
        ("''.join(chr(x ^ 1) for x in [100, 119, 96, 109])", "eval", ("charcodes",)),
        ("_ = ''.join\n_([chr(c) for c in [111, 115]])", "os", ("charcodes",)),
        ("'ten.elpmaxe.pord//:sptth'[::-1]", "https://drop.example.net", ("reversed",)),
        ("''.join(reversed('so'))", "os", ("reversed",)),
        ("bytes.fromhex('68747470733a2f2f').decode()", "https://", ("hex",)),
        ("unhexlify(b'6f73')", b"os", ("hex",)),
        (
            f"import codecs\ncodecs.decode('{codecs.encode('https://x.example', 'rot13')}', 'rot13')",
            "https://x.example",
            ("rot13",),
        ),
        ("bytes([111, 115, 46, 115, 121, 115, 116, 101, 109])", b"os.system", ("charcodes",)),
        ("'%s://%s' % ('https', 'a.example')", "https://a.example", ()),
        ("h = 'a.example'\nf'https://{h}/p'", "https://a.example/p", ()),
        ("''.join(['power', 'shell', ' -c'])", "powershell -c", ()),
        ("'a-b'.replace('-', '.').upper()", "A.B", ()),
        ("M = 0x18C\nlist(range(20))[M ^ ((1 << 8) + (1 << 7) + (1 << 1)) :]", (14, 15, 16, 17, 18, 19), ()),
        ("import string\nstring.ascii_lowercase[4] + string.ascii_lowercase[21]", "ev", ()),
    ],
)
def test_folds_hidden_and_plain_strings(source: str, value: object, via: tuple[str, ...]) -> None:
    folded = fold_last(source)
    assert folded is not None
    assert folded.value == value
    assert folded.via == via


def test_compressed_payload_is_decoded_with_every_step_named() -> None:
    blob = base64.b64encode(zlib.compress(b"import os")).decode()
    folded = fold_last(f"import zlib, base64\nzlib.decompress(base64.b64decode('{blob}'))")
    assert folded is not None and folded.value == b"import os"
    assert folded.via == ("base64", "zlib")
    assert value_of(f"import bz2\nbz2.decompress({bz2.compress(b'hi')!r})") == b"hi"


def test_helper_functions_lambdas_and_methods_are_inlined() -> None:
    hidden = base64.b64encode(zlib.compress(b"c2.example.org")).decode()[::-1]
    source = f"""
class Client:
    def decd(self, data):
        unb64 = lambda s: b64decode(s)
        return decompress(unb64(data[::-1])).decode()

    def host(self):
        parts = [b'{hidden}']
        return self.decd(parts[0])
"""
    tree = ast.parse(source)
    cls = tree.body[0]
    assert isinstance(cls, ast.ClassDef)
    method = cls.body[1]
    assert isinstance(method, ast.FunctionDef)
    ret = method.body[-1]
    assert isinstance(ret, ast.Return) and ret.value is not None
    frames = (Frame(tree), Frame(cls), Frame(method))
    folded = Folder(_resolve).fold(ret.value, frames)
    assert folded is not None
    assert folded.value == "c2.example.org"
    assert folded.via == ("reversed", "base64", "zlib")


def test_instance_of_a_local_class_and_class_attribute() -> None:
    bits = "".join(format(b, "08b") for b in b"hi!").replace("0", " ").replace("1", "\t")
    source = f"""
class S:
    data = {bits!r}
    def text(self):
        e = self.data.replace(' ', '0').replace('\\t', '1')
        return bytes(int(e[i:i + 8], 2) for i in range(0, len(e), 8)).decode()
s = S()
s.text()
"""
    assert value_of(source) == "hi!"


def test_names_are_scoped_and_bound_once() -> None:
    # a parameter is unknown, even when the module has a name of the same spelling
    src = "url = 'https://a.example'\ndef f(url):\n    return url\n"
    tree = ast.parse(src)
    func = tree.body[1]
    assert isinstance(func, ast.FunctionDef)
    ret = func.body[0]
    assert isinstance(ret, ast.Return) and ret.value is not None
    assert Folder(_resolve).fold(ret.value, (Frame(tree), Frame(func))) is None
    # a module name read from a function folds
    src2 = "url = 'https://a.example'\ndef f():\n    return url\n"
    tree2 = ast.parse(src2)
    func2 = tree2.body[1]
    assert isinstance(func2, ast.FunctionDef)
    ret2 = func2.body[0]
    assert isinstance(ret2, ast.Return) and ret2.value is not None
    folded = Folder(_resolve).fold(ret2.value, (Frame(tree2), Frame(func2)))
    assert folded is not None and folded.value == "https://a.example"
    # assigned twice, augmented, or bound by a loop: unknown
    assert value_of("x = 'a'\nx = 'b'\nx") is None
    assert value_of("x = 'a'\nx += 'b'\nx") is None
    assert value_of("for x in 'ab':\n    pass\nx") is None
    # a shadowed builtin is not the builtin
    assert value_of("def chr(x):\n    print(x)\nchr(65)") is None


def test_helpers_with_side_effects_are_not_inlined() -> None:
    source = "def d(s):\n    print(s)\n    return s[::-1]\nd('abc')"
    assert value_of(source) is None


@pytest.mark.parametrize(
    "source",
    [
        "'a' * (10 ** 12)",
        "[0] * (10 ** 9)",
        "tuple(range(10 ** 9))",
        "1 << (10 ** 6)",
        "def f(x):\n    return f(x)\nf('a')",
        "a = b\nb = a\na",
        "x = x + 'a'\nx",
        "'{0.__class__}'.format('x')",
        "'%*d' % (10 ** 9, 1)",
        "'%099999999d' % 1",
        "'{:>999999999}'.format('x')",
        "w = 999999999\nf'{1:>{w}}'",
        "('a,' * 400000).split(',')",
        "'%(a)s' % {'a': 1}",
    ],
)
def test_limits_refuse_instead_of_running_away(source: str) -> None:
    start = time.perf_counter()
    assert value_of(source) is None
    assert time.perf_counter() - start < 2


def test_decompression_bomb_is_capped() -> None:
    bomb = zlib.compress(b"\0" * (pyfold.MAX_TEXT * 4))
    start = time.perf_counter()
    assert value_of(f"import zlib\nzlib.decompress({bomb!r})") is None
    assert time.perf_counter() - start < 2


def test_deep_expressions_give_up_quietly() -> None:
    source = "x = " + " + ".join(["'a'"] * 900)  # deeper than the evaluator goes, not than ast.parse
    tree = ast.parse(source)
    assign = tree.body[0]
    assert isinstance(assign, ast.Assign)
    Folder(_resolve).fold(assign.value, (Frame(tree),))  # must not raise (RecursionError included)


def test_undecodable_input_is_unknown_not_an_error() -> None:
    assert value_of("import base64\nbase64.b64decode('!!!not base64!!!', validate=True)") is None
    assert value_of("bytes.fromhex('zz')") is None
    assert value_of("import zlib\nzlib.decompress(b'not zlib')") is None
    assert value_of("chr(-1)") is None


def test_folder_is_not_reentrant() -> None:
    calls: list[str | None] = []
    tree = ast.parse("x = 'a'\nx")
    folder: Folder

    def resolve(node: ast.AST) -> str | None:
        calls.append(None if folder.fold(tree.body[0], (Frame(tree),)) is None else "nested")
        return _resolve(node)

    folder = Folder(resolve)
    last = tree.body[-1]
    assert isinstance(last, ast.Expr)
    folder.fold(ast.parse("chr(65)").body[0], (Frame(tree),))
    assert "nested" not in calls


def test_readable_text() -> None:
    assert pyfold.is_readable("import os\nos.system('x')\t")
    assert not pyfold.is_readable("\x89PNG\r\n\x1a\n")
    assert pyfold.as_text(b"\xff\xfe") is None
