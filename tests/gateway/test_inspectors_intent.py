"""judge_recipients: a recipient passes only if a tool call or the allowlist named it."""

from __future__ import annotations

from typing import Any

from distrust.gateway.egress import InflightCall, InspectionContext, Recipient, Verdict
from distrust.gateway.egress.intent import addresses_in, judge_recipients


def call(arguments: Any, call_id: str = "7", tool: str = "sendEmail") -> InflightCall:
    return InflightCall(call_id=call_id, tool=tool, arguments=arguments)


def judge(recipients: list[Recipient], *calls: InflightCall, **kwargs: Any) -> Verdict:
    return judge_recipients(recipients, InspectionContext(calls=calls, **kwargs), inspector="test")


TO_ALICE = Recipient("To", "alice@example.com")
BCC_PHAN = Recipient("Bcc", "phan@giftshop.club")


def test_addresses_found_anywhere_in_arguments() -> None:
    arguments = {
        "to": "Alice Example <ALICE@example.com>",
        "cc": ["bob@example.org; carol@example.net", {"deep": {"er": "Dave <dave@x.io>,erin@y.io"}}],
        "body": "please also loop in frank@example.com.",
        "count": 3,
        "flag": True,
    }
    assert addresses_in(arguments) == {
        "alice@example.com",
        "bob@example.org",
        "carol@example.net",
        "dave@x.io",
        "erin@y.io",
        "frank@example.com",
    }


def test_named_recipients_are_allowed_and_carried() -> None:
    verdict = judge([TO_ALICE], call({"to": "Alice <Alice@Example.com>"}))
    assert verdict.allow and verdict.recipients == (TO_ALICE,) and verdict.call_id == "7"


def test_unnamed_bcc_is_blocked_with_field_value_call_and_human_reason() -> None:
    verdict = judge([TO_ALICE, BCC_PHAN], call({"to": "alice@example.com"}))
    assert not verdict.allow
    assert (verdict.field, verdict.value, verdict.call_id) == ("Bcc", "phan@giftshop.club", "7")
    assert "asked to mail alice@example.com" in verdict.reason
    assert "the request also sends a Bcc to phan@giftshop.club, which no tool call named" in verdict.reason
    assert verdict.recipients == (TO_ALICE, BCC_PHAN)


def test_ioc_is_blocked_even_when_the_call_named_it() -> None:
    verdict = judge(
        [Recipient("To", "phan@giftshop.club")],
        call({"to": "phan@giftshop.club"}),
        iocs=("phan@giftshop.club",),
    )
    assert not verdict.allow and "known-malicious recipient" in verdict.reason
    # a domain IOC covers every address at it and at its subdomains
    verdict = judge(
        [Recipient("Cc", "x@mail.giftshop.club")],
        call({"cc": "x@mail.giftshop.club"}),
        iocs=("giftshop.club",),
    )
    assert not verdict.allow and verdict.field == "Cc"
    # but not look-alike domains
    verdict = judge(
        [Recipient("To", "x@notgiftshop.club")], call({"to": "x@notgiftshop.club"}), iocs=("giftshop.club",)
    )
    assert verdict.allow


def test_ioc_in_a_non_delivery_field_is_blocked() -> None:
    verdict = judge_recipients(
        [TO_ALICE],
        InspectionContext(calls=(call({"to": "alice@example.com"}),), iocs=("giftshop.club",)),
        inspector="test",
        also_seen=[Recipient("ReplyTo", "phan@giftshop.club")],
    )
    assert not verdict.allow and verdict.field == "ReplyTo"


def test_no_call_in_flight_is_blocked_by_default_policy() -> None:
    verdict = judge([TO_ALICE])
    assert not verdict.allow
    assert "no tool call was running" in verdict.reason and verdict.call_id is None


def test_no_call_policies() -> None:
    allowlisted = {"allowed_recipients": ("@example.com",)}
    assert judge([TO_ALICE], policy_without_call="allowlist-only", **allowlisted).allow
    assert not judge([BCC_PHAN], policy_without_call="allowlist-only", **allowlisted).allow
    assert judge([BCC_PHAN], policy_without_call="allow").allow
    unknown = judge([TO_ALICE], policy_without_call="yolo", **allowlisted)
    assert not unknown.allow and "unknown policy 'yolo'" in unknown.reason


def test_allowlist_by_address_and_by_domain() -> None:
    bcc_archive = Recipient("Bcc", "archive@corp.example")
    alice_call = call({"to": "alice@example.com"})
    assert judge([TO_ALICE, bcc_archive], alice_call, allowed_recipients=("Archive@Corp.Example",)).allow
    assert judge([TO_ALICE, bcc_archive], alice_call, allowed_recipients=("@corp.example",)).allow
    # @domain means that domain, not its subdomains or look-alikes
    assert not judge(
        [TO_ALICE, Recipient("Bcc", "a@x.corp.example")], alice_call, allowed_recipients=("@corp.example",)
    ).allow
    assert not judge([TO_ALICE, bcc_archive], alice_call, allowed_recipients=("other@corp.example",)).allow


def test_several_calls_in_flight_pick_the_call_naming_the_to() -> None:
    calls = (
        call({"query": "weather"}, call_id="1", tool="search"),
        call({"to": "bob@example.com"}, call_id="2"),
        call({"to": "alice@example.com", "cc": "carol@example.com"}, call_id="3"),
    )
    verdict = judge([TO_ALICE, Recipient("Cc", "carol@example.com")], *calls)
    assert verdict.allow and verdict.call_id == "3"
    # a recipient named by another in-flight call is accepted
    verdict = judge([TO_ALICE, Recipient("Bcc", "bob@example.com")], *calls)
    assert verdict.allow and verdict.call_id == "3"
    verdict = judge([TO_ALICE, BCC_PHAN], *calls)
    assert not verdict.allow and verdict.call_id == "3" and "no tool call in flight named" in verdict.reason


def test_call_that_named_no_address() -> None:
    verdict = judge([TO_ALICE], call({"query": "list my drafts"}, tool="listDrafts"))
    assert (
        not verdict.allow
        and "named no email address" in verdict.reason
        and verdict.value == "alice@example.com"
    )
