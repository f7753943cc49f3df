"""The write probe (opt-in, because it writes): does a write on one peer reach every other peer, and how fast?

It writes only under the soul prefix `loomctl/probe/<run id>` (one soul per writing peer), after every other
peer has subscribed to that soul (a GUN get is a subscription). For each ordered pair (writer, reader) it
measures the time from sending the put to the reader receiving the push, over `samples` writes, and counts
the acks each put got (zero, one per storing peer reached, or several).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from loomctl.core.limits import fd_limit_error, is_fd_limit
from loomctl.loommesh.wire import GunClient, fresh_id

SOUL_PREFIX = "loomctl/probe"
NOT_PEERED_HINT = ("the write never arrived: the relays are not peered (check PEERS / GUN_PEERS on both sides), or "
                   "their link was lost and not redialled (a GUN relay drops a lost peer for good, amark/gun#1316): "
                   "restart the downstream peer so that it dials again")


@dataclass
class PairLatency:
    writer: str
    reader: str
    ok: bool
    received: int
    samples: int
    median_ms: float | None = None
    p95_ms: float | None = None
    min_ms: float | None = None
    max_ms: float | None = None
    error: str | None = None
    hint: str | None = None


@dataclass
class PeerAcks:
    url: str
    puts: int
    acks: int
    unacked_puts: int
    first_ack_ms: float | None = None


@dataclass
class WriteProbeResult:
    run_id: str
    soul_prefix: str
    samples: int
    ok: bool
    pairs: list[PairLatency] = field(default_factory=list)
    acks: list[PeerAcks] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    where: str = "local"


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    if len(s) == 1:
        return s[0]
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


async def write_probe(urls: list[str], *, samples: int = 3, timeout: float = 5.0, run_id: str | None = None,
                      settle: float = 0.3, gap: float = 0.05, ack_window: float = 1.5,
                      where: str = "local") -> WriteProbeResult:
    run_id = run_id or time.strftime("%Y%m%dT%H%M%S") + "-" + fresh_id(6)
    prefix = f"{SOUL_PREFIX}/{run_id}"
    result = WriteProbeResult(run_id, prefix, samples, False, where=where)
    conns = await asyncio.gather(*(GunClient.connect(u, timeout=timeout) for u in urls), return_exceptions=True)
    clients: dict[str, GunClient] = {}
    for u, c in zip(urls, conns):
        if isinstance(c, BaseException):
            result.errors[u] = f"cannot connect: {type(c).__name__}: {c}"
        else:
            clients[u] = c
    limited = [c for c in conns if isinstance(c, BaseException) and is_fd_limit(c)]
    if limited:  # every writer stays connected for the whole probe: this machine's limit, one error for all
        await asyncio.gather(*(c.close() for c in clients.values()), return_exceptions=True)
        raise fd_limit_error(limited[0], f"{len(limited)} of {len(urls)} write-probe connections could not open")
    try:
        await _measure(result, urls, clients, prefix, samples, timeout, settle, gap, ack_window)
    finally:
        await asyncio.gather(*(c.close() for c in clients.values()))
    result.ok = bool(result.pairs) and all(p.ok for p in result.pairs) and not result.errors
    return result


async def _measure(result: WriteProbeResult, urls: list[str], clients: dict[str, GunClient], prefix: str,
                   samples: int, timeout: float, settle: float, gap: float, ack_window: float) -> None:
    souls = {u: f"{prefix}/w{i}" for i, u in enumerate(urls)}
    soul_writer = {s: u for u, s in souls.items()}
    live = [u for u in urls if u in clients]
    arrivals: dict[tuple[str, str, int], float] = {}  # (writer, reader, seq) -> time received
    sent: dict[tuple[str, int], float] = {}
    acks: dict[tuple[str, int], list[float]] = {}
    expected_readers = {w: [r for r in live if r != w] for w in live}
    progress = asyncio.Event()

    def on_push(reader: str) -> Any:
        def cb(m: dict[str, Any], t: float) -> None:
            for soul, node in (m.get("put") or {}).items():
                w = soul_writer.get(soul)
                seq = node.get("seq") if isinstance(node, dict) else None
                if w and w != reader and isinstance(seq, int) and (w, reader, seq) not in arrivals:
                    arrivals[(w, reader, seq)] = t
                    progress.set()
        return cb

    for r in live:
        clients[r].on_push(on_push(r))
    # subscribe every reader to every other writer's soul, then let the gets travel through the relays
    subs = [clients[r].get(souls[w], window=0.05, first_timeout=min(timeout, 2.0))
            for w in live for r in expected_readers[w]]
    sub_results = await asyncio.gather(*subs, return_exceptions=True)
    for exc in (s for s in sub_results if isinstance(s, BaseException)):
        result.errors.setdefault("subscribe", f"{type(exc).__name__}: {exc}")
    await asyncio.sleep(settle)

    for seq in range(samples):
        unregister = []
        for w in live:
            if clients[w].closed_reason is not None:
                result.errors.setdefault(w, f"connection lost during the probe: {clients[w].closed_reason}")
                continue
            def on_ack(m: dict[str, Any], t: float, key: tuple[str, int] = (w, seq)) -> None:
                if m.get("ok") is not None and not m.get("err"):
                    acks.setdefault(key, []).append(t)
            msg, done = clients[w].put_nowait(souls[w], {"seq": seq, "by": "loomctl"}, on_ack)
            unregister.append(done)
            sent[(w, seq)] = time.perf_counter()
            try:
                await clients[w].send(msg)
            except Exception as exc:  # noqa: BLE001 - the writer's link dropped
                result.errors.setdefault(w, f"write failed: {type(exc).__name__}: {exc}")
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            # a pair whose writer or reader lost its connection will not deliver: do not wait for it
            want = {(w, r, seq) for w in live for r in expected_readers[w]
                    if clients[w].closed_reason is None and clients[r].closed_reason is None}
            if want <= arrivals.keys():
                break
            progress.clear()
            try:
                await asyncio.wait_for(progress.wait(), max(0.0, min(0.1, deadline - time.perf_counter())))
            except asyncio.TimeoutError:
                pass
        result.samples = seq + 1
        if gap:
            await asyncio.sleep(gap)

    # acks arrive after the storage layer's disk batch (~250 ms): wait for each put's first ack, bounded
    ack_deadline = time.perf_counter() + ack_window
    while time.perf_counter() < ack_deadline and any(k not in acks for k in sent):
        await asyncio.sleep(0.05)

    for w in urls:
        for r in urls:
            if w == r:
                continue
            if w not in clients or r not in clients:
                missing = w if w not in clients else r
                result.pairs.append(PairLatency(w, r, False, 0, samples, error=f"{missing} not connected",
                                                hint="see the peer stages above for why it cannot be reached"))
                continue
            lat = [(arrivals[(w, r, s)] - sent[(w, s)]) * 1000 for s in range(result.samples)
                   if (w, r, s) in arrivals and (w, s) in sent]
            lost = [u for u in (w, r) if clients[u].closed_reason is not None]
            if lost and len(lat) < result.samples:
                result.pairs.append(PairLatency(
                    w, r, False, len(lat), result.samples,
                    round(statistics.median(lat), 2) if lat else None, round(percentile(lat, 0.95), 2) if lat else None,
                    round(min(lat), 2) if lat else None, round(max(lat), 2) if lat else None,
                    error=f"{lost[0]} closed the connection during the probe ({len(lat)} of {result.samples} "
                          "writes arrived)",
                    hint="the peer stopped, crashed or restarted during the probe; check its restarts and logs"))
                continue
            if not lat:
                result.pairs.append(PairLatency(w, r, False, 0, result.samples,
                                                error=f"no write from {w} reached {r} within {timeout:g} s",
                                                hint=NOT_PEERED_HINT))
                continue
            pair = PairLatency(w, r, len(lat) == result.samples, len(lat), result.samples,
                               round(statistics.median(lat), 2), round(percentile(lat, 0.95), 2),
                               round(min(lat), 2), round(max(lat), 2))
            if not pair.ok:
                pair.error = f"{result.samples - len(lat)} of {result.samples} writes never arrived"
                pair.hint = "the link between them dropped during the probe, or a relay restarted"
            result.pairs.append(pair)
    for w in live:
        counts = [len(acks.get((w, s), [])) for s in range(result.samples)]
        firsts = [(acks[(w, s)][0] - sent[(w, s)]) * 1000 for s in range(result.samples) if acks.get((w, s))]
        result.acks.append(PeerAcks(w, len(counts), sum(counts), sum(1 for c in counts if c == 0),
                                    round(statistics.median(firsts), 1) if firsts else None))
