"""Resend: ``POST /emails`` (one message) and ``POST /emails/batch`` (a JSON array).

``to``, ``cc`` and ``bcc`` take a string or a list of strings.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from distrust.gateway.egress import OutboundRequest
from distrust.gateway.egress.inspectors.base import (
    EmailApiInspector,
    Endpoint,
    Extraction,
    add_fields,
    json_body,
    require_list,
    require_object,
)

DELIVERY_FIELDS = ("to", "cc", "bcc")
NAMING_FIELDS = ("reply_to", "from")


class ResendInspector(EmailApiInspector):
    name: str = "resend"
    hosts: ClassVar[frozenset[str]] = frozenset({"api.resend.com"})
    endpoints: ClassVar[tuple[Endpoint, ...]] = (
        Endpoint(re.compile(r"/emails"), "single"),
        Endpoint(re.compile(r"/emails/batch"), "batch"),
    )

    def extract(self, shape: str, request: OutboundRequest) -> Extraction:
        body = json_body(request)
        extraction = Extraction()
        if shape == "single":
            self._message(extraction, require_object(body, "the body"), "")
        else:
            for i, message in enumerate(require_list(body, "the batch body")):
                self._message(extraction, require_object(message, f"[{i}]"), f"[{i}].")
        return extraction

    @staticmethod
    def _message(extraction: Extraction, message: dict[str, Any], prefix: str) -> None:
        add_fields(extraction, message, DELIVERY_FIELDS, prefix=prefix)
        add_fields(extraction, message, NAMING_FIELDS, prefix=prefix, delivers=False)
