"""A small constant evaluator for Python syntax trees: what a hidden string really says.

Malware rarely writes ``requests.get("https://evil.example/")``. It writes
``base64.b64decode("aHR0cHM6…").decode()``, ``"".join(map(chr, [104, 116, …]))``,
``"lmth.x//:sptth"[::-1]``, or a helper ``def d(s): return zlib.decompress(b64decode(s[::-1]))``,
and a scanner that reads literals sees nothing. This module folds such expressions back into
the values they build, using only data transforms on values written in the same file:

* literals; names bound exactly once (module, function or class level, ``self.x``); the
  arithmetic, ``%``-formatting and f-strings that build strings; indexing and slicing; list and
  tuple displays and comprehensions;
* ``str``/``bytes`` methods (``join``, ``replace``, ``decode``, ``encode``, ``lower``,
  ``split``, ``format``…) and ``chr``, ``ord``, ``int``, ``bytes``, ``map``, ``reversed``,
  ``range``, ``len``;
* decoders: base64/32/16/85, hex, rot13, zlib/gzip/bz2/lzma (output capped);
* helper functions, methods and lambdas of the same file whose body is assignments and one
  ``return``, inlined with the argument values.

Nothing from the package is ever executed: there is no ``eval``, every operation works on plain
``str``/``bytes``/``int`` values, and each evaluation has a step budget, a size cap on every
value it builds and a depth limit, so a crafted file cannot make the analyser hang or exhaust
memory. A result remembers *how* it was obtained (:attr:`Folded.via`: ``base64``,
``charcodes``, ``reversed``…); a URL that had to be decoded to be seen was hidden on purpose,
which is the signal the rules use. Plain concatenation of readable literals is not hiding and
leaves ``via`` empty.
"""

from __future__ import annotations

import ast
import base64
import binascii
import bz2
import codecs
import lzma
import re
import string
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

# --- limits ----------------------------------------------------------------------------------

MAX_STEPS = 20_000
"""Expression nodes one top-level evaluation may visit (names are memoised across evaluations)."""
MAX_DEPTH = 80
"""Nesting of the evaluation itself; deeper expressions are given up, never a RecursionError."""
MAX_INLINE = 4
"""How many helper calls deep inlining may go (``d(d(x))`` inside ``f``…)."""
MAX_TEXT = 1024 * 1024
"""Largest ``str``/``bytes`` value built (decompression included)."""
MAX_ITEMS = 65_536
"""Largest list/tuple built, including ``range`` and comprehension results."""
MAX_INT_BITS = 4096

HIDING_TRANSFORMS = frozenset(
    {
        "base64",
        "base32",
        "base16",
        "base85",
        "hex",
        "charcodes",
        "reversed",
        "rot13",
        "zlib",
        "gzip",
        "bz2",
        "lzma",
    }
)
"""The transforms that hide text; ``via`` only ever holds these."""


# --- values ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Function:
    """A lambda, function or method of the analysed file, with the scopes it was defined in.

    ``instance`` is set for a method reached through ``self`` or an instance: its first
    parameter is then bound to that instance, so ``self.key`` inside it folds too.
    """

    node: ast.Lambda | ast.FunctionDef | ast.AsyncFunctionDef
    frames: tuple[Frame, ...]
    instance: Instance | None = None


@dataclass(frozen=True)
class Builtin:
    """A supported builtin or library function, by qualified name (``chr``, ``base64.b64decode``)."""

    name: str


@dataclass(frozen=True)
class BoundMethod:
    """A ``str``/``bytes`` method taken as a value, as in ``_ = "".join``."""

    receiver: str | bytes
    name: str


@dataclass(frozen=True)
class Instance:
    """An instance of a class defined in the analysed file (``s = String()``): its methods inline.

    ``frames`` are the scopes *around* the class: what its methods' bodies can see.
    """

    cls: ast.ClassDef
    frames: tuple[Frame, ...]


Value = str | bytes | int | tuple["Value", ...] | Function | Builtin | BoundMethod | Instance


@dataclass(frozen=True)
class Folded:
    """A value the code builds, and the hiding transforms (in order) that produced it."""

    value: Value
    via: tuple[str, ...] = ()


@dataclass(frozen=True)
class Frame:
    """One scope of the evaluation: a module, class, function, lambda or comprehension.

    ``params`` holds names the frame binds directly: the argument values of an inlined call,
    the loop variable of a comprehension being folded, or ``None`` for a name known to exist
    but not known in value (a parameter seen from its own function body).
    """

    scope: ast.AST
    params: Mapping[str, Folded | None] | None = field(default=None, compare=False)
    # True when the frame carries actual values: results then depend on the call, not the node.
    concrete: bool = field(init=False, compare=False)

    def __post_init__(self) -> None:
        carries = bool(self.params) and any(v is not None for v in (self.params or {}).values())
        object.__setattr__(self, "concrete", carries)


class _Stop(Exception):
    """Budget, depth or size exhausted: the whole evaluation gives up (a result of ``None``)."""


class _Unknown:
    """A binding whose value is not statically known (a parameter, a loop variable, ``+=``…)."""


class _Import:
    """A name bound by ``import``: resolved by qualified name, never as a value."""


class _Global:
    """``global x`` inside a function: the name lives in the module scope."""


UNKNOWN = _Unknown()
IMPORTED = _Import()
GLOBAL = _Global()
_Binding = ast.expr | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | _Unknown | _Import | _Global

# Builtins the evaluator understands when the file does not shadow them.
_BUILTIN_NAMES = frozenset(
    {"chr", "ord", "str", "int", "len", "range", "list", "tuple", "sorted", "reversed", "bytes", "bytearray"}
    | {"map", "hex", "abs", "min", "max", "sum", "filter"}
)

STRING_CONSTANTS: dict[str, str] = {
    "string.ascii_letters": string.ascii_letters,
    "string.ascii_lowercase": string.ascii_lowercase,
    "string.ascii_uppercase": string.ascii_uppercase,
    "string.digits": string.digits,
    "string.hexdigits": string.hexdigits,
    "string.octdigits": string.octdigits,
    "string.punctuation": string.punctuation,
    "string.printable": string.printable,
    "string.whitespace": string.whitespace,
}
"""Module constants obfuscators index into (``string.ascii_letters[7]``)."""

