"""Data flow inside one Python function: does input from the network reach a shell or exec?

A web handler that runs ``request.args["cmd"]`` through ``subprocess.Popen(…, shell=True)``,
or a loop that feeds ``sock.recv(1024)`` to ``os.system``, is a remote shell: whoever can reach
the port runs commands on the machine. Malicious packages ship exactly that (bs4tools starts a
Flask app on import whose one route executes the ``parser`` query parameter).

The analysis is deliberately small: one function (or the module's top level) at a time, names
tracked through plain assignments, no calls followed. A name is *tainted* when its value comes
from network input. Two strengths are told apart, because they mean different things:

* **whole**: the value *is* the input, at most unwrapped (``.decode()``, ``.strip()``,
  ``["key"]``, ``.get("key")``, ``str()``, ``shlex.split()``…). Running it as a command gives
  the sender the whole command line: a remote shell.
* **partial**: the input is *part* of the value (``"ping " + host``). As a process command that
  is an injection bug, not a shell, and is not reported; inside ``exec``/``eval`` any part of
  the code coming from the network is remote code execution, and is reported.

Sources: request objects of Flask/Django/Bottle/FastAPI/aiohttp/Starlette handlers
(``request.args/form/values/json/data/GET/POST/body…``, ``request.get_json()``),
``http.server`` handlers (``self.path``, ``self.rfile``, ``self.headers``), WSGI ``environ``
query fields, socket reads (``recv``, ``recvfrom``), and the body of an HTTP response the code
fetched itself (``requests.get(url).text``, ``urlopen(url).read()``): code downloaded and run
is remote code just the same, chosen by whoever controls the server.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

REQUEST_NAMES = frozenset({"request", "req", "flask.request", "bottle.request", "quart.request"})
"""Roots of a web request object (a Flask/Bottle global or a handler parameter)."""

REQUEST_FIELDS = frozenset(
    {"args", "form", "values", "json", "data", "files", "cookies", "headers", "GET", "POST", "body"}
    | {"query_params", "path_params", "query", "match_info", "query_string", "content", "stream", "params"}
)
"""Attributes of a request object that carry what the client sent."""

REQUEST_METHODS = frozenset({"get_json", "get_data", "json", "text", "post", "body", "read", "form"})
"""Methods of a request object that return what the client sent (``await request.json()``)."""

SOCKET_READS = frozenset({"recv", "recvfrom", "recv_string", "recv_json", "recv_multipart"})
"""Reads from a connected socket (plain sockets, socketserver handlers, ZeroMQ)."""

HANDLER_FIELDS = frozenset({"path", "rfile", "headers", "requestline"})
"""``http.server`` request handler attributes that hold the client's request."""

WSGI_KEYS = frozenset({"QUERY_STRING", "PATH_INFO", "REQUEST_URI", "wsgi.input", "RAW_URI"})

RESPONSE_FIELDS = frozenset({"text", "content", "body", "data"})
"""Attributes of an HTTP response that hold what the server sent."""

UNWRAP_METHODS = frozenset(
    {"decode", "encode", "strip", "rstrip", "lstrip", "lower", "upper", "get", "pop", "getlist", "getvalue"}
    | {"split", "read", "readline", "readlines", "getfirst", "first", "result", "copy"}
)
"""Methods that keep a value what it was (a command stays the command)."""

UNWRAP_FUNCTIONS = frozenset(
    {"str", "bytes", "shlex.split", "json.loads", "urllib.parse.unquote", "urllib.parse.unquote_plus"}
    | {"base64.b64decode", "base64.urlsafe_b64decode", "bytes.decode", "str.strip", "list", "tuple"}
)
"""Functions that keep a value what it was (decoding or splitting a command is still the command)."""

SHELL_FLAGS = frozenset({"-c", "/c", "/C", "-Command", "-command", "-e", "-EncodedCommand", "/k"})
"""An interpreter flag that makes the next argument a whole script (``sh -c <x>``)."""

INTERPRETERS = frozenset(
    {
        "sh",
        "bash",
        "zsh",
        "dash",
        "ksh",
        "cmd",
        "powershell",
        "pwsh",
        "python",
        "python3",
        "node",
        "perl",
        "ruby",
    }
)
"""Programs for which a flag in SHELL_FLAGS makes the next argument code (``ping -c`` is a count)."""


