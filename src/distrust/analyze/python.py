"""What a Python file can do, read with the stdlib ``ast`` module (never imported, never run).

One :class:`ast.NodeVisitor` pass records capabilities in the shared vocabulary of
:mod:`distrust.analyze.kinds`. Call sites are recognised by their *qualified* name, resolved
through the file's imports (``from subprocess import Popen as P`` makes ``P(...)`` a
``subprocess.Popen`` call), and looked up in the data tables below; the visitor holds the few
rules that need structure (a recipient inside an email call, a decoder inside ``exec``).

Old malicious packages are often Python 2 (``print "x"``) or deliberately broken. When ``ast``
refuses a file we fall back to a line-by-line token scan, weaker but never silent: the result
carries the problem ``syntax error at line N; analysed by tokens``.
"""

from __future__ import annotations

import ast
import base64
import binascii
import bz2
import codecs
import itertools
import lzma
import re
import warnings
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from distrust.analyze import pyflow, pyfold, textscan
from distrust.analyze.kinds import DYNAMIC
from distrust.analyze.lazyregex import LazyRegex
from distrust.analyze.pyfold import Folded, Frame
from distrust.analyze.textscan import decode_source
from distrust.model import Capability


@dataclass(frozen=True)
class PyResult:
    """Capabilities of one Python file, plus what limited the analysis (empty when complete)."""

    capabilities: tuple[Capability, ...]
    problems: tuple[str, ...]


# --- call tables (qualified name -> capability) ---------------------------------------------

_HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request", "stream", "urlopen")

NETWORK_CALLS: frozenset[str] = frozenset(
    [f"{module}.{verb}" for module in ("requests", "httpx", "urllib3") for verb in _HTTP_VERBS]
    + [
        "requests.Session",
        "httpx.Client",
        "httpx.AsyncClient",
        "aiohttp.ClientSession",
        "aiohttp.request",
        "urllib3.PoolManager",
        "urllib.request.urlopen",
        "urllib.request.urlretrieve",
        "urllib.request.Request",
        "urllib.request.build_opener",
        "urllib.urlopen",
        "urllib.urlretrieve",
        "urllib2.urlopen",
        "urllib2.Request",
        "http.client.HTTPConnection",
        "http.client.HTTPSConnection",
        "httplib.HTTPConnection",
        "httplib.HTTPSConnection",
        "socket.socket",
        "socket.create_connection",
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "ftplib.FTP",
        "telnetlib.Telnet",
        "smtplib.SMTP",
        "smtplib.SMTP_SSL",
        "paramiko.SSHClient",
        "websocket.create_connection",
        "websockets.connect",
        "dns.resolver.resolve",
        "dns.resolver.query",
        "pycurl.Curl",
        "webbrowser.open",
        "webbrowser.open_new",
        "webbrowser.open_new_tab",
    ]
)
"""Calls that open a network connection or build a request (value: API and target)."""

NETWORK_PREFIXES: tuple[str, ...] = ("requests.", "httpx.", "aiohttp.", "urllib3.")
"""Objects made by these modules (``requests.Session().post``) are network clients too."""

LISTEN_CALLS: frozenset[str] = frozenset(
    {
        "http.server.HTTPServer",
        "http.server.ThreadingHTTPServer",
        "socketserver.TCPServer",
        "socketserver.ThreadingTCPServer",
        "socketserver.UDPServer",
        "BaseHTTPServer.HTTPServer",
        "SocketServer.TCPServer",
        "asyncio.start_server",
    }
)

PROCESS_CALLS: frozenset[str] = frozenset(
    [
        f"subprocess.{name}"
        for name in ("run", "call", "check_call", "check_output", "Popen", "getoutput", "getstatusoutput")
    ]
    + [
        f"os.{name}"
        for name in (
            "system",
            "popen",
            "popen2",
            "popen3",
            "startfile",
            "posix_spawn",
            "posix_spawnp",
            "execl",
            "execle",
            "execlp",
            "execlpe",
            "execv",
            "execve",
            "execvp",
            "execvpe",
            "spawnl",
            "spawnle",
            "spawnlp",
            "spawnlpe",
            "spawnv",
            "spawnve",
            "spawnvp",
            "spawnvpe",
        )
    ]
    + [
        "pty.spawn",
        "commands.getoutput",
        "commands.getstatusoutput",
        "asyncio.create_subprocess_exec",
        "asyncio.create_subprocess_shell",
        "win32api.ShellExecute",
        "win32process.CreateProcess",
    ]
)

DYNAMIC_CODE_CALLS: frozenset[str] = frozenset(
    {
        "exec",
        "eval",
        "compile",
        "execfile",
        "marshal.loads",
        "marshal.load",
        "pickle.loads",
        "pickle.load",
        "cPickle.loads",
        "cPickle.load",
        "dill.loads",
        "dill.load",
        "runpy.run_path",
        "runpy.run_module",
        "types.FunctionType",
        "types.CodeType",
    }
)
"""Calls that turn data into running code (``__import__`` of a non-literal is handled apart)."""

EXEC_SINKS: frozenset[str] = frozenset(
    {"exec", "eval", "compile", "execfile", "marshal.loads", "types.FunctionType"}
)
"""Where a decoded blob becomes code: the right-hand side of a decode→exec chain."""

REMOTE_CODE_SINKS: frozenset[str] = frozenset({"exec", "eval", "compile", "execfile"})
"""Where text received from the network would run as Python code."""

FETCH_CALLS: frozenset[str] = frozenset(
    [f"{module}.{verb}" for module in ("requests", "httpx") for verb in ("get", "post", "request")]
    + ["urllib.request.urlopen", "urllib.urlopen", "urllib2.urlopen", "urllib3.request"]
)
"""Calls whose result is what a server sent: downloaded and then run, it is remote code."""

DECODERS: dict[str, str] = {
    **pyfold.DECODER_FUNCTIONS,
    "codecs.decode": "codecs",  # which transform depends on the codec argument (checked at the call)
    "marshal.loads": "marshal",  # not a text decoder, but its output is code object data
}
"""Functions that turn an opaque literal into bytes or text (value: the encoding)."""

PY2_CODECS = frozenset({"hex", "base64", "rot13", "rot_13", "zlib", "bz2", "uu"})
"""``str.decode(codec)`` codecs of Python 2 (and ``codecs.decode``) that unpack hidden payloads."""

RECON_CALLS: frozenset[str] = frozenset(
    [
        f"platform.{name}"
        for name in (
            "node",
            "uname",
            "system",
            "platform",
            "release",
            "version",
            "machine",
            "processor",
            "architecture",
            "mac_ver",
            "win32_ver",
            "freedesktop_os_release",
        )
    ]
    + [
        "getpass.getuser",
        "os.getlogin",
        "os.uname",
        "socket.gethostname",
        "socket.getfqdn",
        "uuid.getnode",
        "psutil.process_iter",
        "psutil.pids",
        "psutil.net_if_addrs",
        "psutil.users",
        "netifaces.interfaces",
        "netifaces.ifaddresses",
        "win32api.GetUserName",
        "win32api.GetComputerName",
    ]
)

FILE_READ_CALLS: frozenset[str] = frozenset(
    {"os.listdir", "os.scandir", "os.walk", "glob.glob", "glob.iglob", "shutil.make_archive"}
)
"""Directory enumeration and archiving: how stealers find what to take (value: the path)."""

FILE_DELETE_CALLS: frozenset[str] = frozenset(
    {"os.remove", "os.unlink", "os.rmdir", "os.removedirs", "shutil.rmtree"}
)

FILE_WRITE_CALLS: dict[str, int] = {
    "shutil.copy": 1,
    "shutil.copy2": 1,
    "shutil.copyfile": 1,
    "shutil.copytree": 1,
    "shutil.move": 1,
    "os.rename": 1,
    "os.replace": 1,
    "os.symlink": 1,
    "os.chmod": 0,
    "urllib.request.urlretrieve": 1,
}
"""Write-like calls, with the index of the argument that names the destination."""

OPEN_CALLS: frozenset[str] = frozenset({"open", "io.open", "codecs.open", "builtins.open", "os.fdopen"})

PATHLIB_METHODS: dict[str, str] = {
    "read_text": "file.read",
    "read_bytes": "file.read",
    "write_text": "file.write",
    "write_bytes": "file.write",
    "unlink": "file.delete",
    "rmdir": "file.delete",
}

ENV_READ_CALLS: frozenset[str] = frozenset(
    {
        "os.getenv",
        "os.environ.get",
        "os.environ.setdefault",
        "os.environ.pop",
        "os.getenvb",
        "os.environb.get",
    }
)
ENVIRON_OBJECTS: frozenset[str] = frozenset({"os.environ", "os.environb"})
ENV_SERIALISERS: frozenset[str] = frozenset(
    {
        "dict",
        "str",
        "repr",
        "list",
        "tuple",
        "set",
        "sorted",
        "print",
        "vars",
        "json.dumps",
        "json.dump",
        "pickle.dumps",
        "base64.b64encode",
    }
)
ENV_ENUMERATE_METHODS: frozenset[str] = frozenset({"copy", "items", "keys", "values", "__repr__", "__str__"})

