#!/usr/bin/env python3
"""`loomctl doctor`, `diagnose storage` and a runbook against the local HTTPS test Azure: wall time, ARM requests
per run, and the same with 200 ms of added latency on every ARM request (shows that fetches run concurrently:
fetching one after another would take about the plain time + requests x 0.2 s).

Then doctor with 2 s added to every ARM GET (issue 13: at most 7 s; 15.7 s when it read in seven rounds), with
the number of rounds its ARM requests came in (requests arriving more than 1 s after the previous one start a
new round; the requests themselves need three), and whether any request was sent twice.

    python benchmarks/bench_doctor.py [--runs N] [--slow-runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LIVE = ["--category", "azure", "--category", "configuration", "--category", "storage", "--category", "runtime"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--slow-runs", type=int, default=1, help="runs of doctor with 2 s per ARM GET")
    args = ap.parse_args()
    loomctl = str(Path(sys.executable).with_name("loomctl"))
    tmp = tempfile.mkdtemp()

    from tests.fakeazure import topology
    from tests.fakeazure.server import CLIENT_ID, CLIENT_SECRET, TENANT, FakeAzure, Fault

    server = FakeAzure(tmp).start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "LOOMCTL_"))}
    env.update(LOOMCTL_CONFIG=os.path.join(tmp, "config.toml"), LOOMCTL_CACHE_DIR=os.path.join(tmp, "cache"),
               AZURE_TENANT_ID=TENANT, AZURE_CLIENT_ID=CLIENT_ID,
               AZURE_CLIENT_SECRET=CLIENT_SECRET, AZURE_AUTHORITY_HOST=server.url, LOOMCTL_ARM_ENDPOINT=server.url,
               REQUESTS_CA_BUNDLE=server.ca_path, AZURE_SUBSCRIPTION_ID=topology.SUB,
               LOOMCTL_RESOURCE_GROUP=topology.RG, LOOMCTL_ENVIRONMENT=topology.ENV,
               AZURE_TOKEN_CREDENTIALS="EnvironmentCredential")
    rows = [
        ("doctor (4 live categories)", ["doctor", *LIVE, "-o", "json"]),
        ("diagnose storage", ["diagnose", "storage", "-o", "json"]),
        ("runbook run azure-files-mount-fails", ["runbook", "run", "azure-files-mount-fails", "-o", "json"]),
    ]
    print(f"{'command':40} {'median ms':>10} {'ARM req':>8} {'+200ms/req: ms':>15} {'serial would be':>16}  exit")
    for name, cmd in rows:
        figures = {}
        for delay in (0.0, 0.2):
            walls, reqs, rcs = [], [], set()
            for _ in range(args.runs):
                server.reset(topology.healthy())
                if delay:
                    server.faults.append(Fault(r"^/subscriptions/", status=None, delay=delay))
                t = time.perf_counter()
                p = subprocess.run([loomctl, *cmd], env=env, capture_output=True, text=True)
                walls.append(time.perf_counter() - t)
                reqs.append(len(server.arm_requests()))
                rcs.add(p.returncode)
            figures[delay] = (statistics.median(walls) * 1000, max(reqs), sorted(rcs))
        (fast, n, rc), (slow, _, _) = figures[0.0], figures[0.2]
        print(f"{name:40} {fast:10.0f} {n:8d} {slow:15.0f} {fast + n * 200:16.0f}  {','.join(map(str, rc))}")
    slow_doctor(server, loomctl, env, ["doctor", *LIVE, "-o", "json"], args.slow_runs, Fault, topology)
    server.stop()


def rounds(arrivals: list[float], gap: float = 1.0) -> int:
    """Requests arriving more than `gap` seconds after the one before start a new round."""
    times = sorted(arrivals)
    return sum(1 for i, t in enumerate(times) if i == 0 or t - times[i - 1] > gap)


def slow_doctor(server: Any, loomctl: str, env: dict[str, str], cmd: list[str], runs: int, fault: Any,
                topology: Any) -> None:
    if runs <= 0:
        return
    delay = 2.0
    walls, counts, dupes, rcs = [], set(), set(), set()
    for _ in range(runs):
        server.reset(topology.healthy())
        server.faults.append(fault(r"^/subscriptions/", status=None, method="GET", delay=delay))
        t = time.perf_counter()
        p = subprocess.run([loomctl, *cmd], env=env, capture_output=True, text=True)
        walls.append(time.perf_counter() - t)
        reqs = server.arm_requests("GET")
        counts.add(rounds([r.arrived for r in reqs]))
        dupes.add(sum(n - 1 for n in server.counts().values()))
        rcs.add(p.returncode)
    wall = statistics.median(walls)
    print(f"\ndoctor (4 live categories) with {delay:g} s added to every ARM GET, {runs} run(s):")
    print(f"  wall {wall:.1f} s (target <= 7 s; 15.7 s before the fetch plan)  "
          f"rounds {','.join(map(str, sorted(counts)))} (target 3)  repeated requests "
          f"{','.join(map(str, sorted(dupes)))} (target 0)  exit {','.join(map(str, sorted(rcs)))}")


if __name__ == "__main__":
    main()
