"""npm's version ordering and range matching, exactly as node-semver 7.7.3 does them.

npm decides which version ``npx -y postmark-mcp`` or ``"postmark-mcp": "^1.0.0"`` installs with
node-semver, so distrust must answer "does 1.0.16 satisfy this spec?" the same way npm does, or a
scan could miss the version that actually ran. SemVer 2.0.0 alone is not enough: npm also
accepts loose forms (``v1.2.3``, ``=1.2.3``), trims whitespace, excludes pre-releases from ranges
unless a comparator on the same ``major.minor.patch`` names one, and collapses ``* || 1.0.0-beta``
to ``*``.

Why a port and not the PyPI ``node-semver`` package (0.9.x, installed for evaluation): checked
against the real node-semver 7.7.3 on thousands of generated versions and ranges it disagrees
where it matters here. It raises ``ValueError`` where npm answers "does not satisfy" (any
version with a leading-zero pre-release identifier such as ``1.0.1-01``, against every range),
it rejects versions with surrounding whitespace that npm trims (``"  1.2.3"``), it follows the
5.x-era library rather than 7.x, and it is untyped and unmaintained. This module instead
mirrors node-semver's own structure (the same regular expressions, built by the same
``makeSafeRegex`` step, and the same string-rewriting pipeline from range to comparators), so a
difference is a bug with a named counterpart in ``classes/range.js``; the tests compare it with
the real package on generated inputs.

JavaScript details that change answers are reproduced on purpose: ``\\s`` and ``trim()`` use
JavaScript's whitespace set, ``\\d`` is ASCII only, ``$`` does not match before a trailing
newline, numbers in rewritten ranges are JavaScript doubles (``^99999999999999999999`` rewrites
to ``<100000000000000000000.0.0-0``, which then fails the safe-integer check exactly as in node),
and numeric pre-release identifiers beyond 2^53 compare as doubles.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "InvalidRangeError",
    "InvalidVersionError",
    "NpmRange",
    "NpmVersion",
    "compare",
    "max_satisfying",
    "parse",
    "satisfies",
    "valid",
]

MAX_LENGTH = 256
MAX_SAFE_INTEGER = 2**53 - 1
MAX_SAFE_BUILD_LENGTH = MAX_LENGTH - 6


class InvalidVersionError(ValueError):
    """A string npm would not accept as a version; the message quotes it."""


class InvalidRangeError(ValueError):
    """A string npm would not accept as a range; the message quotes it."""


# --- JavaScript string and regex semantics --------------------------------------------------

# ECMAScript WhiteSpace + LineTerminator: what `\s` matches and what `String.prototype.trim`
# removes. Python's own sets differ (they include \x1c-\x1f and \x85, exclude \ufeff).
_JS_WS_CLASS = "\t\n\x0b\x0c\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_JS_WS_CHARS = (
    "\t\n\x0b\x0c\r \u00a0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + ("\u2028\u2029\u202f\u205f\u3000\ufeff")
)
_JS_WS_RUN = re.compile(f"[{_JS_WS_CLASS}]+")


def _js_trim(text: str) -> str:
    return text.strip(_JS_WS_CHARS)


def _js_split_ws(text: str) -> list[str]:
    """``text.split(/\\s+/)``: like ``re.split``, leading/trailing runs give empty strings."""
    return _JS_WS_RUN.split(text)


def _translate_js_regex(source: str) -> str:
    """Rewrite a JavaScript regex source into an equivalent Python one.

    Only the constructs node-semver uses need care: ``\\s`` and ``\\d`` (inside and outside
    character classes) and ``$``, which in Python would also match before a final newline.
    """
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(source):
        ch = source[i]
        if ch == "\\" and i + 1 < len(source):
            nxt = source[i + 1]
            if nxt == "s":
                out.append(_JS_WS_CLASS if in_class else f"[{_JS_WS_CLASS}]")
            elif nxt == "d":
                out.append("0-9" if in_class else "[0-9]")
            else:
                out.append(source[i : i + 2])
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
        elif ch == "[":
            in_class = True
        elif ch == "$":
            ch = r"\Z"
        out.append(ch)
        i += 1
    return "".join(out)


def _js_number_text(value: float) -> str:
    """``String(value)`` for a non-negative integral double, as JavaScript prints it."""
    if math.isinf(value):
        return "Infinity"
    if value < 1e21:
        # JavaScript prints the shortest round-tripping digits, padded with zeros.
        return str(int(Decimal(repr(value))))
    return repr(value)  # "1e+21", "1.5e+22": the same spelling as JavaScript's


def _plus_one(digits: str) -> str:
    """``+digits + 1`` in a template literal."""
    return _js_number_text(float(digits) + 1.0)


# --- the regular expressions of internal/re.js ----------------------------------------------

_LETTERDASHNUMBER = "[a-zA-Z0-9-]"
_SAFE_REPLACEMENTS = (("\\s", 1), ("\\d", MAX_LENGTH), (_LETTERDASHNUMBER, MAX_SAFE_BUILD_LENGTH))

_src: dict[str, str] = {}
_re: dict[str, re.Pattern[str]] = {}


def _make_safe(source: str) -> str:
    """node-semver's ``makeSafeRegex``: bound every greedy token to keep matching linear."""
    for token, limit in _SAFE_REPLACEMENTS:
        source = source.replace(f"{token}*", f"{token}{{0,{limit}}}")
        source = source.replace(f"{token}+", f"{token}{{1,{limit}}}")
    return source


