"""The Postmark API source against a local Postmark stand-in holding thousands of messages.

The stand-in (``distrust.demo.postmark_api``) enforces Postmark's paging limits (count <= 500,
count + offset <= 10,000, else 422) and its 401. The subclass below adds what a busy account
needs: pre-loaded messages, the ``fromdate``/``todate`` filters read as US Eastern wall-clock
time (as Postmark documents), and 429/503 answers on demand.
"""

from __future__ import annotations

import random
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from distrust.demo.postmark_api import (
    ERR_INVALID_REQUEST,
    MAX_SEARCH_COUNT,
    MAX_SEARCH_WINDOW,
    ApiError,
    PostmarkStandIn,
    RecordedMessage,
    _search_matches,
    _summary,
)
from distrust.hunt import MailRecord
from distrust.hunt.match import match
from distrust.hunt.sources import HuntError
from distrust.hunt.sources.postmark import PostmarkSource, RetryPolicy
from distrust.model import Notice

TOKEN = "server-token-for-tests"
ATTACKER = "phan@giftshop.club"
EASTERN = ZoneInfo("America/New_York")
# 30 days across the 2 November 2025 daylight-saving change, so a window edge can land in it
START = datetime(2025, 10, 15, tzinfo=UTC)
END = START + timedelta(days=30)
FAST = RetryPolicy(attempts=4, base_delay=0.0, max_delay=0.0)


class BusyPostmark(PostmarkStandIn):
    """The stand-in with a pre-loaded history, date filters and injectable failures."""

    def __init__(self, token: str, history: list[RecordedMessage]) -> None:
        super().__init__(token)
        self.history = sorted(history, key=lambda m: m.submitted_at)
        self.times = [datetime.fromisoformat(m.submitted_at) for m in self.history]
        self.by_id = {m.message_id: m for m in self.history}
        self.failures: list[tuple[int, int, str]] = []  # answered in order, one per request
        self.searches: list[dict[str, list[str]]] = []
        self.detail_calls = 0
        self.omit_copies = False  # list entries without Cc/Bcc, as a terse API might send

    @property
    def messages(self) -> tuple[RecordedMessage, ...]:
        return tuple(self.history)

    def check_token(self, supplied: str | None) -> bool:
        deliver = super().check_token(supplied)  # 401 first, as Postmark does
        if self.failures:
            status, code, text = self.failures.pop(0)
            raise ApiError(status, code, text)
        return deliver

    def search(self, query: dict[str, list[str]]) -> dict[str, Any]:
        self.searches.append(query)
        count, offset = int(query["count"][-1]), int(query["offset"][-1])
        if count < 1 or count > MAX_SEARCH_COUNT or offset < 0 or count + offset > MAX_SEARCH_WINDOW:
            raise ApiError(
                422, ERR_INVALID_REQUEST, f"'count' + 'offset' must not exceed {MAX_SEARCH_WINDOW}."
            )
        low, high = 0, len(self.history)
        if "fromdate" in query:
            low = bisect_left(self.times, _eastern(query["fromdate"][-1]))
        if "todate" in query:
            high = bisect_right(self.times, _eastern(query["todate"][-1]))
        found = [m for m in reversed(self.history[low:high]) if _search_matches(m, query)]
        page = [_summary(m) for m in found[offset : offset + count]]
        if self.omit_copies:
            page = [
                {k: v for k, v in entry.items() if k not in ("Cc", "Bcc", "Recipients")} for entry in page
            ]
        return {"TotalCount": len(found), "Messages": page}

    def details(self, message_id: str) -> dict[str, Any]:
        self.detail_calls += 1
        return super().details(message_id)


def _eastern(text: str) -> datetime:
    """Postmark's reading of a date filter: Eastern wall-clock time, to the second."""
    try:
        naive = datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(422, ERR_INVALID_REQUEST, f"'{text}' is not a valid date.") from None
    return naive.replace(tzinfo=EASTERN).astimezone(UTC)


