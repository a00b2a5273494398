"""hunt stage: what did a compromised mail server send, and to whom?

Sources (``sources/``) turn mail logs into :class:`MailRecord` streams with constant memory;
the matcher (``match.py``) finds hidden recipients; ``exposure.py`` says what each exposed
message gave away; ``report`` formats the result and ``respond.py`` walks the victim through
recovery. These records are what the pieces exchange.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from distrust.model import Notice


@dataclass(frozen=True)
class MailRecord:
    """One sent message as a log or mailbox recorded it (addresses lower-cased, bare)."""

    message_id: str
    sent: datetime | None  # timezone-aware when the source says; None when it does not
    sender: str
    subject: str
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    envelope: tuple[str, ...] = ()  # SMTP RCPT TO / MTA delivery recipients, when logged
    body: str = ""  # text excerpt (capped) for classifying what was exposed; may be empty
    source: str = ""  # where it came from: "file.mbox:1234", "postmark:outbound", …

    @property
    def recipients(self) -> tuple[str, ...]:
        seen = dict.fromkeys((*self.to, *self.cc, *self.bcc, *self.envelope))
        return tuple(seen)


@dataclass(frozen=True)
class Exposure:
    """A message that went somewhere it should not have, and why we think so."""

    record: MailRecord
    hidden: tuple[str, ...]  # the offending recipients
    fields: tuple[str, ...]  # where they were: "bcc", "cc", "to", "envelope"
    reasons: tuple[str, ...]  # "ioc:phan@giftshop.club", "outside-org", "not-requested"
    categories: tuple[str, ...] = ()  # password-reset, otp, invoice, credential, personal-data
    secrets: tuple[str, ...] = ()  # redacted secrets seen in the body, e.g. "ghp_…(40 chars)"


@dataclass(frozen=True)
class HuntResult:
    """Everything one hunt found, for every report format."""

    exposures: tuple[Exposure, ...]
    scanned: int
    sources: tuple[str, ...]
    notices: tuple[Notice, ...] = ()
    per_day: tuple[tuple[date, int], ...] = ()
    credentials_to_rotate: tuple[str, ...] = field(default=())  # env keys and redacted secrets

    def _times(self) -> list[datetime]:
        # Logs without a zone (syslog) are read as UTC, so they compare with zoned ones.
        return [
            t if t.tzinfo is not None else t.replace(tzinfo=UTC)
            for e in self.exposures
            if (t := e.record.sent) is not None
        ]

    @property
    def first(self) -> datetime | None:
        times = self._times()
        return min(times) if times else None

    @property
    def last(self) -> datetime | None:
        times = self._times()
        return max(times) if times else None
