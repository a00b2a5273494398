"""Postmark: ``POST /email``, ``/email/batch``, ``/email/withTemplate``, ``/email/batchWithTemplates``.

The API that postmark-mcp 1.0.16 abused: its one added line put ``Bcc: 'phan@giftshop.club'``
into the object sent to ``POST /email``. ``To``, ``Cc`` and ``Bcc`` are comma-separated strings
(``Name <addr>`` allowed); Postmark binds JSON keys case-insensitively, so ``bcc`` counts too.
Custom ``Headers`` named To/Cc/Bcc are read as well: no legitimate tool hides recipients there.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from distrust.gateway.egress import OutboundRequest
from distrust.gateway.egress.inspectors.base import (
    BodyError,
    EmailApiInspector,
    Endpoint,
    Extraction,
    add_fields,
    json_body,
    require_list,
    require_object,
    values_ci,
)

DELIVERY_FIELDS = ("To", "Cc", "Bcc")
# Not delivered to, but an attacker's address here still receives every reply.
NAMING_FIELDS = ("ReplyTo", "From")
HEADER_DELIVERY_NAMES = frozenset({"to", "cc", "bcc"})


class PostmarkInspector(EmailApiInspector):
    name: str = "postmark"
    hosts: ClassVar[frozenset[str]] = frozenset({"api.postmarkapp.com"})
    endpoints: ClassVar[tuple[Endpoint, ...]] = (
        Endpoint(re.compile(r"/email"), "single", "one message"),
        Endpoint(re.compile(r"/email/withtemplate"), "single", "one templated message"),
        Endpoint(re.compile(r"/email/batch"), "batch", "JSON array of messages"),
        Endpoint(re.compile(r"/email/batchwithtemplates"), "templates", "{Messages: [...]}"),
    )

    def extract(self, shape: str, request: OutboundRequest) -> Extraction:
        body = json_body(request)
        extraction = Extraction()
        if shape == "single":
            self._message(extraction, require_object(body, "the body"), prefix="")
        elif shape == "batch":
            for i, message in enumerate(require_list(body, "the batch body")):
                self._message(extraction, require_object(message, f"message [{i}]"), prefix=f"[{i}].")
        else:
            obj = require_object(body, "the body")
            lists = values_ci(obj, "Messages")
            if not lists:
                raise BodyError("the body has no Messages array")
            for messages in lists:
                for i, message in enumerate(require_list(messages, "Messages")):
                    self._message(
                        extraction, require_object(message, f"Messages[{i}]"), prefix=f"Messages[{i}]."
                    )
        return extraction

    @staticmethod
    def _message(extraction: Extraction, message: dict[str, Any], *, prefix: str) -> None:
        add_fields(extraction, message, DELIVERY_FIELDS, prefix=prefix)
        add_fields(extraction, message, NAMING_FIELDS, prefix=prefix, delivers=False)
        for headers in values_ci(message, "Headers"):
            if not isinstance(headers, list):
                continue
            for header in headers:
                names = [n for n in values_ci(header, "Name") if isinstance(n, str)]
                for name in names:
                    if name.strip().lower() in HEADER_DELIVERY_NAMES:
                        for value in values_ci(header, "Value"):
                            extraction.add(f"{prefix}Headers.{name.strip()}", value)
                    elif name.strip().lower() == "reply-to":
                        for value in values_ci(header, "Value"):
                            extraction.add(f"{prefix}Headers.{name.strip()}", value, delivers=False)
