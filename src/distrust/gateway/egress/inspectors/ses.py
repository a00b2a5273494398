"""Amazon SES: the v2 JSON API and the v1 query API.

v2 ``POST /v2/email/outbound-emails`` takes ``Destination.ToAddresses/CcAddresses/BccAddresses``
and, for raw mail, ``Content.Raw.Data`` (base64 MIME whose headers carry recipients);
``/v2/email/outbound-bulk-emails`` repeats ``Destination`` per ``BulkEmailEntries`` item.
v1 is a form posted to ``/`` with ``Action=SendEmail`` (``Destination.BccAddresses.member.N``)
or ``Action=SendRawEmail`` (``Destinations.member.N`` and base64 ``RawMessage.Data``).
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
    add_mime_headers,
    b64decode_field,
    field_text,
    form_fields,
    json_body,
    require_list,
    require_object,
    values_ci,
)

DESTINATION_FIELDS = ("ToAddresses", "CcAddresses", "BccAddresses")
NAMING_FIELDS = ("ReplyToAddresses", "FromEmailAddress")
# v1 form fields: a prefix (lower-cased) → does it deliver?
V1_FIELD_PREFIXES: tuple[tuple[str, bool], ...] = (
    ("destination.toaddresses.member.", True),
    ("destination.ccaddresses.member.", True),
    ("destination.bccaddresses.member.", True),
    ("destinations.member.", True),
    ("replytoaddresses.member.", False),
    ("source", False),
)
V1_SENDING_ACTIONS = frozenset({"sendemail", "sendrawemail", "sendtemplatedemail", "sendbulktemplatedemail"})


class SesInspector(EmailApiInspector):
    name: str = "ses"
    host_pattern: ClassVar[re.Pattern[str] | None] = re.compile(r"email(-fips)?\.[a-z0-9-]+\.amazonaws\.com")
    endpoints: ClassVar[tuple[Endpoint, ...]] = (
        Endpoint(re.compile(r"/v2/email/outbound-emails"), "v2"),
        Endpoint(re.compile(r"/v2/email/outbound-bulk-emails"), "v2-bulk"),
        Endpoint(re.compile(r"/"), "v1"),
    )

    def matches(self, request: OutboundRequest) -> bool:
        endpoint = self.endpoint(request)
        if endpoint is None:
            return False
        if endpoint.shape != "v1":
            return True
        try:
            return self._v1_action(request) in V1_SENDING_ACTIONS
        except BodyError:
            return True  # unreadable body on the query endpoint: let inspect() block it

    def extract(self, shape: str, request: OutboundRequest) -> Extraction:
        extraction = Extraction()
        if shape == "v1":
            self._v1(extraction, request)
            return extraction
        body = require_object(json_body(request), "the body")
        if shape == "v2":
            self._destination(extraction, body, prefix="")
            for content in values_ci(body, "Content"):
                for raw in values_ci(content, "Raw"):
                    for data in values_ci(raw, "Data"):
                        mime = b64decode_field(data, where="Content.Raw.Data")
                        add_mime_headers(extraction, mime, prefix="Content.Raw.Data")
        else:
            for entries in values_ci(body, "BulkEmailEntries"):
                for i, entry in enumerate(require_list(entries, "BulkEmailEntries")):
                    obj = require_object(entry, f"BulkEmailEntries[{i}]")
                    self._destination(extraction, obj, prefix=f"BulkEmailEntries[{i}].")
        add_fields(extraction, body, NAMING_FIELDS, delivers=False)
        return extraction

    @staticmethod
    def _destination(extraction: Extraction, obj: dict[str, Any], *, prefix: str) -> None:
        for destination in values_ci(obj, "Destination"):
            if isinstance(destination, dict):
                add_fields(extraction, destination, DESTINATION_FIELDS, prefix=f"{prefix}Destination.")

    @staticmethod
    def _v1_action(request: OutboundRequest) -> str:
        for name, raw in form_fields(request):
            if name.lower() == "action":
                return field_text(raw).strip().lower()
        return ""

    @staticmethod
    def _v1(extraction: Extraction, request: OutboundRequest) -> None:
        for name, raw in form_fields(request):
            lowered = name.lower()
            for prefix, delivers in V1_FIELD_PREFIXES:
                if lowered.startswith(prefix):
                    extraction.add(name, field_text(raw), delivers=delivers)
                    break
            if lowered == "rawmessage.data":
                mime = b64decode_field(field_text(raw), where="RawMessage.Data")
                add_mime_headers(extraction, mime, prefix="RawMessage.Data")