def _history(total: int, *, bcc_every: int, seed: int = 7) -> tuple[list[RecordedMessage], set[str]]:
    """``total`` messages spread over 30 days; every ``bcc_every``-th one Bcc'd to the attacker."""
    rng = random.Random(seed)
    span = (END - START).total_seconds()
    stamps = sorted(START + timedelta(seconds=rng.uniform(0, span - 1)) for _ in range(total))
    messages: list[RecordedMessage] = []
    exposed: set[str] = set()
    for i, when in enumerate(stamps):
        bcc = (ATTACKER,) if i % bcc_every == 3 else ()
        cc = ("finance@acme.example",) if i % 7 == 0 else ()
        message_id = f"{i:08x}-0000-4000-8000-{rng.getrandbits(48):012x}"
        if bcc:
            exposed.add(message_id)
        messages.append(
            RecordedMessage(
                message_id=message_id,
                submitted_at=when.isoformat(),
                sender="billing@acme.example",
                to=(f"customer{i}@client.example",),
                cc=cc,
                bcc=bcc,
                reply_to=None,
                subject=f"Invoice {i}",
                text_body=f"Your invoice {i}",
                html_body=None,
                tag=None,
                message_stream="outbound",
            )
        )
    return messages, exposed


@pytest.fixture(scope="module")
def busy() -> Iterator[tuple[BusyPostmark, set[str]]]:
    history, exposed = _history(12_000, bcc_every=250)
    # the oldest 2,000 messages sit beyond offset 10,000 of an undated, newest-first search
    assert any(m.message_id in exposed for m in history[:2_000])
    with BusyPostmark(TOKEN, history) as server:
        yield server, exposed


@pytest.fixture()
def server(busy: tuple[BusyPostmark, set[str]]) -> Iterator[BusyPostmark]:
    stand_in = busy[0]
    stand_in.failures.clear()
    stand_in.searches.clear()
    stand_in.detail_calls = 0
    stand_in.omit_copies = False
    yield stand_in


def _records(items: list[MailRecord | Notice]) -> list[MailRecord]:
    return [i for i in items if isinstance(i, MailRecord)]


def test_reads_every_message_once_beyond_offset_10000_and_finds_every_bcc(
    server: BusyPostmark, busy: tuple[BusyPostmark, set[str]]
) -> None:
    source = PostmarkSource(TOKEN, api_url=server.url, since=START, until=END, retry=FAST)
    items = list(source.iter_records())
    records = _records(items)
    assert [n for n in items if isinstance(n, Notice)] == []
    assert len(records) == 12_000
    assert len({r.message_id for r in records}) == 12_000
    for query in server.searches:  # the limits were respected, not just survived
        assert int(query["count"][0]) <= 500
        assert int(query["count"][0]) + int(query["offset"][0]) <= 10_000
    assert any("fromdate" in q for q in server.searches)
    found = {e.record.message_id for e in match(records, iocs=[ATTACKER], org_domains=())}
    assert found == busy[1]
    assert len(found) == 48


def test_without_dates_walks_history_back_from_now(
    server: BusyPostmark, busy: tuple[BusyPostmark, set[str]]
) -> None:
    source = PostmarkSource(TOKEN, api_url=server.url, retry=FAST, now=lambda: END + timedelta(days=2))
    records = _records(list(source.iter_records()))
    assert len(records) == 12_000
    found = {e.record.message_id for e in match(records, iocs=["giftshop.club"])}
    assert found == busy[1]


def test_recipient_filter_asks_postmark_for_the_ioc_only(
    server: BusyPostmark, busy: tuple[BusyPostmark, set[str]]
) -> None:
    source = PostmarkSource(TOKEN, api_url=server.url, recipient=ATTACKER.upper(), retry=FAST)
    records = _records(list(source.iter_records()))
    assert {r.message_id for r in records} == busy[1]
    assert all(ATTACKER in r.bcc for r in records)
    assert all(q["recipient"] == [ATTACKER] for q in server.searches)
    assert len(server.searches) <= 2


