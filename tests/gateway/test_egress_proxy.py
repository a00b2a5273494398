"""The egress proxy end to end: real clients (httpx, urllib, curl) through a real proxy and TLS.

The stand-in upstream is a small threaded ``http.server`` that records what reaches it, so a
test can prove that a blocked request never left the proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from distrust.gateway.egress import InflightCall, InspectionContext, Inspector, OutboundRequest, Verdict
from distrust.gateway.egress.policy import EgressPolicy
from distrust.gateway.egress.proxy import EgressProxy, EgressProxyThread
from distrust.gateway.egress.tls import CertificateAuthority

SERVER = "postmark"
POSTMARK = "api.postmarkapp.com"


# --- test doubles: a recording upstream, an intent source, a Bcc-blocking inspector -----------------


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class StandIn:
    """A local HTTP(S) server that records every request and answers with a small JSON body."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.received: list[Received] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                received.append(
                    Received(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                payload = json.dumps({"ok": True, "MessageID": f"m-{len(received)}"}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.send_header("x-upstream", "stand-in")
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # the default 5 drops SYNs under the 50-request load test

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class FakeIntent:
    calls: list[InflightCall] = field(default_factory=list)
    flagged: list[tuple[str, str, str]] = field(default_factory=list)

    def inflight(self, server: str) -> list[InflightCall]:
        return list(self.calls) if server == SERVER else []

    def flag(self, server: str, call_id: str, detail: str) -> None:
        self.flagged.append((server, call_id, detail))


class BccBlocker:
    """Blocks a Postmark send whose JSON body has a Bcc; attributes it to the in-flight call."""

    name = "test-bcc"

    def __init__(self) -> None:
        self.seen: list[OutboundRequest] = []

    def matches(self, request: OutboundRequest) -> bool:
        return request.host == POSTMARK

    def inspect(self, request: OutboundRequest, context: InspectionContext) -> Verdict | None:
        self.seen.append(request)
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return Verdict(allow=False, reason="unreadable JSON", inspector=self.name)
        if "Bcc" in data:
            call_id = context.calls[0].call_id if context.calls else None
            return Verdict(
                allow=False,
                reason=f"hidden recipient Bcc={data['Bcc']}",
                inspector=self.name,
                field="Bcc",
                value=str(data["Bcc"]),
                call_id=call_id,
            )
        return Verdict(allow=True, inspector=self.name)


class Exploding:
    name = "exploding"

    def matches(self, request: OutboundRequest) -> bool:
        return request.path.startswith("/explode")

    def inspect(self, request: OutboundRequest, context: InspectionContext) -> Verdict | None:
        raise RuntimeError("bug in an inspector")


@dataclass
class Rig:
    proxy_url: str
    proxy: EgressProxy
    upstream: StandIn
    intent: FakeIntent
    inspector: BccBlocker
    events: list[dict[str, Any]]
    ca: CertificateAuthority

    def client_ssl(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca.ca_cert_path))

    def client(self) -> httpx.Client:
        return httpx.Client(proxy=self.proxy_url, verify=self.client_ssl(), trust_env=False, timeout=10)

    def decisions(self, expected: int = 0) -> list[str]:
        """The audit decisions so far, waiting briefly for ``expected`` of them: the proxy records
        a forwarded request after its last byte went out, so the client can finish first."""
        deadline = time.monotonic() + 5
        while len(self.events) < expected and time.monotonic() < deadline:
            time.sleep(0.005)
        return [e["decision"] for e in self.events]


def _start(
    tmp_path: Path,
    upstream: StandIn,
    *,
    allow_hosts: Sequence[str] = (),
    overrides: dict[str, str] | None = None,
    deny_private: bool = True,
    inspectors: Sequence[Inspector] | None = None,
    upstream_ssl: ssl.SSLContext | None = None,
    allow_ports: tuple[int, ...] = (80, 443),
    max_body: int = 1 << 20,
) -> tuple[Rig, EgressProxyThread]:
    ca = CertificateAuthority.load_or_create(tmp_path / "ca")
    intent = FakeIntent(calls=[InflightCall("call-7", "sendEmail", {"to": "alice@example.test"})])
    blocker = BccBlocker()
    events: list[dict[str, Any]] = []
    policy = EgressPolicy(
        allow_hosts=tuple(allow_hosts),
        deny_private=deny_private,
        upstream_overrides=overrides if overrides is not None else {POSTMARK: upstream.url},
        allow_ports=allow_ports,
        max_body=max_body,
    )
    proxy = EgressProxy(
        SERVER,
        policy,
        inspectors if inspectors is not None else [blocker, Exploding()],
        intent,
        ca,
        on_event=events.append,
        upstream_ssl=upstream_ssl,
    )
    runner = EgressProxyThread(proxy, tcp=("127.0.0.1", 0))
    runner.start()
    host, port = runner.address  # type: ignore[misc]
    return Rig(f"http://{host}:{port}", proxy, upstream, intent, blocker, events, ca), runner


@pytest.fixture
def upstream() -> Iterator[StandIn]:
    stand_in = StandIn()
    yield stand_in
    stand_in.close()


@pytest.fixture
def rig(tmp_path: Path, upstream: StandIn) -> Iterator[Rig]:
    rig, runner = _start(tmp_path, upstream, allow_hosts=("localhost", "10.1.2.3"))
    yield rig
    runner.stop()


# --- the postmark scenario ---------------------------------------------------------------------------


def test_https_request_is_intercepted_and_forwarded_to_the_override(rig: Rig) -> None:
    with rig.client() as client:
        response = client.post(
            f"https://{POSTMARK}/email?token=secret", json={"To": "alice@example.test", "Subject": "hi"}
        )
    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert response.headers["x-upstream"] == "stand-in"
    [got] = rig.upstream.received
    assert (got.method, got.path) == ("POST", "/email?token=secret")
    assert got.headers["host"] == POSTMARK  # the server still thinks it talks to Postmark
    assert json.loads(got.body) == {"To": "alice@example.test", "Subject": "hi"}
    assert "proxy-connection" not in got.headers
    [seen] = rig.inspector.seen
    assert (seen.scheme, seen.host, seen.port, seen.server) == ("https", POSTMARK, 443, SERVER)
    assert rig.decisions(2) == ["tunnel", "allow"]
    allow = rig.events[-1]
    assert allow["path"] == "/email"  # the query string (tokens) stays out of the audit log
    assert allow["status"] == 200 and allow["bytes_out"] == len(got.body) and allow["bytes_in"] > 0
    assert allow["ms"] >= 0


def test_bcc_is_blocked_never_reaches_upstream_and_flags_the_call(rig: Rig) -> None:
    with rig.client() as client:
        response = client.post(
            f"https://{POSTMARK}/email", json={"To": "alice@example.test", "Bcc": "phan@giftshop.club"}
        )
    assert response.status_code == 403
    body = response.json()
    assert "distrust blocked" in body["error"] and "phan@giftshop.club" in body["error"]
    assert (body["field"], body["value"], body["call_id"]) == ("Bcc", "phan@giftshop.club", "call-7")
    assert body["inspector"] == "test-bcc"
    assert rig.upstream.received == []
    assert rig.intent.flagged == [(SERVER, "call-7", "hidden recipient Bcc=phan@giftshop.club")]
    assert rig.decisions() == ["tunnel", "block"]
    assert rig.events[-1]["call_id"] == "call-7"


def test_gzip_body_is_decoded_before_inspection(rig: Rig) -> None:
    payload = json.dumps({"To": "alice@example.test", "Bcc": "phan@giftshop.club"}).encode()
    with rig.client() as client:
        blocked = client.post(
            f"https://{POSTMARK}/email",
            content=gzip.compress(payload),
            headers={"content-encoding": "gzip", "content-type": "application/json"},
        )
        clean = gzip.compress(json.dumps({"To": "alice@example.test"}).encode())
        allowed = client.post(
            f"https://{POSTMARK}/email",
            content=clean,
            headers={"content-encoding": "gzip", "content-type": "application/json"},
        )
    assert blocked.status_code == 403 and blocked.json()["field"] == "Bcc"
    assert allowed.status_code == 200
    [got] = rig.upstream.received
    assert got.body == clean and got.headers["content-encoding"] == "gzip"  # forwarded as sent


def test_undecodable_encoding_is_refused_not_forwarded(rig: Rig) -> None:
    with rig.client() as client:
        response = client.post(
            f"https://{POSTMARK}/email", content=b"\x0b\x02\x80", headers={"content-encoding": "zstd"}
        )
    assert response.status_code == 415
    assert "cannot be inspected" in response.json()["error"]
    assert rig.upstream.received == []


def test_inspector_that_raises_blocks(rig: Rig) -> None:
    with rig.client() as client:
        response = client.get(f"https://{POSTMARK}/explode")
    assert response.status_code == 403
    assert "exploding failed" in response.json()["error"]
    assert rig.upstream.received == []


def test_body_over_the_cap_is_refused(tmp_path: Path, upstream: StandIn) -> None:
    rig, runner = _start(tmp_path, upstream, max_body=1000)
    try:
        with rig.client() as client:
            response = client.post(f"https://{POSTMARK}/email", content=b"x" * 5000)
        assert response.status_code == 413
        assert upstream.received == []
    finally:
        runner.stop()


def test_keep_alive_serves_two_requests_in_one_tunnel(rig: Rig) -> None:
    with rig.client() as client:
        first = client.post(f"https://{POSTMARK}/email", json={"To": "a@example.test"})
        second = client.post(f"https://{POSTMARK}/email", json={"To": "b@example.test"})
    assert (first.status_code, second.status_code) == (200, 200)
    assert rig.decisions(3) == ["tunnel", "allow", "allow"]
    assert [json.loads(r.body)["To"] for r in rig.upstream.received] == ["a@example.test", "b@example.test"]


def test_urllib_through_the_proxy(rig: Rig) -> None:
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"https": rig.proxy_url, "http": rig.proxy_url}),
        urllib.request.HTTPSHandler(context=rig.client_ssl()),
    )
    request = urllib.request.Request(
        f"https://{POSTMARK}/email",
        data=b'{"To": "a@example.test"}',
        headers={"content-type": "application/json"},
    )
    with opener.open(request, timeout=10) as response:
        assert response.status == 200
    with pytest.raises(urllib.error.HTTPError) as blocked:
        opener.open(
            urllib.request.Request(f"https://{POSTMARK}/email", data=b'{"Bcc": "phan@giftshop.club"}'),
            timeout=10,
        )
    assert blocked.value.code == 403
    assert len(rig.upstream.received) == 1


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")
@pytest.mark.parametrize("expect", [False, True])
def test_curl_through_the_proxy(rig: Rig, expect: bool) -> None:
    body = json.dumps({"To": "a@example.test", "TextBody": "x" * 5000})
    extra = ["-H", "Expect: 100-continue"] if expect else ["-H", "Expect:"]
    result = subprocess.run(
        ["curl", "-sS", "--proxy", rig.proxy_url, "--cacert", str(rig.ca.ca_cert_path), "--noproxy", "",
         "-H", "content-type: application/json", *extra, "-d", body, f"https://{POSTMARK}/email"],
        capture_output=True, text=True, timeout=20, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ok"] is True
    [got] = rig.upstream.received
    assert got.body == body.encode()
    assert "expect" not in got.headers  # hop-by-hop: the proxy already answered it


# --- policy at the proxy -----------------------------------------------------------------------------


def test_host_not_on_allowlist_is_denied_at_connect(rig: Rig) -> None:
    with rig.client() as client, pytest.raises(httpx.ProxyError, match="403"):
        client.get("https://giftshop.club/")
    assert rig.events[-1]["decision"] == "deny"
    assert "allowlist" in rig.events[-1]["reason"]


def test_plain_http_to_unlisted_host_is_denied(rig: Rig) -> None:
    with rig.client() as client:
        response = client.get("http://giftshop.club/collect")
    assert response.status_code == 403
    assert "allowlist" in response.json()["error"]


@pytest.mark.parametrize("url", ["https://localhost/", "https://10.1.2.3/", "http://localhost:80/"])
def test_private_targets_are_denied_even_when_listed(rig: Rig, url: str) -> None:
    with rig.client() as client:
        if url.startswith("https"):
            with pytest.raises(httpx.ProxyError, match="403"):
                client.get(url)
        else:
            response = client.get(url)
            assert response.status_code == 403
            assert "loopback" in response.json()["error"]
    assert rig.events[-1]["decision"] == "deny"


def test_host_header_must_match_the_tunnel(rig: Rig) -> None:
    with rig.client() as client:
        response = client.get(f"https://{POSTMARK}/email", headers={"host": "giftshop.club"})
    assert response.status_code == 403
    assert "does not match" in response.json()["error"]
    assert rig.upstream.received == []
    assert rig.decisions(2)[-1] == "refuse"


def test_plain_http_override_is_forwarded_with_the_checked_host(rig: Rig) -> None:
    with rig.client() as client:
        response = client.get(f"http://{POSTMARK}/server", headers={"host": "giftshop.club"})
    assert response.status_code == 200
    assert rig.upstream.received[0].path == "/server"
    assert rig.upstream.received[0].headers["host"] == POSTMARK


# --- robustness -------------------------------------------------------------------------------------


def _raw_exchange(rig: Rig, data: bytes) -> bytes:
    host, port = rig.proxy_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    "data",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /relative HTTP/1.1\r\nHost: x\r\n\r\n",
        b"CONNECT not a target HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET http://api.postmarkapp.com/ HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
        b"CONNECT [::1:443 HTTP/1.1\r\n\r\n",
    ],
)
def test_malformed_requests_get_400_and_the_proxy_survives(rig: Rig, data: bytes) -> None:
    reply = _raw_exchange(rig, data)
    assert reply.startswith(b"HTTP/1.1 400"), reply
    with rig.client() as client:
        assert client.post(f"https://{POSTMARK}/email", json={"To": "a@example.test"}).status_code == 200


