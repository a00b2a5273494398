"""Hostile or odd config values never crash the judge and never leak a planted token."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from judge_support import all_text, judge, npm, postmark_intel, resolved

from distrust.model import ServerSpec

TOKEN = "ghp_" + "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp9Oo8"
PIECES = [*"abcXYZ019_-=:/@.${}<>%[] \\\"'|&;()\x00\n\u202e", "http://", "ghp_", "@gift", "Bearer ", "sk-"]
ODD = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)


@settings(max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    command=st.one_of(st.none(), ODD),
    args=st.lists(ODD, max_size=5),
    env=st.lists(st.tuples(ODD, ODD), max_size=4),
    url=st.one_of(st.none(), ODD),
    headers=st.lists(st.tuples(ODD, ODD), max_size=2),
)
def test_any_strings_are_judged_without_error_or_leak(
    command: str | None,
    args: list[str],
    env: list[tuple[str, str]],
    url: str | None,
    headers: list[tuple[str, str]],
) -> None:
    spec = ServerSpec(
        client="fuzz",
        config_path=Path("/home/alice/fuzz.json"),
        name="fuzz",
        transport="stdio" if command else "http",
        command=command,
        args=(*args, f"--token={TOKEN}"),
        env=(*env, ("X", f"prefix {TOKEN} suffix")),
        url=url,
        headers=tuple(headers),
        cwd="/nonexistent",
    )
    findings = judge(resolved(spec, npm("postmark-mcp")), intel=postmark_intel())
    assert TOKEN not in all_text(findings)
