"""``distrust hunt``: mail sources → matcher → exposure summary. Nothing here prints.

Known-bad recipients come from the advisory store (postmark-mcp's phan@giftshop.club and
giftshop.club) plus whatever the user adds. With a Postmark token, the API is searched for
each IOC address first (cheap, exact), then swept in full when asked.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from distrust.hunt import HuntResult, MailRecord
from distrust.hunt.exposure import summarise
from distrust.hunt.match import audit_requested, match
from distrust.hunt.sources import iter_records
from distrust.hunt.sources.postmark import PostmarkSource
from distrust.model import Notice


@dataclass(frozen=True)
class HuntOptions:
    """Where to look and what counts as exposed."""

    paths: tuple[Path, ...] = ()
    fmt: str | None = None
    postmark_token: str | None = None
    api_url: str = "https://api.postmarkapp.com"
    full_sweep: bool = False  # with a token: read every outbound message, not only IOC searches
    iocs: tuple[str, ...] = ()
    use_intel: bool = True
    org_domains: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    audit_db: Path | None = None
    env_keys: tuple[str, ...] = ()  # the compromised server's env keys: credentials to rotate
    year: int | None = None


def hunt_iocs(opts: HuntOptions) -> tuple[str, ...]:
    """The user's IOCs plus the email and domain IOCs of every advisory in the store."""
    found = list(opts.iocs)
    if opts.use_intel:
        from distrust.intel.store import AdvisoryStore

        found += [i.value for i in AdvisoryStore.load().iocs() if i.kind in ("email", "domain")]
    return tuple(dict.fromkeys(v.strip().lower() for v in found if v.strip()))


def run_hunt(opts: HuntOptions) -> HuntResult:
    """Search every source once, streaming; return the exposures with what they gave away."""
    iocs = hunt_iocs(opts)
    notices: list[Notice] = []
    sources: list[str] = [str(p) for p in opts.paths]
    counter = {"scanned": 0}

    def records() -> Iterator[MailRecord]:
        seen_api: set[str] = set()
        if opts.paths:
            for item in iter_records(list(opts.paths), opts.fmt, year=opts.year):
                if isinstance(item, Notice):
                    notices.append(item)
                    continue
                counter["scanned"] += 1
                yield item
        if opts.postmark_token:
            searches: list[str | None] = [i for i in iocs if "@" in i]
            if opts.full_sweep or not searches:
                searches.append(None)
            for recipient in searches:
                source = PostmarkSource(
                    opts.postmark_token,
                    api_url=opts.api_url,
                    since=opts.since,
                    until=opts.until,
                    recipient=recipient,
                )
                for record in source.iter_records():
                    if isinstance(record, Notice):
                        notices.append(record)
                        continue
                    if record.message_id in seen_api:
                        continue
                    seen_api.add(record.message_id)
                    counter["scanned"] += 1
                    yield record

    if opts.postmark_token:
        sources.append(f"postmark:{opts.api_url}")
    requested = None
    if opts.audit_db is not None and opts.audit_db.exists():
        requested = audit_requested(opts.audit_db)
    exposures = list(
        match(
            records(),
            iocs=iocs,
            org_domains=opts.org_domains,
            since=opts.since,
            until=opts.until,
            requested=requested,
        )
    )
    return summarise(exposures, counter["scanned"], sources, notices, env_keys=opts.env_keys)