def test_429_and_503_are_retried(server: BusyPostmark) -> None:
    server.failures[:] = [(429, 0, "slow down"), (503, 0, "busy"), (429, 0, "slow down")]
    waits: list[float] = []
    source = PostmarkSource(
        TOKEN,
        api_url=server.url,
        since=END - timedelta(hours=6),
        until=END,
        retry=RetryPolicy(attempts=5, base_delay=0.01, max_delay=1.0),
        sleep=waits.append,
    )
    records = _records(list(source.iter_records()))
    assert records and not server.failures
    assert waits == [0.01, 0.02, 0.04]  # exponential backoff, per request


def test_retries_are_bounded(server: BusyPostmark) -> None:
    server.failures[:] = [(429, 0, "slow down")] * 10
    source = PostmarkSource(TOKEN, api_url=server.url, since=START, until=END, retry=FAST)
    with pytest.raises(HuntError, match=r"still failing after 4 attempts.*429"):
        list(source.iter_records())


def test_bad_token_is_a_clear_401(server: BusyPostmark) -> None:
    source = PostmarkSource("not-the-token", api_url=server.url, since=START, until=END, retry=FAST)
    with pytest.raises(HuntError, match=r"^Postmark rejected the server token \(401\)$") as caught:
        list(source.iter_records())
    assert "not-the-token" not in str(caught.value)
    assert "not-the-token" not in repr(source)


def test_422_shows_postmarks_message(server: BusyPostmark) -> None:
    server.failures[:] = [(422, 300, "The 'fromdate' parameter is not a valid date.")]
    source = PostmarkSource(TOKEN, api_url=server.url, since=START, until=END, retry=FAST)
    with pytest.raises(HuntError, match=r"\(422\): The 'fromdate' parameter is not a valid date\."):
        list(source.iter_records())


def test_entries_without_copies_are_confirmed_from_details(
    server: BusyPostmark, busy: tuple[BusyPostmark, set[str]]
) -> None:
    server.omit_copies = True
    # a few hours around one exposed message: each details call is one more HTTP round trip
    target = next(m for m in reversed(server.history) if m.message_id in busy[1])
    since = datetime.fromisoformat(target.submitted_at) - timedelta(hours=1)
    until = since + timedelta(hours=2)
    source = PostmarkSource(TOKEN, api_url=server.url, since=since, until=until, retry=FAST)
    records = _records(list(source.iter_records()))
    assert server.detail_calls == len(records) > 1
    assert target.message_id in {r.message_id for r in records if ATTACKER in r.bcc}
    assert all(since <= r.sent <= until for r in records if r.sent)
    assert all(r.body.startswith("Your invoice") for r in records)


def test_retry_after_header_is_honoured() -> None:
    """Retry-After needs a header the stand-in does not send; httpx's transport hook provides it."""
    calls = 0

    def answer(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return httpx.Response(429, headers={"Retry-After": "7"}, json={"ErrorCode": 0, "Message": "x"})
        return httpx.Response(200, json={"TotalCount": 0, "Messages": []})

    waits: list[float] = []
    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        source = PostmarkSource(TOKEN, http=client, sleep=waits.append, retry=RetryPolicy(max_delay=30))
        assert list(source.iter_records()) == []
    assert waits == [7.0]


def test_works_against_the_shipped_stand_in() -> None:
    with PostmarkStandIn(TOKEN) as plain, httpx.Client() as client:
        for i in range(3):
            body = {
                "From": "app@acme.example",
                "To": f"u{i}@client.example",
                "TextBody": "hi",
                "Subject": "s",
            }
            if i == 1:
                body["Bcc"] = ATTACKER
            sent = client.post(
                plain.url + "/email",
                json=body,
                headers={"X-Postmark-Server-Token": TOKEN, "Accept": "application/json"},
            )
            assert sent.status_code == 200, sent.text
        records = _records(list(PostmarkSource(TOKEN, api_url=plain.url, retry=FAST).iter_records()))
    assert len(records) == 3
    assert [r.bcc for r in records if r.bcc] == [(ATTACKER,)]
    assert all(r.sent is not None and r.sent.tzinfo is not None for r in records)
