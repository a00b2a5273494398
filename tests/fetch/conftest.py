"""Fixtures for the fetch tests: a real local HTTP registry, a fast HTTP client, a cache dir."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from fetch_server import FakeRegistry, make_handler

from distrust.fetch import Http, RetryPolicy


@pytest.fixture
def registry() -> Iterator[FakeRegistry]:
    reg = FakeRegistry()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(reg))
    server.daemon_threads = True
    reg.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield reg
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def http() -> Iterator[Http]:
    """A client with short timeouts and near-zero backoff so failure tests stay fast."""
    with Http(RetryPolicy(attempts=3, backoff=0.01, connect_timeout=2, read_timeout=0.5)) as client:
        yield client


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"