DECODER_FUNCTIONS: dict[str, str] = {
    "base64.b64decode": "base64",
    "base64.standard_b64decode": "base64",
    "base64.urlsafe_b64decode": "base64",
    "base64.decodebytes": "base64",
    "base64.decodestring": "base64",
    "binascii.a2b_base64": "base64",
    "base64.b32decode": "base32",
    "base64.b16decode": "base16",
    "base64.b85decode": "base85",
    "base64.a85decode": "base85",
    "binascii.unhexlify": "hex",
    "binascii.a2b_hex": "hex",
    "bytes.fromhex": "hex",
    "bytearray.fromhex": "hex",
    "zlib.decompress": "zlib",
    "gzip.decompress": "gzip",
    "bz2.decompress": "bz2",
    "lzma.decompress": "lzma",
}
"""Library decoders by qualified name, and the hiding transform each one undoes."""

LIBRARY_FUNCTIONS = frozenset({"codecs.decode", "codecs.encode"})
"""Other library functions the evaluator applies (their hiding transform depends on the codec)."""

_CODEC_TRANSFORMS: dict[str, str] = {
    "rot13": "rot13",
    "rot_13": "rot13",
    "hex": "hex",
    "hex_codec": "hex",
    "base64": "base64",
    "base_64": "base64",
    "base64_codec": "base64",
    "zlib": "zlib",
    "zip": "zlib",
    "zlib_codec": "zlib",
    "bz2": "bz2",
    "bz2_codec": "bz2",
}
"""``codecs.decode``/Python 2 ``str.decode`` codecs that undo a hiding transform."""

_TEXT_CODECS = frozenset(
    {"utf-8", "utf8", "utf_8", "ascii", "latin-1", "latin1", "iso-8859-1", "utf-16", "utf-16-le", "utf-16-be"}
    | {"cp1252", "utf-32", "idna", "unicode_escape", "raw_unicode_escape", "unicode-escape"}
)

_STR_NO_ARG = frozenset({"lower", "upper", "title", "capitalize", "swapcase", "casefold"})
_STR_STRIP = frozenset({"strip", "lstrip", "rstrip"})
_STR_OTHER = frozenset(
    {"join", "replace", "split", "rsplit", "splitlines", "removeprefix", "removesuffix", "startswith"}
    | {"endswith", "count", "find", "index", "rfind", "zfill", "center", "ljust", "rjust", "decode"}
    | {"encode", "format", "hex", "fromhex"}
)

FOLDABLE_CALL_NAMES = frozenset(
    _BUILTIN_NAMES
    | _STR_NO_ARG
    | _STR_STRIP
    | _STR_OTHER
    | {name.rsplit(".", 1)[-1] for name in DECODER_FUNCTIONS}
    | {name.rsplit(".", 1)[-1] for name in LIBRARY_FUNCTIONS}
)
"""Last component of every callee the evaluator can apply without inlining (``join``, ``b64decode``…).

A caller can skip folding calls to anything else unless the file defines a helper of that name."""
_FORMAT_FIELD_ATTR = re.compile(r"\{[^{}]*[.\[]")  # "{0.__class__}" reaches attributes: refused
# A width or precision of five digits or more, or one taken from the arguments ("%*d"), would
# allocate its padding before any size check could run: such formats are refused.
_HUGE_WIDTH = re.compile(r"\d{5,}|\*")


def merge_via(*parts: Sequence[str]) -> tuple[str, ...]:
    """Transforms of several inputs, in first-seen order, without repeats."""
    out: list[str] = []
    for part in parts:
        for item in part:
            if item not in out:
                out.append(item)
    return tuple(out)


def as_text(value: Value) -> str | None:
    """``str``, or ``bytes`` that are valid UTF-8, as text; None for anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


def is_readable(text: str) -> bool:
    """Printable text (tabs and newlines allowed): what a hidden string decodes to, not random bytes."""
    return bool(text) and all(ch.isprintable() or ch in "\t\n\r" for ch in text)


# --- scopes ----------------------------------------------------------------------------------


_BLOCKS = ("body", "orelse", "finalbody", "handlers", "cases")


def _statements(body: Iterable[ast.stmt]) -> list[ast.stmt | ast.excepthandler]:
    """Every statement of a block, nested blocks included, nested functions and classes not entered.

    An ``except … as name`` handler is listed too: it binds its name like a statement.
    Iterative, because a recursive generator costs a frame per nesting level per statement.
    """
    out: list[ast.stmt | ast.excepthandler] = []
    stack: list[ast.AST] = list(reversed(list(body)))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.match_case):
            stack.extend(reversed(node.body))
            continue
        out.append(node)  # type: ignore[arg-type]  # statements and except handlers only
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for name in reversed(_BLOCKS):
            block = getattr(node, name, None)
            if block:
                stack.extend(reversed(block))
    return out


def _store_names(node: ast.AST) -> Iterator[str]:
    """Names a target or pattern binds (``for a, (b, c) in …``, ``case {"k": v, **rest}``)."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            yield sub.id
        elif isinstance(sub, ast.MatchAs | ast.MatchStar) and sub.name:
            yield sub.name
        elif isinstance(sub, ast.MatchMapping) and sub.rest:
            yield sub.rest


