"""File mail sources: mbox, maildir, .eml trees, Postmark JSON and CSV, built with the stdlib.

Fixtures are generated here with ``mailbox`` and ``email`` (our own messages), so the readers
are checked against what real mail software writes, not against our own writer.
"""

from __future__ import annotations

import json
import mailbox
import os
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest

from distrust.hunt import MailRecord
from distrust.hunt.sources import FORMATS, HuntError, detect_format, iter_records
from distrust.model import Notice

ATTACKER = "phan@giftshop.club"
WHEN = datetime(2025, 9, 17, 14, 30, tzinfo=UTC)


def _message(
    n: int, *, to: str = "", bcc: str = "", cc: str = "", subject: str = "", body: str = "hello"
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Acme Billing <billing@acme.example>"
    msg["To"] = to or f"Customer {n} <Customer{n}@Client.Example>"
    if cc:
        msg["Cc"] = cc
    if bcc:
        msg["Bcc"] = bcc
    msg["Subject"] = subject or f"Invoice {n}"
    msg["Date"] = format_datetime(WHEN)
    msg["Message-ID"] = f"<m{n}@acme.example>"
    msg.set_content(body)
    return msg


def _split(items: list[MailRecord | Notice]) -> tuple[list[MailRecord], list[Notice]]:
    return [i for i in items if isinstance(i, MailRecord)], [i for i in items if isinstance(i, Notice)]


def test_mbox_written_by_mailbox(tmp_path: Path) -> None:
    path = tmp_path / "Sent.mbox"
    box = mailbox.mbox(path)
    box.add(_message(1))
    box.add(_message(2, bcc=f"Phan <{ATTACKER.upper()}>", body="From here on, a line mbox must escape\n"))
    box.add(_message(3, subject="Réinitialisation du mot de passe", cc="a@x.example, b@y.example"))
    box.flush()
    box.close()
    assert detect_format(path) == "mbox"
    records, notices = _split(list(iter_records([path], None)))
    assert notices == []
    assert [r.message_id for r in records] == ["<m1@acme.example>", "<m2@acme.example>", "<m3@acme.example>"]
    assert records[0].to == ("customer1@client.example",)
    assert records[0].sender == "billing@acme.example"
    assert records[1].bcc == (ATTACKER,)
    assert "From here on" in records[1].body
    assert records[2].subject == "Réinitialisation du mot de passe"  # RFC 2047 decoded
    assert records[2].cc == ("a@x.example", "b@y.example")
    assert all(r.sent == WHEN for r in records)
    assert records[0].source == f"{path}:1"


def test_gmail_takeout_mbox_keeps_labels(tmp_path: Path) -> None:
    path = tmp_path / "All mail Including Spam and Trash.mbox"
    blocks = []
    for n, labels in ((1, "Sent,Opened"), (2, "Inbox,Category Updates")):
        msg = _message(n, bcc=ATTACKER if n == 1 else "")
        msg["X-GM-THRID"] = "1776543210987654321"
        msg["X-Gmail-Labels"] = labels
        blocks.append(
            b"From 1776543210987654321@xxx Wed Sep 17 14:30:00 +0000 2025\n" + msg.as_bytes() + b"\n"
        )
    path.write_bytes(b"".join(blocks))
    records, notices = _split(list(iter_records([path], None)))
    assert notices == []
    assert records[0].source.endswith("[Sent,Opened]")
    assert records[0].bcc == (ATTACKER,)
    assert records[1].source.endswith("[Inbox,Category Updates]")


def test_maildir_with_sent_subfolder(tmp_path: Path) -> None:
    root = tmp_path / "Maildir"
    box = mailbox.Maildir(root)
    box.add(_message(1))
    sent = box.add_folder("Sent")
    sent.add(_message(2, bcc=ATTACKER))
    new_message = mailbox.MaildirMessage(_message(3))
    new_message.set_subdir("new")
    sent.add(new_message)
    assert detect_format(root) == "maildir"
    records, notices = _split(list(iter_records([root], None)))
    assert notices == []
    assert sorted(r.message_id for r in records) == [
        "<m1@acme.example>",
        "<m2@acme.example>",
        "<m3@acme.example>",
    ]
    hidden = [r for r in records if r.bcc]
    assert len(hidden) == 1 and "/.Sent/" in hidden[0].source


def test_eml_tree_skips_other_files_and_fifos(tmp_path: Path) -> None:
    root = tmp_path / "export"
    (root / "2025" / "09").mkdir(parents=True)
    (root / "2025" / "09" / "one.eml").write_bytes(_message(1).as_bytes())
    (root / "2025" / "TWO.EML").write_bytes(_message(2, bcc=ATTACKER).as_bytes())
    (root / "notes.txt").write_text("not mail")
    os.mkfifo(root / "blocked.eml")  # opening it would hang the hunt forever
    (root / "loop").symlink_to(root)
    assert detect_format(root) == "eml"
    records, notices = _split(list(iter_records([root], None)))
    assert notices == []
    assert sorted(r.message_id for r in records) == ["<m1@acme.example>", "<m2@acme.example>"]
    single = root / "2025" / "TWO.EML"
    assert detect_format(single) == "eml"
    assert _split(list(iter_records([single], None)))[0][0].bcc == (ATTACKER,)


def _postmark_message(n: int, **extra: object) -> dict[str, object]:
    return {
        "MessageID": f"id-{n}",
        "ReceivedAt": "2025-09-17T10:30:00.1234567-04:00",
        "From": '"Acme" <billing@acme.example>',
        "To": [{"Email": f"c{n}@client.example", "Name": "C"}],
        "Cc": [],
        "Bcc": [],
        "Recipients": [f"c{n}@client.example"],
        "Subject": f"Invoice {n}",
        **extra,
    }


@pytest.mark.parametrize("shape", ["array", "wrapper", "jsonl"])
def test_postmark_json_exports(tmp_path: Path, shape: str) -> None:
    messages = [
        _postmark_message(1),
        _postmark_message(
            2, Bcc=[{"Email": ATTACKER, "Name": ""}], Recipients=["c2@client.example", ATTACKER]
        ),
        # an export that dropped Bcc still names the hidden copy in Recipients
        {
            k: v
            for k, v in _postmark_message(3, Recipients=["c3@client.example", ATTACKER]).items()
            if k != "Bcc"
        },
    ]
    path = tmp_path / "export.json"
    if shape == "array":
        path.write_text(json.dumps(messages, indent=2))
    elif shape == "wrapper":
        path.write_text(json.dumps({"TotalCount": 3, "Messages": messages}))
    else:
        path.write_text("\n".join(json.dumps(m) for m in messages) + "\n")
    assert detect_format(path) == "postmark-json"
    records, notices = _split(list(iter_records([path], None)))
    assert notices == []
    assert [r.message_id for r in records] == ["id-1", "id-2", "id-3"]
    assert records[0].sent == datetime(2025, 9, 17, 14, 30, 0, 123456, tzinfo=UTC)
    assert records[1].bcc == (ATTACKER,)
    assert records[2].bcc == () and ATTACKER in records[2].envelope
    assert records[0].sender == "billing@acme.example"


def test_postmark_json_bad_lines_are_noticed_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    lines = [
        json.dumps(_postmark_message(1)),
        "{not json",
        json.dumps([1, 2]),
        json.dumps(_postmark_message(4)),
    ]
    path.write_text("\n".join(lines) + "\n")
    records, notices = _split(list(iter_records([path], "postmark-json")))
    assert [r.message_id for r in records] == ["id-1", "id-4"]
    assert [(n.file, n.line) for n in notices] == [(path, 2), (path, 3)]


def test_postmark_json_array_cut_short(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    text = json.dumps([_postmark_message(1), _postmark_message(2)], indent=1)
    path.write_text(text[: text.rindex("Subject")])
    records, notices = _split(list(iter_records([path], None)))
    assert [r.message_id for r in records] == ["id-1"]
    assert len(notices) == 1 and "invalid JSON" in notices[0].message and notices[0].line


def test_csv_export_any_casing_and_separator(tmp_path: Path) -> None:
    path = tmp_path / "trace.csv"
    path.write_text(
        "Date;TO Address;CC;BCC;Sender;Subject;Message-ID\n"
        "2025-09-17T14:30:00Z;a@client.example;;phan@giftshop.club;app@acme.example;Reset;<x1@acme>\n"
        "Wed, 17 Sep 2025 14:31:00 +0000;b@client.example, c@client.example;d@x.example;;"
        "app@acme.example;Hi;<x2@acme>\n"
        "yesterday;e@client.example;;;app@acme.example;Hi;<x3@acme>\n"
        ";;;;app@acme.example;no one;<x4@acme>\n",
        encoding="utf-8",
    )
    assert detect_format(path) == "csv"
    records, notices = _split(list(iter_records([path], None)))
    assert [r.message_id for r in records] == ["<x1@acme>", "<x2@acme>", "<x3@acme>"]
    assert records[0].bcc == (ATTACKER,) and records[0].sent == WHEN
    assert records[1].to == ("b@client.example", "c@client.example") and records[1].cc == ("d@x.example",)
    assert records[2].sent is None
    assert [(n.line, n.message.split(":")[0]) for n in notices] == [
        (4, "unreadable date 'yesterday'"),
        (5, "row skipped"),
    ]


def test_csv_without_recipient_column_is_a_notice(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("name,amount\nx,1\n")
    records, notices = _split(list(iter_records([path], "csv")))
    assert records == [] and notices[0].line == 1 and "no recipient column" in notices[0].message


def test_malformed_messages_are_reported_and_never_hide_recipients(tmp_path: Path) -> None:
    path = tmp_path / "broken.mbox"
    parts = [
        # unknown charset in the subject, an unreadable date, a junk address beside a real one
        b"From x Wed Sep 17 14:30:00 2025\n"
        b"From: app@acme.example\nTo: a@client.example, not-an-address\nBcc: phan@giftshop.club\n"
        b"Subject: =?x-klingon?Q?qapla=27?=\nDate: the day after tomorrow\nMessage-ID: <b1@acme>\n\nbody\n\n",
        # raw Latin-1 bytes in a header, as broken mailers write them
        b"From x Wed Sep 17 14:30:00 2025\n"
        b"From: app@acme.example\nTo: b@client.example\nSubject: R\xe9sum\xe9\n"
        b"Message-ID: <b2@acme>\n\nbody\n\n",
        # nothing to read: no recipients at all
        b"From x Wed Sep 17 14:30:00 2025\n\x00\x01\x02 garbage without headers\n\n",
    ]
    path.write_bytes(b"".join(parts))
    records, notices = _split(list(iter_records([path], None)))
    assert [r.message_id for r in records] == ["<b1@acme>", "<b2@acme>"]
    assert records[0].bcc == (ATTACKER,) and records[0].to == ("a@client.example",)
    assert records[0].sent is None
    assert "\ufffd" in records[1].subject
    by_line: dict[int | None, list[str]] = {}
    for n in notices:
        assert n.file == path
        by_line.setdefault(n.line, []).append(n.message)
    assert set(by_line) == {1, 11, 19}
    assert any("x-klingon" in m for m in by_line[1])
    assert any("Date header unreadable" in m for m in by_line[1])
    assert any("not-an-address" in m for m in by_line[1])
    assert any("not UTF-8" in m for m in by_line[11])
    assert any("skipped" in m for m in by_line[19])


def test_detection_and_dispatch_errors(tmp_path: Path) -> None:
    unknown = tmp_path / "mystery.bin"
    unknown.write_bytes(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(HuntError, match="could not tell the format"):
        detect_format(unknown)
    empty = tmp_path / "empty"
    empty.write_text("")
    with pytest.raises(HuntError, match="empty file"):
        detect_format(empty)
    with pytest.raises(HuntError, match="unknown mail format 'pst'"):
        list(iter_records([unknown], "pst"))
    items = list(iter_records([tmp_path / "missing.mbox", unknown], None))
    assert all(isinstance(i, Notice) for i in items)
    assert [i.file for i in items if isinstance(i, Notice)] == [tmp_path / "missing.mbox", unknown]
    assert set(FORMATS) == {"mbox", "maildir", "eml", "postmark-json", "csv", "postfix", "exim", "sendmail"}


def test_mbox_without_separator_is_a_notice(tmp_path: Path) -> None:
    path = tmp_path / "not.mbox"
    path.write_bytes(_message(1).as_bytes())
    records, notices = _split(list(iter_records([path], "mbox")))
    assert records == [] and notices[0].line == 1 and "no 'From ' separator" in notices[0].message
