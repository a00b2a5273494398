"""Email API inspectors on realistic requests: who would each request deliver to?"""

from __future__ import annotations

import base64
import json
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlencode

import pytest

from distrust.gateway.egress import InflightCall, InspectionContext, OutboundRequest, Recipient
from distrust.gateway.egress.inspectors import (
    MailgunInspector,
    PostmarkInspector,
    ResendInspector,
    SendGridInspector,
    SesInspector,
    default_inspectors,
)
from distrust.gateway.egress.inspectors.base import EmailApiInspector

IOCS = ("phan@giftshop.club", "giftshop.club")


def request(
    host: str, path: str, body: bytes | str, *, content_type: str = "application/json", method: str = "POST"
) -> OutboundRequest:
    raw = body.encode() if isinstance(body, str) else body
    return OutboundRequest(
        server="mail",
        method=method,
        scheme="https",
        host=host,
        port=443,
        path=path,
        headers=(("Content-Type", content_type), ("Content-Length", str(len(raw)))),
        body=raw,
    )


def json_request(host: str, path: str, body: Any) -> OutboundRequest:
    return request(host, path, json.dumps(body))


def call(arguments: Any, call_id: str = "7", tool: str = "sendEmail") -> InflightCall:
    return InflightCall(call_id=call_id, tool=tool, arguments=arguments)


ALICE_CALL = call({"to": "alice@example.com", "subject": "Invoice", "textBody": "Hi Alice"})


def ctx(*calls: InflightCall, **kwargs: Any) -> InspectionContext:
    return InspectionContext(calls=calls, **kwargs)


def recipients_of(inspector: EmailApiInspector, req: OutboundRequest) -> set[tuple[str, str]]:
    endpoint = inspector.endpoint(req)
    assert endpoint is not None, "inspector should match this request"
    return {(r.field, r.address) for r in inspector.extract(endpoint.shape, req).recipients}


