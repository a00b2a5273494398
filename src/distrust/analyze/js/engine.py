"""Turn one JavaScript/TypeScript file into the capabilities its code shows.

One parse and one native query per file (see ``grammar.py``); Python then looks only at the
captured nodes: call sites whose method name is in the API tables, ``process.env``, imports,
object keys that look like mail fields, tool descriptions and string literals. Checks that need
no syntax (invisible unicode, minified lines, ``_0x`` identifiers) run as byte-level regexes.

What this cannot see is said in ``JsResult.problems`` rather than guessed: a binary file named
``.js``, a file too large to parse, a file that mostly fails to parse.
"""

from __future__ import annotations

import ipaddress
import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urlsplit

import tree_sitter
from tree_sitter import Node

from distrust.analyze import textscan
from distrust.analyze.js import decode, grammar, mail
from distrust.analyze.js.syntax import (
    arguments,
    chain,
    has_substitution,
    line_of,
    literal,
    required_module,
    static_text,
    text,
    unescape,
    unwrap,
)
from distrust.analyze.js.tables import (
    BASE64_BLOB_RE,
    CALL_RULES,
    CONVENTIONAL_NAMES,
    DECODE_MARKERS,
    EMAIL_COMMANDS,
    EMAIL_RE,
    ENTROPY_BITS_PER_CHAR,
    GLOBAL_CALLS,
    GLOBAL_OBJECTS,
    HEX_BLOB_RE,
    INJECTION_MARKERS,
    INVISIBLE_UNICODE_BYTES_RE,
    INVISIBLE_UNICODE_RE,
    IPV4_RE,
    LONG_STRING_CHARS,
    MARKER_PREFILTER,
    MCP_DESCRIPTION_CHARS,
    MINIFIED_AVG_LINE,
    MINIFIED_LONG_LINE,
    MINIFIED_MAX_WHITESPACE,
    MODULE_CALLS,
    NESTED_EMAIL_CALLS,
    NESTED_EMAIL_ROOTS,
    NETWORK_CONSTRUCTORS,
    OBFUSCATED_IDENT_RE,
    OBFUSCATED_IDENT_THRESHOLD,
    OS_DETAIL_METHODS,
    OS_DETAIL_THRESHOLD,
    PROPAGATION_ENDPOINTS,
    PROPAGATION_TOKENS,
    REQUIRE_WRAPPERS,
    STRING_MARKERS,
    URL_RE,
    CallRule,
    is_secret_env,
    may_be_address,
    module_family,
)
from distrust.analyze.kinds import DYNAMIC
from distrust.model import Capability

MAX_SOURCE_BYTES = 16 * 1024 * 1024
# A file counts as binary when it has NUL bytes or this share of its bytes is not UTF-8.
BINARY_INVALID_UTF8_SHARE = 0.02
# Beyond either limit the tree is too broken to trust an empty result.
ERROR_REGION_LIMIT = 5
ERROR_BYTES_SHARE = 0.01
SNIPPET_CHARS = 160
# Entropy of a long literal is judged on its start: enough to tell a blob from prose, and bounded.
ENTROPY_SAMPLE_CHARS = 4096
# Prose has a space every few characters and can pass the entropy bar; packed blobs have none.
ENTROPY_MAX_SPACES = 0.05
VALUE_CHARS = 300
MAX_VALUE_DEPTH = 8  # nested consts/templates followed when resolving a fixed string
MAX_CALLERS = 50  # call sites of a local function looked at to resolve one of its parameters
FUNCTION_TYPES = frozenset({"function_declaration", "function_expression", "arrow_function",
                            "method_definition", "generator_function_declaration", "generator_function",
                            "function"})
HTTP_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"})
_RULES_BY_METHOD: dict[str, list[CallRule]] = {}
for _rule in CALL_RULES:
    _RULES_BY_METHOD.setdefault(_rule.method, []).append(_rule)


@dataclass(frozen=True)
class JsResult:
    """Capabilities found in one file, and reasons (if any) the analysis is incomplete."""

    capabilities: tuple[Capability, ...]
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Binding:
    """What a local name was imported as: the module's family and the imported member, if any."""

    module: str
    family: str | None
    member: str | None = None


def analyze_js(path: str, source: bytes, *, dialect: str, max_bytes: int = MAX_SOURCE_BYTES) -> JsResult:
    """Profile one JavaScript/TypeScript file; never raises on file content.

    ``dialect`` is ``"js"`` (also .mjs/.cjs/.jsx), ``"ts"`` or ``"tsx"``; any other value raises
    :class:`~distrust.analyze.js.grammar.UnknownDialectError` because it is a caller bug, not bad input.
    """
    grammar.language(dialect)
    if len(source) > max_bytes:
        return JsResult((), (f"file is {len(source)} bytes, over the {max_bytes}-byte analysis limit",))
    if _looks_binary(source):
        suffix = PurePosixPath(path).suffix or f".{dialect}"
        return JsResult((), (f"binary file named {suffix}",))
    tree = grammar.parser(dialect).parse(source)
    scan = _FileScan(path, source, tree.root_node, dialect)
    scan.run()
    return JsResult(scan.capabilities(), tuple(scan.problems))


def _looks_binary(source: bytes) -> bool:
    if b"\x00" in source:
        return True
    if source.isascii():  # valid UTF-8 without decoding a copy of the file
        return False
    try:
        source.decode("utf-8")
    except UnicodeDecodeError:
        decoded = source.decode("utf-8", "replace")
        invalid = decoded.count("\ufffd") - source.count("\xef\xbf\xbd".encode("latin-1"))
        return invalid > BINARY_INVALID_UTF8_SHARE * max(len(source), 1)
    return False


def shannon_entropy(value: str) -> float:
    """Bits per character; random base64 is near 6, English prose near 4."""
    if not value:
        return 0.0
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in Counter(value).values())


