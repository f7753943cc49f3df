#!/usr/bin/env python3
"""`loomctl loadtest` figures against one real GUN relay (npm gun pinned in tests/node) on 127.0.0.1.

    python benchmarks/bench_loadtest.py [--duration S] [--writers N] [--in-flight K] [--rate R]

Each figure compares loomctl (the real CLI, a subprocess) with a bare websockets loop writing the same puts (one
soul per writer, a fresh key per write, a value of the same size, integer-ms states) in the same run, the bare
loop run before and after loomctl:

1. Throughput, as fast as acks allow: N writers each keeping K puts unacked, one subscriber, for S seconds.
   Target: loomctl's achieved puts/s >= 0.8x the bare loop's.
2. Propagation latency at a fixed rate R (writer and subscriber on the one relay): the P50 loomctl reports
   against the bare loop's. Target: within 10 %.

Then it runs benchmarks/bench_drills.py (the drill join / drill partition figures) if that file exists.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.gunrelay import Relays, require_gun  # noqa: E402

LOOMCTL = [sys.executable, "-m", "loomctl"]
SIZE = 64


def rid(n: int = 12) -> str:
    return "".join(random.choices(string.ascii_letters + string.digits, k=n))


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


async def bare(url: str, writers: int, rate: float | None, in_flight: int, duration: float) -> dict:
    """The reference: plain websockets and json, no loomctl code. Returns puts/s and propagation percentiles."""
    import websockets

    ws_url = url.replace("http://", "ws://")
    kw: dict = {"max_size": None, "compression": None, "ping_interval": None}
    run = rid(6)
    souls = [f"loomctl/probe/bench-bare/{run}/w{i}" for i in range(writers)]
    index = {s: i for i, s in enumerate(souls)}
    value = "x" * SIZE
    sent: dict[tuple[int, int], float] = {}
    seen: set[tuple[int, int]] = set()
    prop: list[float] = []
    reader = await websockets.connect(ws_url, **kw)
    conns = [await websockets.connect(ws_url, **kw) for _ in range(writers)]
    for s in souls:
        await reader.send(json.dumps({"#": rid(), "get": {"#": s}}))
    await asyncio.sleep(0.3)

    async def read_pushes() -> None:
        async for raw in reader:
            t = time.perf_counter()
            items = json.loads(raw)
            for m in items if isinstance(items, list) else [items]:
                put = m.get("put") if "@" not in m else None
                for soul, node in (put or {}).items():
                    i = index.get(soul)
                    for k in node if i is not None else ():
                        if k[:1] == "s" and k[1:].isdigit() and (i, int(k[1:])) in sent and (i, int(k[1:])) not in seen:
                            seen.add((i, int(k[1:])))
                            prop.append((t - sent[(i, int(k[1:]))]) * 1000)

    async def writer(i: int) -> int:
        ws = conns[i]
        slots = asyncio.Semaphore(in_flight) if rate is None else None
        pending: set[str] = set()

        async def acks() -> None:
            async for raw in ws:
                items = json.loads(raw)
                for m in items if isinstance(items, list) else [items]:
                    if m.get("@") in pending:
                        pending.discard(m["@"])
                        slots.release() if slots else None

        ack_task = asyncio.ensure_future(acks())
        period = writers / rate if rate else 0.0
        due = start + (i / rate if rate else 0.0)
        seq = 0
        last = 0
        while time.perf_counter() < end:
            if slots is not None:
                await slots.acquire()
            else:
                if due > time.perf_counter():
                    await asyncio.sleep(due - time.perf_counter())
                due = max(due + period, time.perf_counter() - period)
            if time.perf_counter() >= end:
                break
            st = max(math.floor(time.time() * 1000) - 1, last)
            last = st
            key = f"s{seq}"
            msg = {"#": rid(), "put": {souls[i]: {key: value, "_": {"#": souls[i], ">": {key: st}}}}}
            pending.add(msg["#"])
            sent[(i, seq)] = time.perf_counter()
            await ws.send(json.dumps(msg))
            seq += 1
        await asyncio.sleep(2.0)  # pushes still on their way
        ack_task.cancel()
        return seq

    pushes = asyncio.ensure_future(read_pushes())
    start = time.perf_counter()
    end = start + duration
    counts = await asyncio.gather(*(writer(i) for i in range(writers)))
    pushes.cancel()
    for ws in conns + [reader]:
        await ws.close()
    return {"puts_s": sum(counts) / duration, "p50": pct(prop, 0.5), "p95": pct(prop, 0.95),
            "seen": len(seen), "sent": sum(counts)}


def loomctl(url: str, env: dict, *args: str) -> dict:
    out = subprocess.run(LOOMCTL + ["loadtest", "--peer", url, "--readers", "1", "--warmup", "0", "--yes",
                                    "--size", str(SIZE), "--max-bytes", "1GiB", "-o", "json", *args],
                         capture_output=True, text=True, env=env, cwd=ROOT)
    if not out.stdout.strip():
        raise SystemExit(f"loomctl loadtest failed (exit {out.returncode}): {out.stderr[-600:]}")
    doc = json.loads(out.stdout)
    return {"puts_s": doc["rate_achieved"], "p50": doc["propagation"]["p50_ms"], "p95": doc["propagation"]["p95_ms"],
            "seen": doc["loss"]["seen"], "sent": doc["measured"], "lost": doc["loss"]["lost"]}


def _f(v: float | None, unit: str = " ms") -> str:
    return "-" if v is None else f"{v:.2f}{unit}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--writers", type=int, default=2)
    ap.add_argument("--in-flight", type=int, default=256)
    ap.add_argument("--rate", type=float, default=200.0)
    opts = ap.parse_args()
    require_gun()
    env = dict(os.environ, LOOMCTL_CONFIG=str(Path(tempfile.mkdtemp()) / "none.toml"),
               LOOMCTL_CACHE_DIR=tempfile.mkdtemp())  # tokens kept there, never in ~/.cache
    print(f"machine: {os.cpu_count()} cores; one relay on 127.0.0.1; {opts.duration:g} s per run; values {SIZE} B")
    with tempfile.TemporaryDirectory() as tmp:
        relays = Relays(Path(tmp))
        try:
            relay = relays.start()
            d = str(opts.duration)
            # 1. as fast as acks allow
            b1 = asyncio.run(bare(relay.url, opts.writers, None, opts.in_flight, opts.duration))
            lm = loomctl(relay.url, env, "--rate", "max", "--writers", str(opts.writers), "--in-flight",
                         str(opts.in_flight), "--duration", f"{d}s")
            b2 = asyncio.run(bare(relay.url, opts.writers, None, opts.in_flight, opts.duration))
            bare_rate = (b1["puts_s"] + b2["puts_s"]) / 2
            ratio = lm["puts_s"] / bare_rate
            print(f"1. as fast as acks allow ({opts.writers} writers x {opts.in_flight} in flight, 1 subscriber):")
            print(f"   bare websockets loop: {b1['puts_s']:.0f} puts/s before, {b2['puts_s']:.0f} after "
                  f"(P50 {_f(b1['p50'])} / {_f(b2['p50'])}, P95 {_f(b1['p95'])} / {_f(b2['p95'])})")
            print(f"   loomctl loadtest:     {lm['puts_s']:.0f} puts/s (P50 {_f(lm['p50'])}, P95 {_f(lm['p95'])}, "
                  f"lost {lm['lost']})")
            print(f"   ratio {ratio:.2f}x (target >= 0.80x): {'MET' if ratio >= 0.8 else 'NOT MET'}")
            # 2. propagation at a fixed rate
            r = str(opts.rate)
            c1 = asyncio.run(bare(relay.url, 1, opts.rate, 1, opts.duration))
            lf = loomctl(relay.url, env, "--rate", r, "--writers", "1", "--duration", f"{d}s")
            c2 = asyncio.run(bare(relay.url, 1, opts.rate, 1, opts.duration))
            bare_p50 = (c1["p50"] + c2["p50"]) / 2
            bare_p95 = (c1["p95"] + c2["p95"]) / 2
            diff = (lf["p50"] - bare_p50) / bare_p50 * 100
            print(f"2. propagation at {opts.rate:g} puts/s (1 writer, 1 subscriber, same relay):")
            print(f"   bare websockets loop: P50 {_f(c1['p50'])} before, {_f(c2['p50'])} after (mean {_f(bare_p50)}); "
                  f"P95 {_f(bare_p95)}; {c1['puts_s']:.0f} / {c2['puts_s']:.0f} puts/s")
            print(f"   loomctl loadtest:     P50 {_f(lf['p50'])}, P95 {_f(lf['p95'])}; {lf['puts_s']:.0f} puts/s, "
                  f"lost {lf['lost']}")
            print(f"   P50 difference {diff:+.1f} % (target within 10 %): {'MET' if abs(diff) <= 10 else 'NOT MET'}")
        finally:
            relays.stop_all()
    drills = ROOT / "benchmarks" / "bench_drills.py"
    if drills.exists():  # the drill join / drill partition figures (another part of issue 15)
        subprocess.run([sys.executable, str(drills)], cwd=ROOT, env=env)
    else:
        print("drill join / drill partition: benchmarks/bench_drills.py is not here (yet): not measured")


if __name__ == "__main__":
    main()
