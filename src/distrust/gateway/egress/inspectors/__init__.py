"""Egress inspectors: one reader per email API, plus a catch-all for IOCs and leaked secrets.

The proxy asks each inspector, in order, whether a request concerns it (``matches``) and what it
thinks (``inspect``). Email inspectors come first so a block names the exact recipient field;
the generic walker comes last and catches what no API reader knows about.
"""

from __future__ import annotations

from collections.abc import Iterable

from distrust.gateway.egress import Inspector
from distrust.gateway.egress.inspectors.base import EmailApiInspector
from distrust.gateway.egress.inspectors.generic import SECRET_HOMES, GenericLeakInspector, SecretHome
from distrust.gateway.egress.inspectors.mailgun import MailgunInspector
from distrust.gateway.egress.inspectors.postmark import PostmarkInspector
from distrust.gateway.egress.inspectors.resend import ResendInspector
from distrust.gateway.egress.inspectors.sendgrid import SendGridInspector
from distrust.gateway.egress.inspectors.ses import SesInspector

EMAIL_INSPECTORS: tuple[type[EmailApiInspector], ...] = (
    PostmarkInspector,
    SendGridInspector,
    MailgunInspector,
    SesInspector,
    ResendInspector,
)


def default_inspectors(allowed_hosts: Iterable[str] = ()) -> list[Inspector]:
    """Every inspector, email APIs first, the generic walker last.

    ``allowed_hosts`` is the lock's egress allowlist: hosts where any secret may go.
    """
    inspectors: list[Inspector] = [cls() for cls in EMAIL_INSPECTORS]
    inspectors.append(GenericLeakInspector(allowed_hosts))
    return inspectors


__all__ = [
    "EMAIL_INSPECTORS",
    "SECRET_HOMES",
    "EmailApiInspector",
    "GenericLeakInspector",
    "MailgunInspector",
    "PostmarkInspector",
    "ResendInspector",
    "SecretHome",
    "SendGridInspector",
    "SesInspector",
    "default_inspectors",
]