def _token(name: str, source: str) -> None:
    _src[name] = source
    _re[name] = re.compile(_translate_js_regex(_make_safe(source)))


_token("NUMERICIDENTIFIER", r"0|[1-9]\d*")
_token("NUMERICIDENTIFIERLOOSE", r"\d+")
_token("NONNUMERICIDENTIFIER", rf"\d*[a-zA-Z-]{_LETTERDASHNUMBER}*")
_token(
    "MAINVERSION",
    rf"({_src['NUMERICIDENTIFIER']})\.({_src['NUMERICIDENTIFIER']})\.({_src['NUMERICIDENTIFIER']})",
)
_token(
    "MAINVERSIONLOOSE",
    rf"({_src['NUMERICIDENTIFIERLOOSE']})\.({_src['NUMERICIDENTIFIERLOOSE']})\."
    rf"({_src['NUMERICIDENTIFIERLOOSE']})",
)
_token("PRERELEASEIDENTIFIER", f"(?:{_src['NONNUMERICIDENTIFIER']}|{_src['NUMERICIDENTIFIER']})")
_token(
    "PRERELEASEIDENTIFIERLOOSE",
    f"(?:{_src['NONNUMERICIDENTIFIER']}|{_src['NUMERICIDENTIFIERLOOSE']})",
)
_token(
    "PRERELEASE",
    rf"(?:-({_src['PRERELEASEIDENTIFIER']}(?:\.{_src['PRERELEASEIDENTIFIER']})*))",
)
_token(
    "PRERELEASELOOSE",
    rf"(?:-?({_src['PRERELEASEIDENTIFIERLOOSE']}(?:\.{_src['PRERELEASEIDENTIFIERLOOSE']})*))",
)
_token("BUILDIDENTIFIER", f"{_LETTERDASHNUMBER}+")
_token("BUILD", rf"(?:\+({_src['BUILDIDENTIFIER']}(?:\.{_src['BUILDIDENTIFIER']})*))")
_token("FULLPLAIN", f"v?{_src['MAINVERSION']}{_src['PRERELEASE']}?{_src['BUILD']}?")
_token("FULL", f"^{_src['FULLPLAIN']}$")
_token("LOOSEPLAIN", rf"[v=\s]*{_src['MAINVERSIONLOOSE']}{_src['PRERELEASELOOSE']}?{_src['BUILD']}?")
_token("LOOSE", f"^{_src['LOOSEPLAIN']}$")
_token("GTLT", "((?:<|>)?=?)")
_token("XRANGEIDENTIFIERLOOSE", rf"{_src['NUMERICIDENTIFIERLOOSE']}|x|X|\*")
_token("XRANGEIDENTIFIER", rf"{_src['NUMERICIDENTIFIER']}|x|X|\*")
_token(
    "XRANGEPLAIN",
    rf"[v=\s]*({_src['XRANGEIDENTIFIER']})(?:\.({_src['XRANGEIDENTIFIER']})"
    rf"(?:\.({_src['XRANGEIDENTIFIER']})(?:{_src['PRERELEASE']})?{_src['BUILD']}?)?)?",
)
_token(
    "XRANGEPLAINLOOSE",
    rf"[v=\s]*({_src['XRANGEIDENTIFIERLOOSE']})(?:\.({_src['XRANGEIDENTIFIERLOOSE']})"
    rf"(?:\.({_src['XRANGEIDENTIFIERLOOSE']})(?:{_src['PRERELEASELOOSE']})?{_src['BUILD']}?)?)?",
)
_token("XRANGE", rf"^{_src['GTLT']}\s*{_src['XRANGEPLAIN']}$")
_token("XRANGELOOSE", rf"^{_src['GTLT']}\s*{_src['XRANGEPLAINLOOSE']}$")
_token("LONETILDE", "(?:~>?)")
_token("TILDETRIM", rf"(\s*){_src['LONETILDE']}\s+")
_token("TILDE", f"^{_src['LONETILDE']}{_src['XRANGEPLAIN']}$")
_token("TILDELOOSE", f"^{_src['LONETILDE']}{_src['XRANGEPLAINLOOSE']}$")
_token("LONECARET", r"(?:\^)")
_token("CARETTRIM", rf"(\s*){_src['LONECARET']}\s+")
_token("CARET", f"^{_src['LONECARET']}{_src['XRANGEPLAIN']}$")
_token("CARETLOOSE", f"^{_src['LONECARET']}{_src['XRANGEPLAINLOOSE']}$")
_token("COMPARATORLOOSE", rf"^{_src['GTLT']}\s*({_src['LOOSEPLAIN']})$|^$")
_token("COMPARATOR", rf"^{_src['GTLT']}\s*({_src['FULLPLAIN']})$|^$")
_token("COMPARATORTRIM", rf"(\s*){_src['GTLT']}\s*({_src['LOOSEPLAIN']}|{_src['XRANGEPLAIN']})")
_token(
    "HYPHENRANGE",
    rf"^\s*({_src['XRANGEPLAIN']})\s+-\s+({_src['XRANGEPLAIN']})\s*$",
)
_token(
    "HYPHENRANGELOOSE",
    rf"^\s*({_src['XRANGEPLAINLOOSE']})\s+-\s+({_src['XRANGEPLAINLOOSE']})\s*$",
)
_token("STAR", r"(<|>)?=?\s*\*")
_token("GTE0", r"^\s*>=\s*0\.0\.0\s*$")
_token("GTE0PRE", r"^\s*>=\s*0\.0\.0-0\s*$")

