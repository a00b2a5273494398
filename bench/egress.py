"""How much the egress proxy adds to an HTTPS request a sandboxed server makes.

A small asyncio HTTP/1.1 upstream answers every request with a fixed JSON body. The client
(httpx, as an MCP server's HTTP library would be) sends a small Postmark-like JSON POST:

* direct: straight to the upstream over TLS (a throwaway CA's certificate for ``localhost``);
* proxied: ``https://api.postmarkapp.com/email`` through :class:`EgressProxy`, which terminates
  TLS with its own leaf, runs one inspector that parses the JSON body, and forwards to the same
  upstream through an override (plain http on loopback, so the figure is the proxy's cost and
  not a second TLS hop).

Each is measured on a kept-alive connection (the common case: one tunnel, many requests) and
with a new connection per request (CONNECT + TLS handshake every time). Target: added p50 < 3 ms
on keep-alive. It also times sandbox start-up (a trivial program direct vs inside the sandbox
``distrust run`` builds; target: under 30 ms added). Run from the repository root:

    .venv/bin/python bench/egress.py [--requests 2000] [--new-connections 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import h11
import httpx

from distrust.gateway.egress import InflightCall, InspectionContext, OutboundRequest, Verdict
from distrust.gateway.egress.policy import EgressPolicy
from distrust.gateway.egress.proxy import EgressProxy, EgressProxyThread
from distrust.gateway.egress.tls import CertificateAuthority

HOST = "api.postmarkapp.com"
BODY = {"From": "me@example.test", "To": "alice@example.test", "Subject": "hi", "TextBody": "x" * 200}
ANSWER = json.dumps({"ErrorCode": 0, "Message": "OK", "MessageID": "b7bc2f4a"}).encode()


class Upstream:
    """An HTTP/1.1 keep-alive server on its own loop and thread; TLS when given a context."""

    def __init__(self, tls: ssl.SSLContext | None) -> None:
        self._tls = tls
        self.port = 0
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._run, daemon=True).start()
        self._ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self._tls, backlog=512)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER)
        try:
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    data = await reader.read(65536)
                    conn.receive_data(data)
                    continue
                if isinstance(event, h11.EndOfMessage):
                    headers = [("content-type", "application/json"), ("content-length", str(len(ANSWER)))]
                    writer.write(conn.send(h11.Response(status_code=200, headers=headers)) or b"")
                    writer.write(conn.send(h11.Data(data=ANSWER)) or b"")
                    writer.write(conn.send(h11.EndOfMessage()) or b"")
                    await writer.drain()
                    conn.start_next_cycle()
                elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                    break
        except (ConnectionError, h11.ProtocolError, ssl.SSLError):
            pass
        finally:
            writer.close()


class NoIntent:
    def inflight(self, server: str) -> list[InflightCall]:
        return [InflightCall("1", "send", {})]

    def flag(self, server: str, call_id: str, detail: str) -> None:
        pass


class JsonReader:
    """Stands in for a real email inspector: parses the body and looks for a Bcc."""

    name = "bench-json"

    def matches(self, request: OutboundRequest) -> bool:
        return request.host == HOST

    def inspect(self, request: OutboundRequest, context: InspectionContext) -> Verdict | None:
        data = json.loads(request.body)
        if "Bcc" in data:
            return Verdict(allow=False, reason="Bcc", inspector=self.name)
        return Verdict(allow=True, inspector=self.name)


def timed(n: int, one: Callable[[], None]) -> list[float]:
    one()  # warm up (first leaf, pools)
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        one()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def serve(tmp: Path) -> None:
    """Child process: run both upstreams and the proxy, print their addresses, wait for stdin EOF.

    The proxy gets a process of its own, as in ``distrust run``; sharing the client's interpreter
    would charge the proxy for the client's GIL time.
    """
    upstream_ca = CertificateAuthority.load_or_create(tmp / "upstream-ca")
    tls_upstream = Upstream(upstream_ca.leaf_context("localhost"))
    plain_upstream = Upstream(None)
    proxy_ca = CertificateAuthority.load_or_create(tmp / "proxy-ca")
    policy = EgressPolicy(
        allow_hosts=(), upstream_overrides={HOST: f"http://127.0.0.1:{plain_upstream.port}"}
    )
    proxy = EgressProxy("bench", policy, [JsonReader()], NoIntent(), proxy_ca)
    runner = EgressProxyThread(proxy, tcp=("127.0.0.1", 0))
    runner.start()
    proxy_host, proxy_port = runner.address  # type: ignore[misc]
    info = {
        "proxy": f"http://{proxy_host}:{proxy_port}",
        "direct": f"https://localhost:{tls_upstream.port}/email",
        "upstream_ca": str(upstream_ca.ca_cert_path),
        "proxy_ca": str(proxy_ca.ca_cert_path),
    }
    print(json.dumps(info), flush=True)
    sys.stdin.read()
    runner.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="keep-alive requests per side")
    parser.add_argument("--new-connections", type=int, default=300, help="new-connection requests per side")
    parser.add_argument("--startups", type=int, default=20, help="sandbox start-up runs per program")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        child = subprocess.Popen(
            [sys.executable, __file__, "--serve", tmp],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdin is not None and child.stdout is not None
        try:
            info = json.loads(child.stdout.readline())
            rows = measure(info, args.requests, args.new_connections)
        finally:
            child.stdin.close()
            child.wait(10)

    print(f"{'mode':<16}{'n':>6}{'direct p50':>12}{'p99':>8}{'proxied p50':>13}{'p99':>8}{'added p50':>11}")
    for label, n, d50, d99, p50, p99 in rows:
        print(f"{label:<16}{n:>6}{d50:>10.2f}ms{d99:>7.2f}{p50:>11.2f}ms{p99:>7.2f}{p50 - d50:>9.2f}ms")
    added = rows[0][4] - rows[0][2]
    verdict = "OK" if added < 3.0 else "OVER TARGET"
    print(f"keep-alive added p50 {added:.2f} ms (target < 3 ms): {verdict}")
    startup = sandbox_startup(args.startups)
    if startup:
        print(f"\n{'sandbox start-up':<22}{'n':>5}{'direct p50':>12}{'sandboxed p50':>15}{'added':>9}")
        for label, n, direct, boxed in startup:
            print(f"{label:<22}{n:>5}{direct:>10.1f}ms{boxed:>13.1f}ms{boxed - direct:>7.1f}ms")
    return 0 if added < 3.0 else 1


def sandbox_startup(runs: int) -> list[tuple[str, int, float, float]]:
    """Median time to start and finish a trivial program, direct and inside the sandbox.

    The sandbox is the one ``distrust run`` uses (bubblewrap, mounts, the socat bridge to an
    egress socket, proxy environment); a throwaway unix socket stands in for the proxy.
    """
    import socket

    from distrust.gateway.launch import ServerLaunch
    from distrust.gateway.sandbox import SandboxSpec, probe, sandboxed

    if not probe().ok or runs <= 0:
        print(f"sandbox start-up: skipped ({probe().reason or 'no runs'})")
        return []
    rows = []
    with tempfile.TemporaryDirectory(prefix="dt-bench-") as tmp:
        sock_path = Path(tmp) / "egress.sock"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(sock_path))
        listener.listen(16)
        try:
            for label, argv in (("true", ["true"]), ("python -c 0", [sys.executable, "-c", "0"]),
                                ("node -e 0", ["node", "-e", "0"])):  # fmt: skip
                launch = ServerLaunch(command=tuple(argv), env={"PATH": "/usr/bin:/bin"}, cwd=None)
                boxed = sandboxed(launch, SandboxSpec(egress_socket=sock_path))
                times = {}
                for name, cmd in (("direct", launch), ("sandboxed", boxed)):
                    samples = []
                    for _ in range(runs):
                        start = time.perf_counter()
                        subprocess.run(list(cmd.command), env=dict(cmd.env), check=True, capture_output=True)
                        samples.append((time.perf_counter() - start) * 1000)
                    times[name] = statistics.median(samples)
                rows.append((label, runs, times["direct"], times["sandboxed"]))
        finally:
            listener.close()
    return rows


def measure(
    info: dict[str, str], requests: int, new_connections: int
) -> list[tuple[str, int, float, float, float, float]]:
    direct_ssl = ssl.create_default_context(cafile=info["upstream_ca"])
    proxied_ssl = ssl.create_default_context(cafile=info["proxy_ca"])

    def client(proxied: bool, keep_alive: bool) -> httpx.Client:
        limits = httpx.Limits(max_keepalive_connections=1 if keep_alive else 0)
        return httpx.Client(
            proxy=info["proxy"] if proxied else None,
            verify=proxied_ssl if proxied else direct_ssl,
            trust_env=False,
            limits=limits,
        )

    rows = []
    for label, n, keep_alive in (("keep-alive", requests, True), ("new connection", new_connections, False)):
        figures = {}
        for proxied in (False, True):
            with client(proxied, keep_alive) as http:
                url = f"https://{HOST}/email" if proxied else info["direct"]

                def one(http: httpx.Client = http, url: str = url) -> None:
                    response = http.post(url, json=BODY)
                    if response.status_code != 200:
                        raise SystemExit(f"unexpected {response.status_code}: {response.text[:200]}")

                figures[proxied] = summary(timed(n, one))
        (d50, d99), (p50, p99) = figures[False], figures[True]
        rows.append((label, n, d50, d99, p50, p99))
    return rows


if __name__ == "__main__":
    sys.exit(main())
