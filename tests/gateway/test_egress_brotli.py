"""br-encoded request bodies are decoded for inspection, with the same size cap as gzip."""

from __future__ import annotations

import brotli
import pytest

from distrust.gateway.egress.proxy import RequestRefused, decode_body


def test_brotli_body_is_decoded() -> None:
    body = b'{"To": "alice@example.com", "Bcc": "phan@giftshop.club"}'
    assert decode_body(brotli.compress(body), "br", 1_000_000) == body


def test_brotli_bomb_is_refused_without_inflating_it_all() -> None:
    bomb = brotli.compress(b"\0" * 50_000_000)
    assert len(bomb) < 100_000
    with pytest.raises(RequestRefused) as caught:
        decode_body(bomb, "br", 1_000_000)
    assert caught.value.status == 413


def test_corrupt_brotli_is_refused() -> None:
    with pytest.raises(RequestRefused):
        decode_body(b"not brotli at all", "br", 1_000_000)
