"""Streaming: a 50 MB mbox is read with a small, flat memory peak (tracemalloc)."""

from __future__ import annotations

import base64
import tracemalloc
from pathlib import Path

from distrust.hunt import MailRecord
from distrust.hunt.sources import iter_records

ATTACKER = "phan@giftshop.club"


def _write_big_mbox(path: Path, target_bytes: int) -> tuple[int, int]:
    """Messages with a ~400 KB attachment each (bigger than the parser cap) plus small ones."""
    attachment = base64.encodebytes(bytes(range(256)) * 1200)  # ~410 KB of base64 lines
    written = messages = hidden = 0
    with path.open("wb") as fh:
        while written < target_bytes:
            n = messages
            bcc = f"Bcc: {ATTACKER}\n" if n % 10 == 0 else ""
            head = (
                f"From app@acme.example Wed Sep 17 14:30:00 2025\n"
                f"From: app@acme.example\nTo: user{n}@client.example\n{bcc}"
                f"Subject: Report {n}\nDate: Wed, 17 Sep 2025 14:30:00 +0000\nMessage-ID: <r{n}@acme>\n"
                'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n'
                "--b\nContent-Type: text/plain\n\nSee the attached report.\n"
                "--b\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\n"
            ).encode()
            block = head + (attachment if n % 2 == 0 else b"") + b"--b--\n\n"
            fh.write(block)
            written += len(block)
            messages += 1
            hidden += bool(bcc)
    return messages, hidden


def test_50mb_mbox_streams_in_small_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.mbox"
    total, hidden = _write_big_mbox(path, 50 * 1024 * 1024)
    assert path.stat().st_size >= 50 * 1024 * 1024
    tracemalloc.start()
    try:
        count = with_bcc = 0
        for item in iter_records([path], None):
            if isinstance(item, MailRecord):
                count += 1
                with_bcc += ATTACKER in item.bcc
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == total and with_bcc == hidden
    print(f"messages={total} peak={peak / 1e6:.1f} MB")
    assert peak < 20 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
