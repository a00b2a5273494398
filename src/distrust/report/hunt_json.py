"""``distrust hunt`` as JSON: a stable schema for incident tooling, tickets and regulators' forms.

The schema is ``docs/hunt-report.schema.json``, versioned by ``schema_version``; within a
version fields are only added, never renamed, retyped or removed. Times are RFC 3339 in UTC
(``...Z``) and per-day counts use UTC dates, so two responders in different zones quote the
same numbers. Secrets are only ever present in redacted form (``ghp_…(40 chars)``).
Output is deterministic: exposures come ordered by :func:`~distrust.hunt.exposure.summarise`
and maps are written in a fixed order, so two reports of one hunt are byte-identical.
"""

from __future__ import annotations

import json
from typing import Any

import distrust
from distrust.hunt import Exposure, HuntResult
from distrust.model import Notice
from distrust.report.hunt_common import hunt_facts, iso_time, remediation_checklist

SCHEMA_VERSION = "1"
TOOL_NAME = "distrust"

JsonObject = dict[str, Any]


def render_hunt_json(result: HuntResult, *, package: str | None = None) -> str:
    """The hunt as a JSON document (see ``docs/hunt-report.schema.json``), ending in a newline."""
    return json.dumps(hunt_document(result, package=package), indent=2, ensure_ascii=False) + "\n"


def hunt_document(result: HuntResult, *, package: str | None = None) -> JsonObject:
    """The report as plain JSON-ready data, for callers that embed it in a larger document."""
    facts = hunt_facts(result)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": TOOL_NAME, "version": distrust.__version__},
        "command": "hunt",
        "summary": {
            "scanned": facts.scanned,
            "exposed": facts.exposed,
            "first_exposure": iso_time(result.first),
            "last_exposure": iso_time(result.last),
            "hidden_recipients": [{"address": r, "messages": n} for r, n in facts.hidden],
            "categories": dict(facts.categories),
        },
        "sources": list(result.sources),
        "per_day": [{"date": d.isoformat(), "exposed": n} for d, n in result.per_day],
        "exposures": [_exposure(e) for e in result.exposures],
        "credentials_to_rotate": list(result.credentials_to_rotate),
        "remediation": [
            {"id": item.id, "title": item.title, "details": list(item.details)}
            for item in remediation_checklist(result, package)
        ],
        "notices": [_notice(n) for n in result.notices],
    }


def _exposure(exposure: Exposure) -> JsonObject:
    r = exposure.record
    return {
        "message_id": r.message_id,
        "sent": iso_time(r.sent),
        "sender": r.sender,
        "subject": r.subject,
        "to": list(r.to),
        "cc": list(r.cc),
        "bcc": list(r.bcc),
        "envelope": list(r.envelope),
        "source": r.source,
        "hidden": list(exposure.hidden),
        "fields": list(exposure.fields),
        "reasons": list(exposure.reasons),
        "categories": list(exposure.categories),
        "secrets": list(exposure.secrets),
    }


def _notice(notice: Notice) -> JsonObject:
    return {
        "message": notice.message,
        "file": str(notice.file) if notice.file is not None else None,
        "line": notice.line,
    }