@dataclass(frozen=True)
class RemoteFlow:
    """Network input reaching a sink: where, which input, which sink."""

    node: ast.AST
    source: str
    sink: str


class _Taint:
    """Which names hold network input in one function, and how wholly."""

    def __init__(
        self, resolve: Callable[[ast.AST], str | None], handler_class: bool, fetch_calls: frozenset[str]
    ) -> None:
        self.resolve = resolve
        self.handler_class = handler_class
        self.fetch_calls = fetch_calls
        self.whole: dict[str, str] = {}  # name -> source label
        self.partial: dict[str, str] = {}

    def source(self, node: ast.AST) -> str | None:
        """A label when ``node`` itself reads network input (``request.args``, ``sock.recv()``)."""
        if isinstance(node, ast.Await):
            return self.source(node.value)
        if isinstance(node, ast.Call) and self.fetch_calls:
            fetched = self.resolve(node.func) or ""
            if fetched in self.fetch_calls:
                return f"{fetched} response"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method = node.func.attr
            if method in SOCKET_READS:
                return f"socket {method}()"
            if method in REQUEST_METHODS and self.is_request(node.func.value):
                return f"request.{method}()"
            if method == "get" and node.args and self.is_environ(node.func.value):
                key = node.args[0]
                if isinstance(key, ast.Constant) and key.value in WSGI_KEYS:
                    return f"environ[{key.value!r}]"
        if isinstance(node, ast.Attribute):
            if node.attr in REQUEST_FIELDS and self.is_request(node.value):
                return f"request.{node.attr}"
            if (
                self.handler_class
                and node.attr in HANDLER_FIELDS
                and isinstance(node.value, ast.Name)
                and node.value.id == "self"
            ):
                return f"self.{node.attr}"
        if isinstance(node, ast.Subscript) and self.is_environ(node.value):
            key = node.slice
            if (
                isinstance(key, ast.Constant)
                and isinstance(key.value, str)
                and (key.value in WSGI_KEYS or key.value.startswith("HTTP_"))
            ):
                return f"environ[{key.value!r}]"
        return None

    def is_request(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return node.id in REQUEST_NAMES or (self.resolve(node) or "") in REQUEST_NAMES
        if isinstance(node, ast.Attribute) and node.attr == "request":
            return isinstance(node.value, ast.Name) and node.value.id == "self"  # Django class views
        return False

    @staticmethod
    def is_environ(node: ast.AST) -> bool:
        return isinstance(node, ast.Name) and node.id in ("environ", "env")

    def whole_source(self, node: ast.AST) -> str | None:
        """The input label when ``node`` is network input itself, at most unwrapped."""
        for _ in range(20):
            found = self.source(node)
            if found:
                return found
            if isinstance(node, ast.Name):
                return self.whole.get(node.id)
            inner = self.unwrap(node)
            if inner is None:
                return None
            node = inner
        return None

    def unwrap(self, node: ast.AST) -> ast.AST | None:
        """The operand of a value-preserving wrapper (``x.decode()``, ``x["k"]``, ``str(x)``…)."""
        if isinstance(node, ast.Await | ast.Starred):
            return node.value
        if isinstance(node, ast.Subscript):
            return node.value
        if isinstance(node, ast.Attribute) and node.attr in RESPONSE_FIELDS:
            return node.value  # requests.get(url).text
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in UNWRAP_METHODS:
                return func.value
            name = self.resolve(func) or ""
            if name in UNWRAP_FUNCTIONS and node.args:
                return node.args[0]
        if isinstance(node, ast.JoinedStr):
            formatted = [v for v in node.values if isinstance(v, ast.FormattedValue)]
            literal = "".join(
                v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
            )
            if len(formatted) == 1 and not literal.strip():
                return formatted[0].value
        return None

    def any_source(self, node: ast.AST) -> str | None:
        """The input label when any part of ``node`` is network input or a tainted name."""
        for sub in ast.walk(node):
            found = self.source(sub)
            if found:
                return found
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
                label = self.whole.get(sub.id) or self.partial.get(sub.id)
                if label:
                    return label
        return None

    def assign(self, targets: Iterable[ast.AST], value: ast.AST) -> bool:
        """Propagate taint through ``targets = value``; True when anything changed."""
        whole = self.whole_source(value)
        partial = None if whole else self.any_source(value)
        changed = False
        for target in targets:
            for name in _target_names(target):
                if whole and self.whole.get(name) != whole:
                    self.whole[name] = whole
                    changed = True
                elif partial and name not in self.whole and self.partial.get(name) != partial:
                    self.partial[name] = partial
                    changed = True
        return changed


def _target_names(target: ast.AST) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            yield from _target_names(element)
    elif isinstance(target, ast.Starred):
        yield from _target_names(target.value)


def _own_nodes(body: Iterable[ast.stmt]) -> Iterator[ast.AST]:
    """Every node of a function body, without descending into nested functions or classes."""
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def remote_input_flows(
    body: list[ast.stmt],
    resolve: Callable[[ast.AST], str | None],
    process_sinks: frozenset[str],
    code_sinks: frozenset[str],
    *,
    handler_class: bool = False,
    fetch_calls: frozenset[str] = frozenset(),
) -> list[RemoteFlow]:
    """Sinks in ``body`` (one function or the module top level) that receive network input.

    ``resolve`` gives a call's qualified name through the file's imports; ``process_sinks`` and
    ``code_sinks`` are the qualified names of process-starting and code-evaluating calls.
    ``handler_class`` says the function is a method of an ``http.server``-style handler class,
    where ``self.path`` is the client's request line. ``fetch_calls`` are the qualified names
    of calls that download (``requests.get``, ``urllib.request.urlopen``): their response is input.
    """
    nodes = list(_own_nodes(body))
    if not any(isinstance(n, ast.Call) for n in nodes):
        return []
    taint = _Taint(resolve, handler_class, fetch_calls)
    assignments: list[tuple[list[ast.AST], ast.AST]] = []
    for node in nodes:
        if isinstance(node, ast.Assign):
            assignments.append((list(node.targets), node.value))
        elif isinstance(node, ast.AnnAssign | ast.AugAssign) and node.value is not None:
            assignments.append(([node.target], node.value))
        elif isinstance(node, ast.For | ast.AsyncFor):
            assignments.append(([node.target], node.iter))
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            assignments.append(([node.optional_vars], node.context_expr))
        elif isinstance(node, ast.NamedExpr):
            assignments.append(([node.target], node.value))
    for _ in range(4):  # loops can feed a name back to an earlier line
        changed = False
        for targets, value in assignments:
            changed |= taint.assign(targets, value)
        if not changed:
            break
    if not taint.whole and not taint.partial and not any(taint.source(n) for n in nodes):
        return []
    flows: list[RemoteFlow] = []
    for node in nodes:
        if not isinstance(node, ast.Call):
            continue
        name = resolve(node.func) or ""
        if name in process_sinks:
            command = node.args[0] if node.args else None
            for keyword in node.keywords:
                if keyword.arg in ("args", "cmd", "command"):
                    command = keyword.value
            label = _command_source(taint, command) if command is not None else None
            if label:
                flows.append(RemoteFlow(node, label, name))
        elif name in code_sinks and node.args:
            label = taint.any_source(node.args[0])
            if label:
                flows.append(RemoteFlow(node, label, name))
    return flows


def _command_source(taint: _Taint, command: ast.AST) -> str | None:
    """The input label when the network decides the whole command, not just an argument of it."""
    whole = taint.whole_source(command)
    if whole:
        return whole
    if isinstance(command, ast.List | ast.Tuple) and command.elts:
        first = taint.whole_source(command.elts[0])
        if first:
            return first  # [cmd, *args]: the program itself comes from the network
        program = command.elts[0]
        if isinstance(program, ast.Constant) and isinstance(program.value, str):
            stem = program.value.replace("\\", "/").rsplit("/", 1)[-1].lower().removesuffix(".exe")
            if stem in INTERPRETERS:
                for flag, value in zip(command.elts, command.elts[1:], strict=False):
                    if isinstance(flag, ast.Constant) and flag.value in SHELL_FLAGS:
                        label = taint.whole_source(value)
                        if label:
                            return label  # ["sh", "-c", data]
    return None
