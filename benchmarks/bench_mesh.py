#!/usr/bin/env python3
"""`loomctl diagnose mesh --write-probe` over 2 relay and 5 node replicas: the run takes about the slowest
replica's time plus one probe window, not the sum of the replicas' times.

    python benchmarks/bench_mesh.py [--runs N] [--window S]

Starts the local HTTPS Azure (the relay app with 2 replicas, the node app with 5), the exec double (it runs the
mesh probe on this machine) and 7 real GUN processes (npm gun from tests/node), each "replica" pointed at its own
through its container environment. Two wirings: split (nodes 1-3 on relay 1, nodes 4-5 on relay 2: every reader
waits out its window for the probes it never sees) and whole (node 5 dials both relays: reads end when all are
seen). Each run is `python -m loomctl diagnose mesh --write-probe -o json`, start-up included.

Target: the probing (the run's own `duration_ms`: after start-up and the ARM reads) <= the slowest replica's
write session + the slowest read session (one window and its session's start-up) + 0.5 s slack, far under
the sum of every replica's sessions (one replica after another). The wall time of the process is printed beside.
"""

from __future__ import annotations

import argparse
import json
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
    ap.add_argument("--window", type=float, default=3.0)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())

    from tests.acafakes.exec_server import FakeExec
    from tests.acafakes.fixtures import add_auth_token_route
    from tests.fakeazure import topology as t
    from tests.fakeazure.server import CLIENT_ID, CLIENT_SECRET, TENANT, FakeAzure
    from tests.gunrelay import Relays, require_gun

    require_gun()
    state = t.healthy()
    nrev = f"{t.NODE}--n1"
    state["replicas"][nrev] = [t.replica(state["apps"][t.NODE], nrev, i) for i in range(5)]
    state["revisions"][t.NODE][0]["properties"]["replicas"] = 5
    server = FakeAzure(str(tmp)).start()
    server.reset(state)
    fake = FakeExec(server.ca).start()
    add_auth_token_route(server, fake.token)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "LOOMCTL_"))}
    env.update(LOOMCTL_CONFIG=str(tmp / "config.toml"), LOOMCTL_CACHE_DIR=str(tmp / "cache"),
               AZURE_TENANT_ID=TENANT, AZURE_CLIENT_ID=CLIENT_ID, AZURE_CLIENT_SECRET=CLIENT_SECRET,
               AZURE_AUTHORITY_HOST=server.url, LOOMCTL_ARM_ENDPOINT=server.url, REQUESTS_CA_BUNDLE=server.ca_path,
               AZURE_SUBSCRIPTION_ID=t.SUB, LOOMCTL_RESOURCE_GROUP=t.RG, LOOMCTL_ENVIRONMENT=t.ENV,
               AZURE_TOKEN_CREDENTIALS="EnvironmentCredential", LOOMCTL_ACA_DATAPLANE_ENDPOINT=fake.url)
    cmd = [sys.executable, "-m", "loomctl"]
    relay_names = [r["name"] for r in state["replicas"][f"{t.RELAY}--r1"]]
    node_names = [r["name"] for r in state["replicas"][nrev]]
    try:
        print(f"{'wiring':7} {'wall':>7} {'probing':>8} {'slowest write':>14} {'slowest read':>13} {'window':>7} "
              f"{'target':>7} {'sum':>7}  verdict")
        for label, last_dials in (("split", [1]), ("whole", [0, 1])):
            relays = Relays(tmp / f"relays-{label}")
            try:
                r = [relays.start(), relays.start()]
                dials = [[0], [0], [0], [1], last_dials]
                fake.reset()
                fake.chunk = 1024  # the tests' 3-byte frames stress the decoder; the service sends whole chunks
                for name, g in zip(relay_names, r):
                    fake.replica_env[name] = {"GUN_PORT": str(g.port)}
                for name, d in zip(node_names, dials):
                    fake.replica_env[name] = {"GUN_SERVER_PORT": str(relays.start([r[i] for i in d]).port)}
                rows = []
                for _ in range(args.runs):
                    t0 = time.perf_counter()
                    out = subprocess.run(cmd + ["diagnose", "mesh", "--write-probe", "--window", str(args.window),
                                                "-o", "json"], capture_output=True, text=True, env=env, cwd=ROOT)
                    wall = time.perf_counter() - t0
                    doc = json.loads(out.stdout)
                    write = max(p["sessions_ms"][0] for p in doc["replicas"]) / 1000
                    read = max(p["sessions_ms"][1] for p in doc["replicas"]) / 1000
                    total = sum(p["duration_ms"] for p in doc["replicas"]) / 1000
                    rows.append((wall, doc["duration_ms"] / 1000, write, read, total, doc["verdict"],
                                 len(doc["parts"])))
                wall, probing, write, read, total = (statistics.median(x[i] for x in rows) for i in range(5))
                target = write + read + 0.5
                verdicts = sorted({f"{v} ({n} parts)" for *_, v, n in rows})
                ok = "ok" if probing <= target and probing < total / 2 else "MISSED"
                print(f"{label:7} {wall:6.2f}s {probing:7.2f}s {write:13.2f}s {read:12.2f}s {args.window:6.1f}s "
                      f"{target:6.2f}s {total:6.2f}s  {', '.join(verdicts)}  [{ok}]")
            finally:
                relays.stop_all()
        print(f"(7 replicas, {args.runs} runs each, medians; sum = every replica's sessions one after another)")
    finally:
        fake.stop()
        server.stop()


if __name__ == "__main__":
    main()