def _collect_bindings(scope: ast.AST, *, walrus: bool = True) -> dict[str, list[_Binding]]:
    """Every name the scope binds, with what it is bound to (an expression, a def, or unknown).

    A name with exactly one binding that is a plain expression can be folded; anything else
    (loops, ``+=``, several assignments, ``with … as``) makes it unknown. Only statements are
    read; expressions are searched for ``:=`` only when ``walrus`` says the file has one.
    """
    bindings: dict[str, list[_Binding]] = {}

    def bind(name: str, what: _Binding) -> None:
        bindings.setdefault(name, []).append(what)

    def bind_target(target: ast.expr, value: ast.expr | None) -> None:
        if isinstance(target, ast.Name):
            bind(target.id, value if value is not None else UNKNOWN)
        elif isinstance(target, ast.Tuple | ast.List):
            pairs = (
                isinstance(value, ast.Tuple | ast.List)
                and len(value.elts) == len(target.elts)
                and not any(isinstance(e, ast.Starred) for e in (*target.elts, *value.elts))
            )
            for index, element in enumerate(target.elts):
                inner = value.elts[index] if pairs and isinstance(value, ast.Tuple | ast.List) else None
                bind_target(element, inner)
        else:
            for name in _store_names(target):
                bind(name, UNKNOWN)  # x.attr = … binds nothing; starred targets bind unknowns

    if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        arguments = scope.args
        for arg in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
            bind(arg.arg, UNKNOWN)
        for extra in (arguments.vararg, arguments.kwarg):
            if extra is not None:
                bind(extra.arg, UNKNOWN)
    if not isinstance(scope, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return bindings  # lambdas and comprehensions bind only their parameters / loop variables

    for node in _statements(scope.body):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bind(node.name, node)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Attribute | ast.Subscript):
                    continue
                bind_target(target, node.value)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None and isinstance(node.target, ast.Name):
                bind_target(node.target, node.value)
        elif isinstance(node, ast.AugAssign):
            if isinstance(node.target, ast.Name):
                bind(node.target.id, UNKNOWN)
        elif isinstance(node, ast.For | ast.AsyncFor):
            for name in _store_names(node.target):
                bind(name, UNKNOWN)
        elif isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                if item.optional_vars is not None:
                    for name in _store_names(item.optional_vars):
                        bind(name, UNKNOWN)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                if alias.name != "*":
                    bind((alias.asname or alias.name).split(".", 1)[0], IMPORTED)
        elif isinstance(node, ast.Global):
            for name in node.names:
                bind(name, GLOBAL)
        elif isinstance(node, ast.Nonlocal):
            for name in node.names:
                bind(name, UNKNOWN)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bind(node.name, UNKNOWN)
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    bind(target.id, UNKNOWN)
        elif isinstance(node, ast.Match):
            for case in node.cases:
                for name in _store_names(case.pattern):
                    bind(name, UNKNOWN)
    if walrus:
        stack: list[ast.AST] = list(scope.body)
        while stack:
            current = stack.pop()
            if isinstance(current, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
                continue
            if isinstance(current, ast.NamedExpr):
                bind(current.target.id, UNKNOWN)
            stack.extend(ast.iter_child_nodes(current))
    return bindings


def comprehension_frame(node: ast.AST) -> Frame:
    """The scope of a comprehension seen lexically: its loop variables exist, values unknown."""
    names: dict[str, Folded | None] = {}
    for generator in getattr(node, "generators", []):
        for target in ast.walk(generator.target):
            if isinstance(target, ast.Name):
                names[target.id] = None
    return Frame(node, names)


# --- the evaluator ---------------------------------------------------------------------------


class Folder:
    """Folds expressions of one module; create one per file and reuse it (it memoises).

    ``resolve`` maps a callee expression to its qualified name through the file's imports
    (``b64decode`` → ``base64.b64decode``); the analyser that owns the import table supplies it.
    """

    def __init__(self, resolve: Callable[[ast.expr], str | None], *, walrus: bool = True) -> None:
        self.resolve = resolve
        self.walrus = walrus  # False when the file has no ":=": scopes are then read by statements only
        self._bindings: dict[int, dict[str, list[_Binding]]] = {}
        self._names: dict[tuple[int, str], Folded | None] = {}
        self._nodes: dict[int, Folded | None] = {}
        self._active: set[tuple[int, str]] = set()
        self._instance_attrs: dict[int, dict[str, list[tuple[ast.expr, ast.AST]]]] = {}
        self._steps = 0
        self._depth = 0
        self._inline = 0
        self.busy = False

    # -- entry point ----------------------------------------------------------------------

    def fold(self, node: ast.AST, frames: tuple[Frame, ...]) -> Folded | None:
        """The value ``node`` builds in the scopes ``frames`` (outermost first), or None. Never raises.

        Not re-entrant: ``resolve`` must not call back into :meth:`fold` (``busy`` tells it so).
        """
        if self.busy:
            return None
        self._steps = MAX_STEPS
        self._depth = 0
        self._inline = 0
        self.busy = True
        try:
            return self._eval(node, frames)
        except (_Stop, RecursionError, MemoryError):
            return None
        finally:
            self.busy = False

    # -- scopes ---------------------------------------------------------------------------

    def bindings(self, scope: ast.AST) -> dict[str, list[_Binding]]:
        found = self._bindings.get(id(scope))
        if found is None:
            found = _collect_bindings(scope, walrus=self.walrus)
            self._bindings[id(scope)] = found
        return found

    def lookup(self, name: str, frames: tuple[Frame, ...]) -> Folded | None:
        innermost = len(frames) - 1
        for index in range(innermost, -1, -1):
            frame = frames[index]
            if isinstance(frame.scope, ast.ClassDef) and index != innermost:
                continue  # class bodies are not visible from their methods
            if frame.params is not None and name in frame.params:
                return frame.params[name]
            binds = self.bindings(frame.scope).get(name)
            if binds is None:
                continue
            if any(isinstance(b, _Global) for b in binds) and index > 0:
                return self.lookup(name, frames[:1])
            if len(binds) != 1:
                return None
            return self._binding_value(name, binds[0], frames[: index + 1])
        if name in _BUILTIN_NAMES:
            return Folded(Builtin(name))
        return None

    def _binding_value(self, name: str, binding: _Binding, frames: tuple[Frame, ...]) -> Folded | None:
        if isinstance(binding, ast.FunctionDef | ast.AsyncFunctionDef):
            return Folded(Function(binding, frames))
        if isinstance(binding, ast.ClassDef) or not isinstance(binding, ast.expr):
            return None
        memo = not any(f.concrete for f in frames)
        key = (id(frames[-1].scope), name)
        if memo and key in self._names:
            return self._names[key]
        if key in self._active:
            return None  # x = x + "a" style cycles
        self._active.add(key)
        try:
            result = self._eval(binding, frames)
        finally:
            self._active.discard(key)
        if memo:
            self._names[key] = result
        return result

    # -- generic evaluation ---------------------------------------------------------------

    def _eval(self, node: ast.AST, frames: tuple[Frame, ...]) -> Folded | None:
        self._steps -= 1
        if self._steps < 0 or self._depth > MAX_DEPTH:
            raise _Stop
        memo = not any(f.concrete for f in frames)
        if memo and id(node) in self._nodes:
            return self._nodes[id(node)]
        self._depth += 1
        try:
            result = self._eval_node(node, frames)
        finally:
            self._depth -= 1
        if memo:
            self._nodes[id(node)] = result
        return result

    def _eval_node(self, node: ast.AST, frames: tuple[Frame, ...]) -> Folded | None:
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool):
                return Folded(int(value))
            if isinstance(value, str | bytes):
                return Folded(value)
            if isinstance(value, int):
                return Folded(value) if value.bit_length() <= MAX_INT_BITS else None
            return None
        if isinstance(node, ast.Name):
            return self.lookup(node.id, frames) if isinstance(node.ctx, ast.Load) else None
        if isinstance(node, ast.JoinedStr):
            return self._fstring(node, frames)
        if isinstance(node, ast.BinOp):
            return self._binop(node, frames)
        if isinstance(node, ast.UnaryOp):
            operand = self._eval(node.operand, frames)
            if operand is None or not isinstance(operand.value, int):
                return None
            if isinstance(node.op, ast.USub):
                return Folded(-operand.value, operand.via)
            if isinstance(node.op, ast.UAdd):
                return operand
            if isinstance(node.op, ast.Invert):
                return Folded(~operand.value, operand.via)
            if isinstance(node.op, ast.Not):
                return Folded(int(not operand.value), operand.via)
            return None
        if isinstance(node, ast.List | ast.Tuple):
            return self._sequence(node.elts, frames)
        if isinstance(node, ast.Subscript):
            return self._subscript(node, frames)
        if isinstance(node, ast.Attribute):
            return self._attribute(node, frames)
        if isinstance(node, ast.Call):
            return self._call(node, frames)
        if isinstance(node, ast.ListComp | ast.GeneratorExp):
            return self._comprehension(node, frames)
        if isinstance(node, ast.Lambda):
            return Folded(Function(node, frames))
        if isinstance(node, ast.IfExp):
            test = self._eval(node.test, frames)
            if test is None or not isinstance(test.value, int | str | bytes | tuple):
                return None
            return self._eval(node.body if test.value else node.orelse, frames)
        if isinstance(node, ast.Compare):
            return self._compare(node, frames)
        if isinstance(node, ast.NamedExpr):
            return self._eval(node.value, frames)
        if isinstance(node, ast.Expr):
            return self._eval(node.value, frames)
        return None

    def _sequence(self, elements: Sequence[ast.expr], frames: tuple[Frame, ...]) -> Folded | None:
        items: list[Value] = []
        vias: list[tuple[str, ...]] = []
        for element in elements:
            if isinstance(element, ast.Starred):
                inner = self._eval(element.value, frames)
                if inner is None:
                    return None
                seq = _iterate(inner.value)
                if seq is None:
                    return None
                items.extend(seq)
                vias.append(inner.via)
            else:
                folded = self._eval(element, frames)
                if folded is None:
                    return None
                items.append(folded.value)
                vias.append(folded.via)
            if len(items) > MAX_ITEMS:
                raise _Stop
        return Folded(tuple(items), merge_via(*vias))

    def _fstring(self, node: ast.JoinedStr, frames: tuple[Frame, ...]) -> Folded | None:
        parts: list[str] = []
        vias: list[tuple[str, ...]] = []
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                parts.append(part.value)
                continue
            if not isinstance(part, ast.FormattedValue):
                return None
            inner = self._eval(part.value, frames)
            if inner is None or not isinstance(inner.value, str | int):
                return None
            spec = ""
            if part.format_spec is not None:
                folded_spec = self._eval(part.format_spec, frames)
                if folded_spec is None or not isinstance(folded_spec.value, str):
                    return None
                spec = folded_spec.value
                if _HUGE_WIDTH.search(spec):
                    return None
            value = repr(inner.value) if part.conversion == ord("r") else inner.value
            try:
                parts.append(format(value, spec))
            except (ValueError, TypeError):
                return None
            vias.append(inner.via)
        return Folded(_capped_text("".join(parts)), merge_via(*vias))

    def _binop(self, node: ast.BinOp, frames: tuple[Frame, ...]) -> Folded | None:
        left = self._eval(node.left, frames)
        if left is None:
            return None
        right = self._eval(node.right, frames)
        if right is None:
            return None
        via = merge_via(left.via, right.via)
        result = _arithmetic(node.op, left.value, right.value)
        return None if result is None else Folded(result, via)

    def _compare(self, node: ast.Compare, frames: tuple[Frame, ...]) -> Folded | None:
        left = self._eval(node.left, frames)
        if left is None:
            return None
        vias = [left.via]
        current = left.value
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self._eval(comparator, frames)
            if right is None:
                return None
            vias.append(right.via)
            outcome = _compare(op, current, right.value)
            if outcome is None:
                return None
            if not outcome:
                return Folded(0, merge_via(*vias))
            current = right.value
        return Folded(1, merge_via(*vias))

    def _subscript(self, node: ast.Subscript, frames: tuple[Frame, ...]) -> Folded | None:
        container = self._eval(node.value, frames)
        if container is None or not isinstance(container.value, str | bytes | tuple):
            return None
        data = container.value
        if isinstance(node.slice, ast.Slice):
            bounds: list[int | None] = []
            vias = [container.via]
            for part in (node.slice.lower, node.slice.upper, node.slice.step):
                if part is None:
                    bounds.append(None)
                    continue
                folded = self._eval(part, frames)
                if folded is None or not isinstance(folded.value, int):
                    return None
                bounds.append(folded.value)
                vias.append(folded.via)
            if bounds[2] == 0:
                return None
            sliced = data[bounds[0] : bounds[1] : bounds[2]]
            hidden = ("reversed",) if bounds[2] is not None and bounds[2] < 0 and len(sliced) > 1 else ()
            return Folded(sliced, merge_via(*vias, hidden))
        index = self._eval(node.slice, frames)
        if index is None or not isinstance(index.value, int):
            return None
        try:
            item = data[index.value]
        except IndexError:
            return None
        return Folded(item, merge_via(container.via, index.via))

    def _attribute(self, node: ast.Attribute, frames: tuple[Frame, ...]) -> Folded | None:
        if isinstance(node.value, ast.Constant | ast.Name | ast.BinOp | ast.Subscript):
            owner = self._eval(node.value, frames)
            if owner is not None and isinstance(owner.value, str | bytes):
                return Folded(BoundMethod(owner.value, node.attr), owner.via)  # _ = "".join
        receiver = self._receiver(node.value, frames)
        if receiver is not None:
            return self._member(receiver, node.attr)
        qualified = self.resolve(node)
        if qualified in STRING_CONSTANTS:
            return Folded(STRING_CONSTANTS[qualified])
        return None

    # -- classes and instances ------------------------------------------------------------

    def _receiver(self, node: ast.expr, frames: tuple[Frame, ...]) -> Instance | None:
        """The class instance an attribute is read from: ``self``/``cls`` or a local ``X()``."""
        if isinstance(node, ast.Name | ast.Call):
            folded = self._eval(node, frames)
            if folded is not None and isinstance(folded.value, Instance):
                return folded.value
        if isinstance(node, ast.Name) and node.id in ("self", "cls"):
            for index in range(len(frames) - 1, -1, -1):
                scope = frames[index].scope
                if isinstance(scope, ast.ClassDef):
                    return Instance(scope, frames[:index])
        return None

    def _member(self, instance: Instance, name: str) -> Folded | None:
        binds = self.bindings(instance.cls).get(name)
        if binds is not None:
            if len(binds) != 1:
                return None
            binding = binds[0]
            if isinstance(binding, ast.FunctionDef | ast.AsyncFunctionDef):
                static = any(
                    isinstance(d, ast.Name) and d.id == "staticmethod" for d in binding.decorator_list
                )
                # A method's body sees the module, not the class body: its frames end before the class.
                return Folded(Function(binding, instance.frames, None if static else instance))
            return self._binding_value(name, binding, (*instance.frames, Frame(instance.cls)))
        assigned = self._instance_assignments(instance.cls).get(name, [])
        if len(assigned) != 1:
            return None
        value, method = assigned[0]
        return self._eval(value, (*instance.frames, Frame(method)))

    def _instance_assignments(self, cls: ast.ClassDef) -> dict[str, list[tuple[ast.expr, ast.AST]]]:
        """``self.x = value`` in the class's methods: one assignment makes ``self.x`` foldable."""
        found = self._instance_attrs.get(id(cls))
        if found is not None:
            return found
        found = {}
        for method in cls.body:
            if not isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in _statements(method.body):
                targets: list[ast.expr] = []
                value: ast.expr | None = None
                if isinstance(node, ast.Assign):
                    targets, value = node.targets, node.value
                elif isinstance(node, ast.AnnAssign | ast.AugAssign):
                    targets, value = [node.target], node.value if isinstance(node, ast.AnnAssign) else None
                for target in targets:
                    if (
                        isinstance(target, ast.Attribute)
                        and isinstance(target.value, ast.Name)
                        and target.value.id == "self"
                    ):
                        entry = found.setdefault(target.attr, [])
                        entry.append((value, method) if value is not None else (ast.Constant(None), method))
        self._instance_attrs[id(cls)] = found
        return found

    # -- calls ----------------------------------------------------------------------------

    def _callee(
        self, func: ast.expr, frames: tuple[Frame, ...]
    ) -> tuple[Value | Instance, tuple[str, ...]] | None:
        if isinstance(func, ast.Attribute):
            receiver = self._eval(func.value, frames)
            if receiver is not None and isinstance(receiver.value, str | bytes):
                return BoundMethod(receiver.value, func.attr), receiver.via
            instance = self._receiver(func.value, frames)
            if instance is not None:
                member = self._member(instance, func.attr)
                return (member.value, member.via) if member is not None else None
        elif isinstance(func, ast.Name):
            bound = self.lookup(func.id, frames)
            if bound is not None:
                return bound.value, bound.via
            cls = self._local_class(func.id, frames)
            if cls is not None:
                return cls, ()
        elif isinstance(func, ast.Call | ast.Lambda | ast.Subscript):
            folded = self._eval(func, frames)
            return (folded.value, folded.via) if folded is not None else None
        qualified = self.resolve(func)
        if qualified is None:
            return None
        if qualified in DECODER_FUNCTIONS or qualified in LIBRARY_FUNCTIONS:
            return Builtin(qualified), ()
        return None

    def _local_class(self, name: str, frames: tuple[Frame, ...]) -> Instance | None:
        """``String`` when the file defines ``class String`` once: calling it makes an :class:`Instance`."""
        for index in range(len(frames) - 1, -1, -1):
            binds = self.bindings(frames[index].scope).get(name)
            if binds is None:
                continue
            if len(binds) == 1 and isinstance(binds[0], ast.ClassDef):
                return Instance(binds[0], frames[: index + 1])
            return None
        return None

    def _call(self, node: ast.Call, frames: tuple[Frame, ...]) -> Folded | None:
        callee = self._callee(node.func, frames)
        if callee is None:
            return None
        target, callee_via = callee
        if isinstance(target, Builtin) and target.name == "map":
            return self._map(node, frames)
        if isinstance(target, Instance):
            return Folded(target)  # constructing a local class: its methods can be inlined later
        args: list[Folded] = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                return None
            folded = self._eval(arg, frames)
            if folded is None:
                return None
            args.append(folded)
        kwargs: dict[str, Folded] = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                return None
            folded = self._eval(keyword.value, frames)
            if folded is None:
                return None
            kwargs[keyword.arg] = folded
        result = self.apply(target, args, kwargs)
        if result is None:
            return None
        return Folded(result.value, merge_via(callee_via, result.via))

    def _map(self, node: ast.Call, frames: tuple[Frame, ...]) -> Folded | None:
        if len(node.args) != 2 or node.keywords:
            return None
        function = self._eval(node.args[0], frames)
        if function is None and isinstance(node.args[0], ast.Name | ast.Attribute):
            callee = self._callee(node.args[0], frames)
            function = Folded(callee[0], callee[1]) if callee is not None else None
        items = self._eval(node.args[1], frames)
        if function is None or items is None:
            return None
        seq = _iterate(items.value)
        if seq is None:
            return None
        out: list[Value] = []
        vias = [function.via, items.via]
        for item in seq:
            self._tick()
            result = self.apply(function.value, [Folded(item)], {})
            if result is None:
                return None
            out.append(result.value)
            vias.append(result.via)
        return Folded(tuple(out), merge_via(*vias))

    def _tick(self) -> None:
        self._steps -= 1
        if self._steps < 0:
            raise _Stop

    def apply(self, target: Value, args: list[Folded], kwargs: dict[str, Folded]) -> Folded | None:
        """Call a folded callable on folded arguments (data transforms only)."""
        if isinstance(target, Function):
            return self._inline_call(target, args, kwargs)
        if isinstance(target, BoundMethod):
            return _string_method(target.receiver, target.name, args, kwargs)
        if isinstance(target, Builtin):
            if target.name in ("map", "filter"):
                return None  # handled with their syntax (map) or not at all (filter)
            if target.name in _BUILTIN_NAMES or target.name in LIBRARY_FUNCTIONS:
                return _builtin(target.name, args, kwargs)
            if target.name in DECODER_FUNCTIONS:
                return _decode(target.name, args, kwargs)
        return None

    def _inline_call(
        self, function: Function, args: list[Folded], kwargs: dict[str, Folded]
    ) -> Folded | None:
        node = function.node
        body = _inlinable_body(node)
        if body is None or self._inline >= MAX_INLINE:
            return None
        arguments = node.args
        if arguments.vararg is not None or arguments.kwarg is not None:
            return None
        positional = [a.arg for a in (*arguments.posonlyargs, *arguments.args)]
        if function.instance is not None:
            positional = positional[1:]
        if len(args) > len(positional):
            return None
        params: dict[str, Folded | None] = dict(zip(positional, args, strict=False))
        names = positional + [a.arg for a in arguments.kwonlyargs]
        for key, value in kwargs.items():
            if key not in names or key in params:
                return None
            params[key] = value
        defaults = dict(
            zip(positional[len(positional) - len(arguments.defaults) :], arguments.defaults, strict=True)
        )
        defaults.update(
            (a.arg, d)
            for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
            if d is not None
        )
        for name in names:
            if name not in params:
                default = defaults.get(name)
                params[name] = self._eval(default, function.frames) if default is not None else None
        if function.instance is not None and (arguments.posonlyargs or arguments.args):
            params[(*arguments.posonlyargs, *arguments.args)[0].arg] = Folded(function.instance)
        frames = (*function.frames, Frame(node, params))
        self._inline += 1
        try:
            return self._eval(body, frames)
        finally:
            self._inline -= 1

    def _comprehension(
        self, node: ast.ListComp | ast.GeneratorExp, frames: tuple[Frame, ...]
    ) -> Folded | None:
        if len(node.generators) != 1:
            return None
        generator = node.generators[0]
        if generator.is_async:
            return None
        names = [t.id for t in ast.walk(generator.target) if isinstance(t, ast.Name)]
        if not isinstance(generator.target, ast.Name | ast.Tuple) or not names:
            return None
        iterable = self._eval(generator.iter, frames)
        if iterable is None:
            return None
        seq = _iterate(iterable.value)
        if seq is None:
            return None
        out: list[Value] = []
        vias = [iterable.via]
        for item in seq:
            self._tick()
            params = _unpack(generator.target, item)
            if params is None:
                return None
            inner = (*frames, Frame(node, params))
            keep = True
            for condition in generator.ifs:
                test = self._eval(condition, inner)
                if test is None or not isinstance(test.value, int | str | bytes | tuple):
                    return None
                if not test.value:
                    keep = False
                    break
            if not keep:
                continue
            element = self._eval(node.elt, inner)
            if element is None:
                return None
            out.append(element.value)
            vias.append(element.via)
            if len(out) > MAX_ITEMS:
                raise _Stop
        return Folded(tuple(out), merge_via(*vias))


