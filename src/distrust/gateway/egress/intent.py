"""Does an outgoing email match what the user asked for?

postmark-mcp 1.0.16 did exactly what the user asked (mail alice@example.com) and one thing more
(a Bcc to phan@giftshop.club). The mail provider delivered both, so host allowlists cannot tell
them apart; only the tool call can. Every email API inspector reduces a request to a list of
:class:`Recipient` records and hands it here: a recipient is acceptable when the tool call the
user's assistant made names it, or when the lock's allowlist does. Everything else is blocked,
with the field and value named so the user sees *which* copy was stopped and why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from distrust.gateway.egress import InflightCall, InspectionContext, Recipient, Verdict

# An address as it appears inside free text ("mail alice@example.com about…"), a list
# ("a@x.com; b@y.com") or a display form ("Alice <alice@example.com>"). Deliberately loose on
# the local part: finding too many candidate addresses in the user's arguments only widens what
# counts as "named", it never blocks anything.
ADDRESS_IN_TEXT = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")

# How deep to walk a tool call's arguments; protects against pathological nesting.
_MAX_DEPTH = 32


@dataclass(frozen=True)
class NoCallPolicy:
    """What to do with email sent while no tool call is running (a timer, a background job)."""

    name: str
    allow_all: bool
    allow_allowlisted: bool
    rationale: str


# Policy names as the lock spells them. Unknown names fail closed (treated like deny-email).
NO_CALL_POLICIES: dict[str, NoCallPolicy] = {
    "deny-email": NoCallPolicy(
        "deny-email",
        allow_all=False,
        allow_allowlisted=False,
        rationale="an MCP server has no reason to send mail on its own; a malicious one would",
    ),
    "allowlist-only": NoCallPolicy(
        "allowlist-only",
        allow_all=False,
        allow_allowlisted=True,
        rationale="scheduled mail to addresses the user listed in the lock is expected",
    ),
    "allow": NoCallPolicy(
        "allow",
        allow_all=True,
        allow_allowlisted=True,
        rationale="the user chose to trust this server's unattended mail",
    ),
}


def addresses_in(value: Any) -> frozenset[str]:
    """Every email address mentioned anywhere in a tool call's arguments, lower-cased.

    Walks dicts, lists and strings recursively; numbers and booleans cannot name an address.
    """
    found: set[str] = set()
    _collect(value, found, 0)
    return frozenset(found)


def _collect(value: Any, found: set[str], depth: int) -> None:
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, str):
        found.update(m.group(0).lower().strip(".") for m in ADDRESS_IN_TEXT.finditer(value))
    elif isinstance(value, dict):
        for item in value.values():
            _collect(item, found, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect(item, found, depth + 1)


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower().rstrip(".")


def matches_ioc(address: str, iocs: Iterable[str]) -> str | None:
    """The IOC an address matches: the exact address, its domain, or a parent domain of it."""
    address = address.lower()
    domain = domain_of(address)
    for raw in iocs:
        ioc = raw.strip().lower().lstrip("@").rstrip(".")
        if not ioc:
            continue
        if "@" in ioc:
            if address == ioc:
                return raw
        elif domain == ioc or domain.endswith("." + ioc):
            return raw
    return None


def is_allowlisted(address: str, allowed: Iterable[str]) -> bool:
    """An allowlist entry is an exact address or ``@domain`` (that domain only, not subdomains)."""
    address = address.lower()
    domain = domain_of(address)
    for raw in allowed:
        entry = raw.strip().lower()
        if entry.startswith("@"):
            if domain == entry[1:]:
                return True
        elif entry == address:
            return True
    return False


def judge_recipients(
    recipients: Sequence[Recipient],
    context: InspectionContext,
    *,
    inspector: str,
    also_seen: Sequence[Recipient] = (),
) -> Verdict:
    """Allow the request only if every delivery recipient was asked for.

    ``recipients`` are the addresses the API would deliver to. ``also_seen`` are addresses that
    receive nothing (Reply-To, From) but still betray an attacker when they are a known IOC.
    A known-malicious address is blocked even when a tool call names it: a prompt-injected
    assistant can be talked into naming the attacker, and no legitimate task needs that address.
    """
    named_by_call = [(call, addresses_in(call.arguments)) for call in context.calls]
    best_call = _best_call(recipients, named_by_call)
    call_id = best_call.call_id if best_call else None

    for recipient in (*recipients, *also_seen):
        ioc = matches_ioc(recipient.address, context.iocs)
        if ioc is not None:
            return Verdict(
                allow=False,
                reason=(
                    f"known-malicious recipient: the request sends a {recipient.field} to "
                    f"{recipient.address}, which matches the indicator {ioc}"
                ),
                inspector=inspector,
                field=recipient.field,
                value=recipient.address,
                call_id=call_id,
                recipients=tuple(recipients),
            )

    if not context.calls:
        return _judge_without_call(recipients, context, inspector=inspector)

    all_named = frozenset().union(*(named for _, named in named_by_call))
    for recipient in recipients:
        if recipient.address in all_named or is_allowlisted(recipient.address, context.allowed_recipients):
            continue
        return Verdict(
            allow=False,
            reason=_unnamed_reason(recipient, best_call, named_by_call),
            inspector=inspector,
            field=recipient.field,
            value=recipient.address,
            call_id=call_id,
            recipients=tuple(recipients),
        )
    return Verdict(allow=True, inspector=inspector, call_id=call_id, recipients=tuple(recipients))


def _best_call(
    recipients: Sequence[Recipient], named_by_call: list[tuple[InflightCall, frozenset[str]]]
) -> InflightCall | None:
    """The in-flight call this request most likely serves: the one naming the most To addresses.

    Ties go to the call naming the most recipients of any kind, then to the oldest call.
    """
    if not named_by_call:
        return None
    to_addresses = {r.address for r in recipients if _is_to_field(r.field)}
    all_addresses = {r.address for r in recipients}

    def score(item: tuple[InflightCall, frozenset[str]]) -> tuple[int, int]:
        _, named = item
        return (len(to_addresses & named), len(all_addresses & named))

    best = max(named_by_call, key=score)  # max keeps the first of equal scores
    return best[0]


def _is_to_field(field: str) -> bool:
    """True for "To", "personalizations[0].to", "h:To", "Destination.ToAddresses.member.1"."""
    return any(part in {"to", "toaddresses"} for part in re.split(r"[.\[\]:]", field.lower()))


def _unnamed_reason(
    recipient: Recipient,
    best_call: InflightCall | None,
    named_by_call: list[tuple[InflightCall, frozenset[str]]],
) -> str:
    asked = sorted(next((named for call, named in named_by_call if call is best_call), frozenset()))
    if best_call is None:
        who = "the tool call"
    else:
        who = f"the tool call {best_call.tool!r} (id {best_call.call_id})"
    asked_text = f"asked to mail {', '.join(asked)}" if asked else "named no email address"
    several = " no tool call in flight" if len(named_by_call) > 1 else " no tool call"
    return (
        f"{who} {asked_text}; the request also sends a {recipient.field} to {recipient.address}, "
        f"which{several} named"
    )


def _judge_without_call(
    recipients: Sequence[Recipient], context: InspectionContext, *, inspector: str
) -> Verdict:
    policy = NO_CALL_POLICIES.get(context.policy_without_call)
    policy_note = (
        "" if policy else f" (unknown policy {context.policy_without_call!r}, treated as deny-email)"
    )
    policy = policy or NO_CALL_POLICIES["deny-email"]
    if policy.allow_all:
        return Verdict(allow=True, inspector=inspector, recipients=tuple(recipients))
    for recipient in recipients:
        if policy.allow_allowlisted and is_allowlisted(recipient.address, context.allowed_recipients):
            continue
        return Verdict(
            allow=False,
            reason=(
                f"mail was sent while no tool call was running ({recipient.field} {recipient.address}); "
                f"policy {policy.name}{policy_note}: {policy.rationale}"
            ),
            inspector=inspector,
            field=recipient.field,
            value=recipient.address,
            recipients=tuple(recipients),
        )
    if not recipients and not policy.allow_allowlisted:
        return Verdict(
            allow=False,
            reason=f"mail was sent while no tool call was running; policy {policy.name}{policy_note}",
            inspector=inspector,
        )
    return Verdict(allow=True, inspector=inspector, recipients=tuple(recipients))