_NUMERIC = re.compile(r"[0-9]+")


# --- versions ---------------------------------------------------------------------------------

Identifier = int | str


@functools.total_ordering
@dataclass(frozen=True, eq=False)
class NpmVersion:
    """One npm version, ordered by SemVer 2.0.0 precedence as node-semver computes it.

    Equality and ordering ignore build metadata (``1.0.0+a == 1.0.0+b``), like npm. ``raw`` is
    the text as given; ``str()`` is npm's normalised spelling without the build.
    """

    major: int
    minor: int
    patch: int
    prerelease: tuple[Identifier, ...]
    build: tuple[str, ...]
    raw: str

    @property
    def version(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(str(part) for part in self.prerelease)
        return text

    def __str__(self) -> str:
        return self.version

    def compare(self, other: NpmVersion) -> int:
        """-1, 0 or 1, as ``semver.compare``."""
        if self.version == other.version:
            return 0
        return _compare_main(self, other) or _compare_pre(self, other)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NpmVersion):
            return NotImplemented
        return self.compare(other) == 0

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, NpmVersion):
            return NotImplemented
        return self.compare(other) < 0

    def __hash__(self) -> int:
        # compare() == 0 implies equal major/minor/patch and "has a pre-release" alike; the
        # pre-release identifiers themselves may differ (huge numbers compare as doubles).
        return hash((self.major, self.minor, self.patch, bool(self.prerelease)))


