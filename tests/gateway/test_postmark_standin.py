"""The Postmark API stand-in answers as Postmark documents and records what it accepted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from distrust.demo.postmark_api import PostmarkStandIn

TOKEN = "c0ffee00-1111-2222-3333-444455556666"
HEADERS = {"Accept": "application/json", "Content-Type": "application/json", "X-Postmark-Server-Token": TOKEN}
MESSAGE = {
    "From": "Shop <shop@example.com>",
    "To": "Alice <alice@example.com>",
    "Bcc": "phan@giftshop.club",
    "Subject": "Invoice 42",
    "TextBody": "Hi Alice",
    "MessageStream": "outbound",
}


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[PostmarkStandIn]:
    with PostmarkStandIn(TOKEN, record_path=tmp_path / "sent.jsonl") as server:
        yield server


def post(
    standin: PostmarkStandIn, path: str, body: Any, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.post(standin.url + path, content=json.dumps(body), headers=headers or HEADERS, timeout=5)


def test_accepts_and_records_a_message(standin: PostmarkStandIn, tmp_path: Path) -> None:
    response = post(standin, "/email", MESSAGE)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"To", "SubmittedAt", "MessageID", "ErrorCode", "Message"}
    assert body["ErrorCode"] == 0 and body["Message"] == "OK" and body["To"] == MESSAGE["To"]
    (recorded,) = standin.messages
    assert recorded.message_id == body["MessageID"]
    assert recorded.to == ("alice@example.com",) and recorded.bcc == ("phan@giftshop.club",)
    assert recorded.subject == "Invoice 42" and recorded.text_body == "Hi Alice"
    line = json.loads((tmp_path / "sent.jsonl").read_text().splitlines()[0])
    assert line["bcc"] == ["phan@giftshop.club"]


@pytest.mark.parametrize(
    ("token", "expected"),
    [(None, "No Account or Server API tokens"), ("wrong-token", "not contain a valid Server token")],
)
def test_bad_or_missing_token_is_401(standin: PostmarkStandIn, token: str | None, expected: str) -> None:
    headers = {k: v for k, v in HEADERS.items() if k != "X-Postmark-Server-Token"}
    if token:
        headers["X-Postmark-Server-Token"] = token
    response = post(standin, "/email", MESSAGE, headers)
    assert response.status_code == 401
    assert response.json()["ErrorCode"] == 10 and expected in response.json()["Message"]
    assert standin.messages == ()


def test_token_header_name_and_value_are_case_insensitive(standin: PostmarkStandIn) -> None:
    headers = {"content-type": "application/json", "x-postmark-server-token": TOKEN.upper()}
    assert post(standin, "/email", MESSAGE, headers).status_code == 200


def test_documented_test_token_validates_but_delivers_nothing(standin: PostmarkStandIn) -> None:
    response = post(standin, "/email", MESSAGE, {**HEADERS, "X-Postmark-Server-Token": "POSTMARK_API_TEST"})
    assert response.status_code == 200 and response.json()["ErrorCode"] == 0
    assert standin.messages == ()


@pytest.mark.parametrize(
    ("change", "message_part"),
    [
        ({"From": None}, "'From'"),
        ({"To": None}, "Zero recipients"),
        ({"TextBody": None}, "TextBody or HtmlBody"),
        ({"Cc": "not-an-address"}, "Error parsing 'Cc'"),
        ({"Bcc": ", ".join(f"r{i}@example.com" for i in range(50))}, "50 recipients"),
    ],
)
def test_invalid_messages_are_422_with_code_300(
    standin: PostmarkStandIn, change: dict[str, Any], message_part: str
) -> None:
    message = {k: v for k, v in {**MESSAGE, **change}.items() if v is not None}
    response = post(standin, "/email", message)
    assert response.status_code == 422
    assert response.json()["ErrorCode"] == 300 and message_part in response.json()["Message"]
    assert standin.messages == ()


def test_exactly_50_recipients_is_accepted(standin: PostmarkStandIn) -> None:
    message = {**MESSAGE, "Bcc": ", ".join(f"r{i}@example.com" for i in range(49))}
    assert post(standin, "/email", message).status_code == 200


def test_json_is_required(standin: PostmarkStandIn) -> None:
    response = httpx.post(
        standin.url + "/email",
        data={"From": "a@example.com"},
        headers={"X-Postmark-Server-Token": TOKEN},
        timeout=5,
    )
    assert response.status_code == 415 and response.json()["ErrorCode"] == 409
    bad = httpx.post(standin.url + "/email", content=b"{nope", headers=HEADERS, timeout=5)
    assert bad.status_code == 422 and bad.json()["ErrorCode"] == 402
    wrong_shape = post(standin, "/email", {**MESSAGE, "To": ["alice@example.com"]})
    assert wrong_shape.status_code == 422 and wrong_shape.json()["ErrorCode"] == 403


def test_batch_returns_one_result_per_message(standin: PostmarkStandIn) -> None:
    batch = [MESSAGE, {**MESSAGE, "To": "bob@example.com", "Bcc": None}, {"From": "shop@example.com"}]
    response = post(standin, "/email/batch", batch)
    assert response.status_code == 200
    results = response.json()
    assert [r["ErrorCode"] for r in results] == [0, 0, 300]
    assert [m.to for m in standin.messages] == [("alice@example.com",), ("bob@example.com",)]
    too_many = post(standin, "/email/batch", [MESSAGE] * 501)
    assert too_many.status_code == 422 and too_many.json()["ErrorCode"] == 410


def test_senders_and_inactive_recipients(tmp_path: Path) -> None:
    with PostmarkStandIn(TOKEN, senders=["@example.com"], inactive_recipients=["gone@example.com"]) as server:
        assert post(server, "/email", {**MESSAGE, "From": "x@other.test"}).json()["ErrorCode"] == 400
        only_inactive = {**MESSAGE, "To": "gone@example.com", "Bcc": None}
        response = post(server, "/email", {k: v for k, v in only_inactive.items() if v})
        assert response.status_code == 422 and response.json()["ErrorCode"] == 406
        mixed = post(server, "/email", {**MESSAGE, "Cc": "gone@example.com"})
        assert mixed.status_code == 200 and server.messages[-1].cc == ()


def test_outbound_search(standin: PostmarkStandIn) -> None:
    post(standin, "/email", MESSAGE)
    post(
        standin,
        "/email",
        {**MESSAGE, "To": "bob@example.com", "Bcc": "carol@example.com", "Subject": "Other"},
    )
    search = httpx.get(
        standin.url + "/messages/outbound",
        params={"count": 10, "offset": 0, "recipient": "phan@giftshop.club"},
        headers=HEADERS,
        timeout=5,
    )
    assert search.status_code == 200
    body = search.json()
    assert body["TotalCount"] == 1
    (found,) = body["Messages"]
    assert found["Bcc"] == [{"Email": "phan@giftshop.club", "Name": ""}] and found["Subject"] == "Invoice 42"
    details = httpx.get(
        f"{standin.url}/messages/outbound/{found['MessageID']}/details", headers=HEADERS, timeout=5
    )
    assert details.status_code == 200 and details.json()["TextBody"] == "Hi Alice"
    everything = httpx.get(standin.url + "/messages/outbound?count=1&offset=0", headers=HEADERS, timeout=5)
    assert everything.json()["TotalCount"] == 2 and everything.json()["Messages"][0]["Subject"] == "Other"
    for query in ("count=501&offset=0", "count=500&offset=9501", "offset=0"):
        bad = httpx.get(f"{standin.url}/messages/outbound?{query}", headers=HEADERS, timeout=5)
        assert bad.status_code == 422, query


def test_unknown_endpoint_and_lifecycle() -> None:
    server = PostmarkStandIn(TOKEN)
    with pytest.raises(RuntimeError):
        _ = server.url
    server.start()
    try:
        assert httpx.get(server.url + "/nope", headers=HEADERS, timeout=5).status_code == 404
    finally:
        server.stop()
    with pytest.raises(ValueError):
        PostmarkStandIn("")
