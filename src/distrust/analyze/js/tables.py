"""What the JavaScript analyser looks for, as data.

Each table row names an API or a marker, the capability kind it yields and why it matters, so
that adding an email SDK or a new stealer target is a one-line change reviewed as data, and the
tables double as documentation of what is (and is not) detected. The engine in ``engine.py``
only knows how to match rows against the syntax tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from distrust.analyze.lazyregex import LazyRegex

# --- module identity -----------------------------------------------------------------------

# A module specifier (as written in ``require``/``import``) mapped to the family whose API table
# applies. Drop-in replacements share a family: ``fs-extra`` and ``promise-fs`` read files
# exactly like ``fs``, which is how the an0n-chat-lib stealer reads browser token stores.
MODULE_FAMILIES: dict[str, str] = {
    "fs": "fs",
    "fs/promises": "fs",
    "fs-extra": "fs",
    "graceful-fs": "fs",
    "promise-fs": "fs",
    "mz/fs": "fs",
    "original-fs": "fs",
    "child_process": "child_process",
    "cross-spawn": "child_process",
    "execa": "execa",
    "shelljs": "shelljs",
    "os": "os",
    "vm": "vm",
    "http": "http",
    "https": "http",
    "http2": "http",
    "net": "net",
    "tls": "net",
    "dns": "dns",
    "dns/promises": "dns",
    "axios": "axios",
    "got": "got",
    "undici": "undici",
    "node-fetch": "fetch",
    "cross-fetch": "fetch",
    "isomorphic-fetch": "fetch",
    "ky": "fetch",
    "request": "request",
    "superagent": "request",
    "needle": "request",
    "ws": "ws",
    "nodemailer": "nodemailer",
    "postmark": "postmark",
    "@sendgrid/mail": "sendgrid",
    "mailgun.js": "mailgun",
    "mailgun-js": "mailgun",
    "resend": "resend",
    "@aws-sdk/client-ses": "ses",
    "@aws-sdk/client-sesv2": "ses",
    "aws-sdk": "ses",
}

# When a receiver is not bound by an import we can see (a global, a parameter, a bundler's
# renamed import), its conventional name is the best evidence of what it is.
CONVENTIONAL_NAMES: dict[str, str] = {
    "fs": "fs",
    "fsp": "fs",
    "fse": "fs",
    "fsPromises": "fs",
    "fsExtra": "fs",
    "child_process": "child_process",
    "childProcess": "child_process",
    "cp": "child_process",
    "os": "os",
    "vm": "vm",
    "http": "http",
    "https": "http",
    "http2": "http",
    "net": "net",
    "tls": "net",
    "dns": "dns",
    "axios": "axios",
    "got": "got",
    "undici": "undici",
    "shell": "shelljs",
    "shelljs": "shelljs",
    "sgMail": "sendgrid",
    "sendgrid": "sendgrid",
    "mg": "mailgun",
    "mailgun": "mailgun",
    "resend": "resend",
    "ses": "ses",
    "Bun": "bun",
    "Deno": "deno",
}


def module_family(specifier: str) -> str | None:
    """The API family of a module specifier; ``node:`` prefixes and deep paths are ignored."""
    spec = specifier.removeprefix("node:")
    if spec in MODULE_FAMILIES:
        return MODULE_FAMILIES[spec]
    if spec.startswith("@aws-sdk/client-ses"):
        return "ses"
    return None


# --- call sites ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallRule:
    """One API call that is a capability.

    ``families`` lists the module families the receiver (or the imported function) must belong
    to; ``None`` means any receiver, for method names distinctive enough on their own
    (``sendEmailWithTemplate``). ``target`` says which argument holds what the call acts on
    (the URL, path or command): an index, or -1 for none.
    """

    method: str
    kind: str
    families: frozenset[str] | None
    label: str
    target: int = 0
    why: str = ""


def _rules(
    kind: str, families: str | None, methods: str, *, target: int = 0, why: str = ""
) -> list[CallRule]:
    fams = frozenset(families.split()) if families else None
    out = []
    for method in methods.split():
        prefix = families.split()[0] if families else ""
        label = f"{prefix}.{method}" if prefix else method
        out.append(CallRule(method, kind, fams, label, target, why))
    return out


CALL_RULES: list[CallRule] = [
    # files: the stealer families read token stores and key files through plain fs calls
    *_rules("file.read", "fs", "readFile readFileSync createReadStream readdir readdirSync opendir "
            "opendirSync readJson readJsonSync", why="reads files"),
    *_rules("file.write", "fs", "writeFile writeFileSync appendFile appendFileSync createWriteStream "
            "chmod chmodSync chown chownSync rename renameSync symlink symlinkSync truncate truncateSync "
            "outputFile outputFileSync writeJson writeJsonSync mkdir mkdirSync", why="writes files"),
    *_rules("file.write", "fs", "copyFile copyFileSync cp cpSync copy copySync move moveSync", target=1,
            why="copies files (target is the destination)"),
    *_rules("file.delete", "fs", "unlink unlinkSync rm rmSync rmdir rmdirSync remove removeSync "
            "emptyDir emptyDirSync", why="deletes files"),
    # processes
    *_rules("process.spawn", "child_process", "exec execSync spawn spawnSync execFile execFileSync fork",
            why="runs another program"),
    *_rules("process.spawn", "execa", "execa execaSync execaCommand execaCommandSync execaNode command "
            "commandSync", why="runs another program"),
    *_rules("process.spawn", "shelljs", "exec", why="runs a shell command"),
    *_rules("process.spawn", "bun", "spawn spawnSync", why="runs another program"),
    *_rules("process.spawn", "deno", "run Command", why="runs another program"),
    # dynamic code
    *_rules("code.dynamic", "vm", "runInNewContext runInThisContext runInContext compileFunction",
            why="evaluates code built at run time"),
    # network
    *_rules("network.request", "http", "request get connect", why="makes an HTTP request"),
    *_rules("network.request", "axios", "request get post put patch delete head options postForm",
            why="makes an HTTP request"),
    *_rules("network.request", "got", "get post put patch delete head stream", why="makes an HTTP request"),
    *_rules("network.request", "undici", "request fetch stream connect", why="makes an HTTP request"),
    *_rules("network.request", "request", "get post put patch del head", why="makes an HTTP request"),
    *_rules("network.request", "net", "connect createConnection", why="opens a raw socket"),
    *_rules("network.request", "dns", "lookup resolve resolve4 resolve6 resolveAny resolveTxt resolveCname "
            "resolveMx resolveNs resolveSrv", why="DNS lookups can carry data out (DNS exfiltration)"),
    # recon
    *_rules("recon.system", "os", "userInfo hostname networkInterfaces", target=-1,
            why="fingerprints the victim machine"),
    # email: the postmark-mcp backdoor added a Bcc to the object passed to sendEmail
    *_rules("email.send", None, "sendEmail sendEmailBatch sendEmailWithTemplate sendEmailBatchWithTemplates "
            "sendMail send_mail", target=-1, why="sends email"),
    *_rules("email.send", "sendgrid", "send sendMultiple", target=-1, why="sends email through SendGrid"),
    *_rules("email.send", "ses", "sendEmail sendRawEmail sendTemplatedEmail sendBulkTemplatedEmail",
            target=-1, why="sends email through AWS SES"),
]

# Bare function calls that need no receiver (globals, or names that are unmistakable).
GLOBAL_CALLS: dict[str, tuple[str, str]] = {
    "fetch": ("network.request", "fetch"),
    "axios": ("network.request", "axios"),
    "got": ("network.request", "got"),
    "sendMail": ("email.send", "sendMail"),
    "sendEmail": ("email.send", "sendEmail"),
    "send_mail": ("email.send", "send_mail"),
}

# Calls of a whole module (``const spawn = require('cross-spawn'); spawn(cmd)``).
MODULE_CALLS: dict[str, tuple[str, str]] = {
    "child_process": ("process.spawn", "cross-spawn"),
    "execa": ("process.spawn", "execa"),
    "axios": ("network.request", "axios"),
    "got": ("network.request", "got"),
    "fetch": ("network.request", "fetch"),
    "request": ("network.request", "request"),
}

# Two-level receivers: ``mg.messages.create``, ``resend.emails.send``.
NESTED_EMAIL_CALLS: dict[tuple[str, str], str] = {
    ("messages", "create"): "mailgun.messages.create",
    ("emails", "send"): "resend.emails.send",
    ("batch", "send"): "resend.batch.send",
}
# Families or receiver root names that make a nested call an email call rather than, say,
# Twilio's SMS ``client.messages.create``.
NESTED_EMAIL_ROOTS: dict[str, frozenset[str]] = {
    "mailgun.messages.create": frozenset({"mailgun"}),
    "resend.emails.send": frozenset({"resend"}),
    "resend.batch.send": frozenset({"resend"}),
}

# Constructors whose instances are email sends (AWS SDK v3 command objects).
EMAIL_COMMANDS: frozenset[str] = frozenset({"SendEmailCommand", "SendRawEmailCommand",
                                            "SendBulkEmailCommand", "SendTemplatedEmailCommand",
                                            "SendBulkTemplatedEmailCommand"})

# Constructors that open a network connection to their first argument.
NETWORK_CONSTRUCTORS: frozenset[str] = frozenset({"WebSocket", "EventSource"})

# Methods whose call with ``process.env`` as an argument serialises the whole environment.
DYNAMIC_CODE_GLOBALS: frozenset[str] = frozenset({"eval", "Function"})
GLOBAL_OBJECTS: frozenset[str] = frozenset({"window", "global", "globalThis", "self"})
OS_DETAIL_METHODS: frozenset[str] = frozenset({"platform", "type", "release", "arch", "version", "cpus",
                                               "totalmem", "homedir", "machine"})
# How many distinct os.* detail calls in one file make a fingerprint rather than a platform check.
OS_DETAIL_THRESHOLD = 3

# Every method/function name the native query must surface; the engine decides in Python.
QUERY_METHODS: frozenset[str] = frozenset(
    {r.method for r in CALL_RULES}
    | {m for _, m in NESTED_EMAIL_CALLS}
    | OS_DETAIL_METHODS
    | {"tool", "registerTool", "setRequestHandler", "open", "eval", "get", "toObject", "send", "default"}
    | {"from", "fromCharCode"}  # Buffer.from(literal, "base64"), String.fromCharCode(…): decoded statically
)
QUERY_FUNCTIONS: frozenset[str] = frozenset(
    set(GLOBAL_CALLS)
    | {"require", "eval", "Function", "setTimeout", "setInterval", "setImmediate", "execa", "execaSync",
       "exec", "execSync", "spawn", "spawnSync", "execFile", "execFileSync", "fork", "userInfo", "hostname",
       "networkInterfaces", "atob", "__importDefault", "__importStar", "_interopRequireDefault",
       "_interopRequireWildcard"}
    | {r.method for r in CALL_RULES if r.families and r.families & {"fs", "os", "child_process", "vm", "dns"}}
)
QUERY_CONSTRUCTORS: frozenset[str] = frozenset(
    EMAIL_COMMANDS | NETWORK_CONSTRUCTORS | {"Function", "Script", "McpServer", "Server", "XMLHttpRequest"}
)

# Wrappers compilers put around ``require`` (TypeScript, Babel); the binding is still the module.
REQUIRE_WRAPPERS: frozenset[str] = frozenset({"__importDefault", "__importStar", "_interopRequireDefault",
                                              "_interopRequireWildcard", "__toESM", "__toCommonJS"})

# Decoders whose output flowing straight into eval/Function is the classic loader pattern.
DECODE_MARKERS = LazyRegex(
    # Buffer.from(data, encoding) handed to eval decodes whatever the encoding expression says.
    rb"\batob\s*\(|Buffer\.from\s*\([^()]*,|fromCharCode|"
    rb"\bunescape\s*\(|decodeURIComponent\s*\(|\.toString\(\s*['\"`]base64|\bdecrypt|createDecipher"
)

# --- email -------------------------------------------------------------------------------------

# Recipient fields, any casing, mapped to the canonical name the rules read. AWS SES nests them
# under ``Destination`` as ``*Addresses``; Resend and Mailgun use snake case for reply-to.
RECIPIENT_FIELDS: dict[str, str] = {
    "to": "to",
    "cc": "cc",
    "bcc": "bcc",
    "toaddresses": "to",
    "ccaddresses": "cc",
    "bccaddresses": "bcc",
    "replyto": "replyto",
    "reply_to": "replyto",
    "replytoaddresses": "replyto",
}
# Keys that make an object look like an email message on their own (case-insensitive).
MAIL_CONTENT_FIELDS: frozenset[str] = frozenset({"subject", "htmlbody", "textbody", "html", "text",
                                                  "templateid", "templatealias", "templatemodel"})
MAIL_ADDRESS_FIELDS: frozenset[str] = frozenset({"from", "sender", "source", *RECIPIENT_FIELDS})
# How many mail-ish keys make an object a message even when we cannot see it being sent.
MAIL_KEYS_FOR_MESSAGE = 2

EMAIL_RE = re.compile(rb"[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}")

# --- environment --------------------------------------------------------------------------------

# Substrings of an environment variable name that suggest a secret. Matched on the upper-cased
# name, so ``npm_config__authToken`` counts as well as ``NPM_TOKEN``.
SECRET_ENV_MARKERS: tuple[str, ...] = ("TOKEN", "SECRET", "KEY", "PASSWORD", "PASSWD", "PASS", "PWD",
                                       "AUTH", "CREDENTIAL", "PRIVATE", "SESSION", "COOKIE", "SIGNATURE",
                                       "CERT", "JWT", "BEARER", "DSN")
# Secret names that are not secrets (a KEYBOARD layout, a PWD that is the working directory).
NOT_SECRET_ENV: frozenset[str] = frozenset({"PWD", "OLDPWD", "KEYBOARD", "PASSIVE", "DEBUG_PASSIVE"})
# Tokens that can publish packages or push code: reading one next to a publish/API call is how
# worms (Shai-Hulud, the nx compromise) spread.
PROPAGATION_TOKENS: frozenset[str] = frozenset({"NPM_TOKEN", "NODE_AUTH_TOKEN", "GITHUB_TOKEN", "GH_TOKEN",
                                                "NPM_CONFIG__AUTHTOKEN", "GITLAB_TOKEN", "PYPI_TOKEN"})
PROPAGATION_ENDPOINTS = LazyRegex(r"registry\.npmjs\.org|api\.github\.com|npm publish|upload\.pypi\.org")


def is_secret_env(name: str) -> bool:
    """True when an environment variable name looks like it holds a credential."""
    upper = name.upper()
    if upper in NOT_SECRET_ENV:
        return False
    return any(marker in upper for marker in SECRET_ENV_MARKERS)


# --- string markers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Marker:
    """A pattern that makes a string literal a capability wherever it appears in code."""

    id: str
    kind: str
    pattern: LazyRegex[str]
    why: str


def _m(id_: str, kind: str, pattern: str, why: str) -> Marker:
    return Marker(id_, kind, LazyRegex(pattern, re.IGNORECASE), why)


_SEP = r"[\\/]+"
STRING_MARKERS: tuple[Marker, ...] = (
    # credentials and private files
    _m("ssh", "file.read.sensitive", r"(?:^|[\\/~])\.ssh(?:[\\/]|$)|\bid_(?:rsa|dsa|ecdsa|ed25519)\b",
       "SSH keys"),
    _m("npmrc", "file.read.sensitive", r"\.npmrc\b", "npm registry tokens"),
    _m("pypirc", "file.read.sensitive", r"\.pypirc\b", "PyPI upload tokens"),
    _m("aws", "file.read.sensitive", rf"\.aws{_SEP}(?:credentials|config)\b", "AWS keys"),
    _m("dotenv", "file.read.sensitive", r"(?:^|[\\/~])\.env(?:\.[\w-]+)?$", "application secrets"),
    _m("git-credentials", "file.read.sensitive", r"\.git-credentials\b", "git passwords"),
    _m("docker", "file.read.sensitive", rf"\.docker{_SEP}config\.json", "registry logins"),
    _m("kube", "file.read.sensitive", rf"\.kube{_SEP}config\b", "cluster credentials"),
    _m("gnupg", "file.read.sensitive", r"(?:^|[\\/~])\.gnupg\b", "PGP private keys"),
    _m("browser-leveldb", "file.read.sensitive", rf"Local Storage{_SEP}leveldb|(?:^|[\\/])leveldb(?:[\\/]|$)",
       "browser and Discord token stores"),
    _m("browser-logins", "file.read.sensitive", r"(?:^|[\\/])(?:Login Data|Web Data|Cookies|Local State)$",
       "browser password and cookie databases"),
    _m("browser-profile", "file.read.sensitive",
       rf"Google{_SEP}Chrome|Chromium{_SEP}|BraveSoftware|Microsoft{_SEP}Edge|Mozilla{_SEP}Firefox|"
       rf"Firefox{_SEP}Profiles|\.mozilla{_SEP}firefox|Opera Software|Yandex{_SEP}YandexBrowser|"
       rf"User Data{_SEP}Default|key4\.db|logins\.json|cookies\.sqlite", "browser profiles"),
    _m("wallet", "file.read.sensitive",
       r"\bExodus\b|\bElectrum\b|\bMetaMask\b|wallet\.dat|(?:^|[\\/~])\.solana\b|\bAtomic Wallet\b|"
       r"nkbihfbeogaeaoehlefnkodbefgpgknn|Ethereum[\\/]+keystore", "crypto wallets"),
    _m("discord", "file.read.sensitive", r"discord(?:canary|ptb)?[\\/]", "Discord tokens"),
    _m("mcp-config", "file.read.sensitive",
       r"claude_desktop_config\.json|(?:^|[\\/])mcp\.json$|(?:^|[\\/~])\.cursor(?:[\\/]|$)|"
       rf"\.codeium{_SEP}windsurf|\.claude\.json", "MCP client configs hold other servers' API keys"),
    _m("etc-passwd", "file.read.sensitive", r"/etc/(?:passwd|shadow)\b", "system accounts"),
    _m("keychain", "file.read.sensitive", r"Library[\\/]+Keychains|login\.keychain", "macOS keychain"),
    # persistence
    _m("shell-rc", "persistence", r"(?:^|[\\/~])\.(?:bashrc|zshrc|bash_profile|zprofile|profile)$|"
       r"(?:^|[\\/~])\.(?:bashrc|zshrc|bash_profile|zprofile)\b", "runs at every shell start"),
    _m("cron", "persistence", r"\bcrontab\b|/etc/cron", "runs on a schedule"),
    _m("systemd", "persistence", rf"systemd{_SEP}(?:user|system)\b|/etc/systemd/", "runs as a service"),
    _m("launchd", "persistence", r"Launch(?:Agents|Daemons)", "runs at macOS login"),
    _m("autostart", "persistence", rf"Start Menu{_SEP}Programs{_SEP}Startup|\.config{_SEP}autostart|"
       rf"CurrentVersion{_SEP}Run(?:Once)?\b", "runs at login"),
    # propagation
    _m("npm-publish", "propagation", r"\bnpm\s+publish\b", "publishes packages"),
    _m("npm-authtoken", "propagation", r"_authToken", "writes or reads npm publish tokens"),
    _m("workflows", "propagation", rf"\.github{_SEP}workflows", "plants CI workflows"),
    _m("git-push", "propagation", r"\bgit\s+push\b", "pushes code"),
    # crypto
    _m("eth-tx", "crypto.wallet", r"\beth_(?:sendTransaction|signTransaction|sign|requestAccounts)\b",
       "wallet transaction interception"),
    _m("eth-address", "crypto.wallet", r"\b0x(?!0{40}\b)[0-9a-fA-F]{40}\b", "Ethereum address"),
    _m("btc-bech32", "crypto.wallet", r"^bc1[02-9ac-hj-np-z]{25,87}$", "Bitcoin address"),
    _m("btc-base58", "crypto.wallet", r"^[13][1-9A-HJ-NP-Za-km-z]{25,34}$", "Bitcoin address"),
    # recon: public-IP lookups tell the attacker where the victim is
    _m("public-ip", "recon.system",
       r"\b(?:api\d?\.ipify\.org|ifconfig\.me|ipinfo\.io|icanhazip\.com|checkip\.amazonaws\.com|ip-api\.com|"
       r"ipecho\.net|myexternalip\.com|wtfismyip\.com|ident\.me|ipapi\.co|api\.myip\.com)\b",
       "public IP lookup"),
)

# A cheap byte-level prefilter: only strings containing one of these are tested against every
# marker above, so huge files pay one native regex scan instead of a Python loop per string.
MARKER_PREFILTER = re.compile(
    rb"\.ssh|id_(?:rsa|dsa|ecdsa|ed25519)|\.npmrc|\.pypirc|\.aws|\.env|\.docker|\.kube|"
    rb"\.gnupg|leveldb|login data|web data|cookies|local state|chrom|brave|edge|firefox|mozilla|opera|"
    rb"yandex|user data|key4|logins\.json|exodus|electrum|metamask|wallet|\.solana|nkbihf|keystore|"
    rb"discord|claude|mcp\.json|\.cursor|windsurf|/etc/|keychain|bashrc|zshrc|profile|crontab|systemd|"
    rb"launch|startup|autostart|currentversion|publish|_authtoken|workflows|git\s+push|eth_|0x[0-9a-f]{40}|"
    rb"ipify|ifconfig|ipinfo|icanhazip|checkip|ip-api|ipecho|myexternalip|wtfismyip|ident\.me|ipapi|myip"
)
"""Searched in the lower-cased string: case-insensitive regexes cost five times more per string."""


def may_be_address(content: bytes) -> bool:
    """Bitcoin-style addresses are whole literals; checked by shape, too broad for the prefilter."""
    return 26 <= len(content) <= 90 and content[:1] in (b"1", b"3", b"b") and b" " not in content

URL_RE = re.compile(rb"\b(?:https?|wss?|ftp)://[A-Za-z0-9\[][^\s\"'`<>\\{}|^]*", re.IGNORECASE)
IPV4_RE = re.compile(rb"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")

# --- obfuscation ---------------------------------------------------------------------------------

LONG_STRING_CHARS = 200
ENTROPY_BITS_PER_CHAR = 4.5
BASE64_BLOB_RE = LazyRegex(r"[A-Za-z0-9+/_-]{200,}={0,2}")
HEX_BLOB_RE = LazyRegex(r"(?:\\x)?[0-9a-fA-F]{200,}|(?:\\x[0-9a-fA-F]{2}){100,}")
OBFUSCATED_IDENT_RE = re.compile(rb"\b_0x[0-9a-fA-F]{4,}\b")
OBFUSCATED_IDENT_THRESHOLD = 10
# Invisible and bidirectional-control characters (Trojan Source, hidden prompt text), plus
# Unicode tag characters and Hangul fillers that render as nothing.
INVISIBLE_UNICODE_RE = LazyRegex(
    "[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u115f\u1160\u3164\uffa0"
    "\U000e0000-\U000e007f]"
)
# The same set as UTF-8 byte sequences, to scan raw source without decoding it.
INVISIBLE_UNICODE_BYTES_RE = re.compile(
    rb"\xe2\x80[\x8b-\x8f\xaa-\xae]|\xe2\x81[\xa0-\xa4\xa6-\xa9]|\xef\xbb\xbf|\xe1\x85[\x9f\xa0]|"
    rb"\xe3\x85\xa4|\xef\xbe\xa0|\xf3\xa0[\x80\x81][\x80-\xbf]"
)
MINIFIED_AVG_LINE = 500
MINIFIED_LONG_LINE = 5000
MINIFIED_MAX_WHITESPACE = 0.1

# --- MCP -----------------------------------------------------------------------------------------

MCP_DESCRIPTION_CHARS = 200
# Hidden instructions aimed at the model rather than the user (Invariant Labs' "tool poisoning").
INJECTION_MARKERS: tuple[Marker, ...] = (
    _m("tag", "mcp.prompt_injection", r"<\s*(?:IMPORTANT|SYSTEM|INSTRUCTIONS?|SECRET|HIDDEN)\s*>",
       "tags that address the model"),
    _m("ignore", "mcp.prompt_injection",
       r"ignore (?:all |any )?(?:previous|prior|above|earlier) (?:instructions|prompts|rules)",
       "overrides the system prompt"),
    _m("conceal", "mcp.prompt_injection",
       r"(?:do not|don't|never) (?:tell|mention|inform|reveal|notify|show)\b[^.]{0,40}\buser",
       "hides behaviour from the user"),
    _m("preread", "mcp.prompt_injection", r"before (?:using|calling|you use) this tool,? (?:you must )?read",
       "asks the model to read files first"),
    _m("secret-file", "mcp.prompt_injection", r"~/\.ssh|\bid_rsa\b|mcp\.json|\.cursor/|\.env\b|"
       r"claude_desktop_config", "points the model at secret files"),
    _m("shadowing", "mcp.prompt_injection", r"\binstead of (?:the )?[\w.-]+ tool|\buse this tool instead\b|"
       r"\bwhen (?:the )?[\w.-]+ tool is (?:called|used)", "redirects other tools"),
)