def _compare_main(a: NpmVersion, b: NpmVersion) -> int:
    for x, y in ((a.major, b.major), (a.minor, b.minor), (a.patch, b.patch)):
        if x != y:
            return -1 if x < y else 1
    return 0


def _compare_identifiers(a: Identifier, b: Identifier) -> int:
    if isinstance(a, int) and isinstance(b, int):
        return 0 if a == b else (-1 if a < b else 1)
    a_num = isinstance(a, int) or bool(_NUMERIC.fullmatch(a))
    b_num = isinstance(b, int) or bool(_NUMERIC.fullmatch(b))
    if a_num and b_num:
        fa, fb = float(a), float(b)  # JavaScript's unary + on both
        return 0 if fa == fb else (-1 if fa < fb else 1)
    if a == b:
        return 0
    if a_num and not b_num:
        return -1
    if b_num and not a_num:
        return 1
    return -1 if str(a) < str(b) else 1


def _compare_pre(a: NpmVersion, b: NpmVersion) -> int:
    if a.prerelease and not b.prerelease:
        return -1
    if not a.prerelease and b.prerelease:
        return 1
    if not a.prerelease and not b.prerelease:
        return 0
    i = 0
    while True:
        x = a.prerelease[i] if i < len(a.prerelease) else None
        y = b.prerelease[i] if i < len(b.prerelease) else None
        if x is None and y is None:
            return 0
        if y is None:
            return 1
        if x is None:
            return -1
        if type(x) is type(y) and x == y:
            i += 1
            continue
        return _compare_identifiers(x, y)


@functools.lru_cache(maxsize=8192)
def parse(text: str, *, loose: bool = False) -> NpmVersion:
    """Read a version as ``new SemVer(text, {loose})`` does, or raise :class:`InvalidVersionError`.

    Strict mode accepts an optional leading ``v`` and surrounding whitespace; loose mode also
    accepts ``=``, leading zeros and a pre-release without its hyphen (``1.2.3beta``).
    """
    if len(text) > MAX_LENGTH:
        raise InvalidVersionError(f"version is longer than {MAX_LENGTH} characters: {text[:40]!r}…")
    m = _re["LOOSE" if loose else "FULL"].search(_js_trim(text))
    if not m:
        raise InvalidVersionError(f"invalid npm version: {text!r}")
    major, minor, patch = int(m[1]), int(m[2]), int(m[3])
    for label, number in (("major", major), ("minor", minor), ("patch", patch)):
        if number > MAX_SAFE_INTEGER:
            raise InvalidVersionError(f"invalid npm version {text!r}: {label} is too large")
    prerelease: tuple[Identifier, ...] = ()
    if m[4]:
        prerelease = tuple(_prerelease_identifier(part) for part in m[4].split("."))
    build = tuple(m[5].split(".")) if m[5] else ()
    return NpmVersion(major, minor, patch, prerelease, build, text)


def _prerelease_identifier(part: str) -> Identifier:
    if _NUMERIC.fullmatch(part):
        number = int(part)
        if 0 <= number < MAX_SAFE_INTEGER:
            return number
    return part


def valid(text: str, *, loose: bool = False) -> str | None:
    """npm's normalised spelling of ``text`` (``semver.valid``), or None if it is no version."""
    try:
        return parse(text, loose=loose).version
    except InvalidVersionError:
        return None


def compare(a: str | NpmVersion, b: str | NpmVersion, *, loose: bool = False) -> int:
    """``semver.compare(a, b)``: -1, 0 or 1; raises InvalidVersionError for a non-version."""
    va = a if isinstance(a, NpmVersion) else parse(a, loose=loose)
    vb = b if isinstance(b, NpmVersion) else parse(b, loose=loose)
    return va.compare(vb)