def test_tls_garbage_inside_a_tunnel_does_not_hurt_others(rig: Rig) -> None:
    host, port = rig.proxy_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(f"CONNECT {POSTMARK}:443 HTTP/1.1\r\nHost: {POSTMARK}:443\r\n\r\n".encode())
        assert sock.recv(1024).startswith(b"HTTP/1.1 200")
        sock.sendall(b"this is not a TLS client hello" * 10)
        sock.settimeout(5)
        with contextlib.suppress(ConnectionError):
            while sock.recv(65536):
                pass
    with rig.client() as client:
        assert client.get(f"https://{POSTMARK}/ok").status_code == 200


def test_fifty_concurrent_requests(rig: Rig) -> None:
    async def run() -> list[int]:
        async with httpx.AsyncClient(
            proxy=rig.proxy_url,
            verify=rig.client_ssl(),
            trust_env=False,
            timeout=20,
            limits=httpx.Limits(max_connections=50),
        ) as client:
            responses = await asyncio.gather(
                *(
                    client.post(f"https://{POSTMARK}/email", json={"To": f"u{i}@example.test"})
                    for i in range(50)
                )
            )
        return [r.status_code for r in responses]

    assert asyncio.run(run()) == [200] * 50
    assert len(rig.upstream.received) == 50
    assert sorted(json.loads(r.body)["To"] for r in rig.upstream.received) == sorted(
        f"u{i}@example.test" for i in range(50)
    )


