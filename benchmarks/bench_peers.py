#!/usr/bin/env python3
"""LoomMesh diagnostics figures, against real GUN relays (npm gun pinned in tests/node) on 127.0.0.1.

    python benchmarks/bench_peers.py [--runs N] [--samples N]

1. `loomctl diagnose peers` over 20 peers, 5 of which accept TCP and never answer, `--timeout 2`:
   wall time of the whole command (a subprocess, start-up included). Target: <= 2.6 s.
2. Propagation latency A -> B between two peered relays: the median loomctl's write probe reports
   (`--write-probe --samples N`), against the median a bare websockets loop measures in the same run
   (subscribe on B, put on A, time until B's push). Target: within 20 %.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.gunrelay import Relays, require_gun, wait_peered  # noqa: E402

LOOMCTL = [sys.executable, "-m", "loomctl"]


def silent_port(keep: list) -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(128)
    keep.append(s)
    return s.getsockname()[1]


def run_loomctl(args: list[str], env: dict[str, str]) -> tuple[float, dict]:
    t = time.perf_counter()
    out = subprocess.run(LOOMCTL + args, capture_output=True, text=True, env=env, cwd=ROOT)
    wall = time.perf_counter() - t
    return wall, json.loads(out.stdout) if out.stdout.strip() else {}


def _wall(args: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(LOOMCTL + args, capture_output=True, env=env, cwd=ROOT)
    return time.perf_counter() - t


async def bare_loop(a: str, b: str, samples: int, gap: float = 0.05) -> list[float]:
    """The reference measurement: plain websockets, no loomctl code."""
    import random
    import string

    import websockets

    def rid() -> str:
        return "".join(random.choices(string.ascii_letters + string.digits, k=12))

    soul = "loomctl/probe/bench-bare-" + rid()
    out: list[float] = []
    async with websockets.connect(a.replace("http", "ws"), max_size=None) as wa, \
            websockets.connect(b.replace("http", "ws"), max_size=None) as wb:
        await wb.send(json.dumps({"#": rid(), "get": {"#": soul}}))
        await asyncio.sleep(0.3)
        last = 0
        for i in range(samples):
            st = max(math.floor(time.time() * 1000) - 1, last + 1)
            last = st
            msg = {"#": rid(), "put": {soul: {"seq": i, "_": {"#": soul, ">": {"seq": st}}}}}
            t0 = time.perf_counter()
            await wa.send(json.dumps(msg))
            deadline = t0 + 3
            while time.perf_counter() < deadline:
                raw = await asyncio.wait_for(wb.recv(), deadline - time.perf_counter())
                items = json.loads(raw)
                items = items if isinstance(items, list) else [items]
                if any(m.get("put", {}).get(soul, {}).get("seq") == i and "@" not in m for m in items):
                    out.append((time.perf_counter() - t0) * 1000)
                    break
            await asyncio.sleep(gap)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--samples", type=int, default=30)
    opts = ap.parse_args()
    require_gun()
    env = dict(os.environ, LOOMCTL_CONFIG=str(Path(tempfile.mkdtemp()) / "none.toml"),
               LOOMCTL_CACHE_DIR=tempfile.mkdtemp())  # tokens kept there, never in ~/.cache
    with tempfile.TemporaryDirectory() as tmp:
        relays = Relays(Path(tmp))
        keep: list = []
        try:
            live = [relays.start() for _ in range(15)]
            dead = [silent_port(keep) for _ in range(5)]
            urls = [r.url for r in live] + [f"http://127.0.0.1:{p}/gun" for p in dead]
            args = ["diagnose", "peers", "--timeout", "2", "-o", "json"]
            for u in urls:
                args += ["--peer", u]
            start_up = statistics.median([_wall(["--version"], env) for _ in range(3)])
            print(f"loomctl start-up (--version) on this machine now: {start_up:.3f} s")
            walls = []
            for _ in range(opts.runs):
                wall, doc = run_loomctl(args, env)
                ok = sum(1 for p in doc["peers"] if p["ok"])
                stages = sorted({p["failed_stage"] for p in doc["peers"] if not p["ok"]})
                walls.append(wall)
                print(f"diagnose peers, 20 peers (15 up, 5 silent), --timeout 2: {wall:.3f} s wall, "
                      f"{doc['duration_ms'] / 1000:.3f} s probing ({ok} ok, failed stages {stages})")
            print(f"  median {statistics.median(walls):.3f} s, max {max(walls):.3f} s (target <= 2.6 s): "
                  f"{'MET' if max(walls) <= 2.6 else 'NOT MET'}")

            a = relays.start()
            b = relays.start(peers=[a])
            wait_peered(b)
            bare1 = asyncio.run(bare_loop(a.url, b.url, opts.samples))
            _, doc = run_loomctl(["diagnose", "peers", "--peer", a.url, "--peer", b.url, "--write-probe",
                                  "--samples", str(opts.samples), "-o", "json"], env)
            bare2 = asyncio.run(bare_loop(a.url, b.url, opts.samples))
            pair = next(p for p in doc["write_probe"]["pairs"] if p["writer"] == a.url and p["reader"] == b.url)
            bare = statistics.median(bare1 + bare2)
            diff = (pair["median_ms"] - bare) / bare * 100
            print(f"propagation A -> B, {opts.samples} samples: loomctl median {pair['median_ms']:.2f} ms "
                  f"(p95 {pair['p95_ms']:.2f}); bare websockets loop median {bare:.2f} ms "
                  f"(before {statistics.median(bare1):.2f}, after {statistics.median(bare2):.2f}); "
                  f"difference {diff:+.1f} % (target within 20 %): {'MET' if abs(diff) <= 20 else 'NOT MET'}")
        finally:
            relays.stop_all()
            for s in keep:
                s.close()


if __name__ == "__main__":
    main()