# --- comparators and ranges -----------------------------------------------------------------


@dataclass(frozen=True)
class _Comparator:
    operator: str  # "", ">", ">=", "<", "<="
    semver: NpmVersion | None  # None is node-semver's ANY: the empty comparator
    value: str

    def test(self, version: NpmVersion) -> bool:
        if self.semver is None:
            return True
        order = version.compare(self.semver)
        if self.operator == "":
            return order == 0
        if self.operator == ">":
            return order > 0
        if self.operator == ">=":
            return order >= 0
        if self.operator == "<":
            return order < 0
        return order <= 0  # "<=": the only operator GTLT leaves


def _comparator(text: str, loose: bool) -> _Comparator:
    text = " ".join(_js_split_ws(_js_trim(text)))
    m = _re["COMPARATORLOOSE" if loose else "COMPARATOR"].search(text)
    if not m:
        raise InvalidRangeError(f"invalid comparator: {text!r}")
    operator = m[1] if m[1] is not None else ""
    if operator == "=":
        operator = ""
    if not m[2]:
        return _Comparator(operator, None, "")
    try:
        version = parse(m[2], loose=loose)
    except InvalidVersionError as exc:
        raise InvalidRangeError(str(exc)) from None
    return _Comparator(operator, version, operator + version.version)


def _is_x(part: str | None) -> bool:
    return not part or part.lower() == "x" or part == "*"


def _hyphen_replace(include_prerelease: bool) -> Callable[[re.Match[str]], str]:
    zero = "-0" if include_prerelease else ""

    def replace(m: re.Match[str]) -> str:
        start, f_major, f_minor, f_patch, f_pre = m[1], m[2], m[3], m[4], m[5]
        end, t_major, t_minor, t_patch, t_pre = m[7], m[8], m[9], m[10], m[11]
        if _is_x(f_major):
            start = ""
        elif _is_x(f_minor):
            start = f">={f_major}.0.0{zero}"
        elif _is_x(f_patch):
            start = f">={f_major}.{f_minor}.0{zero}"
        elif f_pre:
            start = f">={start}"
        else:
            start = f">={start}{zero}"
        if _is_x(t_major):
            end = ""
        elif _is_x(t_minor):
            end = f"<{_plus_one(t_major)}.0.0-0"
        elif _is_x(t_patch):
            end = f"<{t_major}.{_plus_one(t_minor)}.0-0"
        elif t_pre:
            end = f"<={t_major}.{t_minor}.{t_patch}-{t_pre}"
        elif include_prerelease:
            end = f"<{t_major}.{t_minor}.{_plus_one(t_patch)}-0"
        else:
            end = f"<={end}"
        return _js_trim(f"{start} {end}")

    return replace


def _replace_tilde(comp: str, loose: bool) -> str:
    def replace(m: re.Match[str]) -> str:
        major, minor, patch, pre = m[1], m[2], m[3], m[4]
        if _is_x(major):
            return ""
        if _is_x(minor):
            return f">={major}.0.0 <{_plus_one(major)}.0.0-0"
        if _is_x(patch):
            return f">={major}.{minor}.0 <{major}.{_plus_one(minor)}.0-0"
        if pre:
            return f">={major}.{minor}.{patch}-{pre} <{major}.{_plus_one(minor)}.0-0"
        return f">={major}.{minor}.{patch} <{major}.{_plus_one(minor)}.0-0"

    return _re["TILDELOOSE" if loose else "TILDE"].sub(replace, comp, count=1)


