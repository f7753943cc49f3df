#!/usr/bin/env python3
"""`loomctl fleet doctor` against the local HTTPS test Azure (Resource Graph executed by duckdb-kql):

1. 500 deployments in 50 subscriptions, definition checks only: wall time and peak memory of the loomctl process
   (targets: at most 10 s and 300 MB on this 2-core machine), and the requests it sent (Resource Graph pages only).
2. `--live` over 50 deployments with 200 ms added to every ARM request: wall time for --parallel 4 and 8, beside
   the sum (one deployment at a time, measured on 5) divided by N: bounded by --parallel, not by the sum.

    python benchmarks/bench_fleet.py [--runs N] [--skip-live]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RG_PATH = "/providers/Microsoft.ResourceGraph/resources"


def run(loomctl: str, args: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(wall s, peak RSS MB of the child, exit code)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    p = subprocess.run([loomctl, *args], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest child so far (KiB on Linux)
    if p.returncode not in (0, 1):
        print(p.stderr, file=sys.stderr)
    return wall, max(peak, before) / 1024, p.returncode


def live(server: Any, loomctl: str, env: dict[str, str], topology: Any, Fault: Any) -> None:
    """--live over 50 deployments (10 subscriptions), +200 ms on every ARM request. The sum is measured on 5
    deployments one at a time (--parallel 1) and scaled to 50; each deployment's run also waits for the DNS and
    LoomMesh probes (nothing answers on 127.0.0.1:9), as a doctor run without DNS does."""
    def measure(deployments: int, subscriptions: int, parallel: int) -> tuple[float, int, int]:
        state = topology.healthy()
        state["fleet"] = topology.fleet(deployments, subscriptions)
        state["rg_quota"] = 1000
        server.reset(state)
        server.faults.append(Fault(r"^/subscriptions/", status=None, delay=0.2))
        subs = [a for i in range(subscriptions) for a in ("--subscription", topology.fleet_sub(i))]
        wall, _, rc = run(loomctl, ["fleet", "doctor", *subs, "--live", "--parallel", str(parallel), "-o", "json"],
                          env)
        return wall, len(server.arm_requests()), rc

    one_wall, one_req, _ = measure(5, 5, 1)
    per = one_wall / 5
    print("\nfleet doctor --live, 50 deployments, +200 ms on every ARM request")
    print(f"  one at a time: {per:.1f} s a deployment ({one_req // 5} ARM requests each) -> the sum for 50: "
          f"{per * 50:.0f} s")
    print(f"  {'--parallel':>10} {'wall s':>8} {'ARM req':>8} {'sum/N s':>8}")
    for parallel in (4, 8):
        wall, req, rc = measure(50, 10, parallel)
        print(f"  {parallel:>10} {wall:8.1f} {req:8d} {per * 50 / parallel:8.1f}  exit {rc}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-live", action="store_true")
    args = ap.parse_args()
    loomctl = str(Path(sys.executable).with_name("loomctl"))
    tmp = tempfile.mkdtemp()

    from tests.fakeazure import topology
    from tests.fakeazure.server import CLIENT_ID, CLIENT_SECRET, TENANT, FakeAzure, Fault

    server = FakeAzure(tmp).start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "LOOMCTL_"))}
    env.update(LOOMCTL_CONFIG=os.path.join(tmp, "config.toml"), LOOMCTL_CACHE_DIR=os.path.join(tmp, "cache"),
               AZURE_TENANT_ID=TENANT, AZURE_CLIENT_ID=CLIENT_ID, AZURE_CLIENT_SECRET=CLIENT_SECRET,
               AZURE_AUTHORITY_HOST=server.url, LOOMCTL_ARM_ENDPOINT=server.url, LOOMCTL_LOGS_ENDPOINT=server.url,
               REQUESTS_CA_BUNDLE=server.ca_path, AZURE_TOKEN_CREDENTIALS="EnvironmentCredential",
               LOOMCTL_DNS_SERVERS="127.0.0.1:9", LOOMCTL_HTTP_TIMEOUT="10")
    subs = [a for i in range(50) for a in ("--subscription", topology.fleet_sub(i))]

    state = topology.healthy()
    state["fleet"] = topology.fleet(500, 50)
    state["rg_quota"] = 1000  # the benchmark measures loomctl, not the quota
    server.reset(state)
    run(loomctl, ["fleet", "list", *subs[:2], "-o", "json"], env)  # warm: sign-in, the fake's table
    walls, peaks, counts = [], [], []
    for _ in range(args.runs):
        server.requests = []
        wall, peak, rc = run(loomctl, ["fleet", "doctor", *subs, "-o", "json"], env)
        walls.append(wall)
        peaks.append(peak)
        rg = [r for r in server.requests if r.path == RG_PATH]
        counts.append((len(rg), len(server.arm_requests()), rc))
    print("fleet doctor, 500 deployments in 50 subscriptions (definition checks only)")
    print(f"  wall median {statistics.median(walls):.2f} s (max {max(walls):.2f})   target <= 10 s")
    print(f"  peak RSS    {max(peaks):.0f} MB                     target <= 300 MB")
    rg, arm, rc = counts[-1]
    print(f"  requests    {rg} Resource Graph pages, {arm} other ARM requests   exit {rc}")

    if not args.skip_live:
        live(server, loomctl, env, topology, Fault)
    server.stop()


if __name__ == "__main__":
    main()
