"""MTA log sources: Postfix, Exim and Sendmail samples written from each MTA's documented format."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from distrust.hunt import MailRecord
from distrust.hunt.sources import detect_format, iter_records
from distrust.hunt.sources import postfix as postfix_module
from distrust.model import Notice

ATTACKER = "phan@giftshop.club"
# our own log samples, written from each MTA's documented line formats
FIXTURES = Path(__file__).parent.parent / "fixtures" / "hunt"

POSTFIX = (FIXTURES / "postfix-mail.log").read_text()

EXIM = (FIXTURES / "exim-mainlog").read_text()

SENDMAIL = (FIXTURES / "sendmail-maillog").read_text()


def _write(tmp_path: Path, name: str, text: str, mtime: datetime | None = None) -> Path:
    path = tmp_path / name
    path.write_text(text)
    if mtime is not None:
        os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


def _split(items: list[MailRecord | Notice]) -> tuple[list[MailRecord], list[Notice]]:
    return [i for i in items if isinstance(i, MailRecord)], [i for i in items if isinstance(i, Notice)]


def test_postfix_joins_queue_ids_and_keeps_only_deliveries(tmp_path: Path) -> None:
    path = _write(tmp_path, "mail.log", POSTFIX)
    assert detect_format(path) == "postfix"
    records, notices = _split(list(iter_records([path], None, year=2025)))
    assert notices == []
    assert [r.message_id for r in records] == ["a1@acme.example", "a2@acme.example", "postfix:77AA88BB99"]
    first, second, third = records
    assert first.envelope == ("bob@client.example", ATTACKER)
    assert first.sender == "app@acme.example"
    assert first.sent is not None and first.sent.year == 2025 and first.sent.tzinfo is not None
    assert first.source == f"{path}:1"
    assert second.envelope == ("carol@client.example", "sales@acme.example")  # deferred dave left out
    assert second.sent == datetime(2025, 9, 17, 10, 6, 0, 123456, tzinfo=UTC)
    assert third.envelope == ("erin@client.example",)  # never removed: flushed at end of file


def test_postfix_pending_table_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postfix_module, "PENDING_LIMIT", 2)
    lines = [
        f"Sep 17 10:00:0{i} mx postfix/smtp[1]: ABCDEF00{i}: to=<u{i}@client.example>, status=sent (ok)"
        for i in range(5)
    ]
    path = _write(tmp_path, "mail.log", "\n".join(lines) + "\n")
    records, notices = _split(list(iter_records([path], "postfix", year=2025)))
    assert sorted(r.envelope[0] for r in records) == [f"u{i}@client.example" for i in range(5)]
    assert len(notices) == 3 and all("reported early" in n.message for n in notices)


def test_syslog_year_from_mtime_rolls_back_over_new_year(tmp_path: Path) -> None:
    text = (
        "Dec 31 23:59:00 mx postfix/smtp[1]: ABCDEF0001: to=<a@client.example>, relay=x, status=sent (ok)\n"
        "Jan  1 00:01:00 mx postfix/smtp[1]: ABCDEF0002: to=<b@client.example>, relay=x, status=sent (ok)\n"
    )
    path = _write(tmp_path, "mail.log.1", text, mtime=datetime(2026, 1, 2, 12, 0, tzinfo=UTC))
    records, _ = _split(list(iter_records([path], None)))
    assert [r.sent.year for r in records if r.sent] == [2025, 2026]
    forced, _ = _split(list(iter_records([path], None, year=2019)))
    assert [r.sent.year for r in forced if r.sent] == [2019, 2019]


def test_exim_deliveries_and_additional_addresses(tmp_path: Path) -> None:
    path = _write(tmp_path, "mainlog", EXIM)
    assert detect_format(path) == "exim"
    records, notices = _split(list(iter_records([path], None)))
    assert notices == []
    assert [r.message_id for r in records] == ["a1@acme.example", "exim:1rUXyz-00000001Ab-0b"]
    assert records[0].envelope == ("bob@client.example", ATTACKER)
    assert records[0].sender == "app@acme.example"
    assert records[1].envelope == ("carol@client.example",)  # *> is a fake delivery
    assert records[1].sender == "app@acme.example"  # from F=<…> on the delivery line
    assert records[1].sent == datetime(2025, 9, 17, 8, 1, tzinfo=UTC)


def test_sendmail_joins_from_and_to_lines(tmp_path: Path) -> None:
    path = _write(tmp_path, "maillog", SENDMAIL)
    assert detect_format(path) == "sendmail"
    records, notices = _split(list(iter_records([path], None, year=2025)))
    assert notices == []
    assert len(records) == 1  # the deferred line is not a delivery
    assert records[0].envelope == ("bob@client.example", ATTACKER)
    assert records[0].message_id == "a1@acme.example"
    assert records[0].sender == "app@acme.example"
    assert records[0].source == f"{path}:2"


def test_log_with_bad_bytes_and_endless_line(tmp_path: Path) -> None:
    path = tmp_path / "mail.log"
    good = POSTFIX.splitlines()[3].encode()
    path.write_bytes(b"\xff\xfe garbage\n" + b"x" * 100_000 + b"\n" + good + b"\n")
    records, notices = _split(list(iter_records([path], "postfix", year=2025)))
    assert [r.envelope for r in records] == [("bob@client.example",)]
    assert [n.line for n in notices] == [2] and "cut" in notices[0].message