def _replace_caret(comp: str, loose: bool, include_prerelease: bool) -> str:
    zero = "-0" if include_prerelease else ""

    def replace(m: re.Match[str]) -> str:
        major, minor, patch, pre = m[1], m[2], m[3], m[4]
        if _is_x(major):
            return ""
        if _is_x(minor):
            return f">={major}.0.0{zero} <{_plus_one(major)}.0.0-0"
        if _is_x(patch):
            if major == "0":
                return f">={major}.{minor}.0{zero} <{major}.{_plus_one(minor)}.0-0"
            return f">={major}.{minor}.0{zero} <{_plus_one(major)}.0.0-0"
        if pre:
            low = f">={major}.{minor}.{patch}-{pre}"
            if major == "0":
                if minor == "0":
                    return f"{low} <{major}.{minor}.{_plus_one(patch)}-0"
                return f"{low} <{major}.{_plus_one(minor)}.0-0"
            return f"{low} <{_plus_one(major)}.0.0-0"
        if major == "0":
            if minor == "0":
                return f">={major}.{minor}.{patch}{zero} <{major}.{minor}.{_plus_one(patch)}-0"
            return f">={major}.{minor}.{patch}{zero} <{major}.{_plus_one(minor)}.0-0"
        return f">={major}.{minor}.{patch} <{_plus_one(major)}.0.0-0"

    return _re["CARETLOOSE" if loose else "CARET"].sub(replace, comp, count=1)


def _replace_xrange(comp: str, loose: bool, include_prerelease: bool) -> str:
    comp = _js_trim(comp)

    def replace(m: re.Match[str]) -> str:
        ret = m[0]
        gtlt: str = m[1]
        major: str = m[2]
        minor: str | None = m[3]
        patch: str | None = m[4]
        x_major = _is_x(major)
        x_minor = x_major or _is_x(minor)
        x_patch = x_minor or _is_x(patch)
        any_x = x_patch
        if gtlt == "=" and any_x:
            gtlt = ""
        pre = "-0" if include_prerelease else ""
        if x_major:
            ret = "<0.0.0-0" if gtlt in (">", "<") else "*"
        elif gtlt and any_x:
            if x_minor:
                minor = "0"
            patch = "0"
            if gtlt == ">":
                gtlt = ">="
                if x_minor:
                    major = _plus_one(major)
                    minor = "0"
                    patch = "0"
                else:
                    minor = _plus_one(str(minor))
                    patch = "0"
            elif gtlt == "<=":
                gtlt = "<"
                if x_minor:
                    major = _plus_one(major)
                else:
                    minor = _plus_one(str(minor))
            if gtlt == "<":
                pre = "-0"
            ret = f"{gtlt}{major}.{minor}.{patch}{pre}"
        elif x_minor:
            ret = f">={major}.0.0{pre} <{_plus_one(major)}.0.0-0"
        elif x_patch:
            ret = f">={major}.{minor}.0{pre} <{major}.{_plus_one(str(minor))}.0-0"
        return ret

    return _re["XRANGELOOSE" if loose else "XRANGE"].sub(replace, comp, count=1)


def _parse_comparator_text(comp: str, loose: bool, include_prerelease: bool) -> str:
    comp = _re["BUILD"].sub("", comp, count=1)
    comp = " ".join(_replace_caret(c, loose, include_prerelease) for c in _js_split_ws(_js_trim(comp)))
    comp = " ".join(_replace_tilde(c, loose) for c in _js_split_ws(_js_trim(comp)))
    comp = " ".join(_replace_xrange(c, loose, include_prerelease) for c in _js_split_ws(comp))
    return _re["STAR"].sub("", _js_trim(comp), count=1)


def _parse_set(text: str, loose: bool, include_prerelease: bool) -> tuple[_Comparator, ...]:
    """One ``||``-alternative to its comparators: node-semver's ``Range.parseRange``."""
    hyphen = _re["HYPHENRANGELOOSE" if loose else "HYPHENRANGE"]
    text = hyphen.sub(_hyphen_replace(include_prerelease), text, count=1)
    text = _re["COMPARATORTRIM"].sub(r"\1\2\3", text)
    text = _re["TILDETRIM"].sub(r"\1~", text)
    text = _re["CARETTRIM"].sub(r"\1^", text)
    rewritten = " ".join(_parse_comparator_text(c, loose, include_prerelease) for c in text.split(" "))
    gte0 = _re["GTE0PRE" if include_prerelease else "GTE0"]
    parts = [gte0.sub("", _js_trim(c), count=1) for c in _js_split_ws(rewritten)]
    if loose:
        parts = [c for c in parts if _re["COMPARATORLOOSE"].search(c)]
    comparators = [_comparator(c, loose) for c in parts]
    by_value: dict[str, _Comparator] = {}
    for comp in comparators:
        if comp.value == "<0.0.0-0":
            return (comp,)
        by_value[comp.value] = comp
    if len(by_value) > 1 and "" in by_value:
        del by_value[""]
    return tuple(by_value.values())


