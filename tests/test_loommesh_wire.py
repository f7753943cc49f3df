"""The GUN wire client: framing, ids, states, gets merged from several replies, several acks (real relays)."""

from __future__ import annotations

import asyncio
import json
import math
import time

import pytest

from loomctl.loommesh import wire
from tests.gunrelay import wait_peered


def test_never_sends_a_soulless_get_or_loose_json():
    with pytest.raises(ValueError, match="without a soul"):
        wire.encode({"#": "x", "get": {}})
    with pytest.raises(ValueError, match="without a soul"):
        wire.encode([{"#": "y", "get": {"#": ""}}])
    with pytest.raises(ValueError):
        wire.encode({"#": "z", "put": {"a": {"v": float("nan")}}})
    text = wire.encode({"#": "q", "put": {"s": {"v": 'back\\slash "quote" \x01 é 🎉'}}})
    assert json.loads(text)["put"]["s"]["v"] == 'back\\slash "quote" \x01 é 🎉'
    with pytest.raises(ValueError, match="plain soul"):
        wire.put_message("a#b", {"v": 1})
    with pytest.raises(ValueError, match="null, a string"):
        wire.put_message("loomctl/probe/x", {"v": [1]})


def test_frames_are_an_object_or_an_array_of_objects():
    assert wire.decode("[]") == []
    assert wire.decode('{"#":"a"}') == [{"#": "a"}]
    assert wire.decode('[{"#":"a"},{"#":"b"}]') == [{"#": "a"}, {"#": "b"}]
    for bad in ("hello gun", "42", "[1,2,3]", '{"#":"a"'):
        with pytest.raises(wire.ProtocolError):
            wire.decode(bad)
    with pytest.raises(wire.ProtocolError):
        wire.decode(b"\x00\x01")


def test_states_are_integer_ms_never_ahead_and_increasing():
    soul = "loomctl/probe/unit-" + wire.fresh_id()
    states = []
    for _ in range(20):
        before = time.time() * 1000
        states.append(wire.next_state(soul, "v"))
        assert isinstance(states[-1], int)
        assert states[-1] <= math.floor(time.time() * 1000) - 1 + 0 or states[-1] < before + 1
    assert states == sorted(set(states))
    ids = {wire.fresh_id() for _ in range(1000)}
    assert len(ids) == 1000


def test_ham_merge_prefers_higher_state_then_larger_json():
    node: dict = {}
    states: dict = {}
    wire.ham_merge(node, states, {"a": "m", "_": {"#": "s", ">": {"a": 5}}})
    wire.ham_merge(node, states, {"a": "z", "_": {"#": "s", ">": {"a": 4}}})
    assert node == {"a": "m"}
    wire.ham_merge(node, states, {"a": "q", "_": {"#": "s", ">": {"a": 5}}})
    assert node == {"a": "q"}
    wire.ham_merge(node, states, {"a": "b", "b": 1, "_": {"#": "s", ">": {"a": 6, "b": 1}}})
    assert node == {"a": "b", "b": 1}


def test_get_merges_replies_and_put_collects_every_ack(relays):
    a = relays.start()
    b = relays.start(peers=[a])
    wait_peered(b)

    async def scenario():
        ca = await wire.GunClient.connect(a.url)
        cb = await wire.GunClient.connect(b.url)
        try:
            hello = await ca.wait_hello(2)
            assert hello["dam"] == "?" and ca.peer_pid == hello["pid"]
            rtt, pid = await ca.ping(2)
            assert pid == ca.peer_pid and rtt > 0
            soul = "loomctl/probe/wire-" + wire.fresh_id()
            miss = await cb.get(soul, window=0.2)
            assert miss.replies >= 1 and miss.found is False  # "not found" replies are replies, not data
            acks = await cb.put(soul, {"name": "alice", "n": 1}, window=1.5)
            assert len(acks) >= 1 and all(m.get("ok") for m in acks)
            got = await ca.get(soul, window=0.3)  # from A, which had to fetch it through the mesh
            assert got.node == {"name": "alice", "n": 1}
            one = await ca.get(soul, "name", window=0.1)
            assert one.node == {"name": "alice"}
            return ca.stats, cb.stats
        finally:
            await ca.close()
            await cb.close()

    sa, sb = asyncio.run(scenario())
    assert sa.garbage == 0 and sb.garbage == 0