# --- helpers ---------------------------------------------------------------------------------


def _inlinable_body(node: ast.Lambda | ast.FunctionDef | ast.AsyncFunctionDef) -> ast.expr | None:
    """The expression a helper returns when its body is only assignments and one final ``return``.

    Anything with control flow or side effects (loops, calls as statements, ``if``) is not
    inlined: the evaluator folds data transforms, it does not simulate programs.
    """
    if isinstance(node, ast.Lambda):
        return node.body
    if isinstance(node, ast.AsyncFunctionDef):
        return None
    statements = list(node.body)
    if statements and isinstance(statements[0], ast.Expr) and isinstance(statements[0].value, ast.Constant):
        statements = statements[1:]  # docstring
    if len(statements) == 1 and isinstance(statements[0], ast.Try) and not statements[0].orelse:
        statements = list(statements[0].body)  # ``try: return decode(x) except: pass``
    if not statements or not isinstance(statements[-1], ast.Return) or statements[-1].value is None:
        return None
    for statement in statements[:-1]:
        if isinstance(statement, ast.Assign) and all(isinstance(t, ast.Name) for t in statement.targets):
            continue
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            continue
        return None
    return statements[-1].value


def _unpack(target: ast.expr, item: Value) -> dict[str, Folded | None] | None:
    if isinstance(target, ast.Name):
        return {target.id: Folded(item)}
    if isinstance(target, ast.Tuple) and isinstance(item, tuple) and len(item) == len(target.elts):
        out: dict[str, Folded | None] = {}
        for sub, value in zip(target.elts, item, strict=True):
            inner = _unpack(sub, value)
            if inner is None:
                return None
            out.update(inner)
        return out
    return None


