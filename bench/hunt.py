"""Benchmark ``distrust hunt`` over a large generated mbox: throughput and memory.

A victim's "Sent" folder or a Gmail Takeout archive is easily gigabytes; the hunt must read it
at disk-ish speed (target >= 50 MB/s) with memory that does not grow with the file. This
script writes a realistic mbox (default 1 GB) into a temporary directory: plain-text and
multipart messages with attachments, replies, encoded headers, and a few percent Bcc'd to the
postmark-mcp IOC ``phan@giftshop.club``. It then runs the full hunt as the CLI does:
``sources.iter_records`` -> ``match.match`` -> ``exposure.summarise``, and prints MB/s, the
exposures found (checked against how many were planted) and resident memory sampled along the
way (flat memory means the late samples are not larger than the early ones).

    .venv/bin/python bench/hunt.py [--size-mb 1024] [--keep DIR] [--sources-only]

Nothing is downloaded; the mbox is generated from this script's own text.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from distrust.hunt import MailRecord
from distrust.hunt.exposure import summarise
from distrust.model import Notice

IOC = "phan@giftshop.club"
ORG_DOMAIN = "example.com"
BCC_SHARE = 0.03  # share of messages the "compromised server" copied to the IOC
TARGET_MB_S = 50.0
RSS_SAMPLES = 10
SEED = 1604  # fixed: two runs of one size write the same mailbox

SUBJECTS = (
    "Reset your password",
    "Your verification code",
    "Invoice {n} for September",
    "Re: project update",
    "Meeting notes {n}",
    "=?utf-8?q?Angebot_f=C3=BCr_Sie_{n}?=",
    "Welcome to the team",
    "Receipt for your payment",
    "Fwd: contract draft v{n}",
    "Shipping confirmation #{n}",
)
BODIES = (
    "Hi {name},\n\nClick https://app.example.com/reset?token={token} to reset your password.\n",
    "Your verification code is {code}. It expires in 10 minutes.\n",
    "Please find invoice INV-{n} attached. Payment to IBAN DE89 3704 0044 0532 0130 00.\n",
    "Hi {name},\n\nthanks for the update. Let's discuss on Thursday.\n\n> earlier text\n> more\n",
    "Phone: +44 20 7946 0958\nShipping to 221 Baker Street, London.\n",
)
FILLER = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut "
    "labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco.\n"
)
NAMES = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi")


def generate_mbox(path: Path, size_bytes: int, seed: int = SEED) -> tuple[int, int]:
    """Write messages until ``size_bytes``; return (messages written, messages Bcc'd to the IOC)."""
    rng = random.Random(seed)
    start = datetime(2025, 9, 1, tzinfo=UTC)
    attachment = base64.encodebytes(rng.randbytes(24 * 1024)).decode("ascii")
    written = planted = 0
    size = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        while size < size_bytes:
            n = written
            when = start + timedelta(seconds=n * 37)
            name = NAMES[n % len(NAMES)]
            bcc = rng.random() < BCC_SHARE
            planted += bcc
            subject = SUBJECTS[n % len(SUBJECTS)].format(n=n)
            body = BODIES[n % len(BODIES)].format(name=name, token=f"{n:016x}", code=100000 + n % 899999, n=n)
            body += FILLER * rng.randint(2, 20)
            headers = [
                f"From MAILER-DAEMON {when.strftime('%a %b %d %H:%M:%S %Y')}",
                f"Message-ID: <{n}.{rng.getrandbits(32):08x}@{ORG_DOMAIN}>",
                f"Date: {format_datetime(when)}",
                f"From: Assistant <assistant@{ORG_DOMAIN}>",
                f"To: {name}@customer{n % 97}.example.org",
                f"Subject: {subject}",
                "X-Gmail-Labels: Sent",
            ]
            if n % 5 == 0:
                headers.append(f"Cc: {NAMES[(n + 1) % len(NAMES)]}@{ORG_DOMAIN}")
            if bcc:
                headers.append(f"Bcc: {IOC}")
            if n % 10 == 3:  # one in ten carries an attachment, as real sent mail does
                boundary = f"b{n:x}"
                text = "\n".join(
                    [
                        *headers,
                        "MIME-Version: 1.0",
                        f'Content-Type: multipart/mixed; boundary="{boundary}"',
                        "",
                        f"--{boundary}",
                        "Content-Type: text/plain; charset=utf-8",
                        "",
                        body,
                        f"--{boundary}",
                        'Content-Type: application/pdf; name="doc.pdf"',
                        "Content-Transfer-Encoding: base64",
                        "",
                        attachment,
                        f"--{boundary}--",
                        "",
                        "",
                    ]
                )
            else:
                text = "\n".join([*headers, "Content-Type: text/plain; charset=utf-8", "", body, ""])
            size += out.write(text)  # ASCII apart from the encoded subject: chars ~ bytes
            written += 1
    return written, planted


def rss_mb() -> float:
    """Current resident memory of this process, from /proc (Linux); 0 when unavailable."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def peak_rss_mb() -> float:
    """Peak resident memory so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e6 if sys.platform == "darwin" else peak * 1024 / 1e6


class Progress:
    """Counts records and notices as they stream past and samples RSS every ``every`` records."""

    def __init__(self, every: int) -> None:
        self.every = max(1, every)
        self.scanned = 0
        self.notices: list[Notice] = []
        self.samples: list[tuple[int, float]] = []

    def records(self, items: Iterable[MailRecord | Notice]) -> Iterator[MailRecord]:
        for item in items:
            if isinstance(item, Notice):
                if len(self.notices) < 1000:  # keep a bounded sample; a bench must not hoard
                    self.notices.append(item)
                continue
            self.scanned += 1
            if self.scanned % self.every == 0:
                self.samples.append((self.scanned, rss_mb()))
            yield item


@dataclass(frozen=True)
class Figures:
    """What one timed hunt measured."""

    elapsed: float
    scanned: int
    exposed: int
    notices: int
    samples: list[tuple[int, float]]
    days: int


def run_hunt(path: Path, expected_messages: int, *, sources_only: bool) -> Figures:
    """The hunt as the CLI runs it; returns the figures to print."""
    from distrust.hunt.sources import iter_records

    progress = Progress(expected_messages // RSS_SAMPLES)
    records = progress.records(iter_records([path], "mbox"))
    started = time.perf_counter()
    if sources_only:
        exposures_found = sum(1 for r in records if IOC in r.bcc)
        result = None
    else:
        try:
            from distrust.hunt.match import match
        except ImportError as exc:
            raise SystemExit(f"distrust.hunt.match is not available ({exc}); try --sources-only") from exc
        result = summarise(
            match(records, iocs=[IOC], org_domains=[ORG_DOMAIN]),
            progress.scanned,
            (str(path),),
            progress.notices,
            env_keys=("POSTMARK_SERVER_TOKEN",),
        )
        exposures_found = len(result.exposures)
    elapsed = time.perf_counter() - started
    return Figures(
        elapsed=elapsed,
        scanned=progress.scanned,
        exposed=exposures_found,
        notices=len(progress.notices),
        samples=progress.samples,
        days=len(result.per_day) if result else 0,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--size-mb", type=float, default=1024.0, help="mbox size to generate (default 1024)")
    parser.add_argument("--keep", type=Path, help="write the mbox into this directory and keep it")
    parser.add_argument("--sources-only", action="store_true", help="time reading only, without the matcher")
    args = parser.parse_args(argv)
    if args.size_mb <= 0:
        parser.error("--size-mb must be positive")

    with tempfile.TemporaryDirectory(prefix="distrust-hunt-bench-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        mbox = folder / f"sent-{args.size_mb:g}MB.mbox"
        t0 = time.perf_counter()
        messages, planted = generate_mbox(mbox, int(args.size_mb * 1e6))
        size_mb = mbox.stat().st_size / 1e6
        took = time.perf_counter() - t0
        print(f"generated {mbox.name}: {size_mb:.0f} MB, {messages} messages, ", end="")
        print(f"{planted} Bcc'd to {IOC} ({took:.1f} s)")
        rss_before = rss_mb()
        figures = run_hunt(mbox, messages, sources_only=args.sources_only)

    rate = size_mb / figures.elapsed if figures.elapsed else float("inf")
    what = "read (sources only)" if args.sources_only else "hunt (sources + match + summarise)"
    print(f"{what}: {figures.elapsed:.1f} s, {rate:.1f} MB/s (target >= {TARGET_MB_S:g}), ", end="")
    print(f"{figures.scanned} scanned")
    print(f"exposed: {figures.exposed} (planted {planted}), notices: {figures.notices}, days: {figures.days}")
    samples = figures.samples
    trail = ", ".join(f"{mb:.0f}" for _, mb in samples)
    print(f"RSS MB before hunt {rss_before:.0f}; during hunt [{trail}]; peak (process) {peak_rss_mb():.0f}")
    ok = figures.exposed == planted and figures.scanned == messages
    if samples:
        growth = samples[-1][1] - samples[0][1]
        print(f"memory growth first->last sample: {growth:+.1f} MB")
    print("result:", "OK" if ok else "MISMATCH (exposures or message count differ from what was planted)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
