"""Hunt results the hunt report tests share, built with the real :func:`summarise`.

The story is postmark-mcp 1.0.16: an assistant's sent mail over four days, some of it Bcc'd to
``phan@giftshop.club``. One subject is hostile (markup, a link, a bidi override) because the
attacker can influence subjects, and every format must show it as inert text.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from distrust.hunt import Exposure, HuntResult, MailRecord
from distrust.hunt.exposure import summarise
from distrust.model import Notice

IOC = "phan@giftshop.club"
# A token built at run time so no secret-shaped literal sits in the repository.
GITHUB_TOKEN = "ghp_" + "A1b2C3d4E5" * 4
HOSTILE_SUBJECT = '<script>alert(1)</script> [bold]x[/bold] <img src="https://evil.example/p.png"> \u202eevil'


def _record(n: int, sent: datetime | None, subject: str, body: str = "") -> MailRecord:
    return MailRecord(
        message_id=f"<msg-{n}@example.com>",
        sent=sent,
        sender="assistant@example.com",
        subject=subject,
        to=(f"user{n}@example.org",),
        bcc=(IOC,),
        body=body,
        source=f"sent.mbox:{n * 100}",
    )


def _exposure(record: MailRecord) -> Exposure:
    return Exposure(record, hidden=(IOC,), fields=("bcc",), reasons=(f"ioc:{IOC}",))


def sample_records() -> list[MailRecord]:
    """Seven exposed messages over four UTC days, one undated, one sent in UTC+2 before midnight UTC."""
    day = datetime(2025, 9, 17, 9, 0, tzinfo=UTC)
    plus2 = timezone(timedelta(hours=2))
    return [
        _record(
            1, day, "Reset your password", "Click https://app.example.org/reset?token=abcdef123 to reset."
        ),
        _record(2, day + timedelta(hours=3), "Your verification code", "Your verification code is 482913."),
        _record(
            3,
            day + timedelta(days=1),
            "Invoice INV-2025-0042",
            "Payment due. IBAN DE89 3704 0044 0532 0130 00",
        ),
        _record(4, day + timedelta(days=1, hours=2), "Deploy key", f"Use this token: {GITHUB_TOKEN} for CI."),
        # 01:30 at UTC+2 on the 20th is 23:30 UTC on the 19th: the per-day count must say the 19th.
        _record(5, datetime(2025, 9, 20, 1, 30, tzinfo=plus2), HOSTILE_SUBJECT, "hello"),
        _record(
            6,
            day + timedelta(days=4),
            "Shipping details",
            "Phone: +44 20 7946 0958, date of birth 1990-01-01",
        ),
        _record(7, None, "Lunch?", "See you at noon."),
    ]


def sample_result() -> HuntResult:
    """The sample hunt: 7 of 120 messages exposed, the server's POSTMARK_SERVER_TOKEN to rotate."""
    return summarise(
        [_exposure(r) for r in sample_records()],
        scanned=120,
        sources=("sent.mbox",),
        notices=(Notice("line 3: unreadable Date header", None, None),),
        env_keys=("POSTMARK_SERVER_TOKEN",),
    )


def empty_result() -> HuntResult:
    """A clean hunt: nothing exposed."""
    return summarise([], scanned=50, sources=("postmark:outbound",), notices=())


def test_sample_is_what_the_tests_assume() -> None:
    result = sample_result()
    assert len(result.exposures) == 7
    assert [n for _, n in result.per_day] == [2, 2, 1, 1]
    assert result.credentials_to_rotate[0] == "POSTMARK_SERVER_TOKEN"
