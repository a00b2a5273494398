"""The matcher: IOC, outside-org and not-requested signals, time windows, and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from distrust.gateway.audit import AuditLog
from distrust.hunt import MailRecord
from distrust.hunt.match import IocSet, audit_requested, match
from distrust.hunt.sources import HuntError

ATTACKER = "phan@giftshop.club"
T0 = datetime(2025, 9, 17, 14, 30, tzinfo=UTC)


def _rec(
    mid: str,
    *,
    to: tuple[str, ...] = ("bob@client.example",),
    cc: tuple[str, ...] = (),
    bcc: tuple[str, ...] = (),
    envelope: tuple[str, ...] = (),
    sent: datetime | None = T0,
) -> MailRecord:
    return MailRecord(
        message_id=mid,
        sent=sent,
        sender="app@acme.example",
        subject="s",
        to=to,
        cc=cc,
        bcc=bcc,
        envelope=envelope,
    )


def test_ioc_addresses_domains_subdomains_and_plus_tags() -> None:
    records = [
        _rec("clean"),
        _rec("bcc", bcc=(ATTACKER,)),
        _rec("tagged", cc=("phan+crm@giftshop.club",)),
        _rec("subdomain", envelope=("x@mx.giftshop.club",)),
        _rec("lookalike", bcc=("phan@giftshop.club.example",)),
        _rec("to-field", to=("someone@giftshop.club",)),
    ]
    found = {e.record.message_id: e for e in match(records, iocs=[ATTACKER, "@GiftShop.Club"])}
    assert set(found) == {"bcc", "tagged", "subdomain", "to-field"}
    assert found["bcc"].reasons == ("ioc:phan@giftshop.club",) and found["bcc"].fields == ("bcc",)
    assert found["tagged"].reasons == ("ioc:phan@giftshop.club",) and found["tagged"].fields == ("cc",)
    assert found["subdomain"].reasons == ("ioc:giftshop.club",) and found["subdomain"].fields == ("envelope",)
    assert found["to-field"].hidden == ("someone@giftshop.club",)


def test_domain_only_iocs() -> None:
    exposures = list(match([_rec("a", bcc=(ATTACKER,))], iocs=["*.giftshop.club"]))
    assert [e.reasons for e in exposures] == [("ioc:giftshop.club",)]
    assert IocSet.parse(["", "  "]).addresses == frozenset()


def test_outside_org_judges_only_copies() -> None:
    records = [
        _rec("internal-cc", cc=("cfo@acme.example", "ops@eu.acme.example")),
        _rec("external-to", to=("client@elsewhere.example",)),
        _rec("external-bcc", bcc=("archive@elsewhere.example",)),
        _rec("no-orgs-given", bcc=("x@y.example",)),
    ]
    found = {e.record.message_id: e for e in match(records[:3], iocs=[], org_domains=["Acme.Example"])}
    assert set(found) == {"external-bcc"}
    assert found["external-bcc"].reasons == ("outside-org",)
    assert list(match(records[3:], iocs=[])) == []  # without org domains, no outside-org claim


def test_several_reasons_are_all_named() -> None:
    record = _rec("r", to=("bob@acme.example",), bcc=(ATTACKER, "audit@acme.example"))
    [exposure] = match(
        [record], iocs=[ATTACKER], org_domains=["acme.example"], requested=lambda r: {"bob@acme.example"}
    )
    assert exposure.hidden == (ATTACKER, "audit@acme.example")
    assert exposure.reasons == ("ioc:phan@giftshop.club", "outside-org", "not-requested")
    assert exposure.fields == ("bcc",)


def test_requested_none_means_unknown() -> None:
    record = _rec("r", bcc=("someone@else.example",))
    assert list(match([record], iocs=[], requested=lambda r: None)) == []
    [exposure] = match([record], iocs=[], requested=lambda r: {"BOB@client.example"})
    assert exposure.reasons == ("not-requested",) and exposure.hidden == ("someone@else.example",)


def test_time_window_is_inclusive_and_keeps_undated_records() -> None:
    records = [
        _rec("before", bcc=(ATTACKER,), sent=T0 - timedelta(days=1)),
        _rec("start", bcc=(ATTACKER,), sent=T0),
        _rec("end", bcc=(ATTACKER,), sent=T0 + timedelta(hours=1)),
        _rec("after", bcc=(ATTACKER,), sent=T0 + timedelta(hours=2)),
        _rec("undated", bcc=(ATTACKER,), sent=None),
    ]
    naive_end = (T0 + timedelta(hours=1)).replace(tzinfo=None)  # naive: taken as UTC
    found = [e.record.message_id for e in match(records, iocs=[ATTACKER], since=T0, until=naive_end)]
    assert found == ["start", "end", "undated"]


def _audit(tmp_path: Path, calls: list[tuple[datetime, dict[str, object]]]) -> Path:
    db = tmp_path / "audit.db"
    with AuditLog(db) as log:
        for when, arguments in calls:
            entry = log.call_started("postmark", "send_email", "1", arguments, ts=when.timestamp())
            log.call_finished(entry, result_bytes=10, is_error=False, ts=when.timestamp() + 0.5)
        log.durable().result(timeout=10)
    return db


def test_audit_log_tells_what_the_assistant_asked_for(tmp_path: Path) -> None:
    db = _audit(
        tmp_path,
        [
            (
                T0 - timedelta(seconds=20),
                {"to": "Bob <bob@client.example>", "subject": "Invoice", "body": "x"},
            ),
            (
                T0 + timedelta(hours=3),
                {"message": {"To": ["carol@client.example"], "Cc": "dan@client.example"}},
            ),
        ],
    )
    requested = audit_requested(db)
    sent = _rec("a", to=("bob@client.example",), bcc=(ATTACKER,))
    assert requested(sent) == {"bob@client.example"}
    later = _rec(
        "b", to=("carol@client.example",), cc=("dan@client.example",), sent=T0 + timedelta(hours=3, minutes=2)
    )
    assert requested(later) == {"carol@client.example", "dan@client.example"}
    assert requested(_rec("c", sent=T0 + timedelta(days=1))) is None  # no call near it
    assert requested(_rec("d", sent=None)) is None
    assert requested(_rec("e", to=("zed@client.example",))) is None  # a call near it, other To
    found = {e.record.message_id: e.reasons for e in match([sent, later], iocs=[], requested=requested)}
    assert found == {"a": ("not-requested",)}


def test_audit_log_missing_or_broken(tmp_path: Path) -> None:
    with pytest.raises(HuntError, match="audit log not found"):
        audit_requested(tmp_path / "nope.db")
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(HuntError, match="cannot read the audit log"):
        audit_requested(bad)