@dataclass(frozen=True)
class NpmRange:
    """A parsed npm range: alternatives (``||``) of comparator sets that must all hold."""

    raw: str
    sets: tuple[tuple[_Comparator, ...], ...]
    loose: bool = False
    include_prerelease: bool = False

    @classmethod
    def parse(cls, text: str, *, loose: bool = False, include_prerelease: bool = False) -> NpmRange:
        """Read a range as ``new Range(text, options)``, or raise :class:`InvalidRangeError`."""
        return _parse_range(text, loose, include_prerelease)

    def test(self, version: str | NpmVersion) -> bool:
        """True when ``version`` satisfies the range; a non-version never does (npm's answer)."""
        if isinstance(version, str):
            if not version:
                return False
            try:
                version = parse(version, loose=self.loose)
            except InvalidVersionError:
                return False
        return any(self._test_set(comparators, version) for comparators in self.sets)

    def _test_set(self, comparators: tuple[_Comparator, ...], version: NpmVersion) -> bool:
        if not all(c.test(version) for c in comparators):
            return False
        if version.prerelease and not self.include_prerelease:
            # A pre-release passes only if some comparator names a pre-release of the same
            # major.minor.patch: ^1.2.3-pr.1 admits 1.2.3-pr.2 but not 1.2.4-alpha.
            for c in comparators:
                if c.semver is None or not c.semver.prerelease:
                    continue
                if (c.semver.major, c.semver.minor, c.semver.patch) == (
                    version.major,
                    version.minor,
                    version.patch,
                ):
                    return True
            return False
        return True


@functools.lru_cache(maxsize=2048)
def _parse_range(text: str, loose: bool, include_prerelease: bool) -> NpmRange:
    raw = _JS_WS_RUN.sub(" ", _js_trim(text))
    sets = [
        s for s in (_parse_set(_js_trim(part), loose, include_prerelease) for part in raw.split("||")) if s
    ]
    if not sets:
        raise InvalidRangeError(f"invalid npm range: {text!r}")
    if len(sets) > 1:
        first = sets[0]
        sets = [s for s in sets if s[0].value != "<0.0.0-0"]
        if not sets:
            sets = [first]
        elif len(sets) > 1:
            for s in sets:
                if len(s) == 1 and s[0].value == "":
                    sets = [s]
                    break
    return NpmRange(raw, tuple(sets), loose, include_prerelease)


def satisfies(
    version: str | NpmVersion, range_text: str, *, loose: bool = False, include_prerelease: bool = False
) -> bool:
    """``semver.satisfies``: False for an invalid range or version, never an exception."""
    try:
        rng = _parse_range(range_text, loose, include_prerelease)
    except InvalidRangeError:
        return False
    return rng.test(version)


def max_satisfying(
    versions: Iterable[str], range_text: str, *, loose: bool = False, include_prerelease: bool = False
) -> str | None:
    """``semver.maxSatisfying``: the highest of ``versions`` npm would pick for the range, as given."""
    try:
        rng = _parse_range(range_text, loose, include_prerelease)
    except InvalidRangeError:
        return None
    best: str | None = None
    best_version: NpmVersion | None = None
    for text in versions:
        if not rng.test(text):
            continue
        candidate = parse(text, loose=loose)
        if best_version is None or best_version.compare(candidate) == -1:
            best, best_version = text, candidate
    return best