SECRET_NAME_RE = re.compile(r"TOKEN|SECRET|PASSW|PASSWD|PWD|KEY|CREDENTIAL|AUTH|PRIVATE|SESSION|COOKIE", re.I)
"""Environment names that usually hold a secret (API_KEY, GITHUB_TOKEN, DB_PASSWORD…)."""

# Email: (field name as written, lower-cased, '_'/'-' removed) -> vocabulary field.
RECIPIENT_FIELDS: dict[str, str] = {
    "to": "to",
    "cc": "cc",
    "bcc": "bcc",
    "replyto": "replyto",
    "toemails": "to",
    "toaddrs": "to",
    "toaddresses": "to",
    "ccaddresses": "cc",
    "bccaddresses": "bcc",
    "replytoaddresses": "replyto",
    "recipients": "to",
    "recipientlist": "to",
    "destinations": "to",
}
MAIL_CONTEXT_FIELDS = frozenset(
    {
        "from",
        "fromemail",
        "sender",
        "subject",
        "htmlbody",
        "textbody",
        "html",
        "text",
        "body",
        "message",
        "templateid",
        "templatealias",
        "source",
        "destination",
        "content",
    }
)
"""Fields that, beside a recipient field, show a dict or call is an email (not a route ``to=``)."""

EMAIL_SEND_CALLS: dict[str, str] = {
    "postmarker.core.PostmarkClient": "postmarker",
    "postmark.PMMail": "postmark PMMail",
    "sendgrid.SendGridAPIClient": "sendgrid",
    "sendgrid.helpers.mail.Mail": "sendgrid Mail",
    "sendgrid.Mail": "sendgrid Mail",
    "yagmail.SMTP": "yagmail",
    "django.core.mail.send_mail": "django send_mail",
    "django.core.mail.send_mass_mail": "django send_mass_mail",
    "django.core.mail.EmailMessage": "django EmailMessage",
    "django.core.mail.EmailMultiAlternatives": "django EmailMessage",
    "flask_mail.Message": "flask_mail Message",
    "resend.Emails.send": "resend emails.send",
    "mailjet_rest.Client": "mailjet",
}
EMAIL_SEND_METHODS: dict[str, str] = {
    "sendmail": "smtplib.sendmail",
    "send_message": "smtplib.send_message",
    "send_email": "ses send_email",
    "send_raw_email": "ses send_raw_email",
    "send_templated_email": "ses send_templated_email",
    "send_bulk_templated_email": "ses send_bulk_templated_email",
    "send_email_with_template": "postmarker send_with_template",
}
"""Method names distinctive enough to mean "send mail" on any receiver."""
EMAILS_OBJECT_METHODS = frozenset(
    {"send", "send_batch", "send_with_template", "send_template_batch", "Email"}
)
"""Methods of an ``emails``/``Emails`` object (postmarker ``client.emails.send``, resend ``Emails.send``)."""
SENDGRID_RECIPIENT_CLASSES: dict[str, str] = {"To": "to", "Cc": "cc", "Bcc": "bcc", "ReplyTo": "replyto"}
SENDGRID_ADDERS: dict[str, str] = {"add_to": "to", "add_cc": "cc", "add_bcc": "bcc", "reply_to": "replyto"}

MCP_TOOL_DECORATORS = frozenset({"tool"})
MCP_DESCRIBED_DECORATORS = frozenset({"tool", "prompt", "resource"})
MCP_TOOL_CLASSES = frozenset({"Tool", "types.Tool", "mcp.types.Tool", "FunctionTool"})

NAMESPACE_LOOKUPS = frozenset({"globals()", "vars()", "locals()", "__builtins__", "__builtins__.__dict__"})
"""Looking a builtin up by (computed) name, e.g. ``globals()["__builtins__"]``, hides what is called."""

CHARCODE_MIN = 16
"""Length from which an all-printable integer list is treated as hidden text."""

ALIASABLE: frozenset[str] = frozenset(
    NETWORK_CALLS
    | PROCESS_CALLS
    | DYNAMIC_CODE_CALLS
    | DECODERS.keys()
    | RECON_CALLS
    | FILE_DELETE_CALLS
    | OPEN_CALLS
    | ENV_READ_CALLS
    | ENVIRON_OBJECTS
    | {"__import__", "importlib.import_module", "getattr"}
)
"""Names whose plain re-assignment (``run = exec``) we follow, so aliasing cannot hide a call."""

OBFUSCATED_NAME_RE = re.compile(r"^_0x[0-9a-fA-F]{3,}$|^_*[Il]{6,}_*\d*$|^_*O[O0]{5,}_*$")
OBFUSCATED_NAME_MIN = 8
"""Distinct obfuscator-style identifiers in one file before we call the file obfuscated."""

VALUE_MAX = 200
MCP_VALUE_MAX = 120

HOST_CALLS = frozenset(
    {
        "smtplib.SMTP",
        "smtplib.SMTP_SSL",
        "ftplib.FTP",
        "socket.create_connection",
        "http.client.HTTPConnection",
        "http.client.HTTPSConnection",
        "httplib.HTTPConnection",
        "httplib.HTTPSConnection",
    }
)
"""Calls whose first argument is a bare host name (no scheme)."""
_HOST_RE = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?::\d+)?")

SECRET_FIELD_RE = re.compile(
    r"secret|passw|passwd|pwd|token|api_?key|apikey|private_?key|access_?key|credential|cookie|session_?id"
    r"|auth_?key|mnemonic|seed_?phrase",
    re.IGNORECASE,
)
"""Payload field or variable names that carry a credential."""
OAUTH_FIELDS = frozenset(
    {
        "grant_type",
        "client_id",
        "redirect_uri",
        "refresh_token",
        "code_verifier",
        "assertion",
        "response_type",
    }
)
"""Fields of an OAuth token request: a client secret sent there is the protocol, not a theft."""

HIDDEN_SHORT_NAMES = frozenset({"os", "sys", "pty", "nt", "chr", "get", "run", "GET", "PUT"})
"""Names shorter than four characters still worth recording when a file hides them."""
HIDDEN_TEXT_MIN = 4
HIDDEN_ITEMS_MAX = 20
"""At most this many decoded strings of one list (``[b64decode(k) for k in KEYS]``) are recorded."""

# Text that must appear somewhere in a file before any expression of it can undo a hiding transform
# (see pyfold.HIDING_TRANSFORMS). Files without any skip the per-call decoding check: most of them.
# Plain substrings, not a regex: this runs over every file and ``in`` is a fast C search.
_HIDING_HINTS = (
    "b64decode", "b32decode", "b16decode", "b85decode", "a85decode", "decodebytes", "decodestring", "a2b_",
    "unhexlify", "fromhex", "decompress", "chr", "bytes(", "bytearray", "reversed", "::-", "rot13",
    "rot_13", "codecs", ".decode('", '.decode("',
)  # fmt: skip
_HIDING_HINT_RE = re.compile("|".join(re.escape(hint) for hint in _HIDING_HINTS))
# A remote shell needs network input and a process or code sink in the same file.
_FLOW_SOURCE_HINTS = (
    "request",
    "urlopen",
    "httpx",
    "req.",
    "req[",
    ".recv",
    "environ",
    "self.path",
    "self.rfile",
    "self.headers",
)
_SINK_MODULES = frozenset({"subprocess", "os", "pty", "commands", "asyncio"})
_FETCH_MODULES = frozenset({"requests", "httpx", "urllib.request", "urllib", "urllib2", "urllib3"})
_FLOW_SINK_RE = re.compile(
    r"(?<![\w.])(?:exec|eval|compile|execfile)\s*\(|subprocess|os\.(?:system|popen|exec|spawn|startfile|posix_spawn)"
    r"|pty\.spawn|commands\.get|create_subprocess"
)
"""The precise version of _FLOW_SINK_HINTS, for one function's text (``re.compile(`` is not a sink)."""
_FLOW_SINK_HINTS = ("subprocess", "os.", "pty", "exec", "eval", "compile", "popen", "commands")

_FOLDABLE = (ast.Call, ast.Subscript, ast.Name, ast.BinOp, ast.JoinedStr, ast.Attribute)
NAMESPACE_OWNERS = frozenset({"globals()", "vars()", "locals()", "__builtins__", "builtins", "__builtin__"})
"""Objects whose ``[name]``/``.get(name)`` looks a builtin or global up by (possibly hidden) name."""


# --- helpers ---------------------------------------------------------------------------------

_DocOwner = ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef


def _lower_field(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def _call_name(node: ast.Call) -> str:
    return node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")


def _mapping_items(node: ast.AST | None) -> list[tuple[str | None, ast.AST]]:
    """(literal key or None, value) pairs of a dict display or ``dict(k=v)`` call."""
    if isinstance(node, ast.Dict):
        return [
            (k.value if isinstance(k, ast.Constant) and isinstance(k.value, str) else None, v)
            for k, v in zip(node.keys, node.values, strict=True)
        ]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        return [(kw.arg, kw.value) for kw in node.keywords]
    return []


def _value_names(node: ast.AST) -> list[str]:
    """Names that fill a payload field: ``self._secret_key`` → ``self._secret_key``, ``token`` → ``token``."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        owner = node.value.id if isinstance(node.value, ast.Name) else ""
        return [f"{owner}.{node.attr}" if owner else node.attr]
    if isinstance(node, ast.Call) and node.args:
        return _value_names(node.args[0])  # str(token), base64.b64encode(password)
    return []


def _folded_text(value: pyfold.Value) -> str | None:
    """A folded str/bytes as text (bytes as UTF-8 when valid, else Latin-1); None for other values."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return pyfold.as_text(value) or value.decode("latin-1")
    return None


class _Visitor(ast.NodeVisitor):
    """Walks one module once, appending capabilities; see the module docstring for the approach."""

    def __init__(self, path: str, text: str, depth: int = 0) -> None:
        self.path = path
        self.depth = depth
        self.lines = text.splitlines()
        self.may_hide = bool(_HIDING_HINT_RE.search(text))
        self.may_flow = any(h in text for h in _FLOW_SOURCE_HINTS) and any(
            h in text for h in _FLOW_SINK_HINTS
        )
        self.docstrings: set[int] = set()
        self.aliases: dict[str, str] = {}
        self.decoded_names: dict[str, str] = {}
        # Strings last assigned to simple names (``url = "https://…"``), in visiting order: enough
        # flow to see ``os.startfile(local_filename)`` as the path built two lines above.
        self.known_strings: dict[str, str] = {}
        self.obfuscated: dict[str, int] = {}
        self.inner_divisions: set[int] = set()
        self.caps: list[Capability] = []
        self.snippets: dict[int, str] = {}  # line -> redacted excerpt, computed once per line
        # Constant folding over the whole module (see pyfold), in the scopes being visited.
        self.folder = pyfold.Folder(self.plain_name, walrus=":=" in text)
        self.local_callables_found: frozenset[str] | None = None  # see local_callables
        self.frames: list[Frame] = []
        self.tree_body: list[ast.stmt] = []
        self.text = text
        self.line_offsets: list[int] | None = None  # start of each line in text, for may_flow_in
        self.flow_aliases: tuple[tuple[str, ...], tuple[str, ...]] | None = None  # see may_flow_in

    # -- recording --------------------------------------------------------------------------

    def add(self, kind: str, value: str, node: ast.AST | int) -> None:
        line = node if isinstance(node, int) else getattr(node, "lineno", 1)
        excerpt = self.snippets.get(line)
        if excerpt is None:
            excerpt = textscan.snippet(self.lines[line - 1] if 0 < line <= len(self.lines) else "")
            self.snippets[line] = excerpt
        if len(value) > VALUE_MAX:
            value = value[:VALUE_MAX] + "…"
        self.caps.append(Capability(kind, value, self.path, line, excerpt))

    # -- name resolution ---------------------------------------------------------------------

    def qualname(self, node: ast.AST) -> str | None:
        """Dotted name of an expression through import aliases; ``f()`` parts are kept as ``f()``."""
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self.qualname(node.value)
            if base in ("builtins", "__builtins__", "__builtin__"):
                return node.attr
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call):
            base = self.qualname(node.func)
            if base in ("__import__", "importlib.import_module") and node.args:
                module = self.name_text(node.args[0])
                if module:
                    return module  # __import__("base64").b64decode is base64.b64decode
            if base == "getattr" and len(node.args) >= 2:
                owner, attribute = self.qualname(node.args[0]), self.name_text(node.args[1])
                if owner and attribute:  # getattr(requests, "get") is requests.get
                    return attribute if owner in NAMESPACE_OWNERS else f"{owner}.{attribute}"
            if self.namespace_get(node):
                looked_up = self.name_text(node.args[0])
                if looked_up:  # globals()["__builtins__"].get("eval") is eval
                    return looked_up
            return f"{base}()" if base else None
        if isinstance(node, ast.Subscript):
            owner = self.qualname(node.value)
            if owner in NAMESPACE_OWNERS:
                key = self.name_text(node.slice)
                return key if key else None
        return None

    def namespace_get(self, node: ast.Call) -> str | None:
        """The namespace in ``<namespace>.get(name)`` (globals(), __builtins__…), else None."""
        func = node.func
        if not (isinstance(func, ast.Attribute) and func.attr == "get" and node.args):
            return None
        owner = self.qualname(func.value)
        return owner if owner in NAMESPACE_OWNERS else None

    def name_text(self, node: ast.AST) -> str | None:
        """An identifier-like string an expression folds to (``"requests"``, ``"__import__"``)."""
        value: object
        if isinstance(node, ast.Constant):
            value = node.value
        else:
            folded = self.exact(node)
            value = folded.value if folded is not None else None
        if isinstance(value, str) and value.replace(".", "").replace("_", "").isalnum() and len(value) <= 100:
            return value
        return None

    @property
    def local_callables(self) -> frozenset[str]:
        """Names the file may call as its own helpers: defs, classes (methods included), and names
        bound to a lambda or to a string's method (``_ = "".join``). Read once, from statements."""
        if self.local_callables_found is None:
            names: set[str] = set()
            stack: list[ast.stmt] = list(self.tree_body)
            while stack:
                stmt = stack.pop()
                if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    names.add(stmt.name)
                elif isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Lambda | ast.Attribute):
                    names.update(t.id for t in stmt.targets if isinstance(t, ast.Name))
                for field in ("body", "orelse", "finalbody"):
                    stack.extend(getattr(stmt, field, ()))
                for handler in getattr(stmt, "handlers", ()):
                    stack.extend(handler.body)
            self.local_callables_found = frozenset(names)
        return self.local_callables_found

    def worth_folding(self, node: ast.AST) -> bool:
        """False when folding ``node`` cannot give more than the plain literal folding does.

        Folding is cheap but not free, and ``fold`` runs for every assignment. A bare name is
        settled by ``known_strings`` (itself filled with folded values); a call to a function
        pyfold cannot apply and the file does not define, or an index into something that is
        not a literal, gives nothing more.
        """
        if isinstance(node, ast.Name):
            return False
        if isinstance(node, ast.Subscript):
            container = node.value
            index = node.slice
            return (
                isinstance(index, ast.Slice)
                or isinstance(container, ast.Constant | ast.List | ast.Tuple | ast.Call)
                or (self.may_hide and isinstance(container, ast.Name | ast.Attribute))
                or (isinstance(index, ast.Constant) and type(index.value) is int)  # PARTS[1]
            )
        if isinstance(node, ast.Attribute):
            return isinstance(node.value, ast.Name) and node.value.id in ("self", "cls", "string")
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in pyfold.FOLDABLE_CALL_NAMES or name in self.local_callables:
                return True
            return isinstance(func, ast.Call | ast.Subscript | ast.Lambda)
        return True

    def exact(self, node: ast.AST) -> Folded | None:
        """What ``node`` evaluates to by constant folding (see :mod:`~distrust.analyze.pyfold`)."""
        if not self.frames or self.folder.busy:
            return None
        return self.folder.fold(node, tuple(self.frames))

    def plain_name(self, node: ast.AST) -> str | None:
        """Qualified name with the ``()`` of intermediate calls removed: ``requests.Session.post``."""
        name = self.qualname(node)
        return name.replace("()", "") if name else None

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                root = alias.name.split(".", 1)[0]
                self.aliases.setdefault(root, root)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module and node.level == 0:
            for alias in node.names:
                if alias.name != "*":
                    self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    # -- folding literals -------------------------------------------------------------------

    def fold(self, node: ast.AST | None) -> str | None:
        """The string an expression builds, with ``*`` for parts known only at run time.

        Enough constant folding to see ``os.path.join(home, ".ssh", "id_rsa")`` or
        ``Path.home() / ".aws" / "credentials"`` as paths; None when nothing literal is left.
        """
        result = self._fold(node)
        if result is None or not result.strip("*/"):
            return None
        return result

    def _fold(self, node: ast.AST | None) -> str | None:
        if node is None:
            return None
        if isinstance(node, _FOLDABLE) and self.worth_folding(node):
            folded = self.exact(node)
            text = _folded_text(folded.value) if folded is not None else None
            if text is not None:
                return text
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                return node.value
            if isinstance(node.value, bytes):
                return node.value.decode("latin-1")
            return None
        if isinstance(node, ast.Name):
            return self.known_strings.get(node.id)
        if isinstance(node, ast.JoinedStr):
            return "".join(
                part.value
                if isinstance(part, ast.Constant) and isinstance(part.value, str)
                else (self._fold(part.value) if isinstance(part, ast.FormattedValue) else None) or "*"
                for part in node.values
            )
        if isinstance(node, ast.BinOp):
            left, right = self._fold(node.left), self._fold(node.right)
            if left is None and right is None:
                return None
            if isinstance(node.op, ast.Add):
                return (left or "*") + (right or "*")
            if isinstance(node.op, ast.Div):
                return f"{left or '*'}/{right or '*'}"
            if isinstance(node.op, ast.Mod):
                return left
            return None
        if isinstance(node, ast.Call):
            name = self.plain_name(node.func) or ""
            if name in ("os.path.join", "pathlib.Path", "pathlib.PurePath", "posixpath.join", "ntpath.join"):
                parts = [self._fold(arg) or "*" for arg in node.args]
                return "/".join(parts) if parts else None
            if name in (
                "os.path.expanduser",
                "os.path.expandvars",
                "os.path.abspath",
                "os.path.realpath",
                "pathlib.Path.expanduser",
                "str",
                "os.fspath",
            ):
                return self._fold(node.args[0]) if node.args else None
            if name in ("pathlib.Path.home", "pathlib.Path.home.expanduser"):
                return "~"
            if name in ("os.getenv", "os.environ.get") and node.args:
                env = self._fold(node.args[0])
                return f"%{env}%" if env else None
            if isinstance(node.func, ast.Attribute) and node.func.attr in (
                "joinpath",
                "expanduser",
                "resolve",
            ):
                parts = [self._fold(node.func.value) or "*"] + [self._fold(arg) or "*" for arg in node.args]
                return "/".join(parts)
            return None
        if isinstance(node, ast.Subscript) and self.qualname(node.value) in ENVIRON_OBJECTS:
            env = self._fold(node.slice)
            return f"%{env}%" if env else None
        return None

    def target(self, node: ast.AST | None) -> str:
        """A call argument as a capability value: its folded literal, or ``<dynamic>``."""
        return self.fold(node) or DYNAMIC

    def command(self, node: ast.AST | None) -> str:
        """A process command: a string, or a list/tuple of parts joined by spaces."""
        if isinstance(node, ast.List | ast.Tuple):
            parts = [self.fold(element) or "*" for element in node.elts]
            return " ".join(parts) if any(p != "*" for p in parts) else DYNAMIC
        return self.target(node)

    # -- visits ------------------------------------------------------------------------------

    def visit_Constant(self, node: ast.Constant) -> None:
        if id(node) in self.docstrings:
            return
        if isinstance(node.value, str):
            self.scan_literal(node.value, node)
        elif isinstance(node.value, bytes) and len(node.value) >= 16:
            self.scan_literal(node.value.decode("latin-1"), node)

    def scan_literal(self, text: str, node: ast.AST) -> None:
        """Everything a string literal alone reveals: URLs, addresses, paths, blobs, wallets."""
        self.scan_addresses(text, node)
        chain = textscan.wallet_address_kind(text)
        if chain:
            self.add("crypto.wallet", f"{chain} address {text.strip()}", node)
        blob = textscan.blob_kind(text)
        if blob:
            self.add("obfuscation.blob", f"{blob} blob, {len(text)} chars", node)
        elif textscan.is_high_entropy(text):
            self.add(
                "obfuscation.entropy", f"{len(text)} chars, {textscan.entropy(text):.1f} bits/char", node
            )
        if len(text) >= textscan.HIDDEN_BASE64_MIN and "://" not in text:
            hidden = textscan.hidden_base64_text(text)
            if hidden:
                self.hidden_text(hidden, ("base64",), node)
        payload = textscan.whitespace_payload(text)
        if payload:
            self.hidden_text(payload, ("whitespace",), node)
        elif payload == "":
            self.add("obfuscation.blob", f"whitespace-encoded data, {len(text)} chars", node)

    # -- hidden values ----------------------------------------------------------------------

    def note_hidden(self, node: ast.AST) -> None:
        """Record what an expression decodes to when it undoes a hiding transform (base64, char codes…)."""
        if not self.may_hide or not self.worth_folding(node):
            return
        folded = self.exact(node)
        if folded is None or not folded.via:
            return
        values = folded.value if isinstance(folded.value, tuple) else (folded.value,)
        for item in values[:HIDDEN_ITEMS_MAX]:
            text = pyfold.as_text(item) if isinstance(item, str | bytes) else None
            if text is None or (isinstance(folded.value, tuple) and len(text) < HIDDEN_TEXT_MIN):
                continue
            self.hidden_text(text, folded.via, node)

    def hidden_text(self, text: str, via: tuple[str, ...], node: ast.AST) -> None:
        """``obfuscation.decoded`` for readable hidden text, and what that text reveals (URLs, paths…)."""
        stripped = text.strip()
        if not textscan.is_readable_text(stripped) or textscan.is_markup(stripped):
            return  # binary data, or an embedded SVG/HTML document (its URLs are namespaces)
        if len(stripped) < HIDDEN_TEXT_MIN and stripped not in HIDDEN_SHORT_NAMES:
            return
        if via == ("charcodes",) and all(ord(b) - ord(a) == 1 for a, b in itertools.pairwise(stripped)):
            return  # "".join(chr(c) for c in range(97, 123)) builds an alphabet, it hides nothing
        self.add("obfuscation.decoded", textscan.hidden_summary(via, stripped), node)
        self.scan_revealed(stripped, node)

    def scan_revealed(self, text: str, node: ast.AST) -> None:
        """Literal scans over text the code builds or decodes rather than writes out."""
        self.scan_addresses(text, node, revealed=True)

    def scan_addresses(self, text: str, node: ast.AST, *, revealed: bool = False) -> None:
        """URLs, IPs, email addresses and paths in a string; ``revealed`` text was built or decoded.

        Revealed text may glue a URL to other characters and may be an XML document whose
        namespace URLs are names, not endpoints.
        """
        for hit in textscan.find_urls(text, embedded=revealed):
            if revealed and textscan.is_namespace_url(hit.value):
                continue
            self.add("network.url", hit.value, node)
            service = textscan.public_ip_service(hit.value)
            if service:
                self.add("recon.system", f"public IP lookup {service}", node)
        for hit in textscan.find_ips(text):
            self.add("network.ip", hit.value, node)
        for hit in textscan.find_emails(text):
            self.add("email.address", hit.value, node)
        if len(text) < 2000:  # path and command tables are for short literals, not embedded scripts
            self.scan_path(text, node)

    def scan_path(self, text: str, node: ast.AST) -> None:
        label = textscan.sensitive_path_label(text)
        if label:
            self.add("file.read.sensitive", text, node)
            if label.startswith("crypto wallet"):
                self.add("crypto.wallet", label, node)
        persistence = textscan.persistence_label(text)
        if persistence:
            self.add("persistence", f"{persistence}: {text}", node)
        propagation = textscan.propagation_label(text)
        if propagation:
            self.add("propagation", f"{propagation}: {text}", node)

    def mark_docstring(self, node: _DocOwner) -> None:
        """Docstrings are prose, not behaviour: their literals are not scanned (MCP tools read them apart)."""
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            self.docstrings.add(id(body[0].value))

    def visit_Module(self, node: ast.Module) -> None:
        self.mark_docstring(node)
        self.frames = [Frame(node)]
        self.tree_body = node.body
        self.remote_input(node.body, handler_class=False)
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.mark_docstring(node)
        self.frames.append(Frame(node))
        self.generic_visit(node)
        self.frames.pop()

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.frames.append(Frame(node))
        self.generic_visit(node)
        self.frames.pop()

    def visit_ListComp(self, node: ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp) -> None:
        if isinstance(node, ast.ListComp | ast.GeneratorExp):
            self.note_hidden(node)  # [b64decode(k).decode() for k in KEYS]
        self.frames.append(pyfold.comprehension_frame(node))
        self.generic_visit(node)
        self.frames.pop()

    visit_SetComp = visit_ListComp
    visit_DictComp = visit_ListComp
    visit_GeneratorExp = visit_ListComp

    def visit_Name(self, node: ast.Name) -> None:
        self.note_identifier(node.id, node.lineno)

    def visit_arg(self, node: ast.arg) -> None:
        self.note_identifier(node.arg, node.lineno)
        self.generic_visit(node)

    def note_identifier(self, name: str, line: int) -> None:
        if OBFUSCATED_NAME_RE.match(name):
            self.obfuscated.setdefault(name, line)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.note_identifier(node.name, node.lineno)
        self.mark_docstring(node)
        for decorator in node.decorator_list:
            self.mcp_decorator(decorator, node)
        owner = self.frames[-1].scope if self.frames else None
        handler = isinstance(owner, ast.ClassDef) and any(
            (self.plain_name(base) or "").endswith("Handler") for base in owner.bases
        )
        self.remote_input(node.body, handler_class=handler)
        self.frames.append(Frame(node))
        self.generic_visit(node)
        self.frames.pop()

    def remote_input(self, body: list[ast.stmt], *, handler_class: bool) -> None:
        """``code.remote_input`` where network input becomes a command or code (see :mod:`pyflow`)."""
        if not self.may_flow or not body or not self.may_flow_in(body):
            return
        for flow in pyflow.remote_input_flows(
            body,
            self.plain_name,
            PROCESS_CALLS,
            REMOTE_CODE_SINKS,
            handler_class=handler_class,
            fetch_calls=FETCH_CALLS,
        ):
            self.add("code.remote_input", f"{flow.source} -> {flow.sink}", flow.node)

    def may_flow_in(self, body: list[ast.stmt]) -> bool:
        """Cheap text test: can these lines hold both network input and a process/code sink?

        The flow analysis walks a function's whole syntax tree; most functions of HTTP clients
        mention ``request`` but start no process, so their source text rules them out first.
        Names imported under another spelling (``from subprocess import Popen as P``) count.
        """
        if body is self.tree_body:
            return True  # the module's top level: the whole-file test already passed
        if self.line_offsets is None:  # where each line starts, as ast counts lines
            self.line_offsets = [0, *(m.end() for m in re.finditer("\n", self.text))]
        offsets = self.line_offsets
        start, end = body[0].lineno, body[-1].end_lineno or body[-1].lineno
        segment = self.text[
            offsets[min(start, len(offsets)) - 1] : offsets[end] if end < len(offsets) else None
        ]
        if self.flow_aliases is None:
            source_hints, sink_hints = list(_FLOW_SOURCE_HINTS), list(_FLOW_SINK_HINTS)
            for alias, target in self.aliases.items():
                if target in PROCESS_CALLS or target in REMOTE_CODE_SINKS or target in _SINK_MODULES:
                    sink_hints.append(alias)
                if target in FETCH_CALLS or target in pyflow.REQUEST_NAMES or target in _FETCH_MODULES:
                    source_hints.append(alias)
            self.flow_aliases = (tuple(source_hints), tuple(sink_hints))
        sources, sinks = self.flow_aliases
        if not any(h in segment for h in sources):
            return False
        return bool(_FLOW_SINK_RE.search(segment)) or any(
            h in segment for h in sinks[len(_FLOW_SINK_HINTS) :]
        )

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if isinstance(node.slice, ast.Slice) and node.slice.step is not None:
            self.note_hidden(node)  # "lmth.x//:sptth"[::-1]
        owner = self.qualname(node.value)
        if isinstance(node.ctx, ast.Load) and owner in ENVIRON_OBJECTS:
            self.env_read(node.slice, node)
        elif owner in NAMESPACE_LOOKUPS:
            key = self.fold(node.slice)
            if key is None or key in DYNAMIC_CODE_CALLS or key in ("__builtins__", "__import__", "getattr"):
                self.add("code.dynamic", f"{owner}[{key!r}]" if key else f"{owner}[{DYNAMIC}]", node)
        self.generic_visit(node)

    def visit_List(self, node: ast.List | ast.Tuple) -> None:
        """``[117, 114, 108, …]``: text hidden as character codes, decoded and scanned like a literal."""
        codes = [e.value for e in node.elts if isinstance(e, ast.Constant) and type(e.value) is int]
        if len(codes) >= CHARCODE_MIN and len(codes) == len(node.elts) and all(9 <= c <= 126 for c in codes):
            decoded = "".join(chr(c) for c in codes)
            self.add("obfuscation.blob", f"character-code list, {len(decoded)} chars", node)
            self.scan_literal(decoded, node)
            self.hidden_text(decoded, ("charcodes",), node)
        self.generic_visit(node)

    visit_Tuple = visit_List

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self.assignment(target, node.value, node)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.assignment(node.target, node.value, node)
        self.generic_visit(node)

    def assignment(self, target: ast.AST, value: ast.AST, node: ast.AST) -> None:
        # msg["Bcc"] = "..." (email.message) and mail.bcc = "..." (SendGrid Mail, custom objects)
        if isinstance(target, ast.Subscript):
            key = self.fold(target.slice)
            if key and _lower_field(key) in RECIPIENT_FIELDS and isinstance(target.slice, ast.Constant):
                self.recipients(RECIPIENT_FIELDS[_lower_field(key)], value, node)
        elif isinstance(target, ast.Attribute) and _lower_field(target.attr) in ("bcc", "cc", "replyto"):
            folded = self.fold(value)
            if folded and "@" in folded:
                self.recipients(RECIPIENT_FIELDS[_lower_field(target.attr)], value, node)
        elif isinstance(target, ast.Name):
            folded = self.fold(value)
            if folded is not None and len(folded) <= VALUE_MAX * 4:
                self.known_strings[target.id] = folded
            else:
                self.known_strings.pop(target.id, None)
            decoder = self.decoder_in(value) if isinstance(value, ast.Call) else None
            if decoder:
                self.decoded_names[target.id] = decoder
            self.alias_assignment(target, value)
        elif (
            isinstance(target, ast.Tuple)
            and isinstance(value, ast.Tuple)
            and len(target.elts) == len(value.elts)
        ):
            for sub_target, sub_value in zip(target.elts, value.elts, strict=True):
                if isinstance(sub_target, ast.Name):
                    self.alias_assignment(sub_target, sub_value)

    def alias_assignment(self, target: ast.Name, value: ast.AST) -> None:
        """``run = exec`` or ``a, b = exec, str`` (Hyperion-style obfuscation) makes ``run(...)`` an exec."""
        if isinstance(value, ast.Name | ast.Attribute | ast.Subscript):
            name = self.plain_name(value)
            if name and name in ALIASABLE:
                self.aliases[target.id] = name
        elif isinstance(value, ast.Call):
            # rq = __import__("requests"); g = getattr(rq, "get"); x = __builtins__.get("exec")
            func = self.plain_name(value.func)
            name = self.qualname(value)
            if (
                name
                and "()" not in name
                and (
                    func in ("__import__", "importlib.import_module", "getattr") or self.namespace_get(value)
                )
            ):
                self.aliases[target.id] = name

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.env_iteration(node.iter, node)
        self.generic_visit(node)

    visit_AsyncFor = visit_For

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self.env_iteration(node.iter, node.iter)
        self.generic_visit(node)

    def env_iteration(self, iterable: ast.AST, node: ast.AST) -> None:
        if self.qualname(iterable) in ENVIRON_OBJECTS:
            self.add("env.enumerate", "iteration over os.environ", node)

    def visit_Dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None and self.qualname(value) in ENVIRON_OBJECTS:
                self.add("env.enumerate", "{**os.environ}", node)
        self.mail_mapping(
            [(self.fold(k), v) for k, v in zip(node.keys, node.values, strict=True) if k is not None],
            node,
            in_mail_call=False,
        )
        self.generic_visit(node)

    # -- calls -------------------------------------------------------------------------------

    def visit_Call(self, node: ast.Call) -> None:
        raw = self.qualname(node.func) or ""
        name = raw.replace("()", "")
        method = node.func.attr if isinstance(node.func, ast.Attribute) else ""
        first = node.args[0] if node.args else None

        self.note_hidden(node)
        namespace = self.namespace_get(node)
        if namespace:
            key = self.name_text(node.args[0])
            sensitive = key in DYNAMIC_CODE_CALLS or key in ("__builtins__", "__import__", "getattr")
            if sensitive or (key is None and namespace in ("__builtins__", "builtins", "__builtin__")):
                self.add(
                    "code.dynamic",
                    f"{namespace}.get({key!r})" if key else f"{namespace}.get({DYNAMIC})",
                    node,
                )
        self.network_call(node, name, method, first)
        self.email_call(node, raw, name, method)
        self.env_call(node, name, method)
        self.file_call(node, name, method, first)
        self.process_and_code_call(node, name, first)
        if name in RECON_CALLS:
            self.add("recon.system", name, node)
        if name in ("os.path.join", "posixpath.join", "ntpath.join") or method == "joinpath":
            folded = self.fold(node)
            if folded and len(node.args) > 1:
                self.scan_path(folded, node)
        self.mcp_call(node, name, method)
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        # Fold a ``Path.home() / ".ssh" / "id_rsa"`` chain once, at its outermost "/", not per component.
        if isinstance(node.op, ast.Div) and id(node) not in self.inner_divisions:
            folded = self.fold(node)
            if folded and "/" in folded:
                self.scan_path(folded, node)
            left = node.left
            while isinstance(left, ast.BinOp) and isinstance(left.op, ast.Div):
                self.inner_divisions.add(id(left))
                left = left.left
        self.generic_visit(node)

    def network_call(self, node: ast.Call, name: str, method: str, first: ast.AST | None) -> None:
        url_node = first
        for kw in node.keywords:
            if kw.arg in ("url", "host", "address"):
                url_node = kw.value
        target = self.target(url_node)
        is_network = name in NETWORK_CALLS or (name.startswith(NETWORK_PREFIXES) and method in _HTTP_VERBS)
        if not is_network and method in _HTTP_VERBS and target.lower().startswith(("http://", "https://")):
            is_network = True  # a session or client object we could not resolve, called with a URL
            name = f".{method}"
        if is_network:
            self.add("network.request", f"{name} {target}", node)
            if target.startswith(("http://", "https://", "ws://", "wss://", "ftp://")):
                host = textscan.host_of(target.replace("*", "x"))
                if host and "*" not in target.split("/")[2]:
                    self.add("network.host", host, node)
            elif name in HOST_CALLS and _HOST_RE.fullmatch(target):
                self.add("network.host", target, node)
            if "mailgun" in target.lower() or target.rstrip("/").endswith("/messages"):
                self.add("email.send", "mailgun messages", node)
                self.mail_kwargs(node, in_mail_call=True)
            if target.startswith(("http://", "https://")) and "*" not in target.split("/")[2]:
                self.secret_payload(node, name, target)
        if name in LISTEN_CALLS:
            self.add("network.listen", name, node)
        elif method == "serve_forever" or (method == "run" and any(kw.arg == "host" for kw in node.keywords)):
            self.server_start(node, name, method)
        if method in ("connect", "connect_ex", "bind") and first is not None and isinstance(first, ast.Tuple):
            parts = [self.fold(e) if not isinstance(e, ast.Constant) else str(e.value) for e in first.elts]
            if len(parts) == 2:
                address = f"{parts[0] or '*'}:{parts[1] or '*'}"
                if method == "bind":
                    self.add("network.listen", f"socket.bind {address}", node)
                else:
                    self.add("network.request", f"socket.{method} {address}", node)
                    if parts[0]:
                        self.add("network.host", address, node)

    def server_start(self, node: ast.Call, name: str, method: str) -> None:
        """``app.run(host="0.0.0.0")``, ``uvicorn.run(…)``, ``server.serve_forever()``: a listening server."""
        if method == "serve_forever":
            self.add("network.listen", f"{name or method}()", node)
            return
        keywords = {kw.arg: kw.value for kw in node.keywords if kw.arg}
        host = self.fold(keywords.get("host")) or DYNAMIC
        port = keywords.get("port")
        port_text = str(port.value) if isinstance(port, ast.Constant) else (self.fold(port) or "*")
        self.add("network.listen", f"{name or method} {host}:{port_text}", node)

    def secret_payload(self, node: ast.Call, name: str, url: str) -> None:
        """``network.send_secret`` when a request to a literal URL carries secret-named fields.

        The payload is the ``json=``/``data=``/``params=`` argument (or the second positional
        argument of a POST), a dict literal or a name bound once to one. Field names and the
        names of the variables/attributes that fill them are judged, never their values. OAuth
        token requests (``grant_type``, ``client_id``…) are the protocol working as designed.
        """
        payloads = [kw.value for kw in node.keywords if kw.arg in ("json", "data", "params")]
        if len(node.args) > 1 and name.rsplit(".", 1)[-1] in ("post", "put", "patch", "Request"):
            payloads.append(node.args[1])
        names: list[str] = []
        keys: set[str] = set()
        for payload in payloads:
            mapping = self.bound_expression(payload) if isinstance(payload, ast.Name) else payload
            for key_text, value in _mapping_items(mapping):
                if key_text is not None:
                    keys.add(key_text.lower())
                    names.append(key_text)
                names.extend(_value_names(value))
        if keys & OAUTH_FIELDS:
            return
        secrets = list(dict.fromkeys(n for n in names if SECRET_FIELD_RE.search(n)))
        if secrets:
            self.add("network.send_secret", f"{name} {url} carries {', '.join(secrets[:4])}", node)

    def bound_expression(self, node: ast.Name) -> ast.expr | None:
        """The expression a name is bound to once in the enclosing scopes (``data = {...}``)."""
        for frame in reversed(self.frames):
            binds = self.folder.bindings(frame.scope).get(node.id)
            if binds is None:
                continue
            return binds[0] if len(binds) == 1 and isinstance(binds[0], ast.expr) else None
        return None

    def email_call(self, node: ast.Call, raw: str, name: str, method: str) -> None:
        api: str | None = EMAIL_SEND_CALLS.get(name)
        if api is None and method in EMAIL_SEND_METHODS:
            api = EMAIL_SEND_METHODS[method]
        if api is None and method in EMAILS_OBJECT_METHODS and isinstance(node.func, ast.Attribute):
            receiver = node.func.value
            if isinstance(receiver, ast.Attribute) and receiver.attr.lower() == "emails":
                api = "resend emails.send" if name.startswith("resend.") else f"postmarker emails.{method}"
        if api is None and name.startswith("sendgrid") and method == "send":
            api = "sendgrid send"
        if api is not None:
            self.add("email.send", api, node)
            self.mail_kwargs(node, in_mail_call=True)
            if method == "sendmail" and len(node.args) > 1:
                self.recipients("to", node.args[1], node)
            if name == "django.core.mail.send_mail" and len(node.args) > 3:
                self.recipients("to", node.args[3], node)
            for arg in node.args:
                if isinstance(arg, ast.Dict):
                    self.mail_mapping(
                        [
                            (self.fold(k), v)
                            for k, v in zip(arg.keys, arg.values, strict=True)
                            if k is not None
                        ],
                        arg,
                        in_mail_call=True,
                    )
            return
        short = raw.rsplit(".", 1)[-1].replace("()", "")
        if short in SENDGRID_RECIPIENT_CLASSES and "sendgrid" in name and node.args:
            self.recipients(SENDGRID_RECIPIENT_CLASSES[short], node.args[0], node)
        elif method in SENDGRID_ADDERS and node.args:
            arg = node.args[0]
            inner = arg.args[0] if isinstance(arg, ast.Call) and arg.args else arg
            self.recipients(SENDGRID_ADDERS[method], inner, node)
        elif method == "add_header" and len(node.args) > 1:
            key = self.fold(node.args[0])
            if key and _lower_field(key) in RECIPIENT_FIELDS:
                self.recipients(RECIPIENT_FIELDS[_lower_field(key)], node.args[1], node)
        else:
            self.mail_kwargs(node, in_mail_call=False)

    def mail_kwargs(self, node: ast.Call, *, in_mail_call: bool) -> None:
        pairs: list[tuple[str | None, ast.AST]] = [(kw.arg, kw.value) for kw in node.keywords if kw.arg]
        self.mail_mapping(pairs, node, in_mail_call=in_mail_call)

    def mail_mapping(
        self, pairs: list[tuple[str | None, ast.AST]], node: ast.AST, *, in_mail_call: bool
    ) -> None:
        """Recipient fields of a dict or keyword list, when it is (or goes to) an email."""
        fields = {_lower_field(k): v for k, v in pairs if k}
        if not any(f in RECIPIENT_FIELDS or f == "destination" for f in fields):
            return
        if not in_mail_call and not (MAIL_CONTEXT_FIELDS & fields.keys()):
            return
        for field_name, value in fields.items():
            if field_name == "destination" and isinstance(value, ast.Dict):  # SES Destination={...}
                self.mail_mapping(
                    [
                        (self.fold(k), v)
                        for k, v in zip(value.keys, value.values, strict=True)
                        if k is not None
                    ],
                    value,
                    in_mail_call=True,
                )
            elif field_name in RECIPIENT_FIELDS:
                self.recipients(RECIPIENT_FIELDS[field_name], value, node)

    def recipients(self, field_name: str, value: ast.AST, node: ast.AST) -> None:
        """One email.recipient per literal address (lists and "a, b" strings split), else <dynamic>.

        The capability sits on the line of the address itself, so a diff of a multi-line dict
        points at the added ``"Bcc": …`` line, not at the line that opens the dict.
        """
        elements = value.elts if isinstance(value, ast.List | ast.Tuple | ast.Set) else [value]
        for element in elements:
            where = element if hasattr(element, "lineno") else node
            if isinstance(element, ast.Call) and element.args:  # To("x"), Email("x")
                element = element.args[0]
            folded = self.fold(element)
            if folded and "*" not in folded:
                for address in re.split(r"[,;]", folded):
                    if address.strip():
                        self.add("email.recipient", f"{field_name}={address.strip()}", where)
            else:
                self.add("email.recipient", f"{field_name}={DYNAMIC}", where)

    def env_call(self, node: ast.Call, name: str, method: str) -> None:
        if name in ENV_READ_CALLS:
            self.env_read(node.args[0] if node.args else None, node)
        elif method in ENV_ENUMERATE_METHODS and isinstance(node.func, ast.Attribute):
            if self.qualname(node.func.value) in ENVIRON_OBJECTS:
                self.add("env.enumerate", f"os.environ.{method}()", node)
        elif name in ENV_SERIALISERS and any(self.qualname(a) in ENVIRON_OBJECTS for a in node.args):
            self.add("env.enumerate", f"{name}(os.environ)", node)

    def env_read(self, key: ast.AST | None, node: ast.AST) -> None:
        env = self.fold(key) if key is not None else None
        if env is None or "*" in env:
            self.add("env.read", DYNAMIC, node)
        else:
            self.add("env.read.secret" if SECRET_NAME_RE.search(env) else "env.read", env, node)

    def file_call(self, node: ast.Call, name: str, method: str, first: ast.AST | None) -> None:
        if name in OPEN_CALLS:
            mode_node = node.args[1] if len(node.args) > 1 else None
            for kw in node.keywords:
                if kw.arg == "mode":
                    mode_node = kw.value
                elif kw.arg == "file":
                    first = kw.value
            mode = self.fold(mode_node) if mode_node is not None else "r"
            path = self.target(first)
            writes = mode is not None and any(c in mode for c in "wax+")
            self.add("file.write" if writes else "file.read", path, node)
            if path != DYNAMIC and not writes and textscan.sensitive_path_label(path):
                self.add("file.read.sensitive", path, node)
        elif name in FILE_DELETE_CALLS:
            self.add("file.delete", self.target(first), node)
        elif name in FILE_WRITE_CALLS:
            index = FILE_WRITE_CALLS[name]
            self.add("file.write", self.target(node.args[index] if len(node.args) > index else None), node)
        elif name in FILE_READ_CALLS:
            self.add("file.read", self.target(first), node)
        elif method in PATHLIB_METHODS and isinstance(node.func, ast.Attribute):
            receiver = node.func.value
            path = self.target(receiver)
            self.add(PATHLIB_METHODS[method], path, node)
            if (
                PATHLIB_METHODS[method] == "file.read"
                and path != DYNAMIC
                and textscan.sensitive_path_label(path)
            ):
                self.add("file.read.sensitive", path, node)

    def process_and_code_call(self, node: ast.Call, name: str, first: ast.AST | None) -> None:
        if name in PROCESS_CALLS:
            command_node = first
            for kw in node.keywords:
                if kw.arg in ("args", "cmd", "command"):
                    command_node = kw.value
            command = self.command(command_node)
            self.add("process.spawn", f"{name}: {command}", node)
            if command != DYNAMIC and not isinstance(command_node, ast.Constant):
                self.scan_revealed(command, node)  # a command assembled from parts names its URL only whole
        elif name in ("__import__", "importlib.import_module", "importlib.__import__"):
            if first is None or not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                self.add("code.dynamic", f"{name}(<dynamic>)", node)
        elif name in DYNAMIC_CODE_CALLS:
            shipped = self.shipped_source(name, first)
            self.add("code.dynamic", f"{name}(file {shipped})" if shipped else name, node)
            if name in EXEC_SINKS:
                for arg in node.args:
                    decoder = self.decoder_in(arg)
                    folded = self.exact(arg) if not decoder else None
                    if folded is not None and folded.via and _folded_text(folded.value):
                        decoder = "+".join(folded.via)  # exec(self.decode(BLOB)): a helper hid the decoder
                    if decoder:
                        self.add("code.decode_exec", f"{name}({decoder})", node)
                        self.analyse_payload(arg, node)
                        break
        elif name == "getattr" and len(node.args) > 1:
            attribute = self.fold(node.args[1])
            if attribute in DYNAMIC_CODE_CALLS or f"os.{attribute}" in PROCESS_CALLS:
                self.add("code.dynamic", f"getattr(…, {attribute!r})", node)

    def analyse_payload(self, expr: ast.AST, node: ast.AST) -> None:
        """Decode a literal payload the way the code would (data transforms only) and analyse it.

        ``exec(base64.b64decode("…"))`` hides its URLs and commands; the decoded text is parsed,
        never run, and its capabilities are reported at the exec line.
        """
        if self.depth >= PAYLOAD_MAX_DEPTH:
            return
        payload = _decode_literal(expr, self)
        if payload is None:
            folded = self.exact(expr)
            text = _folded_text(folded.value) if folded is not None else None
            if text is None:
                return
            payload = text.encode("utf-8", "replace")
        inner = _analyze(self.path, payload, depth=self.depth + 1)
        line = getattr(node, "lineno", 1)
        for cap in inner.capabilities:
            value = cap.value
            self.caps.append(
                Capability(cap.kind, value, self.path, line, f"[decoded payload] {cap.snippet}"[:200])
            )

    def shipped_source(self, name: str, first: ast.AST | None) -> str | None:
        """The relative ``.py`` path when exec runs a file read from the package itself.

        ``exec(open("pkg/version.py").read())`` in setup.py is a common benign idiom; naming the
        file lets callers tell it from exec of downloaded or decoded data.
        """
        if first is None or name not in ("exec", "eval", "compile", "execfile"):
            return None
        candidates = (
            [first]
            if name == "execfile"
            else [
                sub.args[0]
                for sub in ast.walk(first)
                if isinstance(sub, ast.Call) and sub.args and (self.plain_name(sub.func) or "") in OPEN_CALLS
            ]
        )
        for candidate in candidates:
            path = self.fold(candidate)
            if path and path.endswith(".py") and not path.startswith(("/", "~", "%", "\\")):
                return path
        return None

    def decoder_in(self, expr: ast.AST) -> str | None:
        """The decoding step inside an expression (``base64``, ``zlib``, ``charcodes``…), if any."""
        for sub in ast.walk(expr):
            if isinstance(sub, ast.Name) and sub.id in self.decoded_names:
                return self.decoded_names[sub.id]
            if not isinstance(sub, ast.Call):
                continue
            name = self.plain_name(sub.func) or ""
            if name in DECODERS:
                if name == "codecs.decode":
                    codec = self.fold(sub.args[1]) if len(sub.args) > 1 else None
                    if codec and codec.lower() in PY2_CODECS:
                        return codec.lower()
                    continue
                return DECODERS[name]
            method = sub.func.attr if isinstance(sub.func, ast.Attribute) else ""
            if method == "fromhex":
                return "hex"
            if method == "decode" and sub.args:
                codec = self.fold(sub.args[0])
                if codec and codec.lower() in PY2_CODECS:
                    return codec.lower()
            if method == "join" and any(
                isinstance(inner, ast.Call) and _call_name(inner) == "chr"
                for arg in sub.args
                for inner in ast.walk(arg)
            ):
                return "charcodes"
        return None

    # -- MCP ---------------------------------------------------------------------------------

    def mcp_decorator(self, decorator: ast.expr, func: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        attr = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if attr not in MCP_DESCRIBED_DECORATORS:
            return
        if isinstance(target, ast.Name) and not self.aliases.get(attr, "").startswith(("mcp", "fastmcp")):
            return  # a bare @tool is an MCP registration only when imported from an MCP SDK
        keywords = {kw.arg: kw.value for kw in decorator.keywords} if isinstance(decorator, ast.Call) else {}
        tool_name = self.fold(keywords.get("name")) or func.name
        description = self.fold(keywords.get("description")) or ast.get_docstring(func) or ""
        if attr in MCP_TOOL_DECORATORS:
            self.add_tool(tool_name, description, func)
        else:
            self.injection(description, func)

    def mcp_call(self, node: ast.Call, name: str, method: str) -> None:
        keywords = {kw.arg: kw.value for kw in node.keywords if kw.arg}
        is_tool_class = name in MCP_TOOL_CLASSES or name.endswith(".types.Tool")
        if (is_tool_class or method == "add_tool") and "description" in keywords:
            tool_name = (
                self.fold(keywords.get("name"))
                or (self.fold(node.args[0]) if node.args and is_tool_class else None)
                or DYNAMIC
            )
            self.add_tool(tool_name, self.fold(keywords["description"]) or "", node)
            return
        for key in ("description", "instructions"):
            text = self.fold(keywords.get(key))
            if text:
                self.injection(text, node)

    def add_tool(self, tool_name: str, description: str, node: ast.AST) -> None:
        summary = " ".join(description.split())
        value = f"{tool_name}: {summary}" if summary else tool_name
        if len(value) > MCP_VALUE_MAX:
            value = value[:MCP_VALUE_MAX] + "…"
        self.add("mcp.tool", value, node)
        self.injection(description, node)

    def injection(self, text: str, node: ast.AST) -> None:
        for marker in textscan.prompt_injection_markers(text):
            self.add("mcp.prompt_injection", marker, node)

    # -- end of file -------------------------------------------------------------------------

    def finish(self, text: str) -> None:
        if len(self.obfuscated) >= OBFUSCATED_NAME_MIN:
            first_line = min(self.obfuscated.values())
            self.add("obfuscation.identifiers", f"{len(self.obfuscated)} obfuscated identifiers", first_line)
        seen: set[int] = set()
        for hit in textscan.invisible_chars(text):
            if hit.line not in seen:
                seen.add(hit.line)
                self.add("obfuscation.unicode", hit.value, hit.line)


# --- token fallback --------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenRule:
    """A line regex for files ``ast`` cannot parse; ``value`` may use ``{0}`` for the first group."""

    id: str
    pattern: LazyRegex[str]
    kind: str
    value: str


def _t(id_: str, regex: str, kind: str, value: str) -> TokenRule:
    return TokenRule(id_, LazyRegex(regex), kind, value)


_DECODE_TOKENS = (
    r"b64decode|b32decode|decodestring|decodebytes|decompress|fromhex|unhexlify|"
    r"\.decode\(\s*['\"](?:hex|base64|rot13|rot_13|zlib)['\"]|chr\("
)

TOKEN_RULES: tuple[TokenRule, ...] = (
    _t("exec", r"(?<![\w.])(exec|eval|execfile|compile)\s*[\(\s'\"]", "code.dynamic", "{0}"),
    _t(
        "decode-exec",
        r"(?<![\w.])(exec|eval)\b.*(?:" + _DECODE_TOKENS + ")",
        "code.decode_exec",
        "{0}(decoded)",
    ),
    _t("unpickle", r"\b((?:marshal|c?[pP]ickle)\.loads?)\s*\(", "code.dynamic", "{0}"),
    _t(
        "process",
        r"\b(os\.system|os\.popen\d?|os\.startfile|os\.exec\w+|os\.spawn\w+|subprocess\.\w+|"
        r"commands\.getoutput|pty\.spawn)\s*\(",
        "process.spawn",
        "{0}",
    ),
    _t(
        "network",
        r"\b(urllib2?\.urlopen|urllib\.request\.urlopen|urllib\.urlretrieve|urllib2\.Request|"
        r"requests\.(?:get|post|put|request)|httplib\.HTTPS?Connection|socket\.socket|socket\.create_connection|"
        r"smtplib\.SMTP(?:_SSL)?)\s*\(",
        "network.request",
        "{0}",
    ),
    _t(
        "env-name",
        r"\b(?:os\.environ\[|os\.getenv\(|environ\.get\()\s*['\"]([A-Za-z_][\w]*)['\"]",
        "env.read",
        "{0}",
    ),
    _t(
        "env-all",
        r"\bos\.environ\.(?:copy|items|keys|values)\(|dict\(\s*os\.environ\s*\)",
        "env.enumerate",
        "os.environ",
    ),
    _t("delete", r"\b(shutil\.rmtree|os\.remove|os\.unlink)\s*\(", "file.delete", "{0}"),
    _t("sendmail", r"\.(sendmail|send_message)\s*\(", "email.send", "smtplib.{0}"),
    _t(
        "recon",
        r"\b(platform\.\w+|getpass\.getuser|socket\.gethostname|os\.getlogin|uuid\.getnode)\s*\(",
        "recon.system",
        "{0}",
    ),
)

_SYNTAX_PROBLEM = "syntax error at line {line}; analysed by tokens"


def _token_scan(path: str, text: str) -> list[Capability]:
    """Line-regex analysis for unparsable files: call patterns plus every literal scanner."""
    caps: list[Capability] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        code = raw.split("#", 1)[0] if "#" in raw and "'" not in raw and '"' not in raw else raw
        if not code.strip():
            continue
        excerpt = textscan.snippet(raw)
        for rule in TOKEN_RULES:
            match = rule.pattern.search(code)
            if not match:
                continue
            value = rule.value.format(*match.groups()) if match.groups() else rule.value
            kind = rule.kind
            if kind == "env.read" and SECRET_NAME_RE.search(value):
                kind = "env.read.secret"
            caps.append(Capability(kind, value, path, number, excerpt))
        for kind, found in (
            ("network.url", [h.value for h in textscan.find_urls(code)]),
            ("network.ip", [h.value for h in textscan.find_ips(code)]),
            ("email.address", [h.value for h in textscan.find_emails(code)]),
        ):
            caps.extend(Capability(kind, value, path, number, excerpt) for value in found)
        for kind, label in (
            ("file.read.sensitive", textscan.sensitive_path_label(code)),
            ("persistence", textscan.persistence_label(code)),
            ("propagation", textscan.propagation_label(code)),
        ):
            if label:
                caps.append(Capability(kind, label, path, number, excerpt))
        for literal in re.findall(r"['\"]([A-Za-z0-9+/=_-]{80,})['\"]", code):
            blob = textscan.blob_kind(literal)
            if blob:
                caps.append(
                    Capability(
                        "obfuscation.blob", f"{blob} blob, {len(literal)} chars", path, number, excerpt
                    )
                )
    seen: set[int] = set()
    lines = text.splitlines()
    for hit in textscan.invisible_chars(text):
        if hit.line not in seen:
            seen.add(hit.line)
            line_text = lines[hit.line - 1] if hit.line <= len(lines) else ""
            caps.append(
                Capability("obfuscation.unicode", hit.value, path, hit.line, textscan.snippet(line_text))
            )
    return caps


# --- entry points ----------------------------------------------------------------------------


def parse(source: bytes) -> tuple[ast.Module | None, str | None]:
    """``(tree, None)`` or ``(None, problem)``; never raises on bad input."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes in old code are the package's problem
            return ast.parse(source, type_comments=False), None
    except SyntaxError as exc:
        return None, _SYNTAX_PROBLEM.format(line=exc.lineno or 1)
    except (ValueError, RecursionError, MemoryError) as exc:
        reason = "too deeply nested" if isinstance(exc, RecursionError) else str(exc) or type(exc).__name__
        return None, f"cannot parse ({reason}); analysed by tokens"


def analyze_python(path: str, source: bytes) -> PyResult:
    """Capabilities of one Python source file; ``path`` is how capabilities name the file."""
    return _analyze(path, source, depth=0)


def analyze_parsed(path: str, source: bytes, tree: ast.Module | None, problem: str | None) -> PyResult:
    """:func:`analyze_python` for a caller that already ran :func:`parse` (setup.py is read twice)."""
    return _analyze(path, source, depth=0, parsed=(tree, problem))


def _analyze(
    path: str, source: bytes, *, depth: int, parsed: tuple[ast.Module | None, str | None] | None = None
) -> PyResult:
    text = decode_source(source)
    tree, problem = parsed if parsed is not None else parse(source)
    if tree is None:
        caps = _token_scan(path, text)
        return PyResult(tuple(_dedupe(caps)), (problem or "unparsable",))
    visitor = _Visitor(path, text, depth)
    try:
        visitor.visit(tree)
    except RecursionError:
        caps = _token_scan(path, text)
        return PyResult(tuple(_dedupe(caps)), ("too deeply nested for the syntax tree; analysed by tokens",))
    visitor.finish(text)
    return PyResult(tuple(_dedupe(visitor.caps)), ())


# --- static payload decoding -----------------------------------------------------------------

PAYLOAD_MAX_DEPTH = 3
PAYLOAD_MAX_BYTES = 2 * 1024 * 1024


def _decode_literal(node: ast.AST, visitor: _Visitor) -> bytes | None:
    """Evaluate a decode chain over literals with data-only transforms; None when not literal.

    Supports base64/base32/base16/base85, hex, zlib/gzip/bz2/lzma, rot13, ``.decode()``/
    ``.encode()`` and ``compile(x, …)`` (which passes ``x`` through). Output is capped so a
    decompression bomb cannot exhaust memory.
    """
    try:
        value = _evaluate(node, visitor)
    except (
        ValueError,
        TypeError,
        LookupError,
        OSError,
        EOFError,
        zlib.error,
        lzma.LZMAError,
        binascii.Error,
    ):
        return None
    if isinstance(value, str):
        return value.encode("utf-8", "replace")
    return value


def _evaluate(node: ast.AST, visitor: _Visitor) -> bytes | str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
        return node.value
    if not isinstance(node, ast.Call):
        return None
    name = visitor.plain_name(node.func) or ""
    method = node.func.attr if isinstance(node.func, ast.Attribute) else ""
    if method in ("decode", "encode") and isinstance(node.func, ast.Attribute):
        inner = _evaluate(node.func.value, visitor)
        codec = (visitor.fold(node.args[0]) if node.args else None) or "utf-8"
        return _apply_codec(inner, codec.lower(), encode=method == "encode")
    if not node.args:
        return None
    inner = _evaluate(node.args[0], visitor)
    if inner is None:
        return None
    data = inner.encode("latin-1", "replace") if isinstance(inner, str) else inner
    if name == "compile":
        return inner
    if name in ("base64.b64decode", "base64.decodebytes", "base64.decodestring", "binascii.a2b_base64"):
        return _capped(base64.b64decode(data))
    if name == "base64.urlsafe_b64decode":
        return _capped(base64.urlsafe_b64decode(data))
    if name == "base64.b32decode":
        return _capped(base64.b32decode(data))
    if name == "base64.b16decode":
        return _capped(base64.b16decode(data))
    if name in ("base64.b85decode",):
        return _capped(base64.b85decode(data))
    if (
        name in ("bytes.fromhex", "bytearray.fromhex", "binascii.unhexlify", "binascii.a2b_hex")
        or method == "fromhex"
    ):
        return _capped(bytes.fromhex(data.decode("latin-1")))
    if name == "zlib.decompress":
        decompressor = zlib.decompressobj(zlib.MAX_WBITS | 32)  # zlib or gzip header
        return _capped(decompressor.decompress(data, PAYLOAD_MAX_BYTES + 1))
    if name == "gzip.decompress":
        return _capped(zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(data, PAYLOAD_MAX_BYTES + 1))
    if name == "bz2.decompress":
        return _capped(bz2.BZ2Decompressor().decompress(data, PAYLOAD_MAX_BYTES + 1))
    if name == "lzma.decompress":
        return _capped(lzma.LZMADecompressor().decompress(data, PAYLOAD_MAX_BYTES + 1))
    if name == "codecs.decode" and len(node.args) > 1:
        codec_arg = visitor.fold(node.args[1])
        return _apply_codec(inner, (codec_arg or "").lower(), encode=False)
    return None


def _apply_codec(value: bytes | str | None, codec: str, *, encode: bool) -> bytes | str | None:
    if value is None:
        return None
    if codec in ("rot13", "rot_13"):
        text = value if isinstance(value, str) else value.decode("latin-1")
        return codecs.decode(text, "rot13")
    if codec in ("hex", "base64", "zlib"):
        data = value.encode("latin-1") if isinstance(value, str) else value
        if encode:
            return None
        if codec == "hex":
            return _capped(bytes.fromhex(data.decode("latin-1")))
        if codec == "base64":
            return _capped(base64.b64decode(data))
        return _capped(zlib.decompressobj().decompress(data, PAYLOAD_MAX_BYTES + 1))
    if encode:
        return value.encode(codec, "replace") if isinstance(value, str) else value
    return value.decode(codec, "replace") if isinstance(value, bytes) else value


def _capped(data: bytes) -> bytes:
    if len(data) > PAYLOAD_MAX_BYTES:
        raise ValueError("payload larger than the decoding cap")
    return data


def _dedupe(caps: Iterable[Capability]) -> list[Capability]:
    unique: dict[tuple[str, int, str, str], Capability] = {}
    for cap in caps:
        unique.setdefault((cap.file, cap.line, cap.kind, cap.value), cap)
    return sorted(unique.values(), key=lambda c: (c.file, c.line, c.kind, c.value))