def multipart(fields: list[tuple[str, bytes, str | None]], boundary: str = "----distrustBoundary42") -> bytes:
    out = b""
    for name, value, filename in fields:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        if filename:
            out += b"Content-Type: message/rfc822\r\n"
        out += b"\r\n" + value + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def mime(to: str, cc: str | None = None, bcc: str | None = None, reply_to: str | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Shop <shop@example.com>"
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    if bcc:
        msg["Bcc"] = bcc
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Subject"] = "Your invoice"
    msg.set_content("Hello")
    return msg.as_bytes()


# --- Postmark -------------------------------------------------------------------------------

POSTMARK_1016 = {
    "From": "shop@example.com",
    "To": "alice@example.com",
    "Bcc": "phan@giftshop.club",
    "Subject": "Invoice",
    "TextBody": "Hi Alice",
    "MessageStream": "outbound",
}


def test_postmark_1016_bcc_is_blocked_naming_field_value_and_call() -> None:
    verdict = PostmarkInspector().inspect(
        json_request("api.postmarkapp.com", "/email", POSTMARK_1016), ctx(ALICE_CALL)
    )
    assert verdict is not None and not verdict.allow
    assert (verdict.field, verdict.value, verdict.call_id) == ("Bcc", "phan@giftshop.club", "7")
    assert verdict.inspector == "postmark"


def test_postmark_1016_without_iocs_is_still_blocked_as_unnamed() -> None:
    verdict = PostmarkInspector().inspect(
        json_request("api.postmarkapp.com", "/email", POSTMARK_1016), ctx(ALICE_CALL)
    )
    assert verdict is not None and not verdict.allow
    assert "alice@example.com" in verdict.reason
    assert "Bcc to phan@giftshop.club, which no tool call named" in verdict.reason


def test_postmark_clean_send_is_allowed_with_recipients() -> None:
    body = {k: v for k, v in POSTMARK_1016.items() if k != "Bcc"}
    verdict = PostmarkInspector().inspect(
        json_request("api.postmarkapp.com", "/email", body), ctx(ALICE_CALL)
    )
    assert verdict is not None and verdict.allow
    assert verdict.recipients == (Recipient("To", "alice@example.com"),)
    assert verdict.call_id == "7"


@pytest.mark.parametrize("key", ["bcc", "BCC", "bCc"])
def test_postmark_reads_keys_case_insensitively(key: str) -> None:
    body = {"From": "a@example.com", "To": "alice@example.com", key: "Phan <PHAN@GiftShop.Club>"}
    found = recipients_of(PostmarkInspector(), json_request("api.postmarkapp.com", "/email", body))
    assert found == {("To", "alice@example.com"), (key, "phan@giftshop.club")}


def test_postmark_parses_display_names_and_lists() -> None:
    body = {
        "From": "shop@example.com",
        "To": '"Doe, Jane" <jane@example.com>, Bob <BOB@example.org>',
        "Cc": "carol@example.net; dave@example.net",
    }
    found = recipients_of(PostmarkInspector(), json_request("api.postmarkapp.com", "/email", body))
    assert found == {
        ("To", "jane@example.com"),
        ("To", "bob@example.org"),
        ("Cc", "carol@example.net"),
        ("Cc", "dave@example.net"),
    }


def test_postmark_batch_and_templates() -> None:
    batch = [
        {"From": "s@example.com", "To": "alice@example.com"},
        {"From": "s@example.com", "To": "bob@example.com", "Bcc": "x@evil.test"},
    ]
    found = recipients_of(PostmarkInspector(), json_request("api.postmarkapp.com", "/email/batch", batch))
    assert ("[1].Bcc", "x@evil.test") in found and ("[0].To", "alice@example.com") in found

    templates = {"Messages": [{"From": "s@example.com", "To": "alice@example.com", "TemplateId": 1}]}
    found = recipients_of(
        PostmarkInspector(), json_request("api.postmarkapp.com", "/email/batchWithTemplates", templates)
    )
    assert found == {("Messages[0].To", "alice@example.com")}
    single = {
        "From": "s@example.com",
        "To": "alice@example.com",
        "Cc": "cc@example.com",
        "TemplateAlias": "x",
    }
    found = recipients_of(
        PostmarkInspector(), json_request("api.postmarkapp.com", "/email/withTemplate", single)
    )
    assert ("Cc", "cc@example.com") in found


def test_postmark_custom_bcc_header_counts_as_recipient() -> None:
    body = {
        "From": "s@example.com",
        "To": "alice@example.com",
        "Headers": [{"Name": "Bcc", "Value": "hidden@evil.test"}],
    }
    found = recipients_of(PostmarkInspector(), json_request("api.postmarkapp.com", "/email", body))
    assert ("Headers.Bcc", "hidden@evil.test") in found


def test_postmark_reply_to_ioc_is_blocked_but_harmless_reply_to_is_not() -> None:
    body = {"From": "s@example.com", "To": "alice@example.com", "ReplyTo": "phan@giftshop.club"}
    inspector = PostmarkInspector()
    verdict = inspector.inspect(
        json_request("api.postmarkapp.com", "/email", body), ctx(ALICE_CALL, iocs=IOCS)
    )
    assert verdict is not None and not verdict.allow
    assert verdict.field == "ReplyTo" and "known-malicious" in verdict.reason
    body["ReplyTo"] = "support@example.com"
    verdict = inspector.inspect(
        json_request("api.postmarkapp.com", "/email", body), ctx(ALICE_CALL, iocs=IOCS)
    )
    assert verdict is not None and verdict.allow


def test_postmark_matches_only_sending_endpoints() -> None:
    inspector = PostmarkInspector()
    assert inspector.matches(json_request("api.postmarkapp.com", "/email/", {}))
    assert inspector.matches(json_request("API.PostmarkApp.com.", "/Email?x=1", {}))
    assert not inspector.matches(json_request("api.postmarkapp.com", "/bounces", {}))
    assert not inspector.matches(json_request("api.example.com", "/email", {}))
    get = request("api.postmarkapp.com", "/email", "", method="GET")
    assert not inspector.matches(get)
    assert inspector.inspect(get, ctx(ALICE_CALL)) is None


def test_unreadable_or_truncated_body_is_blocked() -> None:
    inspector = PostmarkInspector()
    verdict = inspector.inspect(request("api.postmarkapp.com", "/email", "{not json"), ctx(ALICE_CALL))
    assert verdict is not None and not verdict.allow and "not valid JSON" in verdict.reason
    verdict = inspector.inspect(
        json_request("api.postmarkapp.com", "/email/batch", {"To": "x"}), ctx(ALICE_CALL)
    )
    assert verdict is not None and not verdict.allow and "JSON array" in verdict.reason
    truncated = OutboundRequest(
        "mail", "POST", "https", "api.postmarkapp.com", 443, "/email", (), b'{"To": "alice@ex', True
    )
    verdict = inspector.inspect(truncated, ctx(ALICE_CALL))
    assert verdict is not None and not verdict.allow and "larger than the proxy reads" in verdict.reason


# --- SendGrid -------------------------------------------------------------------------------


def test_sendgrid_personalizations_and_mail_settings_bcc() -> None:
    body = {
        "personalizations": [
            {"to": [{"email": "alice@example.com", "name": "Alice"}], "bcc": [{"email": "Spy@Evil.test"}]},
            {"to": [{"email": "bob@example.com"}], "cc": [{"email": "carol@example.com"}]},
        ],
        "from": {"email": "shop@example.com"},
        "reply_to": {"email": "phan@giftshop.club"},
        "mail_settings": {"bcc": {"enable": True, "email": "archive@evil.test"}},
        "subject": "Hi",
        "content": [{"type": "text/plain", "value": "Hello"}],
    }
    req = json_request("api.sendgrid.com", "/v3/mail/send", body)
    found = recipients_of(SendGridInspector(), req)
    assert found == {
        ("personalizations[0].to", "alice@example.com"),
        ("personalizations[0].bcc", "spy@evil.test"),
        ("personalizations[1].to", "bob@example.com"),
        ("personalizations[1].cc", "carol@example.com"),
        ("mail_settings.bcc.email", "archive@evil.test"),
    }
    verdict = SendGridInspector().inspect(req, ctx(call({"to": ["alice@example.com", "bob@example.com"]})))
    assert verdict is not None and not verdict.allow
    assert (verdict.field, verdict.value) == ("personalizations[0].bcc", "spy@evil.test")
    verdict = SendGridInspector().inspect(req, ctx(call({"to": "alice@example.com"}), iocs=IOCS))
    assert verdict is not None and verdict.field == "reply_to" and "known-malicious" in verdict.reason


# --- Mailgun --------------------------------------------------------------------------------


def test_mailgun_urlencoded_repeated_fields_and_header_fields() -> None:
    body = urlencode(
        [
            ("from", "Shop <shop@mg.example.com>"),
            ("to", "alice@example.com"),
            ("to", "Bob <bob@example.com>"),
            ("BCC", "spy@evil.test"),
            ("h:Bcc", "hidden@evil.test"),
            ("subject", "Hi"),
            ("text", "Hello"),
        ]
    )
    req = request(
        "api.mailgun.net",
        "/v3/mg.example.com/messages",
        body,
        content_type="application/x-www-form-urlencoded",
    )
    found = recipients_of(MailgunInspector(), req)
    assert found == {
        ("to", "alice@example.com"),
        ("to", "bob@example.com"),
        ("BCC", "spy@evil.test"),
        ("h:Bcc", "hidden@evil.test"),
    }


def test_mailgun_multipart_form() -> None:
    body = multipart(
        [
            ("from", b"shop@mg.example.com", None),
            ("to", b"alice@example.com", None),
            ("cc", b"Phan <phan@giftshop.club>", None),
            ("text", b"Hello", None),
        ]
    )
    req = request(
        "api.eu.mailgun.net",
        "/v3/mg.example.com/messages",
        body,
        content_type='multipart/form-data; boundary="----distrustBoundary42"',
    )
    verdict = MailgunInspector().inspect(req, ctx(ALICE_CALL, iocs=IOCS))
    assert verdict is not None and not verdict.allow
    assert (verdict.field, verdict.value) == ("cc", "phan@giftshop.club")


def test_mailgun_mime_message_headers() -> None:
    raw = mime("alice@example.com", bcc="Spy <spy@evil.test>")
    body = multipart([("to", b"alice@example.com", None), ("message", raw, "message.mime")])
    req = request(
        "api.mailgun.net",
        "/v3/mg.example.com/messages.mime",
        body,
        content_type="multipart/form-data; boundary=----distrustBoundary42",
    )
    found = recipients_of(MailgunInspector(), req)
    assert found == {
        ("to", "alice@example.com"),
        ("message.To", "alice@example.com"),
        ("message.Bcc", "spy@evil.test"),
    }
    verdict = MailgunInspector().inspect(req, ctx(ALICE_CALL))
    assert verdict is not None and not verdict.allow and verdict.field == "message.Bcc"


# --- SES ------------------------------------------------------------------------------------


def test_ses_v2_destination_and_raw_mime() -> None:
    body = {
        "FromEmailAddress": "shop@example.com",
        "Destination": {
            "ToAddresses": ["alice@example.com"],
            "CcAddresses": [],
            "BccAddresses": ["Spy <spy@evil.test>"],
        },
        "Content": {"Simple": {"Subject": {"Data": "Hi"}, "Body": {"Text": {"Data": "Hello"}}}},
    }
    req = json_request("email.eu-west-1.amazonaws.com", "/v2/email/outbound-emails", body)
    assert recipients_of(SesInspector(), req) == {
        ("Destination.ToAddresses", "alice@example.com"),
        ("Destination.BccAddresses", "spy@evil.test"),
    }
    raw_body = {
        "Content": {"Raw": {"Data": base64.b64encode(mime("alice@example.com", cc="cc@evil.test")).decode()}}
    }
    req = json_request("email.us-east-1.amazonaws.com", "/v2/email/outbound-emails", raw_body)
    assert recipients_of(SesInspector(), req) == {
        ("Content.Raw.Data.To", "alice@example.com"),
        ("Content.Raw.Data.Cc", "cc@evil.test"),
    }


def test_ses_v1_query_api() -> None:
    body = urlencode(
        {
            "Action": "SendEmail",
            "Source": "shop@example.com",
            "Destination.ToAddresses.member.1": "alice@example.com",
            "Destination.BccAddresses.member.1": "spy@evil.test",
            "Message.Subject.Data": "Hi",
        }
    )
    req = request(
        "email.us-east-1.amazonaws.com", "/", body, content_type="application/x-www-form-urlencoded"
    )
    assert SesInspector().matches(req)
    verdict = SesInspector().inspect(req, ctx(ALICE_CALL))
    assert verdict is not None and not verdict.allow
    assert (verdict.field, verdict.value) == ("Destination.BccAddresses.member.1", "spy@evil.test")
    other = request(
        "email.us-east-1.amazonaws.com",
        "/",
        urlencode({"Action": "ListIdentities"}),
        content_type="application/x-www-form-urlencoded",
    )
    assert not SesInspector().matches(other)


# --- Resend ---------------------------------------------------------------------------------


def test_resend_string_or_list_and_batch() -> None:
    single = {"from": "s@example.com", "to": ["alice@example.com"], "bcc": "spy@evil.test", "subject": "x"}
    found = recipients_of(ResendInspector(), json_request("api.resend.com", "/emails", single))
    assert found == {("to", "alice@example.com"), ("bcc", "spy@evil.test")}
    batch = [{"to": "alice@example.com"}, {"to": ["bob@example.com"], "cc": ["carol@example.com"]}]
    found = recipients_of(ResendInspector(), json_request("api.resend.com", "/emails/batch", batch))
    assert ("[1].cc", "carol@example.com") in found and ("[0].to", "alice@example.com") in found
    verdict = ResendInspector().inspect(
        json_request("api.resend.com", "/emails/batch", batch),
        ctx(call({"recipients": "alice@example.com; bob@example.com"})),
    )
    assert verdict is not None and not verdict.allow and verdict.value == "carol@example.com"


def test_default_inspectors_order_and_names() -> None:
    names = [i.name for i in default_inspectors()]
    assert names == ["postmark", "sendgrid", "mailgun", "ses", "resend", "generic"]
