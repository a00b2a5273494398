"""The generic walker: IOCs and misplaced secrets in any request to any host."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from distrust.gateway.egress import InflightCall, InspectionContext, OutboundRequest
from distrust.gateway.egress.inspectors import GenericLeakInspector

POSTMARK_TOKEN = "3f1c2a9e-77b1-4c8e-9d2a-5e6f7a8b9c0d"
UNKNOWN_SECRET = "nh_live_9f8e7d6c5b4a3f2e1d0c"
SECRETS = (
    ("POSTMARK_SERVER_TOKEN", POSTMARK_TOKEN),
    ("NOTIFYHUB_API_KEY", UNKNOWN_SECRET),
    ("DEBUG", "true"),
)
CTX = InspectionContext(
    calls=(InflightCall("1", "sendEmail", {"to": "alice@example.com"}),),
    iocs=("phan@giftshop.club", "giftshop.club"),
    server_secrets=SECRETS,
)


def req(
    host: str,
    body: Any = None,
    *,
    path: str = "/collect",
    headers: tuple[tuple[str, str], ...] = (),
    content_type: str = "application/json",
) -> OutboundRequest:
    if body is None:
        raw = b""
    elif isinstance(body, bytes):
        raw = body
    else:
        raw = json.dumps(body).encode()
    return OutboundRequest(
        "mail", "POST", "https", host, 443, path, (("Content-Type", content_type), *headers), raw
    )


def test_postmark_token_to_a_foreign_host_is_blocked_without_printing_it() -> None:
    verdict = GenericLeakInspector().inspect(req("collect.evil.test", {"k": {"t": POSTMARK_TOKEN}}), CTX)
    assert verdict is not None and not verdict.allow
    assert verdict.value == "POSTMARK_SERVER_TOKEN" and verdict.field == "body.k.t"
    assert POSTMARK_TOKEN not in verdict.reason and "POSTMARK_SERVER_TOKEN" in verdict.reason
    assert "postmarkapp.com" in verdict.reason


def test_postmark_token_to_postmark_is_fine() -> None:
    request = req(
        "api.postmarkapp.com",
        {"To": "alice@example.com"},
        path="/email",
        headers=(("X-Postmark-Server-Token", POSTMARK_TOKEN),),
    )
    assert GenericLeakInspector().inspect(request, CTX) is None


def test_secret_in_header_query_or_form_is_found() -> None:
    inspector = GenericLeakInspector()
    in_header = req("x.evil.test", headers=(("X-Leak", f"token={POSTMARK_TOKEN}"),))
    verdict = inspector.inspect(in_header, CTX)
    assert verdict is not None and verdict.field == "header X-Leak"
    in_query = req("x.evil.test", path="/c?" + urlencode({"t": POSTMARK_TOKEN}))
    verdict = inspector.inspect(in_query, CTX)
    assert verdict is not None and not verdict.allow
    form = req(
        "x.evil.test",
        urlencode({"a": POSTMARK_TOKEN}).encode(),
        content_type="application/x-www-form-urlencoded",
    )
    verdict = inspector.inspect(form, CTX)
    assert verdict is not None and verdict.field == "form field a"


def test_unknown_key_is_flagged_only_for_exact_values_to_unrelated_hosts() -> None:
    inspector = GenericLeakInspector()
    exact = req("x.evil.test", headers=(("Authorization", f"Bearer {UNKNOWN_SECRET}"),))
    verdict = inspector.inspect(exact, CTX)
    assert verdict is not None and verdict.value == "NOTIFYHUB_API_KEY"
    assert UNKNOWN_SECRET not in verdict.reason
    # embedded in a longer text: too uncertain for an unknown key
    assert inspector.inspect(req("x.evil.test", {"note": f"key is {UNKNOWN_SECRET}!"}), CTX) is None
    # its own vendor's host, or an allowlisted host, may receive it
    assert (
        inspector.inspect(
            req("api.notifyhub.io", headers=(("Authorization", f"Bearer {UNKNOWN_SECRET}"),)), CTX
        )
        is None
    )
    allowed = GenericLeakInspector(allowed_hosts=("evil.test",))
    assert allowed.inspect(exact, CTX) is None


def test_short_values_never_match() -> None:
    assert GenericLeakInspector().inspect(req("x.example.com", {"debug": "true"}), CTX) is None


def test_iocs_anywhere_and_as_the_host() -> None:
    inspector = GenericLeakInspector()
    verdict = inspector.inspect(req("hooks.example.com", {"cc": ["Phan <PHAN@giftshop.club>"]}), CTX)
    assert verdict is not None and not verdict.allow and verdict.field == "body.cc[0]"
    verdict = inspector.inspect(req("giftshop.club", {"x": 1}), CTX)
    assert verdict is not None and verdict.field == "host"
    verdict = inspector.inspect(
        req("x.example.com", b"see https://cdn.giftshop.club/p", content_type="text/plain"), CTX
    )
    assert verdict is not None and verdict.field == "body"
    # look-alikes are not the IOC
    assert (
        inspector.inspect(req("x.example.com", {"u": "giftshop.clubhouse.com notgiftshop.club"}), CTX) is None
    )


def test_clean_request_has_no_opinion() -> None:
    assert GenericLeakInspector().inspect(req("api.github.com", {"title": "bug"}), CTX) is None
