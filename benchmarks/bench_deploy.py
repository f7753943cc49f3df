#!/usr/bin/env python3
"""Rollout figures against the local HTTPS test Azure (started here): wall time and requests per command.

    python benchmarks/bench_deploy.py [--runs N] [--poll SECONDS]

For each scenario (good rollout in single mode, canary 10,50,100 in multiple mode, a crash-looping revision
rolled back, `deploy infra --dry-run`), runs `loomctl` as a subprocess N times with LOOMCTL_POLL_INTERVAL set
and prints the median wall time and how many requests (and writes) the server saw. The server answers each
long-running operation with 2 `InProgress` polls, so the figures show loomctl's own overhead above the polls.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--poll", type=float, default=0.1)
    args = ap.parse_args()

    from tests.fakeazure import topology
    from tests.fakeazure.server import CLIENT_ID, CLIENT_SECRET, TENANT, FakeAzure
    from tests.fakeazure.writes import install, multiple_mode

    server = FakeAzure(tempfile.mkdtemp()).start()
    env = {**os.environ, "AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_ID": CLIENT_ID, "AZURE_CLIENT_SECRET": CLIENT_SECRET,
           "AZURE_AUTHORITY_HOST": server.url, "LOOMCTL_ARM_ENDPOINT": server.url, "REQUESTS_CA_BUNDLE": server.ca_path,
           "AZURE_SUBSCRIPTION_ID": topology.SUB, "LOOMCTL_RESOURCE_GROUP": topology.RG,
           "LOOMCTL_ENVIRONMENT": topology.ENV, "AZURE_TOKEN_CREDENTIALS": "EnvironmentCredential",
           "LOOMCTL_POLL_INTERVAL": str(args.poll), "LOOMCTL_CONFIG": os.path.join(tempfile.mkdtemp(), "c.toml"),
           "LOOMCTL_CACHE_DIR": tempfile.mkdtemp()}  # tokens kept there, never in ~/.cache
    exe = [sys.executable, "-m", "loomctl"]
    scenarios = [
        ("deploy app (single mode)", "ok", False, ["deploy", "app", "--image", "myacr.azurecr.io/loom:1234", "--yes"]),
        ("deploy app --canary 10,50,100", "ok", True,
         ["deploy", "app", "--image", "myacr.azurecr.io/loom:1234", "--canary", "10,50,100", "--yes"]),
        ("deploy app, crash loop, rollback", "unhealthy", True,
         ["deploy", "app", "--image", "myacr.azurecr.io/loom:1234", "--yes"]),
        ("deploy infra --dry-run", "ok", False, ["deploy", "infra", "--dry-run"]),
    ]
    print(f"LOOMCTL_POLL_INTERVAL={args.poll} s, {args.runs} runs each, 2 InProgress polls per operation")
    print(f"{'scenario':36} {'median s':>9} {'requests':>9} {'writes':>7} {'exit':>5}")
    for title, scenario, multiple, cmd in scenarios:
        walls, reqs, writes, rcs = [], [], [], set()
        for _ in range(args.runs):
            server.reset(topology.healthy())
            w = install(server, scenario=scenario, polls=2)
            if multiple:
                multiple_mode(server)
            t = time.perf_counter()
            p = subprocess.run(exe + cmd, env=env, cwd=tempfile.mkdtemp(), capture_output=True, text=True)
            walls.append(time.perf_counter() - t)
            reqs.append(len(server.requests))
            writes.append(len([r for r in server.arm_requests() if r.method in ("PUT", "PATCH", "POST")]))
            rcs.add(p.returncode)
            del w
        print(f"{title:36} {statistics.median(walls):9.2f} {statistics.median(reqs):9.0f} "
              f"{statistics.median(writes):7.0f} {','.join(map(str, sorted(rcs))):>5}")
    server.stop()


if __name__ == "__main__":
    main()
