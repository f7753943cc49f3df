"""What the drills share: probe souls under `loomctl/probe/`, writes that wait for acks, reads that compare."""

from __future__ import annotations

import asyncio
import json
import math
import time
from typing import Any

from loomctl.core.errors import NetworkError
from loomctl.loommesh.wire import GunClient, fresh_id

PREFIX = "loomctl/probe"


def run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + fresh_id(6)


def past_state() -> int:
    """An integer-ms state behind every local peer's clock (a state ahead of a peer's clock is never acked)."""
    return math.floor(time.time() * 1000) - 1


async def connect(url: str) -> GunClient:
    """A wire client on a peer, or a NetworkError that names the peer (not an Azure endpoint)."""
    try:
        return await GunClient.connect(url, timeout=5.0)
    except (OSError, asyncio.TimeoutError) as exc:
        raise NetworkError(f"cannot reach the LoomMesh peer {url}: {exc or type(exc).__name__}",
                           f"`loomctl diagnose peers --peer {url}` names the failing stage") from None


async def put_acked(client: GunClient, writes: list[tuple[str, dict[str, Any], dict[str, int] | None]],
                    timeout: float, where: str) -> None:
    """Write each (soul, values, states) (states None: the wire client's own) and wait until every put has at
    least one ack, or raise NetworkError naming the peer. Given states let both sides of a partition write a key
    with the same state."""
    pending: set[str] = set()
    done = asyncio.Event()
    messages, forget = [], []
    for soul, values, states in writes:
        ids: list[str] = []

        def acked(m: dict[str, Any], t: float, ids: list[str] = ids) -> None:
            pending.discard(ids[0])
            if not pending:
                done.set()

        msg, unregister = client.put_nowait(soul, values, acked)
        if states is not None:
            msg["put"][soul]["_"][">"] = dict(states)
        ids.append(msg["#"])
        pending.add(msg["#"])
        messages.append(msg)
        forget.append(unregister)
    try:
        await client.send(messages)
        await asyncio.wait_for(done.wait(), timeout)
    except asyncio.TimeoutError:
        raise NetworkError(f"{len(pending)} of {len(messages)} probe writes were not acked by {where} within "
                           f"{timeout:g} s", "`loomctl diagnose peers --write-probe` shows whether that peer "
                           "stores writes") from None
    finally:
        for f in forget:
            f()


async def read(client: GunClient, soul: str, window: float = 0.05, first_timeout: float = 1.0) -> dict[str, Any]:
    """The soul's keys as read through this peer (every reply merged by HAM), {} when it holds nothing."""
    try:
        got = await client.get(soul, window=window, first_timeout=first_timeout)
    except (OSError, asyncio.TimeoutError):
        return {}
    return {k: v for k, v in got.node.items() if k != "_"}


def ham_winner(a: tuple[Any, int], b: tuple[Any, int]) -> tuple[Any, int]:
    """GUN's conflict rule for one key, on (value, state) pairs: the greater state wins; equal states: the
    lexically greater JSON value (`JSON.stringify`) wins."""
    (va, sa), (vb, sb) = a, b
    if sa != sb:
        return a if sa > sb else b
    return a if json.dumps(va) >= json.dumps(vb) else b
