"""How much the MCP relay adds to a ``tools/call``, and how many small calls per second it carries.

Measures the same tiny stdlib JSON-RPC server (``tests/fixtures/servers/raw_server.py``) twice:
direct over its own pipes, and behind ``python -m distrust.gateway.relay`` (pinning on, audit
log on, durability wait on: the real configuration). The difference isolates the relay's cost.

* sequential: one call, wait for its answer, next call: latency p50/p99 per call;
* pipelined: a writer thread sends all calls while the reader collects answers: calls/s.

Targets: added p50 < 0.5 ms, >= 5,000 calls/s. Run from the repository root:

    .venv/bin/python bench/relay.py [--calls 3000] [--pipelined 20000]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SERVER = REPO / "tests" / "fixtures" / "servers" / "raw_server.py"


def call_line(i: int) -> bytes:
    message = {
        "jsonrpc": "2.0",
        "id": i,
        "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "hi"}},
    }
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


class Peer:
    """A started process spoken to over its stdin/stdout."""

    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        assert self.proc.stdin and self.proc.stdout
        self.stdin = self.proc.stdin
        self.stdout = self.proc.stdout

    def ask(self, line: bytes) -> bytes:
        self.stdin.write(line)
        return self.stdout.readline()

    def handshake(self) -> None:
        init = {
            "jsonrpc": "2.0",
            "id": -1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "b", "version": "1"},
            },
        }
        self.ask(json.dumps(init).encode() + b"\n")
        self.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        self.ask(b'{"jsonrpc":"2.0","id":-2,"method":"tools/list"}\n')

    def close(self) -> None:
        self.stdin.close()
        self.proc.wait(timeout=10)


def sequential(peer: Peer, calls: int) -> list[float]:
    times = []
    for i in range(calls):
        line = call_line(i)
        start = time.perf_counter()
        reply = peer.ask(line)
        times.append((time.perf_counter() - start) * 1000)
        if b'"result"' not in reply:
            raise SystemExit(f"unexpected reply: {reply[:200]!r}")
    return times[calls // 10 :]  # drop warm-up


def pipelined(peer: Peer, calls: int) -> float:
    payload = b"".join(call_line(100_000 + i) for i in range(calls))

    def write() -> None:
        for offset in range(0, len(payload), 65536):
            peer.stdin.write(payload[offset : offset + 65536])

    start = time.perf_counter()
    writer = threading.Thread(target=write)
    writer.start()
    for _ in range(calls):
        if not peer.stdout.readline():
            raise SystemExit("peer closed its stdout")
    elapsed = time.perf_counter() - start
    writer.join()
    return calls / elapsed


def count_rows(db: Path) -> int | str:
    try:
        with sqlite3.connect(db) as conn:
            return int(conn.execute("SELECT count(*) FROM calls WHERE decision = 'allowed'").fetchone()[0])
    except sqlite3.Error as exc:
        return f"n/a ({exc})"


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=3000, help="sequential calls per side")
    parser.add_argument("--pipelined", type=int, default=20000, help="pipelined calls per side")
    parser.add_argument("--relay-entry", nargs="*", help=argparse.SUPPRESS)  # experiments: a wrapper script
    args = parser.parse_args()
    server = [sys.executable, str(SERVER)]
    with tempfile.TemporaryDirectory() as tmp:
        relay = [
            sys.executable,
            *(args.relay_entry or ["-m", "distrust.gateway.relay"]),
            "--name",
            "bench",
            "--pins",
            f"{tmp}/pins.json",
            "--audit",
            f"{tmp}/audit.sqlite3",
            "--",
            *server,
        ]
        rows = {}
        for label, argv in (("direct", server), ("relay", relay)):
            peer = Peer(argv)
            peer.handshake()
            rows[label] = (sequential(peer, args.calls), pipelined(peer, args.pipelined))
            peer.close()
        audited = count_rows(Path(tmp) / "audit.sqlite3")
    direct_lat, direct_tput = rows["direct"]
    relay_lat, relay_tput = rows["relay"]
    print(f"{'':22}{'direct':>12}{'relay':>12}{'added':>12}")
    for q in (50, 99):
        d, r = pct(direct_lat, q), pct(relay_lat, q)
        print(f"{f'latency p{q} (ms)':22}{d:12.3f}{r:12.3f}{r - d:12.3f}")
    print(f"{'pipelined calls/s':22}{direct_tput:12.0f}{relay_tput:12.0f}")
    seq_rate = 1000 / statistics.mean(relay_lat)
    print(f"{'sequential calls/s':22}{1000 / statistics.mean(direct_lat):12.0f}{seq_rate:12.0f}")
    print(f"audit rows written by the relay: {audited} (expected {args.calls + args.pipelined})")


if __name__ == "__main__":
    main()
