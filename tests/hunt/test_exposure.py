"""exposure.py: categories and secrets from real-looking mail, and the hunt summary."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from distrust.hunt import Exposure, MailRecord
from distrust.hunt.exposure import (
    CATEGORY_IDS,
    CATEGORY_RULES,
    category_counts,
    classify,
    enrich,
    hidden_recipient_counts,
    secrets_in,
    summarise,
)

IOC = "phan@giftshop.club"


def mail(subject: str = "", body: str = "", sent: datetime | None = None, mid: str = "<m@x>") -> MailRecord:
    return MailRecord(mid, sent, "me@example.com", subject, to=("you@example.org",), bcc=(IOC,), body=body)


def exposed(record: MailRecord, hidden: tuple[str, ...] = (IOC,)) -> Exposure:
    return Exposure(record, hidden=hidden, fields=("bcc",), reasons=(f"ioc:{hidden[0]}",))


# Built at run time so no secret-shaped literal sits in the repository.
GHP = "ghp_" + "Zz09" * 10
PAT = "github_pat_" + "11AB" * 8
ANTHROPIC = "sk-ant-api03-" + "q" * 30
OPENAI = "sk-proj-" + "R7" * 15
SLACK = "xoxb-" + "1234567890-abcdefABCDEF"
AWS = "AKIA" + "IOSFODNN7EXAMPLE"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
POSTMARK = "1c2d3e4f-0a1b-4c5d-8e9f-a0b1c2d3e4f5"


@pytest.mark.parametrize(
    ("subject", "body", "category"),
    [
        ("Reset your password", "", "password-reset"),
        (
            "Account notice",
            "Forgot your password? Use https://x.example/recover?token=abc123",
            "password-reset",
        ),
        ("Password reset requested", "", "password-reset"),
        ("Your code", "Your verification code is 482913", "otp"),
        ("Sign in", "123456 is your 2FA code", "otp"),
        ("Login", "Your one-time passcode: 8841", "otp"),
        ("Invoice #42", "", "invoice"),
        ("Thanks", "Your receipt for the payment", "invoice"),
        ("Bank", "IBAN GB82 WEST 1234 5698 7654 32", "invoice"),
        ("Card", "Visa ending in 4242 was charged", "invoice"),
        ("CI", f"token {GHP}", "credential"),
        ("CI", f"token {PAT}", "credential"),
        ("AI", f"key {ANTHROPIC}", "credential"),
        ("AI", f"key {OPENAI}", "credential"),
        ("Slack", SLACK, "credential"),
        ("AWS", AWS, "credential"),
        ("Session", JWT, "credential"),
        ("Mail setup", f"Postmark server token: {POSTMARK}", "credential"),
        ("Welcome", "username: bob\npassword: hunter22", "credential"),
        ("Ship to", "Home address: 221 Baker Street, London", "personal-data"),
        ("Call me", "Phone: +44 20 7946 0958", "personal-data"),
        ("Form", "Date of birth: 1990-01-01", "personal-data"),
        ("Form", "SSN 078-05-1120", "personal-data"),
    ],
)
def test_each_category_is_recognised(subject: str, body: str, category: str) -> None:
    assert category in classify(mail(subject, body))


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Lunch on Friday?", "See you at 12:30 in room 4021."),
        ("Order update", "Order 2025 shipped. Tracking 1Z999."),
        ("Basic information", "Bearer instruments are listed below in a Basic overview."),
        ("Meeting", "The code review is at 3pm; the password policy doc is attached."),
        ("Release 1.0.16", "Build 20250917 is out."),
        ("Notes", "Uuid 1c2d3e4f-0a1b-4c5d-8e9f-a0b1c2d3e4f5 is the ticket id."),
    ],
)
def test_ordinary_mail_is_not_flagged(subject: str, body: str) -> None:
    assert classify(mail(subject, body)) == ()
    assert secrets_in(mail(subject, body)) == ()


def test_categories_come_in_table_order_and_ids_are_unique() -> None:
    assert len(set(CATEGORY_IDS)) == len(CATEGORY_IDS) == len(CATEGORY_RULES)
    assert all(rule.rationale and rule.patterns for rule in CATEGORY_RULES)
    got = classify(mail("Invoice and password reset", f"code 1234 verification; {GHP}"))
    assert got == ("password-reset", "otp", "invoice", "credential")


@pytest.mark.parametrize(
    ("secret", "redacted"),
    [
        (GHP, "ghp_…(44 chars)"),
        (PAT, "github_pat…(43 chars)"),  # the prefix shown is capped at a quarter of the length
        (ANTHROPIC, "sk-ant-…(43 chars)"),
        (SLACK, "xoxb-…(28 chars)"),
        (AWS, "AKIA…(20 chars)"),
        (JWT, f"eyJ…({len(JWT)} chars)"),
    ],
)
def test_secrets_are_redacted_never_returned(secret: str, redacted: str) -> None:
    got = secrets_in(mail("keys", f"here: {secret} thanks"))
    assert got == (redacted,)
    assert all(secret not in s and secret[8:20] not in s for s in got)


def test_postmark_and_labelled_secrets_show_only_length() -> None:
    got = secrets_in(mail("setup", f"Postmark token {POSTMARK}\npassword: hunter22"))
    assert got == ("…(36 chars)", "…(8 chars)")


def test_the_same_secret_twice_is_listed_once_and_anthropic_is_not_also_openai() -> None:
    got = secrets_in(mail(f"{ANTHROPIC}", f"{ANTHROPIC} again, and {GHP}"))
    assert got == ("sk-ant-…(43 chars)", "ghp_…(44 chars)")


def test_enrich_fills_categories_and_secrets() -> None:
    e = enrich(exposed(mail("Reset your password", f"token {GHP}")))
    assert e.categories == ("password-reset", "credential")
    assert e.secrets == ("ghp_…(44 chars)",)


def test_huge_body_is_capped_not_slow() -> None:
    body = "a" * 2_000_000 + " invoice"
    assert classify(mail("hi", body)) == ()


def test_summarise_counts_utc_days_orders_and_lists_credentials() -> None:
    t0 = datetime(2025, 9, 17, 23, 30, tzinfo=UTC)
    east = timezone(timedelta(hours=5))
    records = [
        mail("b", f"{GHP}", t0 + timedelta(hours=1), "<2>"),  # 18th
        mail("a", "", t0, "<1>"),  # 17th
        mail("c", "", datetime(2025, 9, 18, 3, 0, tzinfo=east), "<3>"),  # 17th 22:00 UTC
        mail("d", "", None, "<4>"),
        mail("e", "", datetime(2025, 9, 19, 8, 0), "<5>"),  # naive: taken as UTC
    ]
    result = summarise(
        [exposed(r) for r in records],
        scanned=10,
        sources=("a.mbox",),
        notices=(),
        env_keys=("POSTMARK_SERVER_TOKEN", "POSTMARK_SERVER_TOKEN", "A_KEY"),
    )
    assert result.per_day == ((date(2025, 9, 17), 2), (date(2025, 9, 18), 1), (date(2025, 9, 19), 1))
    assert [e.record.message_id for e in result.exposures] == ["<3>", "<1>", "<2>", "<5>", "<4>"]
    assert result.credentials_to_rotate == ("A_KEY", "POSTMARK_SERVER_TOKEN", "ghp_…(44 chars)")
    assert result.scanned == 10 and result.sources == ("a.mbox",)
    assert result.first == datetime(2025, 9, 18, 3, 0, tzinfo=east)
    # The naive time became UTC-aware, so first/last can compare it with the others.
    assert result.last == datetime(2025, 9, 19, 8, 0, tzinfo=UTC)


def test_summarise_keeps_categories_the_matcher_already_set() -> None:
    pre = dataclasses.replace(exposed(mail("Invoice")), categories=("otp",))
    assert summarise([pre], 1, (), ()).exposures[0].categories == ("otp",)


def test_counts_helpers() -> None:
    other = "x@evil.example"
    result = summarise(
        [exposed(mail("Invoice")), exposed(mail("hi"), (IOC, other)), exposed(mail("hi"), (other, other))],
        3,
        (),
        (),
    )
    assert category_counts(result) == dict.fromkeys(CATEGORY_IDS, 0) | {"invoice": 1}
    assert hidden_recipient_counts(result) == [(other, 2), (IOC, 2)] or hidden_recipient_counts(result) == [
        (IOC, 2),
        (other, 2),
    ]
    assert hidden_recipient_counts(result)[0][1] == 2


def test_empty_hunt() -> None:
    result = summarise([], 0, (), ())
    assert result.per_day == () and result.credentials_to_rotate == () and result.first is None