# --- a real TLS upstream: pinned address, SNI and certificate checked for the name ------------------


def test_tls_upstream_is_verified_for_the_requested_name(tmp_path: Path) -> None:
    upstream_ca = CertificateAuthority.load_or_create(tmp_path / "upstream-ca")
    tls_upstream = StandIn(tls=upstream_ca.leaf_context("localhost"))
    trusting = ssl.create_default_context(cafile=str(upstream_ca.ca_cert_path))
    rig, runner = _start(
        tmp_path,
        tls_upstream,
        allow_hosts=("localhost",),
        overrides={},
        deny_private=False,
        upstream_ssl=trusting,
        allow_ports=(tls_upstream.port,),
    )
    try:
        with rig.client() as client:
            ok = client.get(f"https://localhost:{tls_upstream.port}/hello")
        assert ok.status_code == 200 and ok.json()["ok"] is True
        assert tls_upstream.received[0].headers["host"] == f"localhost:{tls_upstream.port}"
    finally:
        runner.stop()
    # The same upstream with the system trust store: its certificate is not trusted, so 502.
    rig2, runner2 = _start(
        tmp_path / "second",
        tls_upstream,
        allow_hosts=("localhost",),
        overrides={},
        deny_private=False,
        allow_ports=(tls_upstream.port,),
    )
    try:
        with rig2.client() as client:
            bad = client.get(f"https://localhost:{tls_upstream.port}/hello")
        assert bad.status_code == 502
        assert rig2.events[-1]["decision"] == "error"
        assert len(tls_upstream.received) == 1
    finally:
        runner2.stop()
        tls_upstream.close()


def test_unix_socket_listener(tmp_path: Path, upstream: StandIn) -> None:
    ca = CertificateAuthority.load_or_create(tmp_path / "ca")
    policy = EgressPolicy(allow_hosts=(), upstream_overrides={POSTMARK: upstream.url})
    proxy = EgressProxy(SERVER, policy, [], FakeIntent(), ca)
    sock_path = tmp_path / "egress.sock"
    with EgressProxyThread(proxy, unix_path=sock_path):
        assert oct(sock_path.stat().st_mode & 0o777) == "0o600"
        transport = httpx.HTTPTransport(uds=str(sock_path))
        with httpx.Client(transport=transport) as client:
            response = client.get(f"http://{POSTMARK}/via-unix", headers={})
            # httpx sends origin-form without a proxy; a raw absolute-form request is what socat relays.
        assert response.status_code == 400
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(sock_path))
            sock.sendall(
                f"GET http://{POSTMARK}/via-unix HTTP/1.1\r\n"
                f"Host: {POSTMARK}\r\nConnection: close\r\n\r\n".encode()
            )
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
        assert reply.startswith(b"HTTP/1.1 200"), reply
    assert upstream.received[-1].path == "/via-unix"
