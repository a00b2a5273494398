"""A real HTTP registry for the fetch tests: stdlib ``http.server`` on 127.0.0.1 in a thread.

Each test scripts what the server answers per path (JSON, bytes, a sequence of statuses, a
delay) and then reads ``requests`` to see exactly what the code under test asked for.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler


@dataclass
class Route:
    body: bytes
    content_type: str = "application/json"
    statuses: list[int] = field(default_factory=list)  # consumed one per request, then 200
    delay: float = 0.0


@dataclass
class Request:
    path: str
    accept: str


class FakeRegistry:
    """Routes by exact path; anything unknown is a 404 like a real registry's."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self.url = ""

    def add_json(self, path: str, doc: object) -> None:
        self.routes[path] = Route(json.dumps(doc).encode())

    def add_bytes(self, path: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self.routes[path] = Route(data, content_type)

    def paths(self) -> list[str]:
        with self.lock:
            return [r.path for r in self.requests]


def make_handler(registry: FakeRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with registry.lock:
                registry.requests.append(Request(self.path, self.headers.get("Accept", "")))
                route = registry.routes.get(self.path)
                status = route.statuses.pop(0) if route and route.statuses else 200
            if route is None:
                status, body, ctype = 404, b'{"error":"Not found"}', "application/json"
            else:
                body, ctype = route.body, route.content_type
                if route.delay:
                    time.sleep(route.delay)
            if status != 200:
                body = b'{"error":"server error"}'
            try:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout tests)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
