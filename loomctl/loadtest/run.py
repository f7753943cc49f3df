"""The load generator: writer and reader (subscriber) connections spread over the peers, one event loop.

Each writer writes to its own soul `<prefix>/w<i>`, one fresh key `s<seq>` per write (so no two writes share a
key and no HAM state ever has to wait for the clock); every reader subscribes (a GUN get) to every writer's soul
first. A write's propagation latency is from sending its put to a reader receiving the push; its ack latency is
from sending to the first ack. A write is lost for a reader that never sees it within the window; a reader that
could not connect sees nothing. Writes in the warm-up are made but not measured.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from loomctl.core.limits import fd_limit_error, is_fd_limit
from loomctl.loadtest.plan import NO_DELETE, Plan
from loomctl.loadtest.stats import Distribution, Histogram, distribution, histogram
from loomctl.loommesh.wire import GunClient

TICK = 0.5  # seconds between progress snapshots
RECENT = 2000  # latencies the running p95 is taken over


@dataclass
class Snapshot:
    elapsed_s: float
    phase: str  # warmup | load | drain | done
    writes: int
    rate: float  # measured writes per second so far
    asked: float | None
    ack_p95_ms: float | None
    propagation_p95_ms: float | None
    errors: int
    reconnects: int
    connected: int
    connections: int


@dataclass
class Loss:
    expected: int  # (write, reader) arrivals the measured writes should have made
    seen: int
    lost: int
    lost_writes: int  # writes that at least one reader never saw
    rate: float


@dataclass
class PeerStats:
    peer: str
    role: str
    writers: int
    readers: int
    writes: int
    acked: int
    ack: Distribution
    propagation: Distribution
    lost: int


@dataclass
class LoadResult:
    run_id: str
    soul_prefix: str
    peers: list[str]
    writers: int
    readers: int
    size: int
    rate_asked: float | None
    elapsed_s: float
    writes: int  # all writes sent, warm-up included
    measured: int
    acked: int
    unacked: int
    bytes_written: int
    rate_achieved: float
    ack: Distribution
    propagation: Distribution
    propagation_scope: str  # cross-peer | same peer
    loss: Loss
    errors: list[str]
    error_count: int
    reconnects: int
    stopped_at_cap: bool
    per_peer: list[PeerStats] = field(default_factory=list)
    histogram: Histogram = field(default_factory=Histogram)
    note: str = NO_DELETE
    where: str = "local"


@dataclass
class _Conn:
    role: str  # writer | reader
    index: int
    url: str
    client: GunClient | None = None
    reconnects: int = 0
    dialing: bool = False


@dataclass
class _Write:
    writer: int
    sent: float
    measured: bool
    acked: float | None = None
    freed: bool = False  # its in-flight slot was given back (first ack, or the deadline)


class _Run:
    def __init__(self, plan: Plan, on_progress: Callable[[Snapshot], None] | None):
        self.plan = plan
        self.on_progress = on_progress
        n = len(plan.peers)
        self.writers = [_Conn("writer", i, plan.peers[i % n]) for i in range(plan.writers)]
        self.readers = [_Conn("reader", j, plan.peers[(j + 1) % n]) for j in range(plan.readers)]
        self.souls = {plan.soul(i): i for i in range(plan.writers)}
        self.writes: dict[tuple[int, int], _Write] = {}  # (writer, seq) -> write
        self.arrivals: dict[tuple[int, int, int], float] = {}  # (reader, writer, seq) -> latency ms
        self.recent_ack: collections.deque[float] = collections.deque(maxlen=RECENT)
        self.recent_prop: collections.deque[float] = collections.deque(maxlen=RECENT)
        self.errors: list[str] = []
        self.error_count = 0
        self.bytes = 0
        self.measured = 0
        self.measured_acked = 0
        self.measured_seen = 0
        self.stopped_at_cap = False
        self.stop_writing = False
        self.stopping = False
        self.started = 0.0
        self.load_start = 0.0
        self.load_end: float | None = None
        self.phase = "warmup"
        self.progress = asyncio.Event()

    # ---- connections ---------------------------------------------------------------------------------
    def error(self, text: str) -> None:
        self.error_count += 1
        if len(self.errors) < 20 and text not in self.errors:
            self.errors.append(text)

    async def dial(self, conn: _Conn) -> bool:
        try:
            client = await GunClient.connect(conn.url, timeout=self.plan.timeout_s)
        except Exception as exc:  # named in the result
            if is_fd_limit(exc):
                raise fd_limit_error(exc, "a load-test connection could not open") from exc
            self.error(f"{conn.role} {conn.index} on {conn.url}: cannot connect: {_describe(exc)}")
            return False
        if conn.role == "reader":
            client.on_push(self.on_push(conn.index))
            gets = [client.get(s, window=0.05, first_timeout=min(self.plan.timeout_s, 2.0)) for s in self.souls]
            for r in await asyncio.gather(*gets, return_exceptions=True):
                if isinstance(r, BaseException):
                    self.error(f"reader {conn.index} on {conn.url}: subscribe failed: {_describe(r)}")
        conn.client = client
        return True

    async def redial(self, conn: _Conn) -> None:
        conn.dialing = True
        try:
            if not self.stopping and await self.dial(conn):
                conn.reconnects += 1
        finally:
            conn.dialing = False

    def watch(self) -> None:
        """A connection that closed during the run is named and dialled again (readers subscribe again)."""
        for conn in self.writers + self.readers:
            c = conn.client
            if c is not None and c.closed_reason is not None and not conn.dialing and not self.stopping:
                self.error(f"{conn.role} {conn.index} on {conn.url}: connection lost: {_describe(c.closed_reason)}")
                conn.client = None
                asyncio.ensure_future(self.redial(conn))

    # ---- receiving -----------------------------------------------------------------------------------
    def on_push(self, reader: int) -> Callable[[dict[str, Any], float], None]:
        def cb(m: dict[str, Any], t: float) -> None:
            for soul, node in (m.get("put") or {}).items():
                w = self.souls.get(soul)
                if w is None or not isinstance(node, dict):
                    continue
                for key in node:
                    if not key.startswith("s") or not key[1:].isdigit():
                        continue
                    seq = int(key[1:])
                    write = self.writes.get((w, seq))
                    k = (reader, w, seq)
                    if write is None or k in self.arrivals:
                        continue
                    ms = (t - write.sent) * 1000
                    self.arrivals[k] = ms
                    if write.measured:
                        self.measured_seen += 1
                        self.recent_prop.append(ms)
                        self.progress.set()
        return cb

    # ---- writing -------------------------------------------------------------------------------------
    def _take(self) -> bool:
        """May one more write go out? (duration, count and byte cap)"""
        plan = self.plan
        if self.stop_writing:
            return False
        if self.bytes + plan.write_bytes > plan.max_bytes:
            self.stopped_at_cap = self.stop_writing = True
            return False
        now = time.perf_counter()
        if self.phase == "warmup" and now >= self.load_start:
            self.phase = "load"
        if plan.count is not None and self.measured >= plan.count and self.phase == "load":
            self.stop_writing = True
            return False
        if plan.duration_s is not None and now >= self.load_start + plan.duration_s:
            self.stop_writing = True
            return False
        return True

    async def writer(self, conn: _Conn) -> None:
        plan = self.plan
        period = plan.writers / plan.rate if plan.rate else 0.0
        due = self.started + (conn.index / plan.rate if plan.rate else 0.0)
        slots = asyncio.Semaphore(plan.in_flight) if not plan.rate else None
        value = "x" * plan.size
        seq = 0
        loop = asyncio.get_running_loop()

        def free(write: _Write) -> None:
            if slots is not None and not write.freed:
                write.freed = True
                slots.release()

        while self._take():
            if slots is not None:
                await slots.acquire()
                if not self._take():
                    break
            else:
                wait = due - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
                    if not self._take():
                        break
                due = max(due + period, time.perf_counter() - period)  # late: catch up by one, never burst
            client = conn.client
            if client is None:
                self.error(f"writer {conn.index} on {conn.url}: not connected, write skipped")
                if slots is not None:
                    slots.release()
                await asyncio.sleep(min(period or 0.1, 0.1))
                continue
            key = (conn.index, seq)
            measured = self.phase == "load"
            write = _Write(conn.index, 0.0, measured)

            def on_ack(m: dict[str, Any], t: float, write: _Write = write, key: tuple[int, int] = key) -> None:
                if write.acked is None and not m.get("err"):
                    write.acked = t
                    if write.measured:
                        self.measured_acked += 1
                        self.recent_ack.append((t - write.sent) * 1000)
                        self.progress.set()
                    free(write)
                elif m.get("err"):
                    self.error(f"writer {key[0]}: the peer refused a write: {m.get('err')}")

            msg, unregister = client.put_nowait(plan.soul(conn.index), {f"s{seq}": value}, on_ack, fresh_keys=True)
            write.sent = time.perf_counter()
            self.writes[key] = write
            seq += 1
            self.bytes += plan.write_bytes
            if measured:
                self.measured += 1
            try:
                await client.send(msg)
            except Exception as exc:  # noqa: BLE001 - the link dropped: watch() dials again
                self.error(f"writer {conn.index} on {conn.url}: write failed: {_describe(exc)}")
                unregister()
                del self.writes[key]  # never sent: an error, not a write that got lost
                self.bytes -= plan.write_bytes
                self.measured -= measured
                free(write)
                continue
            if slots is not None:  # an unacked write frees its slot after the deadline (a peer without storage)
                loop.call_later(plan.timeout_s, free, write)

    # ---- progress ------------------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        now = time.perf_counter()
        load_elapsed = max(0.0, (self.load_end or now) - self.load_start)
        conns = self.writers + self.readers
        return Snapshot(round(now - self.started, 1), self.phase, self.measured,
                        round(self.measured / load_elapsed, 1) if load_elapsed > 0.05 else 0.0, self.plan.rate,
                        _p95(self.recent_ack), _p95(self.recent_prop), self.error_count,
                        sum(c.reconnects for c in conns), sum(1 for c in conns if c.client is not None), len(conns))

    async def ticker(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            self.watch()
            if self.on_progress:
                self.on_progress(self.snapshot())

    def all_in(self) -> bool:
        return self.measured_acked >= self.measured and self.measured_seen >= self.measured * len(self.readers)

    # ---- the run -------------------------------------------------------------------------------------
    async def run(self) -> LoadResult:
        plan = self.plan
        conns = self.writers + self.readers
        await asyncio.gather(*(self.dial(c) for c in self.readers))
        await asyncio.gather(*(self.dial(c) for c in self.writers))
        await asyncio.sleep(0.3)  # the readers' gets travel through the relays before the first write
        self.started = time.perf_counter()
        self.load_start = self.started + plan.warmup_s
        self.phase = "warmup" if plan.warmup_s > 0 else "load"
        ticker = asyncio.ensure_future(self.ticker())
        try:
            await asyncio.gather(*(self.writer(c) for c in self.writers))
            self.load_end = time.perf_counter()
            if plan.duration_s is not None:  # a writer waiting for an in-flight slot noticed the end late
                self.load_end = min(self.load_end, self.load_start + plan.duration_s)
            self.phase = "drain"
            last = max((w.sent for w in self.writes.values()), default=self.load_end)
            deadline = last + plan.window_s
            while time.perf_counter() < deadline and not self.all_in():
                self.progress.clear()
                try:
                    await asyncio.wait_for(self.progress.wait(), max(0.0, min(0.1, deadline - time.perf_counter())))
                except asyncio.TimeoutError:
                    pass
            self.stopping = True
            self.phase = "done"
            if self.on_progress:
                self.on_progress(self.snapshot())
        finally:
            self.stopping = True
            ticker.cancel()
            await asyncio.gather(*(c.client.close() for c in conns if c.client is not None), return_exceptions=True)
        return self.result()

    def result(self) -> LoadResult:
        plan = self.plan
        window_ms = plan.window_s * 1000
        measured = {k: w for k, w in self.writes.items() if w.measured}
        peer_of_reader = {r.index: r.url for r in self.readers}
        cross = any(r.url != w.url for r in self.readers for w in self.writers)
        prop_all: list[float] = []
        by_peer_prop: dict[str, list[float]] = collections.defaultdict(list)
        lost_by_writer_peer: dict[str, int] = collections.defaultdict(int)
        seen = 0
        lost_writes = 0
        for w, seq in measured:
            wurl = self.writers[w].url
            missed = False
            for r in range(len(self.readers)):
                ms = self.arrivals.get((r, w, seq))
                if ms is None or ms > window_ms:
                    missed = True
                    lost_by_writer_peer[wurl] += 1
                    continue
                seen += 1
                if not cross or peer_of_reader[r] != wurl:
                    prop_all.append(ms)
                    by_peer_prop[wurl].append(ms)
            lost_writes += missed
        acks = {k: (w.acked - w.sent) * 1000 for k, w in measured.items() if w.acked is not None}
        expected = len(measured) * len(self.readers)
        elapsed = max(1e-9, (self.load_end or time.perf_counter()) - self.load_start)
        per_peer = []
        for url in dict.fromkeys(plan.peers):
            wids = [c.index for c in self.writers if c.url == url]
            writes = [k for k in measured if k[0] in wids]
            readers = sum(1 for r in self.readers if r.url == url)
            per_peer.append(PeerStats(url, plan.roles.get(url, "peer"), len(wids), readers, len(writes),
                                      sum(1 for k in writes if k in acks),
                                      distribution([acks[k] for k in writes if k in acks]),
                                      distribution(by_peer_prop.get(url, [])), lost_by_writer_peer.get(url, 0)))
        return LoadResult(
            plan.run_id, plan.prefix, list(plan.peers), plan.writers, plan.readers, plan.size, plan.rate,
            round(elapsed, 3), len(self.writes), len(measured), len(acks), len(measured) - len(acks), self.bytes,
            round(len(measured) / elapsed, 1), distribution(list(acks.values())), distribution(prop_all),
            "cross-peer" if cross else "same peer",
            Loss(expected, seen, expected - seen, lost_writes,
                 round((expected - seen) / expected, 6) if expected else 0.0),
            self.errors, self.error_count, sum(c.reconnects for c in self.writers + self.readers),
            self.stopped_at_cap, per_peer, histogram(prop_all))


def _p95(values: collections.deque[float]) -> float | None:
    if not values:
        return None
    from loomctl.loommesh.write_probe import percentile

    return round(percentile(list(values), 0.95), 1)


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if type(exc).__name__ in text else f"{type(exc).__name__}: {text}"


async def run(plan: Plan, on_progress: Callable[[Snapshot], None] | None = None) -> LoadResult:
    return await _Run(plan, on_progress).run()


def threshold_values(result: LoadResult) -> dict[str, float | None]:
    """What `--threshold` judges: 'metric.stat' -> value (latencies in ms)."""
    values: dict[str, float | None] = {}
    for name, d in (("propagation", result.propagation), ("ack", result.ack)):
        for stat in ("p50", "p95", "p99", "max", "min", "avg"):
            values[f"{name}.{stat}"] = getattr(d, f"{stat}_ms")
    values["loss.rate"] = result.loss.rate if result.loss.expected else None
    values["loss.count"] = result.loss.lost
    values["rate.achieved"] = result.rate_achieved
    values["rate.ratio"] = result.rate_achieved / result.rate_asked if result.rate_asked else None
    values["errors.count"] = result.error_count
    values["reconnects.count"] = result.reconnects
    return values


def from_samples(plan: Plan, doc: dict[str, Any], where: str) -> LoadResult:
    """The summary of a run made elsewhere (the in-replica generator): its raw samples through the same numbers.

    `doc`: writes as [writer, seq, measured, ack ms or null], arrivals as [reader, writer, seq, ms], errors,
    error_count, bytes, stopped_at_cap, load_elapsed_s."""
    r = _Run(plan, None)
    for w, seq, measured, ack in doc.get("writes") or []:
        r.writes[(int(w), int(seq))] = _Write(int(w), 0.0, bool(measured), None if ack is None else float(ack) / 1000)
    for rd, w, seq, ms in doc.get("arrivals") or []:
        r.arrivals[(int(rd), int(w), int(seq))] = float(ms)
    r.errors = [str(e) for e in doc.get("errors") or []]
    r.error_count = int(doc.get("error_count") or 0)
    r.bytes = int(doc.get("bytes") or 0)
    r.stopped_at_cap = bool(doc.get("stopped_at_cap"))
    r.load_start, r.load_end = 0.0, float(doc.get("load_elapsed_s") or 0.0)
    result = r.result()
    result.where = where
    return result


def snapshot_of(doc: dict[str, Any]) -> Snapshot:
    """A progress line of the in-replica generator as a Snapshot."""
    from dataclasses import fields

    return Snapshot(**{f.name: doc.get(f.name) for f in fields(Snapshot)})