def _iterate(value: Value) -> tuple[Value, ...] | None:
    if isinstance(value, tuple):
        return value
    if isinstance(value, str):
        return tuple(value)
    if isinstance(value, bytes):
        return tuple(value)
    return None


def _capped_text(value: str) -> str:
    if len(value) > MAX_TEXT:
        raise _Stop
    return value


def _capped_items(value: tuple[Value, ...]) -> tuple[Value, ...]:
    if len(value) > MAX_ITEMS:
        raise _Stop
    return value


def _capped(value: bytes) -> bytes:
    if len(value) > MAX_TEXT:
        raise _Stop
    return value


def _arithmetic(op: ast.operator, left: Value, right: Value) -> Value | None:
    if isinstance(left, Function | Builtin | BoundMethod | Instance):
        return None
    if isinstance(right, Function | Builtin | BoundMethod | Instance):
        return None
    if isinstance(op, ast.Add):
        if isinstance(left, str) and isinstance(right, str):
            return _capped_text(left + right)
        if isinstance(left, bytes) and isinstance(right, bytes):
            return _capped(left + right)
        if isinstance(left, tuple) and isinstance(right, tuple):
            if len(left) + len(right) > MAX_ITEMS:
                raise _Stop
            return left + right
    if isinstance(op, ast.Mult):
        if isinstance(left, int) and not isinstance(right, int):
            left, right = right, left
        if isinstance(right, int) and isinstance(left, str | bytes | tuple):
            limit = MAX_ITEMS if isinstance(left, tuple) else MAX_TEXT
            if len(left) * max(right, 0) > limit:
                raise _Stop
            return left * right
    if isinstance(op, ast.Mod) and isinstance(left, str | bytes) and not isinstance(left, int):
        pattern = left if isinstance(left, str) else left.decode("latin-1")
        if _FORMAT_FIELD_ATTR.search(pattern) or _HUGE_WIDTH.search(pattern):
            return None
        try:
            result = left % right  # only str/bytes/int/tuple values reach here: no user objects
        except (TypeError, ValueError, KeyError, OverflowError):
            return None
        return _capped_text(result) if isinstance(result, str) else _capped(result)
    if isinstance(left, int) and isinstance(right, int):
        return _int_arithmetic(op, left, right)
    return None


