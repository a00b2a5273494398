"""The vocabulary of capabilities the Risk Engine records.

Every analyser (JavaScript, Python, manifests, binaries) speaks this one vocabulary so that
the diff and the rules never care which language a capability came from. A kind is a dotted
name; ``Capability.value`` holds the literal it is about (a URL, an address, an env name…),
or ``<dynamic>`` when the code computes it at run time.
"""

from __future__ import annotations

DYNAMIC = "<dynamic>"

KINDS: dict[str, str] = {
    # network
    "network.url": "a URL literal (http, https, ws, ftp…) anywhere in code",
    "network.host": "a host name or IP a network call targets (value: host[:port])",
    "network.ip": "a literal IP address (not loopback/private documentation ranges)",
    "network.request": "a network call site: fetch/http(s).request/axios/XMLHttpRequest/requests/urllib/"
    "httpx/socket/net.connect/dns (value: API name and target or <dynamic>)",
    "network.listen": "a server socket opened (http.createServer().listen, net.createServer, socket.bind, "
    "Flask/uvicorn run(host=...), serve_forever)",
    "network.send_secret": "a request to a hard-coded URL whose payload carries secret-looking fields "
    "(value: 'API URL carries names', e.g. 'requests.post https://host/x carries self._secret_key')",
    # email
    "email.send": "a call into a mail-sending API: postmark sendEmail*, nodemailer sendMail, SendGrid send, "
    "Mailgun messages.create, SES SendEmail/SendRawEmail, Resend emails.send, smtplib (value: API)",
    "email.recipient": "a recipient field in an object handed to a mail API: value 'field=literal' e.g. "
    "'bcc=phan@giftshop.club' or 'bcc=<dynamic>'; field lower-cased (to, cc, bcc, replyto)",
    "email.address": "a literal email address anywhere in code",
    # environment and secrets
    "env.read": "an environment variable read by name",
    "env.read.secret": "an environment variable whose name looks secret (TOKEN, KEY, SECRET, PASSWORD…)",
    "env.enumerate": "the whole environment read or serialised "
    "(JSON.stringify(process.env), os.environ.copy())",
    # files
    "file.read.sensitive": "a read of a credential or private location (~/.ssh, .npmrc, .pypirc, .aws, .env, "
    "browser profiles, crypto wallets, MCP client configs, /etc/passwd…) (value: the path literal)",
    "file.read": "a file read (value: path literal or <dynamic>)",
    "file.write": "a file write/append/copy/chmod (value: path literal or <dynamic>)",
    "file.delete": "a file or directory removal (unlink, rm -rf, rmtree…)",
    # processes and dynamic code
    "process.spawn": "a child process (child_process.*, subprocess, os.system, os.popen…) (value: command)",
    "code.dynamic": "eval, new Function, vm.run*, exec/compile, computed require/import, __import__ of a "
    "non-literal, pickle/marshal loads of data",
    "code.remote_input": "input from the network (a web request's parameters or body, a socket recv) "
    "flowing into a process command or exec/eval in the same function: a remote shell "
    "(value: 'source -> sink')",
    "code.decode_exec": "a decoded blob (base64/hex/zlib/rot13/charcode) flowing into dynamic code in one "
    "expression, e.g. eval(atob(...)), exec(base64.b64decode(...))",
    # obfuscation
    "obfuscation.entropy": "a long high-entropy string literal",
    "obfuscation.identifiers": "obfuscator-style identifiers (_0x1a2b…), many in one file",
    "obfuscation.blob": "a long base64 or hex blob literal",
    "obfuscation.unicode": "invisible or bidirectional-control unicode in source",
    "obfuscation.minified": "minified code with no readable source shipped beside it",
    "obfuscation.decoded": "text the code hides and the analyser recovered by folding constants: base64/hex/"
    "rot13/zlib decoding, character codes, reversed strings, bits written as spaces and tabs "
    "(value: 'transforms: decoded text', e.g. 'base64: https://host/upload')",
    "obfuscation.offscreen": "code pushed past the right edge of the screen by a long run of blanks on one "
    "line (value: how many blanks, then the hidden code)",
    "obfuscation.filename": "a file whose name in the archive contains control characters (a newline, an "
    "escape…), which breaks listings and reviews; value: the name with those characters made visible",
    # install time
    "install.hook": "an install-time hook: npm preinstall/install/postinstall/prepare "
    "(value: 'name: command'), "
    "setup.py cmdclass / code at setup.py top level, a .pth file with import lines",
    "exec.import_time": "risky code that runs as soon as a Python module is imported (module top level or "
    "functions it calls): value '<kind> <value>' of the capability that runs",
    # dependencies and binaries
    "dependency": "a declared dependency (value: 'name@spec')",
    "dependency.url": "a dependency fetched from git/http/file/link instead of the registry",
    "dependency.install_hook": "a dependency (added in a diff) whose own manifest runs an install hook "
    "(value: 'name@version: hook command'); emitted by the diff when it can read the dependency",
    "binary.native": "a native binary shipped (.node, .so, .dll, .dylib, .exe, .wasm, ELF/Mach-O/PE magic)",
    # behaviour classes
    "recon.system": "system reconnaissance: username, hostname, network interfaces, OS details, "
    "public-IP lookups, process lists",
    "persistence": "writes to shell rc files, cron, systemd units, launch agents, autostart, "
    "registry Run keys",
    "propagation": "self-propagation: npm publish/token use, registry credentials, CI workflow file writes, "
    "git push",
    "crypto.wallet": "crypto wallet addresses or wallet-drainer hooks (window.ethereum request interception)",
    # what the package says about itself
    "metadata.self_declared": "the package's own metadata or README calls it a dependency-confusion test, a "
    "security proof of concept, a pentest payload or a malicious demo, or names a bug-bounty researcher's "
    "address (value: 'claim-id: phrase')",
    # MCP
    "mcp.tool": "an MCP tool registration (value: 'name: description' truncated)",
    "mcp.prompt_injection": "prompt-injection markers in a tool/prompt description (hidden instructions to "
    "the model, <IMPORTANT> blocks, 'do not tell the user', references to other tools or secret files)",
}


def is_known(kind: str) -> bool:
    """True for kinds in the vocabulary; analysers assert this in tests so typos fail loudly."""
    return kind in KINDS
