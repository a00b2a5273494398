"""Hunt reports: table, JSON (schema-valid, stable), Markdown and HTML, all escaping hostile mail."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from test_hunt_samples import GITHUB_TOKEN, HOSTILE_SUBJECT, IOC, empty_result, sample_result

from distrust.hunt import Exposure, HuntResult, MailRecord
from distrust.hunt.exposure import summarise
from distrust.report.hunt_html import CSP, render_hunt_html, timeline_svg
from distrust.report.hunt_json import render_hunt_json
from distrust.report.hunt_markdown import md_code, md_text, render_hunt_markdown
from distrust.report.hunt_table import hunt_table_text

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "hunt-report.schema.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


ALL = [sample_result, empty_result]


# --- secrets never leave -------------------------------------------------------------------


@pytest.mark.parametrize("make", ALL)
@pytest.mark.parametrize(
    "render",
    [hunt_table_text, render_hunt_json, render_hunt_markdown, render_hunt_html],
    ids=["table", "json", "markdown", "html"],
)
def test_no_format_leaks_a_secret_and_all_show_the_credentials(make: Any, render: Any) -> None:
    result: HuntResult = make()
    text = render(result)
    assert GITHUB_TOKEN not in text and GITHUB_TOKEN[4:16] not in text
    if result.exposures:
        assert "POSTMARK_SERVER_TOKEN" in text or md_text("POSTMARK_SERVER_TOKEN") in text
        assert "ghp_…(44 chars)" in text or md_text("ghp_…(44 chars)") in text
        assert IOC in text or md_text(IOC) in text


# --- table -----------------------------------------------------------------------------------


def test_table_has_summary_categories_messages_and_credentials() -> None:
    text = hunt_table_text(sample_result())
    assert re.search(r"scanned\s+120", text)
    assert re.search(r"exposed\s+7", text)
    assert re.search(r"first exposure\s+2025-09-17 09:00:00 UTC", text)
    assert re.search(r"last exposure\s+2025-09-21 09:00:00 UTC", text)
    assert f"{IOC} (7)" in text
    assert re.search(r"password reset / account recovery\s+1", text)
    assert "<msg-4@example.com>" in text and "Deploy key" in text
    assert "[bold]x[/bold]" in text  # markup in a subject prints as itself
    assert "\u202e" not in text
    assert "credentials to rotate" in text and "line 3: unreadable Date header" in text


def test_table_spells_out_controls_in_mail_text() -> None:
    record = MailRecord("<b@x>", None, "a\x1b[31m@x", "pay \u202eeulav", bcc=(IOC,))
    result = summarise([Exposure(record, (IOC,), ("bcc",), ())], 1, (), ())
    text = hunt_table_text(result)
    assert "pay <U+202E>eulav" in text and "a<U+001B>[31m@x" in text and "\x1b" not in text


def test_table_of_a_clean_hunt() -> None:
    text = hunt_table_text(empty_result())
    assert re.search(r"exposed\s+0", text) and "none found" in text and "exposed messages\n" not in text


# --- json ------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", ALL)
def test_json_validates_against_the_schema(validator: jsonschema.protocols.Validator, make: Any) -> None:
    doc = json.loads(render_hunt_json(make()))
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_schema_rejects_what_it_must(validator: jsonschema.protocols.Validator) -> None:
    doc = json.loads(render_hunt_json(sample_result()))
    doc["exposures"][0]["categories"] = ["made-up"]
    assert not validator.is_valid(doc)
    doc = json.loads(render_hunt_json(sample_result()))
    doc["summary"]["first_exposure"] = "2025-09-17 09:00"
    assert not validator.is_valid(doc)


def test_json_content() -> None:
    doc = json.loads(render_hunt_json(sample_result(), package="postmark-mcp@1.0.16"))
    assert doc["schema_version"] == "1" and doc["command"] == "hunt"
    s = doc["summary"]
    assert (s["scanned"], s["exposed"]) == (120, 7)
    assert s["first_exposure"] == "2025-09-17T09:00:00Z" and s["last_exposure"] == "2025-09-21T09:00:00Z"
    assert s["hidden_recipients"] == [{"address": IOC, "messages": 7}]
    assert s["categories"]["credential"] == 1 and s["categories"]["otp"] == 1
    assert doc["per_day"] == [
        {"date": "2025-09-17", "exposed": 2},
        {"date": "2025-09-18", "exposed": 2},
        {"date": "2025-09-19", "exposed": 1},
        {"date": "2025-09-21", "exposed": 1},
    ]
    hostile = next(e for e in doc["exposures"] if e["subject"] == HOSTILE_SUBJECT)
    assert hostile["sent"] == "2025-09-19T23:30:00Z"
    assert doc["exposures"][-1]["sent"] is None  # undated last
    assert doc["credentials_to_rotate"] == ["POSTMARK_SERVER_TOKEN", "ghp_…(44 chars)"]
    assert [r["id"] for r in doc["remediation"]] == ["remove", "rotate", "review", "notify"]
    assert "postmark-mcp@1.0.16" in doc["remediation"][0]["title"]
    assert doc["notices"] == [{"message": "line 3: unreadable Date header", "file": None, "line": None}]


def test_json_is_deterministic() -> None:
    assert render_hunt_json(sample_result()) == render_hunt_json(sample_result())


# --- markdown --------------------------------------------------------------------------------


def test_markdown_escapes_mail_text() -> None:
    text = render_hunt_markdown(sample_result())
    assert "<script>" not in text and "<img" not in text
    assert "&lt;script&gt;" in text
    assert "\\[bold\\]" in text  # no link or emphasis syntax survives
    assert "- `POSTMARK_SERVER_TOKEN`" in text and "- `ghp_…(44 chars)`" in text
    assert md_code("a`b") == "a\\`b"
    assert md_text("a|b") == "a\\|b"  # a pipe cannot break the table
    assert md_text("[x](https://e.example)") == "\\[x\\]\\(https://e\\.example\\)"


def test_markdown_sections_and_checklist() -> None:
    text = render_hunt_markdown(sample_result(), package="postmark-mcp")
    headings = ("Summary", "Categories", "Exposed messages", "Credentials to rotate", "Remediation checklist")
    for heading in (*headings, "Exposed messages per day (UTC)"):
        assert f"\n## {heading}\n" in text
    assert text.count("- [ ] ") == 4
    assert "72 hours" in text and "\\_npx" in text
    # every exposed message is a table row
    assert len([ln for ln in text.splitlines() if ln.startswith("| &lt;msg\\-")]) == 7


# --- html ------------------------------------------------------------------------------------


class _Collect(HTMLParser):
    """Every element, attribute value and text run, to look for what must not be there."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [(k, v or "") for k, v in attrs]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.mark.parametrize("make", ALL)