def _int_arithmetic(op: ast.operator, left: int, right: int) -> int | None:
    if isinstance(op, ast.Add):
        result = left + right
    elif isinstance(op, ast.Sub):
        result = left - right
    elif isinstance(op, ast.Mult):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS:
            return None
        result = left * right
    elif isinstance(op, ast.FloorDiv | ast.Mod):
        if right == 0:
            return None
        result = left // right if isinstance(op, ast.FloorDiv) else left % right
    elif isinstance(op, ast.BitXor):
        result = left ^ right
    elif isinstance(op, ast.BitOr):
        result = left | right
    elif isinstance(op, ast.BitAnd):
        result = left & right
    elif isinstance(op, ast.LShift):
        if right < 0 or right + left.bit_length() > MAX_INT_BITS:
            return None
        result = left << right
    elif isinstance(op, ast.RShift):
        if right < 0:
            return None
        result = left >> right
    elif isinstance(op, ast.Pow):
        if right < 0 or right > 64 or left.bit_length() * max(right, 1) > MAX_INT_BITS:
            return None
        result = left**right
    else:
        return None
    return result if result.bit_length() <= MAX_INT_BITS else None


def _compare(op: ast.cmpop, left: Value, right: Value) -> bool | None:
    plain = (str, bytes, int, tuple)
    if not isinstance(left, plain) or not isinstance(right, plain):
        return None
    try:
        if isinstance(op, ast.Eq):
            return bool(left == right)
        if isinstance(op, ast.NotEq):
            return bool(left != right)
        if isinstance(op, ast.In | ast.NotIn):
            if not isinstance(right, str | bytes | tuple):
                return None
            found = left in right
            return bool(found) if isinstance(op, ast.In) else not found
        if type(left) is not type(right):
            return None
        if isinstance(op, ast.Lt):
            return bool(left < right)  # type: ignore[operator]
        if isinstance(op, ast.LtE):
            return bool(left <= right)  # type: ignore[operator]
        if isinstance(op, ast.Gt):
            return bool(left > right)  # type: ignore[operator]
        if isinstance(op, ast.GtE):
            return bool(left >= right)  # type: ignore[operator]
    except TypeError:
        return None
    return None