class _FileScan:
    """The state of analysing one file: the tree, import bindings and the capabilities found."""

    def __init__(self, path: str, source: bytes, root: Node, dialect: str) -> None:
        self.path = path
        self.src = source
        self.root = root
        self.dialect = dialect
        self.found: dict[tuple[str, str, int], Capability] = {}
        self.problems: list[str] = []
        self.bindings: dict[str, Binding] = {}
        self._consts: dict[str, str | None] = {}
        self._declared: dict[str, str | None] = {}
        self.send_args: dict[int, list[Node]] = {}
        self.mail_objects: dict[int, mail.MailObject] = {}
        self.os_details: dict[str, Node] = {}
        self.env_names: dict[str, Node] = {}
        self.per_file_first: dict[str, tuple[str, int, int | None]] = {}

    # --- output -------------------------------------------------------------------------

    def capabilities(self) -> tuple[Capability, ...]:
        return tuple(sorted(self.found.values(), key=lambda c: (c.line, c.kind, c.value)))

    def line_at(self, offset: int, near: Node | None = None) -> int:
        """1-based line of a byte offset, counting from a node known to be before it if given."""
        if near is not None and near.start_byte <= offset:
            return near.start_point.row + 1 + self.src.count(b"\n", near.start_byte, offset)
        return self.src.count(b"\n", 0, offset) + 1

    def snippet(self, offset: int) -> str:
        start = self.src.rfind(b"\n", 0, offset) + 1
        end = self.src.find(b"\n", offset)
        end = len(self.src) if end < 0 else end
        line = self.src[start:end]
        if len(line) <= SNIPPET_CHARS * 2:
            decoded = line.decode("utf-8", "replace").strip()
            if len(decoded) <= SNIPPET_CHARS:
                return decoded
        # Long (often minified) line: show the text around the finding, not the line's start.
        lo = max(start, offset - SNIPPET_CHARS // 3)
        piece = self.src[lo : min(end, lo + SNIPPET_CHARS * 2)].decode("utf-8", "replace").strip()
        piece = piece[:SNIPPET_CHARS]
        return ("…" if lo > start else "") + piece + ("…" if lo + len(piece) < end else "")

    def emit(self, kind: str, value: str, at: Node | int, near: Node | None = None) -> None:
        """Record a capability at a node, or at a byte offset (inside ``near`` when given)."""
        if len(value) > VALUE_CHARS:
            value = value[:VALUE_CHARS] + "…"
        if isinstance(at, int):
            line, offset = self.line_at(at, near), at
        else:
            line, offset = line_of(at), at.start_byte
        key = (kind, value, line)
        if key not in self.found:
            self.found[key] = Capability(kind, value, self.path, line, self.snippet(offset))

    def emit_once_per_file(self, kind: str, value: str, offset: int) -> None:
        """Obfuscation kinds: one capability per file, at the first occurrence."""
        if kind not in self.per_file_first:
            self.per_file_first[kind] = (value, offset, None)
            self.emit(kind, value, offset)

    # --- driver --------------------------------------------------------------------------

    def run(self) -> None:
        q = grammar.query(self.dialect)
        # Every match of a pattern has the same captures, so its kind is looked up once per
        # pattern, not probed capture by capture for each of the thousands of matches.
        kinds = _PATTERN_KINDS.setdefault(self.dialect, {})
        buckets: dict[str, list[dict[str, list[Node]]]] = {}
        for index, caps in tree_sitter.QueryCursor(q).matches(self.root):
            kind = kinds.get(index)
            if kind is None:
                kind = kinds[index] = next((name for name in _PRIMARY if name in caps), "")
            buckets.setdefault(kind, []).append(caps)
        if self.root.has_error:
            for _, caps in tree_sitter.QueryCursor(grammar.error_query(self.dialect)).matches(self.root):
                kind = "error" if "error" in caps else "missing"
                buckets.setdefault(kind, []).append(caps)
        # Each call's name, arguments and required module, worked out once for both passes.
        calls: list[tuple[Node, str, list[Node], str | None]] = []
        for caps in buckets.get("call.fn", []):
            name = text(caps["fname"][0])
            args = arguments(caps["args"][0])
            module = literal(args[0]) if name == "require" and args else None
            calls.append((caps["call.fn"][0], name, args, module))
        for call, _name, _args, module in calls:
            if module is not None:
                self.collect_require(call, module)
        for caps in buckets.get("call.import", []):
            module = required_module(caps["call.import"][0])
            if module is not None:
                self.collect_require(caps["call.import"][0], module)
            else:
                self.emit("code.dynamic", f"import({DYNAMIC})", caps["call.import"][0])
        for caps in buckets.get("import", []) + buckets.get("import.require", []):
            self.collect_import(caps)
        for call, name, args, module in calls:
            self.on_function_call(call, name, args, module)
        for caps in buckets.get("call.member", []):
            self.on_member_call(caps["call.member"][0], caps["recv"][0], text(caps["mname"][0]),
                                caps["args"][0])
        for caps in buckets.get("new", []):
            self.on_new(caps["new"][0], text(caps["cname"][0]))
        for caps in buckets.get("env", []):
            self.on_process_env(caps["env"][0])
        for caps in buckets.get("ethereum", []):
            self.emit("crypto.wallet", "window.ethereum", caps["ethereum"][0])
        for caps in buckets.get("mailpair", []):
            pair = caps["mailpair"][0]
            self.add_mail_field(pair.parent, caps["mailkey"][0], pair.child_by_field_name("value"))
        for caps in buckets.get("mailshort", []):
            node = caps["mailshort"][0]
            self.add_mail_field(node.parent, node, None)
        for caps in buckets.get("descpair", []):
            self.on_description(caps["descpair"][0], caps["description"][0])
        for caps in buckets.get("string", []):
            self.on_string(caps["string"][0], template=False)
        for caps in buckets.get("template", []):
            self.on_string(caps["template"][0], template=True)
        self.finish_email()
        self.finish_recon_and_propagation()
        self.scan_bytes()
        errors = [c["error"][0] for c in buckets.get("error", [])]
        missing = [c["missing"][0] for c in buckets.get("missing", [])]
        self.check_parse_errors(errors, missing)

    # --- imports -------------------------------------------------------------------------

    def bind(self, target: Node | None, module: str, member: str | None) -> None:
        """Record what a declarator's name (or destructuring pattern) now refers to."""
        if target is None:
            return
        family = module_family(module)
        if target.type == "identifier":
            self.bindings[text(target)] = Binding(module, family, member)
        elif target.type == "object_pattern":
            for part in target.named_children:
                if part.type == "shorthand_property_identifier_pattern":
                    self.bindings[text(part)] = Binding(module, family, text(part))
                elif part.type == "pair_pattern":
                    key, value = part.child_by_field_name("key"), part.child_by_field_name("value")
                    value = unwrap(value)
                    if value is not None and value.type == "assignment_pattern":
                        value = value.child_by_field_name("left")
                    if key is not None and value is not None and value.type == "identifier":
                        self.bindings[text(value)] = Binding(module, family, text(key).strip("'\""))

    def collect_require(self, call: Node, module: str) -> None:
        """Bind the name a ``require(module)`` / ``import(module)`` call is assigned to."""
        node: Node = call
        member: str | None = None
        for _ in range(6):  # __importDefault(require("fs")).default, await import("fs")
            parent = node.parent
            if parent is None:
                return
            if parent.type in ("parenthesized_expression", "await_expression"):
                node = parent
            elif parent.type == "arguments" and parent.parent is not None and text(
                parent.parent.child_by_field_name("function")
            ) in REQUIRE_WRAPPERS:
                node = parent.parent
            elif parent.type == "member_expression" and parent.child_by_field_name("object") == node:
                prop = text(parent.child_by_field_name("property"))
                if prop not in ("default", "promises"):
                    member = prop
                node = parent
            else:
                break
        parent = node.parent
        if parent is None:
            return
        if parent.type == "variable_declarator" and parent.child_by_field_name("value") == node:
            self.bind(parent.child_by_field_name("name"), module, member)
        elif parent.type == "assignment_expression" and parent.child_by_field_name("right") == node:
            self.bind(parent.child_by_field_name("left"), module, member)

    def collect_import(self, caps: dict[str, list[Node]]) -> None:
        module = literal(caps["source"][0])
        if module is None:
            return
        if "binding" in caps:  # TypeScript: import fs = require("fs")
            self.bind(caps["binding"][0], module, None)
            return
        statement = caps["import"][0]
        family = module_family(module)
        for clause in statement.named_children:
            if clause.type != "import_clause":
                continue
            for part in clause.named_children:
                if part.type == "identifier":
                    self.bindings[text(part)] = Binding(module, family, None)
                elif part.type == "namespace_import":
                    for ident in part.named_children:
                        self.bindings[text(ident)] = Binding(module, family, None)
                elif part.type == "named_imports":
                    for spec in part.named_children:
                        if spec.type != "import_specifier":
                            continue
                        name = spec.child_by_field_name("name")
                        alias = spec.child_by_field_name("alias") or name
                        imported = text(name).strip("'\"")
                        member = None if imported == "default" else imported
                        self.bindings[text(alias)] = Binding(module, family, member)

    def family_of(self, parts: list[str]) -> str | None:
        """Which API family a receiver chain belongs to: by import, else by conventional name."""
        if not parts:
            return None
        root = parts[0]
        if root.startswith("require:"):
            return module_family(root.removeprefix("require:"))
        bound = self.bindings.get(root)
        if bound is not None and bound.family is not None:
            return bound.family
        if root in CONVENTIONAL_NAMES:
            return CONVENTIONAL_NAMES[root]
        for part in reversed(parts[1:]):  # this.fs.readFile, globalThis.os.hostname
            if part not in ("default", "promises") and part in CONVENTIONAL_NAMES:
                return CONVENTIONAL_NAMES[part]
        return None

    # --- calls ---------------------------------------------------------------------------

    def on_function_call(self, call: Node, name: str, args: list[Node], module: str | None) -> None:
        """A call of a plain name; ``module`` is the literal a ``require`` call names, if any."""
        if name == "require":
            if module is None and args:
                self.emit("code.dynamic", f"require({DYNAMIC})", call)
            return
        if name in ("eval", "Function"):
            self.on_dynamic_code(call, name, args)
            return
        if name == "atob":
            self.on_decoded(call, "base64", self.decoded_value(call))
            return
        if name in ("setTimeout", "setInterval", "setImmediate"):
            first = unwrap(args[0]) if args else None
            if first is not None and first.type in ("string", "template_string"):
                self.emit("code.dynamic", f"{name}(string)", call)
            return
        bound = self.bindings.get(name)
        if bound is not None and bound.family is not None:
            if bound.member is not None:
                rule = self.rule_for(bound.member, bound.family)
                if rule is not None:
                    self.apply_rule(rule, call, args)
                    return
                if bound.family == "os" and bound.member in OS_DETAIL_METHODS:
                    self.os_details.setdefault(f"os.{bound.member}", call)
            elif bound.family in MODULE_CALLS:
                kind, label = MODULE_CALLS[bound.family]
                self.apply_rule(CallRule(name, kind, None, label), call, args)
                return
        if name in GLOBAL_CALLS:
            kind, label = GLOBAL_CALLS[name]
            self.apply_rule(CallRule(name, kind, None, label), call, args)

    def rule_for(self, method: str, family: str | None) -> CallRule | None:
        for rule in _RULES_BY_METHOD.get(method, ()):
            if rule.families is None or (family is not None and family in rule.families):
                return rule
        return None

    def on_member_call(self, call: Node, receiver: Node, method: str, args_node: Node) -> None:
        args = arguments(args_node)
        parts = chain(receiver)
        family = self.family_of(parts)
        if parts and (parts[-1], method) in NESTED_EMAIL_CALLS:
            label = NESTED_EMAIL_CALLS[(parts[-1], method)]
            roots = NESTED_EMAIL_ROOTS[label]
            if family in roots or any(r in p.lower() for p in parts[:-1] for r in roots):
                self.apply_rule(CallRule(method, "email.send", None, label, -1), call, args)
                return
        if (method == "from" and parts == ["Buffer"]) or (method == "fromCharCode" and parts == ["String"]):
            encoding = (literal(args[1]) or "") if len(args) > 1 else ""
            label = "hex" if encoding.lower() == "hex" else "base64"
            label = "charcodes" if method == "fromCharCode" else label
            self.on_decoded(call, label, self.decoded_value(call))
            return
        if method == "eval" and parts and parts[-1] in GLOBAL_OBJECTS:
            self.on_dynamic_code(call, "eval", args)
            return
        if method in ("tool", "registerTool"):
            self.on_mcp_tool(call, args)
            return
        if method == "default" and family in MODULE_CALLS:  # compiled TS: node_fetch_1.default(url)
            kind, label = MODULE_CALLS[family]
            self.apply_rule(CallRule(method, kind, None, label), call, args)
            return
        if method == "setRequestHandler":
            return  # tool lists are read from their object literals (on_description)
        if method in ("get", "toObject") and parts == ["Deno", "env"]:
            if method == "toObject":
                self.emit("env.enumerate", "Deno.env.toObject()", call)
            else:
                self.on_env_name(literal(args[0]) if args else None, call)
            return
        if method == "open" and len(args) >= 2 and (literal(args[0]) or "").upper() in HTTP_METHODS:
            self.network_call("XMLHttpRequest.open", call, args[1])
            return
        if family == "os" and method in OS_DETAIL_METHODS:
            self.os_details.setdefault(f"os.{method}", call)
        rule = self.rule_for(method, family)
        if rule is not None:
            self.apply_rule(rule, call, args)

    def apply_rule(self, rule: CallRule, call: Node, args: list[Node]) -> None:
        target = args[rule.target] if 0 <= rule.target < len(args) else None
        kind = rule.kind
        if kind == "network.request":
            self.network_call(rule.label, call, target if rule.target >= 0 else None)
        elif kind in ("file.read", "file.write", "file.delete"):
            path = self.value_of(target)
            self.emit(kind, path if path is not None else DYNAMIC, call)
            if path is not None and kind != "file.read" and self.at_top_level(call):
                self.emit("exec.import_time", f"{kind} {path}", call)
            if path is None and kind != "file.read":
                for value, caller in self.argument_values(target):
                    self.emit(kind, value, caller)
                    if self.at_top_level(caller):
                        self.emit("exec.import_time", f"{kind} {value}", caller)
            if rule.target == 1 and args:  # a copy also reads its source
                src = literal(args[0])
                self.emit("file.read", src if src is not None else DYNAMIC, call)
        elif kind == "process.spawn":
            command = self.command_of(args)
            self.emit(kind, command, call)
            if re.search(r"\bnpm\s+publish\b|\bgit\s+push\b", command):
                self.emit("propagation", command, call)
        elif kind == "code.dynamic":
            self.on_dynamic_code(call, rule.label, args)
        elif kind == "email.send":
            self.emit(kind, rule.label, call)
            self.send_args[call.id] = args
        else:
            self.emit(kind, rule.label, call)

    def command_of(self, args: list[Node]) -> str:
        """The literal command line of a spawn call: ``spawn('npm', ['publish'])`` → ``npm publish``."""
        if not args:
            return DYNAMIC
        command = self.value_of(args[0])
        if command is None:
            return DYNAMIC
        if len(args) > 1:
            argv = unwrap(args[1])
            if argv is not None and argv.type == "array":
                words = [literal(e) for e in argv.named_children]
                command += " " + " ".join(w if w is not None else DYNAMIC for w in words)
        return command.strip()

    def network_call(self, label: str, call: Node, target: Node | None) -> None:
        host: str | None = None
        value = self.value_of(target)
        target_node = unwrap(target)
        if value is not None:
            host = _host_of(value)
        elif target_node is not None and target_node.type == "object":
            fields = _object_literals(target_node)
            url = fields.get("url") or fields.get("baseURL") or fields.get("href")
            host = fields.get("hostname") or fields.get("host")
            if url is not None:
                value, host = url, host or _host_of(url)
            elif host is not None:
                port = fields.get("port")
                host = f"{host}:{port}" if port and ":" not in host else host
                value = host
        self.emit("network.request", f"{label} {value if value is not None else DYNAMIC}", call)
        if host:
            self.emit("network.host", host, call)

    def value_of(self, node: Node | None, depth: int = 0) -> str | None:
        """A string fixed at analysis time, or None.

        Literals, ``+`` chains, templates whose parts are fixed, names declared once with such a
        value, decoded literals, ``path.join`` of those, and the home directory written as ``~``
        (``os.homedir()``, ``process.env.HOME``): enough to see that ``${home}/Desktop/${name}``
        is a file on the user's desktop.
        """
        found = literal(node)
        if found is not None:
            return found
        inner = unwrap(node)
        if inner is None or depth > MAX_VALUE_DEPTH:
            return None
        kind = inner.type
        if kind == "identifier":
            name = text(inner)
            bound = self.bindings.get(name)
            if bound is not None and bound.family == "os" and bound.member == "homedir":
                return "~"
            return self.const_value(name) or self.declared_value(name, depth + 1)
        if kind == "template_string":
            return self.template_value(inner, depth + 1)
        if kind == "binary_expression":
            op = inner.child_by_field_name("operator")
            if op is None or op.type != "+":
                return None
            left = self.value_of(inner.child_by_field_name("left"), depth + 1)
            right = self.value_of(inner.child_by_field_name("right"), depth + 1) if left is not None else None
            return left + right if left is not None and right is not None else None
        if kind == "member_expression":
            parts = chain(inner)
            if parts[:2] == ["process", "env"]:
                return "~" if parts[2:] in (["HOME"], ["USERPROFILE"]) else None
            if len(parts) > 1 and parts[-1] == "homedir" and self.family_of(parts[:-1]) == "os":
                return "~"  # `${os.homedir}` (a function, stringified): the intent is the home folder
            return None
        if kind == "call_expression":
            return self.call_value(inner, depth + 1)
        return None

    def template_value(self, node: Node, depth: int) -> str | None:
        out: list[str] = []
        for child in node.named_children:
            if child.type == "template_substitution":
                inner = child.named_children[0] if child.named_children else None
                value = self.value_of(inner, depth)
                if value is None:
                    return None
                out.append(value)
            else:
                out.append(unescape(text(child)))
        return "".join(out)

    def call_value(self, call: Node, depth: int) -> str | None:
        function = unwrap(call.child_by_field_name("function"))
        parts = chain(function)
        if parts and parts[-1] == "homedir" and self.family_of(parts[:-1] or parts) in ("os", None):
            bound = self.bindings.get(parts[0])
            if len(parts) > 1 or (bound is not None and bound.family == "os"):
                return "~"
        if parts and parts[-1] == "concat" and function is not None and function.type == "member_expression":
            # "".concat(a, b): how compilers targeting ES5 write template literals
            head = self.value_of(function.child_by_field_name("object"), depth)
            pieces = [self.value_of(arg, depth) for arg in arguments(call.child_by_field_name("arguments"))]
            if head is None or any(p is None for p in pieces):
                return None
            return head + "".join(p for p in pieces if p is not None)
        if parts and parts[-1] in ("join", "resolve") and self.family_of(parts[:-1]) == "path":
            pieces = [self.value_of(arg, depth) for arg in arguments(call.child_by_field_name("arguments"))]
            if not pieces or any(p is None for p in pieces):
                return None
            fixed = [p for p in pieces if p is not None]
            return "/".join(p.strip("/") if i else p.rstrip("/") for i, p in enumerate(fixed))
        return self.decoded_value(call)

    def declared_value(self, name: str, depth: int) -> str | None:
        """The value of the one ``const/let/var NAME = …`` in this file, when it is fixed."""
        if name in self._declared:
            return self._declared[name]
        self._declared[name] = None  # also stops a cycle (const a = b; const b = a)
        value = self._declared_value(name, depth)
        self._declared[name] = value
        return value

    def _declared_value(self, name: str, depth: int) -> str | None:
        pattern = re.compile(rb"\b(?:const|let|var)\s+" + re.escape(name.encode()) + rb"\s*[=;,\n]")
        matches = list(itertools.islice(pattern.finditer(self.src), 2))
        if len(matches) != 1:
            return None
        offset = matches[0].start() + matches[0].group(0).find(name.encode())
        node = self.root.descendant_for_byte_range(offset, offset + len(name))
        while node is not None and node.type != "variable_declarator":
            node = node.parent
        if node is None or text(node.child_by_field_name("name")) != name:
            return None
        value = node.child_by_field_name("value")
        if value is None:  # `var x;` … `x = "…"` (hoisted by compilers): one plain assignment
            assigned = re.compile(rb"(?<![\w$.])" + re.escape(name.encode()) + rb"\s*=(?!=)")
            found = list(itertools.islice(assigned.finditer(self.src), 2))
            if len(found) != 1:
                return None
            at = self.root.descendant_for_byte_range(found[0].start(), found[0].start() + len(name))
            parent = at.parent if at is not None else None
            if parent is None or parent.type != "assignment_expression":
                return None
            value = parent.child_by_field_name("right")
        return self.value_of(value, depth)

    def argument_values(self, target: Node | None) -> list[tuple[str, Node]]:
        """When ``target`` is a parameter of a named function, the fixed values its callers pass.

        ``function deliver(path) { fs.writeFile(path, …) }`` called as ``deliver(`${home}/Desktop/x`)``
        writes to the desktop; one level of calls within the file is followed.
        """
        inner = unwrap(target)
        if inner is None or inner.type != "identifier":
            return []
        name = text(inner)
        function = inner.parent
        while function is not None and function.type not in FUNCTION_TYPES:
            function = function.parent
        if function is None:
            return []
        params = function.child_by_field_name("parameters")
        names = [text(p) for p in params.named_children] if params is not None else []
        if name not in names:
            return []
        index = names.index(name)
        fname = self.function_name(function)
        if fname is None:
            return []
        found: list[tuple[str, Node]] = []
        callers = re.finditer(rb"\b" + re.escape(fname.encode()) + rb"\s*\(", self.src)
        for match in itertools.islice(callers, MAX_CALLERS):
            node = self.root.descendant_for_byte_range(match.start(), match.start() + len(fname))
            call = node.parent if node is not None else None
            if call is None or call.type != "call_expression" or call.child_by_field_name("function") != node:
                continue
            args = arguments(call.child_by_field_name("arguments"))
            value = self.value_of(args[index]) if index < len(args) else None
            if value is not None:
                found.append((value, call))
        return found

    @staticmethod
    def function_name(function: Node) -> str | None:
        named = function.child_by_field_name("name")
        if named is not None:
            return text(named)
        parent = function.parent
        if parent is not None and parent.type == "variable_declarator":
            return text(parent.child_by_field_name("name")) or None
        return None

    def at_top_level(self, node: Node) -> bool:
        """True when ``node`` runs as the module loads: inside no function or class body."""
        cur = node.parent
        while cur is not None:
            if cur.type in FUNCTION_TYPES or cur.type == "class_body":
                return False
            cur = cur.parent
        return True

    def decoded_value(self, call: Node) -> str | None:
        """What ``atob(lit)``, ``Buffer.from(lit, enc)[.toString()]``, ``String.fromCharCode(n…)`` give."""
        function = unwrap(call.child_by_field_name("function"))
        if function is None:
            return None
        args = arguments(call.child_by_field_name("arguments"))
        if function.type == "identifier" and text(function) == "atob" and args:
            value = self.value_of(args[0])
            return decode.from_atob(value) if value is not None else None
        if function.type != "member_expression":
            return None
        method = text(function.child_by_field_name("property"))
        receiver = unwrap(function.child_by_field_name("object"))
        if method == "toString" and receiver is not None and receiver.type == "call_expression":
            return self.decoded_value(receiver)
        parts = chain(receiver)
        if method == "from" and parts == ["Buffer"] and len(args) >= 2:
            value, encoding = self.value_of(args[0]), literal(args[1])
            if value is None or encoding is None:
                return None
            return decode.from_buffer(value, encoding)
        if method == "fromCharCode" and parts == ["String"]:
            codes: list[int] = []
            for arg in args[: decode.MAX_CHAR_CODES + 1]:
                number = unwrap(arg)
                if number is None or number.type != "number":
                    return None
                try:
                    codes.append(int(text(number), 0))
                except ValueError:
                    return None
            return decode.from_char_codes(codes)
        return None

    def on_decoded(self, call: Node, method: str, decoded: str | None) -> None:
        """Scan text the code decodes from literals; record that it was hidden when it matters."""
        if decoded is None:
            return
        self.scan_string(decoded.encode("utf-8", "replace"), None, call)
        if decode.noteworthy(decoded):
            self.emit("obfuscation.decoded", f"{method}: {' '.join(decoded.split())}", call)

    def on_dynamic_code(self, call: Node, label: str, args: list[Node]) -> None:
        self.emit("code.dynamic", label, call)
        if self.decodes(args):
            self.emit("code.decode_exec", label, call)
        # Function(...)(...) runs the built function at once; the outer call is the evidence.

    def decodes(self, args: list[Node]) -> bool:
        """Does a decoder's output flow into these arguments, directly or via one variable?"""
        for arg in args:
            raw = arg.text or b""
            if DECODE_MARKERS.search(raw[:20000]):
                return True
            inner = unwrap(arg)
            if inner is not None and inner.type == "identifier":
                name = re.escape(text(inner).encode())
                assigned = re.compile(rb"\b" + name + rb"\s*=\s*(?!=)[^;\n]{0,300}")
                for match in assigned.finditer(self.src):
                    if DECODE_MARKERS.search(match.group(0)):
                        return True
        return False

    def on_new(self, node: Node, name: str) -> None:
        args = arguments(node.child_by_field_name("arguments"))
        ctor = node.child_by_field_name("constructor")
        parts = chain(ctor)
        if name == "Function":
            self.on_dynamic_code(node, "new Function", args)
        elif name == "Script":
            bound = self.bindings.get(parts[0]) if parts else None
            if self.family_of(parts[:-1]) == "vm" or (bound is not None and bound.family == "vm"):
                self.on_dynamic_code(node, "new vm.Script", args)
        elif name in NETWORK_CONSTRUCTORS:
            self.network_call(name, node, args[0] if args else None)
        elif name in EMAIL_COMMANDS:
            self.emit("email.send", name, node)
            self.send_args[node.id] = args
        elif name in ("McpServer", "Server"):
            bound = self.bindings.get(parts[0]) if parts else None
            if name == "Server" and not (bound and bound.module.startswith("@modelcontextprotocol/")):
                return
            info = _object_literals(unwrap(args[0])) if args else {}
            options = _object_literals(unwrap(args[1])) if len(args) > 1 else {}
            server = info.get("name", DYNAMIC)
            self.emit_tool(node, f"(server) {server}", options.get("instructions", ""))

    # --- environment ---------------------------------------------------------------------

    def on_env_name(self, name: str | None, at: Node) -> None:
        if name is None:
            self.emit("env.read", DYNAMIC, at)
            return
        self.emit("env.read.secret" if is_secret_env(name) else "env.read", name, at)
        self.env_names.setdefault(name.upper(), at)

    def on_process_env(self, env: Node) -> None:
        parent = env.parent
        if parent is None:
            return
        kind = parent.type
        if kind == "member_expression" and parent.child_by_field_name("object") == env:
            self.on_env_name(text(parent.child_by_field_name("property")), parent)
        elif kind == "subscript_expression" and parent.child_by_field_name("object") == env:
            self.on_env_name(literal(parent.child_by_field_name("index")), parent)
        elif kind == "variable_declarator" and parent.child_by_field_name("value") == env:
            pattern = parent.child_by_field_name("name")
            if pattern is None or pattern.type != "object_pattern":
                return  # const env = process.env: an alias, its reads are not followed
            for part in pattern.named_children:
                if part.type == "shorthand_property_identifier_pattern":
                    self.on_env_name(text(part), part)
                elif part.type == "pair_pattern":
                    self.on_env_name(text(part.child_by_field_name("key")).strip("'\""), part)
                elif part.type == "object_assignment_pattern":
                    self.on_env_name(text(part.child_by_field_name("left")), part)
                elif part.type == "rest_pattern":
                    self.emit("env.enumerate", "process.env", part)
        elif kind in _ENV_ESCAPES and not self.is_child_process_env(env):
            self.emit("env.enumerate", "process.env", env)

    def is_child_process_env(self, env: Node) -> bool:
        """``{ env: process.env }`` / ``{ env: {...process.env, X} }`` is how children inherit it."""
        cur: Node = env
        for _ in range(6):
            parent = cur.parent
            if parent is None:
                return False
            if parent.type == "pair":
                return text(parent.child_by_field_name("key")).strip("'\"") == "env"
            if parent.type in ("spread_element", "object", "arguments", "call_expression", "array"):
                if parent.type == "call_expression" and text(parent.child_by_field_name("function")) not in (
                    "Object.assign", "_extends", "__assign"
                ):
                    return False
                cur = parent
                continue
            return False
        return False

    # --- strings -------------------------------------------------------------------------

    def on_string(self, node: Node, *, template: bool) -> None:
        """A string (or, with ``template``, a template) literal: its text is scanned as written."""
        start = node.start_byte + 1
        raw = self.src[start : node.end_byte - 1]
        if template and has_substitution(node):
            masked = bytearray(raw)
            for child in node.named_children:
                if child.type == "template_substitution":
                    lo, hi = child.start_byte - start, child.end_byte - start
                    masked[lo:hi] = bytes(b if b == 0x0A else 0x20 for b in raw[lo:hi])
            raw = bytes(masked)
        if not raw:
            return
        escaped = b"\\" in raw
        if len(raw) >= LONG_STRING_CHARS:
            self.check_long_string(raw, start)
        if escaped:
            decoded = unescape(raw.decode("utf-8", "replace")).encode("utf-8", "replace")
            self.scan_string(decoded, None, node)
        else:
            self.scan_string(raw, start, node)
            if len(raw) >= textscan.HIDDEN_BASE64_MIN and b"://" not in raw:
                hidden = textscan.hidden_base64_text(raw.decode("ascii", "replace"))
                if hidden:  # "aHR0cHM6Ly9…": an address kept out of sight (same test as for Python)
                    self.emit("obfuscation.decoded", textscan.hidden_summary(("base64",), hidden), node)
                    self.scan_string(hidden.encode("utf-8"), None, node)

    def scan_string(self, content: bytes, start: int | None, node: Node) -> None:
        """URL, address, IP and marker checks; ``start`` maps hits to exact lines when known.

        Runs for every string literal (7,000 in lodash): the cheap byte tests come first and
        most strings pass none of them.
        """
        if b"://" in content:
            for m in URL_RE.finditer(content):
                url = m.group(0).decode("utf-8", "replace").rstrip(".,;:)]")
                self.emit_in_string("network.url", url, m.start(), start, node)
        if b"@" in content:
            for m in EMAIL_RE.finditer(content):
                value = m.group(0).decode("ascii", "replace").lower()
                self.emit_in_string("email.address", value, m.start(), start, node)
        if content.count(b".") >= 3:  # a dotted quad has three
            for m in IPV4_RE.finditer(content):
                ip = m.group(0).decode("ascii")
                if _is_public_ip(ip):
                    self.emit_in_string("network.ip", ip, m.start(), start, node)
        if (MARKER_PREFILTER.search(content.lower()) or may_be_address(content)) and not _is_module_specifier(
            node  # require('./service/leveldb') names code, not a file the code reads
        ):
            value = content.decode("utf-8", "replace")
            for marker in STRING_MARKERS:
                found = marker.pattern.search(value)
                if found:
                    offset = len(value[: found.start()].encode("utf-8"))
                    self.emit_in_string(marker.kind, value.strip(), offset, start, node)

    def emit_in_string(self, kind: str, value: str, offset: int, start: int | None, node: Node) -> None:
        """Record a hit ``offset`` bytes into a string's content; at the literal when ``start`` is None."""
        if start is None:
            self.emit(kind, value, node)
        else:
            self.emit(kind, value, start + offset, node)

    def check_long_string(self, raw: bytes, start: int) -> None:
        value = raw.decode("utf-8", "replace")
        preview = value[:40] + f"… ({len(value)} chars)"
        if BASE64_BLOB_RE.search(value) or HEX_BLOB_RE.search(value):
            self.emit_once_per_file("obfuscation.blob", preview, start)
        sample = value[:ENTROPY_SAMPLE_CHARS]
        spaces = sample.count(" ") / len(sample)
        if spaces < ENTROPY_MAX_SPACES and shannon_entropy(sample) > ENTROPY_BITS_PER_CHAR:
            self.emit_once_per_file("obfuscation.entropy", preview, start)

    # --- email ---------------------------------------------------------------------------

    def add_mail_field(self, obj: Node | None, key: Node, value: Node | None) -> None:
        if obj is None or obj.type != "object":
            return
        entry = self.mail_objects.get(obj.id)
        if entry is None:
            entry = mail.MailObject(obj)
            self.mail_objects[obj.id] = entry
        entry.fields.append((mail.field_name(key), key, value))

    def const_value(self, name: str) -> str | None:
        """The string a ``const NAME = '…'`` in this file holds, for recipients given by name."""
        if name not in self._consts:
            pattern = re.compile(rb"\b(?:const|let|var)\s+" + re.escape(name.encode()) +
                                 rb"\s*(?::\s*string\s*)?=\s*(['\"`])([^'\"`\n\\$]{0,300})\1")
            found = pattern.search(self.src)
            self._consts[name] = found.group(2).decode("utf-8", "replace") if found else None
        return self._consts[name]

    def finish_email(self) -> None:
        if not self.mail_objects:
            return
        objects = list(self.mail_objects.values())
        for entry in objects:
            mail.climb(entry.node, entry)
        for entry in mail.messages(objects, self.send_args, grammar.language(self.dialect), self.root):
            for value, node in mail.recipients(entry, self.const_value):
                self.emit("email.recipient", value, node)

    # --- MCP -----------------------------------------------------------------------------

    def emit_tool(self, at: Node, name: str, description: str) -> None:
        self.emit("mcp.tool", f"{name}: {description[:MCP_DESCRIPTION_CHARS]}".rstrip(": "), at)
        for marker in INJECTION_MARKERS:
            found = marker.pattern.search(description)
            if found:
                self.emit("mcp.prompt_injection", f"{name}: {found.group(0)}", at)
        hidden = INVISIBLE_UNICODE_RE.search(description)
        if hidden:
            self.emit("mcp.prompt_injection", f"{name}: invisible U+{ord(hidden.group(0)):04X}", at)

    def on_mcp_tool(self, call: Node, args: list[Node]) -> None:
        """``server.tool('name', 'desc', …)`` and ``server.registerTool('name', {description}, …)``."""
        if not args:
            return
        name = literal(args[0])
        if name is None:
            return
        description = ""
        if len(args) > 1:
            second = unwrap(args[1])
            if second is not None and second.type == "object":
                desc_node = _object_field(second, "description")
                description = static_text(desc_node) if desc_node is not None else ""
            elif second is not None and (second.type in ("string", "template_string")
                                         or second.type == "binary_expression"):
                description = literal(second) or static_text(second)
        self.emit_tool(call, name, description)

    def on_description(self, pair: Node, value: Node) -> None:
        """A ``{name, description, inputSchema}`` literal: a tool definition in a tools list."""
        obj = pair.parent
        if obj is None or obj.type != "object":
            return
        keys = {_key_text(p): p for p in obj.named_children if p.type == "pair"}
        name_node = keys.get("name")
        if name_node is None:
            return
        name = literal(name_node.child_by_field_name("value"))
        if name is None:
            return
        in_tools_list = False
        parent = obj.parent
        if parent is not None and parent.type == "array" and parent.parent is not None:
            in_tools_list = parent.parent.type == "pair" and _key_text(parent.parent) == "tools"
        if not (in_tools_list or keys.keys() & {"inputSchema", "input_schema", "parameters"}):
            return
        self.emit_tool(name_node, name, static_text(unwrap(value) or value))

    # --- whole-file checks ---------------------------------------------------------------

    def finish_recon_and_propagation(self) -> None:
        for label, node in self.os_details.items():
            if label in ("os.userInfo", "os.hostname", "os.networkInterfaces"):
                self.emit("recon.system", label, node)
        details = sorted(k for k in self.os_details if k not in ("os.userInfo", "os.hostname",
                                                                   "os.networkInterfaces"))
        if len(details) >= OS_DETAIL_THRESHOLD:
            first = min((self.os_details[k] for k in details), key=lambda n: n.start_byte)
            self.emit("recon.system", "+".join(details), first)
        tokens = sorted(set(self.env_names) & PROPAGATION_TOKENS)
        if tokens:
            endpoint = PROPAGATION_ENDPOINTS.search(self.src.decode("utf-8", "replace"))
            if endpoint:
                self.emit("propagation", f"{tokens[0]} + {endpoint.group(0)}", self.env_names[tokens[0]])

    def scan_bytes(self) -> None:
        """Checks that need no syntax tree: invisible characters, obfuscator names, minification."""
        # The invisible characters are all multi-byte: a plain-ASCII file has none.
        if not self.src.isascii():
            for m in INVISIBLE_UNICODE_BYTES_RE.finditer(self.src):
                if m.start() == 0 and m.group(0) == "\ufeff".encode():
                    continue
                chars = {c for c in INVISIBLE_UNICODE_RE.findall(self.src.decode("utf-8", "replace"))}
                value = ",".join(f"U+{ord(c):04X}" for c in sorted(chars) if c != "\ufeff" or len(chars) > 1)
                self.emit_once_per_file("obfuscation.unicode", value or "U+FEFF", m.start())
                break
        if b"_0x" in self.src:  # every obfuscator-style identifier contains it
            idents: dict[bytes, int] = {}
            for m in OBFUSCATED_IDENT_RE.finditer(self.src):
                idents.setdefault(m.group(0), m.start())
                if len(idents) >= OBFUSCATED_IDENT_THRESHOLD:
                    first = min(idents.values())
                    self.emit_once_per_file("obfuscation.identifiers", "_0x identifiers", first)
                    break
        if len(self.src) <= MINIFIED_LONG_LINE:
            # No line can be long, so only the average decides (and splitting is not needed).
            if len(self.src) / (self.src.count(b"\n") + 1) > MINIFIED_AVG_LINE:
                self.emit_once_per_file("obfuscation.minified", "minified", 0)
            return
        lines = self.src.split(b"\n")
        longest = max(lines, key=len)
        average = len(self.src) / len(lines)
        whitespace = (longest.count(b" ") + longest.count(b"\t")) / max(len(longest), 1)
        if average > MINIFIED_AVG_LINE or (len(longest) > MINIFIED_LONG_LINE
                                           and whitespace < MINIFIED_MAX_WHITESPACE):
            offset = self.src.find(longest) if len(longest) > MINIFIED_LONG_LINE else 0
            self.emit_once_per_file("obfuscation.minified", "minified", offset)

    def check_parse_errors(self, errors: list[Node], missing: list[Node]) -> None:
        if not errors and not missing:
            return
        outermost = [e for e in errors if not _inside_error(e)]
        error_bytes = sum(e.end_byte - e.start_byte for e in outermost)
        regions = len(outermost) + len(missing)
        share = error_bytes / max(len(self.src), 1)
        if regions > ERROR_REGION_LIMIT or share > ERROR_BYTES_SHARE:
            first = min(outermost + missing, key=lambda n: n.start_byte)
            self.problems.append(
                f"syntax errors: {regions} unparsed region(s) covering {share:.0%} of the file "
                f"(first at line {line_of(first)}); results may be incomplete"
            )


# Where ``process.env`` as a whole value leaves the expression it was read in.
_ENV_ESCAPES = frozenset({"arguments", "spread_element", "for_in_statement", "return_statement", "pair",
                          "array", "assignment_expression"})

# Capture names that identify which pattern matched, in the order the query lists them.
# _PATTERN_KINDS caches, per dialect, which of them each pattern index has.
_PATTERN_KINDS: dict[str, dict[int, str]] = {}
_PRIMARY = ("call.fn", "call.member", "call.import", "new", "env", "ethereum", "import.require", "import",
            "mailpair", "mailshort", "descpair", "string", "template", "error", "missing")


def _is_module_specifier(node: Node) -> bool:
    parent = node.parent
    if parent is None:
        return False
    if parent.type in ("import_statement", "export_statement", "import_require_clause"):
        return True
    if parent.type == "arguments" and parent.parent is not None:
        fn = parent.parent.child_by_field_name("function")
        return fn is not None and (fn.type == "import" or text(fn) == "require")
    return False


def _inside_error(node: Node) -> bool:
    parent = node.parent
    for _ in range(64):
        if parent is None:
            return False
        if parent.type == "ERROR":
            return True
        parent = parent.parent
    return False


def _key_text(pair: Node) -> str:
    return text(pair.child_by_field_name("key")).strip("'\"")


def _object_field(obj: Node, key: str) -> Node | None:
    for child in obj.named_children:
        if child.type == "pair" and _key_text(child) == key:
            return child.child_by_field_name("value")
    return None


def _object_literals(obj: Node | None) -> dict[str, str]:
    """The literal-valued fields of an object literal (others are skipped)."""
    if obj is None or obj.type != "object":
        return {}
    out: dict[str, str] = {}
    for child in obj.named_children:
        if child.type == "pair":
            value = literal(child.child_by_field_name("value"))
            if value is None:
                number = child.child_by_field_name("value")
                value = text(number) if number is not None and number.type == "number" else None
            if value is not None:
                out[_key_text(child)] = value
    return out


def _host_of(target: str) -> str | None:
    """``https://api.example.com:8443/x`` → ``api.example.com:8443``; a bare host stays as is."""
    if "://" in target:
        try:
            parts = urlsplit(target)
            return parts.netloc.rsplit("@", 1)[-1] or None
        except ValueError:
            return None
    if re.fullmatch(r"[A-Za-z0-9.-]+(?::\d+)?", target) and "." in target:
        return target
    return None


def _is_public_ip(ip: str) -> bool:
    """Literal IPs worth reporting: not loopback, private, reserved, or documentation ranges."""
    try:
        addr = ipaddress.IPv4Address(ip)
    except ValueError:
        return False
    if str(addr) == "169.254.169.254":  # cloud metadata: credential theft on CI runners
        return True
    return not (addr.is_private or addr.is_loopback or addr.is_reserved or addr.is_multicast
                or addr.is_unspecified or addr.is_link_local)
