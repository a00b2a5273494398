"""Mailgun: ``POST /v3/<domain>/messages`` and ``/v3/<domain>/messages.mime``.

Bodies are form-urlencoded or multipart/form-data. ``to``, ``cc`` and ``bcc`` may repeat;
``h:To``/``h:Cc``/``h:Bcc`` set message headers, which Mailgun may turn into deliveries, so they
count as recipients too. ``messages.mime`` carries a complete MIME message in the ``message``
part, whose To/Cc/Bcc headers are read as well (the envelope ``to`` field is what Mailgun
delivers to, but a hidden header recipient is no less suspicious).
"""

from __future__ import annotations

import re
from typing import ClassVar

from distrust.gateway.egress import OutboundRequest
from distrust.gateway.egress.inspectors.base import (
    BodyError,
    EmailApiInspector,
    Endpoint,
    Extraction,
    add_mime_headers,
    field_text,
    form_fields,
)

# Form field (lower-cased) → does it deliver?
FORM_FIELDS: dict[str, bool] = {
    "to": True,
    "cc": True,
    "bcc": True,
    "h:to": True,
    "h:cc": True,
    "h:bcc": True,
    "from": False,
    "h:reply-to": False,
    "h:sender": False,
}


class MailgunInspector(EmailApiInspector):
    name: str = "mailgun"
    hosts: ClassVar[frozenset[str]] = frozenset({"api.mailgun.net", "api.eu.mailgun.net"})
    endpoints: ClassVar[tuple[Endpoint, ...]] = (
        Endpoint(re.compile(r"/v3/[^/]+/messages"), "form"),
        Endpoint(re.compile(r"/v3/[^/]+/messages\.mime"), "mime"),
    )

    def extract(self, shape: str, request: OutboundRequest) -> Extraction:
        extraction = Extraction()
        fields = form_fields(request)
        for name, raw in fields:
            delivers = FORM_FIELDS.get(name.lower())
            if delivers is not None:
                extraction.add(name, field_text(raw), delivers=delivers)
        if shape == "mime":
            messages = [raw for name, raw in fields if name.lower() == "message"]
            if not messages:
                raise BodyError("messages.mime request without a 'message' part")
            for raw in messages:
                add_mime_headers(extraction, raw, prefix="message")
        return extraction