def _plain_args(args: list[Folded]) -> list[Value]:
    return [a.value for a in args]


def _all_via(args: list[Folded], kwargs: Mapping[str, Folded]) -> tuple[str, ...]:
    return merge_via(*(a.via for a in args), *(k.via for k in kwargs.values()))


def _string_method(
    receiver: str | bytes, name: str, args: list[Folded], kwargs: dict[str, Folded]
) -> Folded | None:
    via = _all_via(args, kwargs)
    values = _plain_args(args)
    try:
        result = _string_method_value(receiver, name, values, {k: v.value for k, v in kwargs.items()})
    except (ValueError, TypeError, LookupError, UnicodeError, binascii.Error, zlib.error, OverflowError):
        return None
    if result is None:
        return None
    value, hidden = result
    return Folded(value, merge_via(via, hidden))


def _codec_transform(
    data: str | bytes, codec: str, *, encode: bool, errors: str = "strict"
) -> tuple[str | bytes, tuple[str, ...]] | None:
    """``codecs.decode``/``str.decode``/``encode`` with ``codec``: data transforms only."""
    if errors not in ("strict", "ignore", "replace"):
        errors = "strict"
    name = codec.lower().replace(" ", "")
    transform = _CODEC_TRANSFORMS.get(name)
    if transform == "rot13":
        text = data if isinstance(data, str) else data.decode("latin-1")
        return codecs.decode(text, "rot13"), ("rot13",)
    if transform is not None:
        if encode:
            return None
        raw = data.encode("latin-1") if isinstance(data, str) else data
        if transform == "hex":
            return _capped(binascii.unhexlify(raw.strip())), ("hex",)
        if transform == "base64":
            return _capped(base64.b64decode(raw)), ("base64",)
        if transform == "zlib":
            return _decompress("zlib.decompress", raw), ("zlib",)
        return _decompress("bz2.decompress", raw), ("bz2",)
    if name not in _TEXT_CODECS:
        return None
    if encode:
        if not isinstance(data, str):
            return None
        return _capped(data.encode(name, errors)), ()
    if isinstance(data, bytes):
        return _capped_text(data.decode(name, errors)), ()
    if name in ("unicode_escape", "unicode-escape"):
        return None
    return data, ()


def _string_method_value(
    receiver: str | bytes, name: str, args: list[Value], kwargs: dict[str, Value]
) -> tuple[Value, tuple[str, ...]] | None:
    text_type = type(receiver)
    if name == "join" and len(args) == 1 and not kwargs:
        seq = _iterate(args[0])
        if seq is None or not all(isinstance(s, text_type) for s in seq):
            return None
        total = sum(len(s) for s in seq if isinstance(s, str | bytes)) + len(receiver) * len(seq)
        if total > MAX_TEXT:
            raise _Stop
        return receiver.join(seq), ()  # type: ignore[arg-type]
    if name == "replace" and 2 <= len(args) <= 3 and not kwargs:
        old, new = args[0], args[1]
        if not isinstance(old, text_type) or not isinstance(new, text_type):
            return None
        count = args[2] if len(args) == 3 else -1
        if not isinstance(count, int):
            return None
        if old and len(new) > len(old) and receiver.count(old) * (len(new) - len(old)) > MAX_TEXT:  # type: ignore[arg-type]
            raise _Stop
        return receiver.replace(old, new, count), ()  # type: ignore[arg-type]
    if name in _STR_NO_ARG and not args and not kwargs:
        return getattr(receiver, name)(), ()
    if name in _STR_STRIP and len(args) <= 1 and not kwargs:
        if args and not isinstance(args[0], text_type):
            return None
        return getattr(receiver, name)(*args), ()
    if name in ("split", "rsplit") and len(args) <= 2:
        sep = args[0] if args else kwargs.get("sep")
        maxsplit = args[1] if len(args) > 1 else kwargs.get("maxsplit", -1)
        if (sep is not None and not isinstance(sep, text_type)) or not isinstance(maxsplit, int):
            return None
        return _capped_items(tuple(getattr(receiver, name)(sep, maxsplit))), ()
    if name == "splitlines" and not args:
        return _capped_items(tuple(receiver.splitlines())), ()
    if name in ("removeprefix", "removesuffix") and len(args) == 1 and isinstance(args[0], text_type):
        return getattr(receiver, name)(args[0]), ()
    if name in ("startswith", "endswith") and len(args) == 1:
        prefix = args[0]
        if isinstance(prefix, tuple) and all(isinstance(p, text_type) for p in prefix):
            return int(getattr(receiver, name)(prefix)), ()
        if isinstance(prefix, text_type):
            return int(getattr(receiver, name)(prefix)), ()
        return None
    if name in ("count", "find", "index", "rfind") and len(args) == 1 and isinstance(args[0], text_type):
        return getattr(receiver, name)(args[0]), ()
    if name in ("zfill", "center", "ljust", "rjust") and 1 <= len(args) <= 2 and isinstance(args[0], int):
        if args[0] > MAX_TEXT:
            raise _Stop
        return getattr(receiver, name)(*args), ()
    if name in ("decode", "encode"):
        codec = args[0] if args else kwargs.get("encoding", "utf-8")
        errors = args[1] if len(args) > 1 else kwargs.get("errors", "strict")
        if not isinstance(codec, str) or not isinstance(errors, str):
            return None
        return _codec_transform(receiver, codec, encode=name == "encode", errors=errors)
    if name == "format" and isinstance(receiver, str):
        if _FORMAT_FIELD_ATTR.search(receiver) or _HUGE_WIDTH.search(receiver):
            return None
        plain = (str, int)
        if not all(isinstance(a, plain) for a in args) or not all(
            isinstance(v, plain) for v in kwargs.values()
        ):
            return None
        return _capped_text(receiver.format(*args, **kwargs)), ()
    if name == "hex" and isinstance(receiver, bytes) and not args:
        return receiver.hex(), ()
    if name == "fromhex" and len(args) == 1 and isinstance(args[0], str):
        return bytes.fromhex(args[0]), ("hex",)
    return None


