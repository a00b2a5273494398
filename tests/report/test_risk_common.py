"""Helpers the risk formats share: source excerpts, clipping, printable text, summaries."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from risk_samples import ATTACKER, NAME, bcc_profile, clean_profile, postmark_history

from distrust.analyze.results import HistoryResult
from distrust.model import Capability
from distrust.report.common import (
    ELLIPSIS,
    SourceReader,
    behaviour_changes,
    capability_counts,
    capability_highlights,
    clip,
    history_risk,
    history_verdict,
    printable,
)


@given(st.text(min_size=0, max_size=600), st.integers(min_value=8, max_value=300), st.text(max_size=20))
def test_clip_never_exceeds_the_width(text: str, width: int, focus: str) -> None:
    out = clip(text, width, focus or None)
    assert len(out) <= width
    if len(text) <= width:
        assert out == text


def test_clip_keeps_the_focus_in_view() -> None:
    line = "a" * 3000 + "Bcc:'x@evil.example'" + "b" * 3000
    out = clip(line, 200, "Bcc:'x@evil.example'")
    assert len(out) == 200 and "Bcc:'x@evil.example'" in out
    assert out.startswith(ELLIPSIS) and out.endswith(ELLIPSIS)
    tail = clip("a" * 500 + "END", 50, "END")
    assert len(tail) == 50 and tail.endswith("END") and tail.startswith(ELLIPSIS)
    assert clip("a" * 500, 50, "absent") == "a" * 49 + ELLIPSIS


def test_printable_spells_out_controls_and_invisibles() -> None:
    assert printable("plain text") == "plain text"
    assert printable("a\x1b[31mb") == "a<U+001B>[31mb"
    assert printable("x\u202ey\u200bz") == "x<U+202E>y<U+200B>z"
    assert printable("\ttab") == "    tab"
    assert printable("two\nlines") == "two\nlines"


def _reader_over(tmp_path: Path, files: dict[str, bytes]) -> SourceReader:
    for rel, data in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    return SourceReader(tmp_path)


def test_excerpt_counts_lines_as_the_analysers_do(tmp_path: Path) -> None:
    # CRLF endings and a form feed / U+2028 inside a line must not shift line numbers.
    text = "one\r\ntwo \x0c still two\r\nthree \u2028 still three\r\nfour\r\n"
    reader = _reader_over(tmp_path, {"a.js": text.encode()})
    excerpt = reader.excerpt("a.js", 3)
    assert [(s.number, s.offending) for s in excerpt.lines] == [(1, False), (2, False), (3, True), (4, False)]
    assert excerpt.lines[2].text == "three <U+2028> still three"
    assert excerpt.lines[1].text == "two <U+000C> still two"
    assert reader.excerpt("a.js", 4).lines[-1].number == 4  # the final newline adds no line 5


@pytest.mark.parametrize(
    ("file", "line", "problem"),
    [
        ("a.js", 9, "line 9 is past the end of the file (2 lines)"),
        ("a.js", None, "no line number recorded"),
        ("gone.js", 1, "no such file or directory"),
        ("dir", 1, "is a directory, expected a file"),
        ("../outside.js", 1, "path leaves the package root; not shown"),
    ],
)
def test_excerpt_problems_are_reasons_not_exceptions(
    tmp_path: Path, file: str, line: int | None, problem: str
) -> None:
    reader = _reader_over(tmp_path / "pkg", {"a.js": b"x\ny\n", "dir/f.js": b""})
    excerpt = reader.excerpt(file, line)
    assert excerpt.lines == () and excerpt.problem == problem


def test_excerpt_shows_files_that_are_not_utf8(tmp_path: Path) -> None:
    reader = _reader_over(tmp_path, {"latin1.js": b"var caf\xe9 = 1;\n"})
    (line,) = reader.excerpt("latin1.js", 1).lines
    assert line.text == "var caf\ufffd = 1;"


def test_excerpt_masks_secrets_in_source(tmp_path: Path) -> None:
    token = "ghp_" + "Z9y8X7w6V5" * 4
    reader = _reader_over(tmp_path, {"a.js": f"const t = '{token}';\n".encode()})
    (line,) = reader.excerpt("a.js", 1).lines
    assert token not in line.text and "ghp_…[redacted]" in line.text


def test_capability_summary(tmp_path: Path) -> None:
    profile = bcc_profile(tmp_path)
    extra = (
        Capability("network.url", "https://api.postmarkapp.com/email", "index.js", 1),
        Capability("network.request", "fetch <dynamic>", "index.js", 2),
        Capability("install.hook", "postinstall: node setup.js", "package.json", 3),
    )
    caps = (*profile.capabilities, *extra)
    highlights = {row.label: values for row, values in capability_highlights(caps)}
    assert highlights["network domains"] == ["postmarkapp.com"]  # a dynamic target names no domain
    assert highlights["email recipients"] == [f"bcc={ATTACKER}", "from=<dynamic>", "to=<dynamic>"]
    assert highlights["secret env names"] == ["POSTMARK_SERVER_TOKEN"]
    assert highlights["install hooks"] == ["postinstall: node setup.js"]
    assert "programs run" not in highlights
    assert dict(capability_counts(caps))["email.recipient"] == 3


def test_history_helpers(tmp_path: Path) -> None:
    history = postmark_history(tmp_path)
    assert [s.new.version for s in behaviour_changes(history)] == ["1.0.16"]
    score, level = history_risk(history)
    assert (score, level) == (history.steps[-1].assessment.score, history.steps[-1].assessment.level)
    quiet = dataclasses.replace(history, steps=history.steps[:2])
    assert history_verdict(quiet) == "no release added risky behaviour (2 upgrades compared)"
    assert (
        history_verdict(HistoryResult("npm", NAME, None, ()))
        == "only one version analysed; no upgrade to compare"
    )
    twice = dataclasses.replace(history, steps=(*history.steps, dataclasses.replace(history.steps[-1])))
    assert history_verdict(twice).endswith("; also at 1.0.16 (critical)")


def test_clean_profile_has_no_highlighted_recipients_but_dynamic_ones(tmp_path: Path) -> None:
    rows = {row.label: values for row, values in capability_highlights(clean_profile(tmp_path).capabilities)}
    assert rows["email recipients"] == ["from=<dynamic>", "to=<dynamic>"]
