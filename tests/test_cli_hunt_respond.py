"""`distrust hunt` and `distrust respond` from the command line, on our own fixture data."""

from __future__ import annotations

import email.message
import json
import mailbox
import os
import subprocess
import sys
from pathlib import Path

from test_cli_scan import TOKEN, postmark_home

DISTRUST = str(Path(sys.executable).with_name("distrust"))


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DISTRUST, *args], capture_output=True, text=True, env=dict(os.environ), timeout=120, cwd=cwd
    )


def sent_mbox(path: Path) -> Path:
    box = mailbox.mbox(str(path))
    for i in range(6):
        msg = email.message.EmailMessage()
        msg["From"] = "app@acme.test"
        msg["To"] = f"user{i}@acme.test"
        msg["Subject"] = f"Invoice {i}"
        msg["Date"] = f"Mon, 1{i} Sep 2025 10:00:00 +0000"
        msg["Message-ID"] = f"<m{i}@acme.test>"
        if i % 3 == 0:
            msg["Bcc"] = "phan@giftshop.club"
        msg.set_content(f"Invoice {i}: amount due 100 EUR")
        box.add(msg)
    box.flush()
    box.close()
    return path


def test_hunt_finds_the_bcc_copies_and_exits_1(tmp_path: Path) -> None:
    mbox = sent_mbox(tmp_path / "sent.mbox")
    proc = run("hunt", str(mbox), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["summary"]["scanned"] == 6
    assert doc["summary"]["exposed"] == 2 and len(doc["exposures"]) == 2
    assert "phan@giftshop.club" in proc.stdout
    html = tmp_path / "report.html"
    assert run("hunt", str(mbox), "--format", "html", "-o", str(html)).returncode == 1
    assert "<svg" in html.read_text()


def test_hunt_on_clean_mail_exits_0(tmp_path: Path) -> None:
    box = mailbox.mbox(str(tmp_path / "clean.mbox"))
    msg = email.message.EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@acme.test", "b@acme.test", "hello"
    msg.set_content("hi")
    box.add(msg)
    box.flush()
    assert run("hunt", str(tmp_path / "clean.mbox")).returncode == 0


def test_respond_disables_reports_and_undoes(tmp_path: Path) -> None:
    home = postmark_home(tmp_path)
    claude = home / ".config/Claude/claude_desktop_config.json"
    cursor = home / ".cursor/mcp.json"
    before = {p: p.read_bytes() for p in (claude, cursor)}
    mbox = sent_mbox(tmp_path / "sent.mbox")
    report = tmp_path / "incident.md"
    proc = run(
        "respond",
        "--home",
        str(home),
        "--project",
        str(tmp_path),
        "--yes",
        str(mbox),
        "--report",
        str(report),
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    text = report.read_text()
    assert "MAL-2025-47604" in text and "POSTMARK_SERVER_TOKEN" in text and TOKEN not in text
    assert "72" in text  # the GDPR notification deadline is in the checklist
    after = run("scan", "--home", str(home), "--project", str(tmp_path), "--format", "json")
    assert not [f for f in json.loads(after.stdout)["findings"] if f["severity"] == "critical"]
    assert run("respond", "--undo").returncode == 0
    assert {p: p.read_bytes() for p in (claude, cursor)} == before
