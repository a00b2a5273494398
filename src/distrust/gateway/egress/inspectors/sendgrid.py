"""SendGrid v3 Mail Send: ``POST /v3/mail/send``.

Recipients live in ``personalizations[].to/cc/bcc[].email``; the legacy account-wide
``mail_settings.bcc.email`` copies every message and is exactly what a malicious server would
reach for, so it counts as a delivery recipient whether or not ``enable`` is set.
"""

from __future__ import annotations

import re
from typing import ClassVar

from distrust.gateway.egress import OutboundRequest
from distrust.gateway.egress.inspectors.base import (
    EmailApiInspector,
    Endpoint,
    Extraction,
    add_fields,
    json_body,
    require_list,
    require_object,
    values_ci,
)

PERSONALIZATION_FIELDS = ("to", "cc", "bcc")
NAMING_FIELDS = ("reply_to", "reply_to_list", "from")


class SendGridInspector(EmailApiInspector):
    name: str = "sendgrid"
    hosts: ClassVar[frozenset[str]] = frozenset({"api.sendgrid.com"})
    endpoints: ClassVar[tuple[Endpoint, ...]] = (Endpoint(re.compile(r"/v3/mail/send"), "send"),)

    def extract(self, shape: str, request: OutboundRequest) -> Extraction:
        body = require_object(json_body(request), "the body")
        extraction = Extraction()
        for personalizations in values_ci(body, "personalizations"):
            for i, item in enumerate(require_list(personalizations, "personalizations")):
                obj = require_object(item, f"personalizations[{i}]")
                add_fields(extraction, obj, PERSONALIZATION_FIELDS, prefix=f"personalizations[{i}].")
                add_fields(extraction, obj, ("from",), prefix=f"personalizations[{i}].", delivers=False)
        for settings in values_ci(body, "mail_settings"):
            for bcc in values_ci(settings, "bcc"):
                add_fields(
                    extraction,
                    require_object(bcc, "mail_settings.bcc"),
                    ("email",),
                    prefix="mail_settings.bcc.",
                )
        add_fields(extraction, body, NAMING_FIELDS, delivers=False)
        return extraction
