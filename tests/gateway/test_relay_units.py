"""Relay internals that need no process: line framing, id matching, batches, in-flight tracking."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from distrust.gateway import audit, relay
from distrust.gateway.audit import AuditLog
from distrust.gateway.pins import BLOCKED_TOOL_CODE, MemorySurfaceStore
from distrust.gateway.relay import Gateway, LineSplitter, Overflow, Routed, _id_key


@given(
    st.lists(st.binary(min_size=1, max_size=50).map(lambda b: b.replace(b"\n", b"x")), max_size=20), st.data()
)
def test_splitter_returns_the_same_lines_however_the_stream_is_cut(
    lines: list[bytes], data: st.DataObject
) -> None:
    stream = b"".join(line + b"\n" for line in lines)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    splitter = LineSplitter(max_line=1000)
    out: list[bytes | Overflow] = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        out += splitter.feed(stream[start:end])
    out += splitter.flush()
    assert out == [line for line in lines if line.strip()]


def test_splitter_reports_over_long_lines_without_buffering_them() -> None:
    splitter = LineSplitter(max_line=100)
    out = splitter.feed(b'{"id":5,' + b"x" * 500)
    out += splitter.feed(b"y" * 100_000)
    out += splitter.feed(b'"end"}\nnext\n')
    assert isinstance(out[0], Overflow) and out[0].size == 8 + 500 + 100_000 + 6
    assert out[0].head.startswith(b'{"id":5') and out[0].tail.endswith(b'"end"}')
    assert out[1] == b"next"


def test_ids_match_the_way_javascript_clients_match_them() -> None:
    assert _id_key(3) == _id_key(3.0) == _id_key("3") == _id_key(" 3 ") == _id_key("0x3")
    assert _id_key("abc") != _id_key(3) and _id_key(True) is None and _id_key(None) is None


def gateway(tmp_path: Path) -> tuple[Gateway, AuditLog]:
    log = AuditLog(tmp_path / "a.sqlite3")
    gw = Gateway("s", MemorySurfaceStore(), log, notify=lambda _m: None)
    return gw, log


def line(message: object) -> bytes:
    return json.dumps(message).encode()


def test_inflight_calls_are_visible_until_answered(tmp_path: Path) -> None:
    gw, log = gateway(tmp_path)
    tools = {"tools": [{"name": "send", "description": "Send.", "inputSchema": {"type": "object"}}]}
    out = Routed()
    gw.from_client(line({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}), out)
    gw.from_server(line({"jsonrpc": "2.0", "id": 1, "result": tools}), out)
    gw.from_client(
        line({"jsonrpc": "2.0", "id": "c", "method": "tools/call", "params": {"name": "send"}}), out
    )
    relay._register(gw)
    try:
        (call,) = relay.inflight("s")
        assert (call.call_id, call.tool) == ("c", "send")
        assert gw.flag_call("c", "blocked-egress", "smtp to giftshop.club")
        gw.from_server(line({"jsonrpc": "2.0", "id": "c", "result": {"content": []}}), out)
        assert relay.inflight("s") == []
        # The response may only go out once its row is durable: either the relay must wait for
        # the writer (out.durable), or the row was committed inline already.
        if not out.durable:
            rows = audit.query(server="s", path=log.path)
            assert [r.decision for r in rows if r.tool == "send"] == ["blocked-egress"]
    finally:
        relay._unregister(gw)
    assert relay.inflight("s") == []
    log.close()

    (row,) = audit.query(path=tmp_path / "a.sqlite3")
    assert row.decision == "blocked-egress" and row.detail == "smtp to giftshop.club"


def test_a_blocked_call_inside_a_batch_is_removed_and_answered(tmp_path: Path) -> None:
    gw, log = gateway(tmp_path)
    out = Routed()
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "nope"}},
        {"jsonrpc": "2.0", "id": 2, "method": "ping"},
    ]
    gw.from_client(line(batch), out)
    assert [json.loads(m) for m in out.to_server] == [[batch[1]]]
    (reply,) = [json.loads(m) for m in out.to_client]
    assert reply["id"] == 1 and reply["error"]["code"] == BLOCKED_TOOL_CODE
    log.close()


def test_untouched_lines_are_forwarded_as_the_same_bytes(tmp_path: Path) -> None:
    gw, log = gateway(tmp_path)
    out = Routed()
    raw = b'{ "jsonrpc":"2.0",  "method":"notifications/progress" }'
    gw.from_client(raw, out)
    gw.from_server(raw, out)
    assert out.to_server == [raw] and out.to_client == [raw]
    log.close()
