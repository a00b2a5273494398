"""The Postmark API as a mail source: every outbound message a server token can see.

Postmark's outbound search (``GET /messages/outbound``) returns at most 500 messages per page
and refuses ``count + offset > 10,000`` (422), so a busy account cannot be read by paging alone.
This source splits the time range into windows with ``fromdate``/``todate`` and bisects any
window whose ``TotalCount`` is over 10,000, until every window can be paged completely. Postmark
reads those dates as US Eastern wall-clock time (``YYYY-MM-DDTHH:MM:SS``, no zone), so windows
are converted to ``America/New_York``; a boundary that falls in the repeated or skipped hour of a
daylight-saving change is padded by an hour, and the overlap is removed by message id.

List entries carry ``To``, ``Cc``, ``Bcc`` and ``Recipients``; when an entry lacks Cc/Bcc, the
message details (``/messages/outbound/{id}/details``) are fetched to confirm them. 429 and 5xx
answers (and dropped connections) are retried with exponential backoff, honouring
``Retry-After``, a bounded number of times. A 401 or 422 is the user's to fix and is raised as
:class:`HuntError` with Postmark's own message. The token is sent only in the
``X-Postmark-Server-Token`` header and never appears in a message or notice.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from distrust.hunt import MailRecord
from distrust.hunt.sources._common import HuntError, parse_iso_date
from distrust.hunt.sources.postmark_json import has_copy_fields, record_from_postmark
from distrust.model import Notice

DEFAULT_API_URL = "https://api.postmarkapp.com"
PAGE_SIZE = 500  # Postmark's maximum ``count``
SEARCH_LIMIT = 10_000  # Postmark's maximum ``count + offset``
POSTMARK_ZONE = ZoneInfo("America/New_York")  # the zone Postmark's date filters are read in
DEFAULT_HISTORY = timedelta(days=45)  # Postmark's default content retention
MAX_HISTORY_DOUBLINGS = 8  # 45 days doubled 8 times is ~31 years: past any retention setting
SEEN_IDS_LIMIT = 2 * SEARCH_LIMIT  # enough to de-duplicate the overlap of neighbouring windows
ONE_SECOND = timedelta(seconds=1)


class PostmarkApiError(HuntError):
    """Postmark answered with an error the user must act on; ``status`` and ``code`` are Postmark's."""

    def __init__(self, message: str, status: int, code: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to push a rate-limited or failing API: bounded, with exponential backoff."""

    attempts: int = 6
    base_delay: float = 0.5  # seconds before the first retry; doubled each time
    max_delay: float = 60.0  # no single wait is longer, whatever Retry-After says


class PostmarkSource:
    """Outbound messages of one Postmark server, streamed as :class:`MailRecord` items.

    ``since``/``until`` bound the hunt (aware datetimes; naive ones are taken as UTC). With
    neither, a server with at most 10,000 messages is paged directly; otherwise the history is
    walked back from ``until`` in growing steps until a window comes back empty. ``recipient``
    uses Postmark's own recipient filter: hunting an IOC address this way costs a few requests
    instead of a sweep of the whole account.
    """

    def __init__(
        self,
        token: str,
        api_url: str = DEFAULT_API_URL,
        since: datetime | None = None,
        until: datetime | None = None,
        recipient: str | None = None,
        http: httpx.Client | None = None,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if not token or not token.strip():
            raise HuntError("a Postmark server token is required")
        self._token = token.strip()
        self.api_url = api_url.rstrip("/")
        self.since = _aware(since)
        self.until = _aware(until)
        self.recipient = recipient.strip().lower() if recipient else None
        self._http = http
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._now = now
        self._seen: OrderedDict[str, None] = OrderedDict()
        self.requests = 0  # how many HTTP requests were made, for progress and tests

    def __repr__(self) -> str:  # never show the token
        return f"PostmarkSource(api_url={self.api_url!r}, recipient={self.recipient!r})"

    # --- public ----------------------------------------------------------------------------

    def iter_records(self) -> Iterator[MailRecord | Notice]:
        """Every outbound message in range, newest window first; notices for what was skipped."""
        owned = self._http is None
        client = self._http or httpx.Client(timeout=httpx.Timeout(30.0))
        try:
            yield from self._iter(client)
        finally:
            if owned:
                client.close()

    def details(self, client: httpx.Client, message_id: str) -> dict[str, Any]:
        """The full message (with Cc, Bcc and bodies) from ``/messages/outbound/{id}/details``."""
        answer = self._get(client, f"/messages/outbound/{message_id}/details", {})
        if not isinstance(answer, dict):
            raise HuntError(f"Postmark details for {message_id}: expected a JSON object")
        return answer

    # --- the walk --------------------------------------------------------------------------

    def _iter(self, client: httpx.Client) -> Iterator[MailRecord | Notice]:
        if self.since is None and self.until is None:
            total, first = self._search(client, {}, 0, PAGE_SIZE)
            if total <= SEARCH_LIMIT:
                yield from self._page(client, {}, total, first)
                return
        until = _floor(self.until or self._now())
        since = _floor(self.since) if self.since else self._find_start(client, until)
        if since > until:
            yield Notice(f"empty time range: {since.isoformat()} is after {until.isoformat()}")
            return
        stack = [(since, until)]
        while stack:
            low, high = stack.pop()
            params = self._window_params(low, high)
            total, first = self._search(client, params, 0, PAGE_SIZE)
            if total > SEARCH_LIMIT and high > low:
                middle = _floor(low + (high - low) / 2)
                stack.append((low, middle))  # older half: read second
                stack.append((middle + ONE_SECOND, high))  # newer half: read first
                continue
            if total > SEARCH_LIMIT:
                yield Notice(
                    f"Postmark reports {total} messages in the second {low.isoformat()}; "
                    f"only the first {SEARCH_LIMIT} can be read"
                )
            yield from self._page(client, params, total, first)

    def _find_start(self, client: httpx.Client, until: datetime) -> datetime:
        """The earliest window start that leaves no older message behind."""
        span = DEFAULT_HISTORY
        start = until - span
        for _ in range(MAX_HISTORY_DOUBLINGS):
            older, _ = self._search(client, {"todate": _postmark_date(start - ONE_SECOND)}, 0, 1)
            if older == 0:
                break
            span *= 2
            start = until - span
        return _floor(start)

    def _window_params(self, low: datetime, high: datetime) -> dict[str, str]:
        if _ambiguous(low):
            low -= timedelta(hours=1)
        if _ambiguous(high):
            high += timedelta(hours=1)
        return {"fromdate": _postmark_date(low), "todate": _postmark_date(high)}

    def _page(
        self, client: httpx.Client, params: dict[str, str], total: int, first: list[Any]
    ) -> Iterator[MailRecord | Notice]:
        messages = first
        offset = 0
        reachable = min(total, SEARCH_LIMIT)
        while True:
            for entry in messages:
                yield from self._convert(client, entry)
            offset += len(messages)
            if not messages or offset >= reachable:
                return
            _, messages = self._search(client, params, offset, min(PAGE_SIZE, SEARCH_LIMIT - offset))

    def _convert(self, client: httpx.Client, entry: Any) -> Iterator[MailRecord | Notice]:
        if not isinstance(entry, dict):
            yield Notice(f"Postmark search returned a {type(entry).__name__} instead of a message")
            return
        message_id = str(entry.get("MessageID") or "")
        if message_id:
            if message_id in self._seen:
                return
            self._seen[message_id] = None
            if len(self._seen) > SEEN_IDS_LIMIT:
                self._seen.popitem(last=False)
        received = parse_iso_date(str(entry.get("ReceivedAt") or ""))
        if received is not None and not self._in_range(received):
            return
        if message_id and not has_copy_fields(entry):
            try:
                entry = {**entry, **self.details(client, message_id)}
            except PostmarkApiError as exc:
                yield Notice(f"Postmark message {message_id}: details unavailable: {exc}")
        record, problems = record_from_postmark(entry, source=f"postmark:{message_id or 'outbound'}")
        for problem in problems:
            yield Notice(f"Postmark message {message_id or '(no id)'}: {problem}")
        if record is not None:
            yield record

    def _in_range(self, when: datetime) -> bool:
        if self.since is not None and when < _floor(self.since):
            return False
        return not (self.until is not None and when >= _floor(self.until) + ONE_SECOND)

    # --- HTTP ------------------------------------------------------------------------------

    def _search(
        self, client: httpx.Client, params: dict[str, str], offset: int, count: int
    ) -> tuple[int, list[Any]]:
        query = {"count": str(count), "offset": str(offset), **params}
        if self.recipient:
            query["recipient"] = self.recipient
        answer = self._get(client, "/messages/outbound", query)
        if not isinstance(answer, dict):
            raise HuntError("Postmark search answered with something other than a JSON object")
        total = answer.get("TotalCount")
        messages = answer.get("Messages")
        if not isinstance(total, int) or not isinstance(messages, list):
            raise HuntError("Postmark search answer lacks TotalCount or Messages")
        return total, messages

    def _get(self, client: httpx.Client, path: str, params: dict[str, str]) -> Any:
        headers = {"X-Postmark-Server-Token": self._token, "Accept": "application/json"}
        last_problem = ""
        for attempt in range(self.retry.attempts):
            self.requests += 1
            try:
                response = client.get(self.api_url + path, params=params, headers=headers)
            except httpx.TransportError as exc:
                last_problem = f"{type(exc).__name__}: {exc}"
                if attempt + 1 < self.retry.attempts:
                    self._sleep(self._delay(attempt, None))
                continue
            status = response.status_code
            if status == 401:
                raise PostmarkApiError("Postmark rejected the server token (401)", 401, _code(response))
            if status == 429 or status >= 500:
                last_problem = f"HTTP {status}"
                if attempt + 1 < self.retry.attempts:
                    self._sleep(self._delay(attempt, response.headers.get("Retry-After")))
                continue
            if status >= 400:
                raise PostmarkApiError(
                    f"Postmark refused {path} ({status}): {_message(response)}", status, _code(response)
                )
            try:
                return response.json()
            except ValueError:
                raise HuntError(f"Postmark answered {path} with something that is not JSON") from None
        raise HuntError(
            f"Postmark still failing after {self.retry.attempts} attempts on {path} (last: {last_problem})"
        )

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        """Seconds to wait: the server's ``Retry-After`` when given, else exponential backoff."""
        wait: float = self.retry.base_delay * float(2**attempt)
        if retry_after:
            parsed = _retry_after_seconds(retry_after, self._now())
            if parsed is not None:
                wait = parsed
        return max(0.0, min(wait, self.retry.max_delay))


def _retry_after_seconds(value: str, now: datetime) -> float | None:
    """``Retry-After`` is delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - now).total_seconds()


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and isinstance(body.get("Message"), str):
        return str(body["Message"])[:500]
    return str(body)[:200]


def _code(response: httpx.Response) -> int | None:
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("ErrorCode") if isinstance(body, dict) else None
    return int(code) if isinstance(code, int) else None


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _floor(value: datetime) -> datetime:
    return value.replace(microsecond=0)


def _postmark_date(value: datetime) -> str:
    """Eastern wall-clock time without a zone, the form Postmark's date filters expect."""
    return value.astimezone(POSTMARK_ZONE).strftime("%Y-%m-%dT%H:%M:%S")


def _ambiguous(value: datetime) -> bool:
    """True when ``value``'s Eastern wall-clock time is repeated or skipped by a DST change."""
    local = value.astimezone(POSTMARK_ZONE).replace(tzinfo=None)
    first = local.replace(tzinfo=POSTMARK_ZONE, fold=0).astimezone(UTC)
    second = local.replace(tzinfo=POSTMARK_ZONE, fold=1).astimezone(UTC)
    return first != second
