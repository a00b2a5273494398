"""The URL, e-mail and IPv4 finders try their pattern only where a match can begin; they must
find exactly what a plain ``finditer`` over the whole text finds."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from distrust.analyze import textscan

_PIECES = [
    *"abcXYZ0129٣.@:/_%+-  \n\"'<>`\\)]}|^é",
    "http",
    "HTTPS",
    "ws",
    "wss",
    "ftp",
    "ftps",
    "://",
    "1.2.3.4",
    "255.",
    "10.0.0.",
    "999",
    ".com",
    "git@",
    "@x.io",
    "a.b",
    "٣.٣.٣.٣",
]
_TEXT = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)

FINDERS: list[tuple[str, re.Pattern[str], Callable[[str], Iterator[int]]]] = [
    ("url", textscan._URL_RE, textscan._url_starts),
    ("url-embedded", textscan._EMBEDDED_URL_RE, textscan._url_starts),
    ("email", textscan._EMAIL_RE, textscan._email_starts),
    ("ipv4", textscan._IPV4_RE, textscan._ipv4_starts),
]


@pytest.mark.parametrize(("name", "pattern", "starts"), FINDERS, ids=[f[0] for f in FINDERS])
@settings(max_examples=1500, deadline=None)
@given(text=_TEXT)
@example(text="see https://a.example/x?u=http://b.example and ws://c, xhttps://glued.example")
@example(text="a@b.com.x@y.com _u@v.io é@w.org x@@y.io mail:me@host.example.org")
@example(text="8.8.8.8 v1.2.3.4 1.2.3.4.5 ١.١.١.١ 300.1.1.1 01.2.3.4")
def test_same_matches_as_finditer(
    name: str, pattern: re.Pattern[str], starts: Callable[[str], Iterator[int]], text: str
) -> None:
    fast = [m.span() for m in textscan._matches_at(pattern, text, starts(text))]
    assert fast == [m.span() for m in pattern.finditer(text)]