def test_html_is_self_contained_and_inert(make: Any) -> None:
    doc = render_hunt_html(make())
    parsed = _Collect()
    parsed.feed(doc)
    assert f'<meta http-equiv="Content-Security-Policy" content="{html.escape(CSP)}">' in doc
    assert "default-src 'none'" in CSP
    assert "script" not in parsed.tags and "img" not in parsed.tags and "link" not in parsed.tags
    assert not [a for a in parsed.attrs if a[0] in {"src", "href"} or a[0].startswith("on")]
    # The only URLs are the SVG namespace and escaped mail text, never something fetched.
    urls = set(re.findall(r"https?://[^\s\"'<>&]+", doc)) - {"http://www.w3.org/2000/svg"}
    texts = "".join(parsed.text)
    assert all(u in texts for u in urls)
    assert "@import" not in doc and "url(" not in doc


def test_html_escapes_the_hostile_subject() -> None:
    doc = render_hunt_html(sample_result())
    parsed = _Collect()
    parsed.feed(doc)
    assert "<script>" not in doc and '<img src="https' not in doc
    assert html.escape("<script>alert(1)</script>") in doc
    assert "\u202e" not in doc and "&lt;U+202E&gt;evil" in doc
    assert any("<script>alert(1)</script>" in t for t in parsed.text)  # shown to the reader as text


def test_html_sections_chart_and_checklist() -> None:
    result = sample_result()
    doc = render_hunt_html(result, package="postmark-mcp")
    for section in ("summary", "timeline", "messages", "categories", "credentials", "checklist"):
        assert f'<section id="{section}">' in doc
    bars = re.findall(r'<rect class="bar" data-date="([\d-]+)" data-count="(\d+)"', doc)
    assert bars == [(d.isoformat(), str(n)) for d, n in result.per_day]
    assert doc.count('type="checkbox"') == 4
    for fact in ("2025-09-17 09:00:00 UTC", "2025-09-21 09:00:00 UTC", "72 hours", "Art. 33", "_npx"):
        assert fact in doc
    assert doc.count("<tr><td>&lt;msg-") == 7


def test_chart_scales_bars_to_the_peak() -> None:
    from datetime import date

    svg = timeline_svg(((date(2025, 9, 17), 10), (date(2025, 9, 18), 5)))
    heights = [float(h) for h in re.findall(r'class="bar"[^>]*height="([\d.]+)"', svg)]
    assert len(heights) == 2 and heights[0] == pytest.approx(2 * heights[1])
    assert "no exposed messages" in timeline_svg(())
    many = timeline_svg(tuple((date.fromordinal(738000 + i), 1) for i in range(365)))
    assert many.count('class="bar"') == 365 and many.count('class="lbl"') <= 8 + 1 + 3