def _decompress(name: str, data: bytes) -> bytes:
    limit = MAX_TEXT + 1
    if name == "zlib.decompress":
        out = zlib.decompressobj(zlib.MAX_WBITS | 32).decompress(data, limit)  # zlib or gzip header
    elif name == "gzip.decompress":
        out = zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(data, limit)
    elif name == "bz2.decompress":
        out = bz2.BZ2Decompressor().decompress(data, limit)
    else:
        out = lzma.LZMADecompressor().decompress(data, limit)
    return _capped(out)


def _as_bytes(value: Value) -> bytes | None:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        try:
            return value.encode("ascii")
        except UnicodeEncodeError:
            return None
    return None


def _decode(name: str, args: list[Folded], kwargs: dict[str, Folded]) -> Folded | None:
    if not args:
        return None
    data = _as_bytes(args[0].value)
    if data is None:
        return None
    transform = DECODER_FUNCTIONS[name]
    try:
        if transform == "base64":
            if name == "base64.urlsafe_b64decode":
                out = base64.urlsafe_b64decode(data)
            else:
                out = base64.b64decode(data)
        elif transform == "base32":
            out = base64.b32decode(data, casefold=True)
        elif transform == "base16":
            out = base64.b16decode(data, casefold=True)
        elif transform == "base85":
            out = base64.a85decode(data) if name == "base64.a85decode" else base64.b85decode(data)
        elif transform == "hex":
            out = bytes.fromhex(data.decode("ascii")) if "fromhex" in name else binascii.unhexlify(data)
        else:
            out = _decompress(name, data)
    except (ValueError, TypeError, binascii.Error, zlib.error, lzma.LZMAError, OSError, EOFError):
        return None
    return Folded(_capped(out), merge_via(args[0].via, (transform,)))


def _builtin(name: str, args: list[Folded], kwargs: dict[str, Folded]) -> Folded | None:
    via = _all_via(args, kwargs)
    values = _plain_args(args)
    try:
        result = _builtin_value(name, values, {k: v.value for k, v in kwargs.items()})
    except (ValueError, TypeError, OverflowError, LookupError, UnicodeError, binascii.Error):
        return None
    if result is None:
        return None
    value, hidden = result
    return Folded(value, merge_via(via, hidden))


def _builtin_value(
    name: str, args: list[Value], kwargs: dict[str, Value]
) -> tuple[Value, tuple[str, ...]] | None:
    first = args[0] if args else None
    if name == "chr" and len(args) == 1 and isinstance(first, int):
        return chr(first), ("charcodes",)
    if name == "ord" and len(args) == 1 and isinstance(first, str | bytes) and len(first) == 1:
        return ord(first), ()
    if name == "str":
        if len(args) == 1 and isinstance(first, str | int) and not kwargs:
            return str(first), ()
        if 1 <= len(args) <= 2 and isinstance(first, bytes):
            codec = args[1] if len(args) > 1 else kwargs.get("encoding", "utf-8")
            return _codec_transform(first, codec, encode=False) if isinstance(codec, str) else None
        return None
    if name == "int" and 1 <= len(args) <= 2:
        base = args[1] if len(args) > 1 else kwargs.get("base", 10)
        if isinstance(first, int) and len(args) == 1:
            return first, ()
        if isinstance(first, str | bytes) and isinstance(base, int) and len(first) <= 1000:
            return int(first, base), ()
        return None
    if name == "hex" and isinstance(first, int) and len(args) == 1:
        return hex(first), ()
    if name == "abs" and isinstance(first, int) and len(args) == 1:
        return abs(first), ()
    if name == "len" and len(args) == 1 and isinstance(first, str | bytes | tuple):
        return len(first), ()
    if name == "range" and 1 <= len(args) <= 3 and all(isinstance(a, int) for a in args):
        span = range(*args)  # type: ignore[arg-type]
        if len(span) > MAX_ITEMS:
            raise _Stop
        return tuple(span), ()
    if name in ("list", "tuple") and len(args) <= 1 and not kwargs:
        seq = _iterate(first) if first is not None else ()
        return (seq, ()) if seq is not None else None
    if name == "sorted" and len(args) == 1 and not kwargs:
        seq = _iterate(first) if first is not None else None
        if seq is None or len({type(s) for s in seq}) > 1 or not all(isinstance(s, str | int) for s in seq):
            return None
        return tuple(sorted(seq)), ()  # type: ignore[type-var]
    if name == "reversed" and len(args) == 1:
        seq = _iterate(first) if first is not None else None
        if seq is None:
            return None
        return tuple(reversed(seq)), ("reversed",) if len(seq) > 1 else ()
    if name in ("min", "max", "sum") and len(args) == 1:
        seq = _iterate(first) if first is not None else None
        numbers = [s for s in seq if isinstance(s, int)] if seq else []
        if not numbers or seq is None or len(numbers) != len(seq):
            return None
        if name == "min":
            return min(numbers), ()
        return (max(numbers), ()) if name == "max" else (sum(numbers), ())
    if name in ("bytes", "bytearray") and 1 <= len(args) <= 3:
        if isinstance(first, tuple) and len(args) == 1:
            if len(first) > MAX_TEXT or not all(isinstance(b, int) and 0 <= b < 256 for b in first):
                return None
            return bytes(first), ("charcodes",) if len(first) > 1 else ()  # type: ignore[arg-type]
        if isinstance(first, bytes) and len(args) == 1:
            return first, ()
        if isinstance(first, str) and len(args) >= 2 and isinstance(args[1], str):
            return _codec_transform(first, args[1], encode=True)
        return None
    if name in ("codecs.decode", "codecs.encode") and 1 <= len(args) <= 3:
        codec = args[1] if len(args) > 1 else kwargs.get("encoding", "utf-8")
        if not isinstance(first, str | bytes) or not isinstance(codec, str):
            return None
        return _codec_transform(first, codec, encode=name == "codecs.encode")
    return None
