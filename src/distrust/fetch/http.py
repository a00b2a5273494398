"""The one place fetch talks HTTP: bounded, retried, and every failure a readable FetchError.

Registries fail in ordinary ways (a 503 during a deploy, a slow mirror, a captive portal
answering HTML); a user should see which URL failed and why, not a traceback. Transient
failures (5xx, 429, timeouts, dropped connections) are retried a fixed number of times with
exponential backoff; everything else fails at once. Bodies are counted while they stream so
a hostile or broken server cannot fill memory or disk.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

from distrust import __version__ as _version
from distrust.fetch.errors import FetchError, NotFoundError

if TYPE_CHECKING:
    # httpx (with its optional rich/click CLI) costs ~50 ms to import; a fetch answered from
    # the cache never makes a request, so the module is imported where a client is built.
    import httpx

_T = TypeVar("_T")
ProgressCallback = Callable[[int, int | None], None]

# Statuses worth asking again: the server said "not now", not "no".
RETRYABLE_STATUS: Final = frozenset({408, 429, 500, 502, 503, 504})
NOT_FOUND_STATUS: Final = frozenset({404, 410})
MAX_JSON_BYTES: Final = 256 * 1024 * 1024  # the full packument of a huge npm package is ~100 MB
USER_AGENT: Final = f"distrust/{_version} (+https://github.com/distrust)"


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: ``attempts`` in total, sleeping ``backoff``, then twice that, between them."""

    attempts: int = 3
    backoff: float = 0.5
    connect_timeout: float = 10.0
    read_timeout: float = 30.0


class _Retry(Exception):
    """Internal: this attempt failed in a way worth repeating; ``reason`` says how."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Http:
    """A small HTTP client for registries; use as a context manager or call :meth:`close`.

    ``transport`` lets a caller (or a test) route requests elsewhere; by default httpx's own
    transport is used, which honours ``HTTPS_PROXY``/``NO_PROXY``.
    """

    def __init__(
        self, policy: RetryPolicy | None = None, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.policy = policy or RetryPolicy()
        self._transport = transport
        self._made: httpx.Client | None = None

    @property
    def _client(self) -> httpx.Client:
        """The httpx client, made on first use: building one loads the CA bundle (~0.3 s), which
        a fetch answered from the cache never needs."""
        if self._made is None:
            import httpx

            timeout = httpx.Timeout(self.policy.read_timeout, connect=self.policy.connect_timeout)
            self._made = httpx.Client(
                timeout=timeout,
                follow_redirects=True,
                headers={"User-Agent": USER_AGENT},
                transport=self._transport,
            )
        return self._made

    def __enter__(self) -> Http:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._made is not None:
            self._made.close()
            self._made = None

    def get_json(self, url: str, *, accept: str = "application/json", not_found: str) -> dict[str, Any]:
        """GET a JSON object. ``not_found`` is the message for a 404 (e.g. "no npm package 'x'")."""

        def attempt() -> tuple[bytes, str]:
            with self._stream(url, accept, not_found) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_JSON_BYTES:
                        raise FetchError(f"answer is larger than {MAX_JSON_BYTES} bytes", url)
                return bytes(body), response.headers.get("content-type", "unknown")

        body, content_type = self._with_retries(url, attempt)
        try:
            doc = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            # A captive portal or a misconfigured mirror answers HTML; show what came, briefly.
            start = body[:60].decode("utf-8", "replace").replace("\n", " ")
            raise FetchError(
                f"answer is not JSON (content-type {content_type}, starts with {start!r})", url
            ) from None
        if not isinstance(doc, dict):
            raise FetchError(f"expected a JSON object, got {type(doc).__name__}", url)
        return doc

    def download(
        self,
        url: str,
        dest: Path,
        *,
        max_bytes: int,
        algorithms: tuple[str, ...] = ("sha256",),
        progress: ProgressCallback | None = None,
    ) -> dict[str, bytes]:
        """Stream ``url`` into ``dest`` and return the raw digests for each of ``algorithms``.

        Each retry starts the file and the digests afresh, so a half-finished attempt can
        never mix into the result.
        """

        def attempt() -> dict[str, bytes]:
            hashers = {name: hashlib.new(name) for name in algorithms}
            with self._stream(url, "*/*", "file not found") as response, dest.open("wb") as out:
                total = _content_length(response)
                if total is not None and total > max_bytes:
                    raise FetchError(f"file is {total} bytes, larger than the {max_bytes}-byte limit", url)
                done = 0
                if progress:
                    progress(0, total)
                for chunk in response.iter_bytes(1024 * 1024):
                    done += len(chunk)
                    if done > max_bytes:
                        raise FetchError(f"file is larger than the {max_bytes}-byte limit", url)
                    for h in hashers.values():
                        h.update(chunk)
                    out.write(chunk)
                    if progress:
                        progress(done, total)
            return {name: h.digest() for name, h in hashers.items()}

        try:
            return self._with_retries(url, attempt)
        except BaseException:
            dest.unlink(missing_ok=True)
            raise

    def _with_retries(self, url: str, attempt: Callable[[], _T]) -> _T:
        policy = self.policy
        reason = "no attempt made"
        for n in range(max(policy.attempts, 1)):
            if n:
                time.sleep(policy.backoff * 2 ** (n - 1))
            try:
                return attempt()
            except _Retry as exc:
                reason = exc.reason
        tries = "1 attempt" if policy.attempts <= 1 else f"{policy.attempts} attempts"
        raise FetchError(f"{reason} (gave up after {tries})", url)

    @contextmanager
    def _stream(self, url: str, accept: str, not_found: str) -> Iterator[httpx.Response]:
        if not url.startswith(("https://", "http://")):
            raise FetchError("only http and https URLs can be fetched", url)
        import httpx

        try:
            with self._client.stream("GET", url, headers={"Accept": accept}) as response:
                status = response.status_code
                if status in RETRYABLE_STATUS:
                    raise _Retry(f"HTTP {status} {response.reason_phrase}".strip())
                if status in NOT_FOUND_STATUS:
                    raise NotFoundError(f"{not_found} (HTTP {status})", url)
                if status >= 400 or status < 200:
                    hint = " (the registry may need credentials)" if status in (401, 403) else ""
                    raise FetchError(f"HTTP {status} {response.reason_phrase}{hint}".strip(), url)
                yield response
        except httpx.TimeoutException:
            raise _Retry(f"timed out (limit {self.policy.read_timeout:g} s)") from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise FetchError(f"invalid URL ({exc})", url) from None
        except httpx.TransportError as exc:
            raise _Retry(f"connection failed ({exc or type(exc).__name__})") from None
        except httpx.HTTPError as exc:  # bad content-encoding, redirect loops, stream misuse
            raise FetchError(f"HTTP error ({exc or type(exc).__name__})", url) from None


def _content_length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length")
    if value is None or "content-encoding" in response.headers:
        return None
    try:
        return int(value)
    except ValueError:
        return None


@contextmanager
def borrowed(http: Http | None) -> Iterator[Http]:
    """Use the caller's client if given (and leave it open), else a private one closed on exit."""
    if http is not None:
        yield http
        return
    with Http() as own:
        yield own
