"""Large mbox files are parsed by worker processes; the result must not change."""

from __future__ import annotations

import email.message
import mailbox
from pathlib import Path

import pytest

from distrust.hunt.sources import mbox as mbox_source
from distrust.hunt.sources.mbox import iter_mbox


def test_parallel_parse_matches_sequential(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "sent.mbox"
    box = mailbox.mbox(str(path))
    for i in range(1000):
        msg = email.message.EmailMessage()
        msg["From"] = "app@acme.test"
        msg["To"] = f"user{i}@acme.test"
        msg["Subject"] = f"note {i}"
        if i % 7 == 0:
            msg["Bcc"] = "phan@giftshop.club"
        msg.set_content(f"From the team: message {i}\n\nFrom here on, a line that mboxrd quotes.")
        box.add(msg)
    box.flush()
    box.close()
    sequential = list(iter_mbox(path, workers=1))
    monkeypatch.setattr(mbox_source, "PARALLEL_FROM_BYTES", 0)
    parallel = list(iter_mbox(path, workers=2))
    assert parallel == sequential
    assert len(sequential) == 1000
    assert sum(1 for r in sequential if getattr(r, "bcc", ())) == 143
